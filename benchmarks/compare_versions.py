"""This checkout against streamkit 0.1.0: speed, linearity, memory and import time.

Run from the repository root: ``python benchmarks/compare_versions.py`` (``--quick`` for
a smoke run, ``--json`` for machines, ``--baseline-python PATH`` to bring your own 0.1.0).

How it works:

- Two interpreters in one run: this one (the current checkout's environment, whatever
  ``import streamkit`` finds in it) and a baseline with 0.1.0 installed from git commit
  281abac. The baseline virtualenv is made once, in ``benchmarks/results/venv-0.1.0``
  (ignored by git): ``git archive`` of that commit is pip-installed into it, with
  attrs, orjson, anyio, httpx and httpx-sse pinned to the versions installed here, so
  that only streamkit differs.
- The parent generates every stream body with ``_streams.py`` and writes it, with its
  chunk sizes, to a temporary directory; both interpreters read the same files.
- Each interpreter runs ``_compare_worker.py``, which answers JSON requests (see its
  docstring). Before anything is timed each stream is folded once in strict mode in both
  versions and must give the expected event count, no problems, and (through
  ``stream()``) the expected text deltas and final text.
- Timing is interleaved: for every workload, one sample in one version then one in the
  other, the order alternating, over several rounds, so that machine noise hits both
  alike. A sample is the best of as many runs as fit in a fraction of a second (a full
  garbage collection before each), timed in CPU time (``time.process_time``): on a
  shared machine other processes inflate wall time by 2-3x and CPU time by a few
  percent. Reported: the best sample and the median one, and now / 0.1.0 of both.
- Memory (tracemalloc) is measured in a fresh process per version and size; import time
  in fresh interpreters, as ``-X importtime``'s cumulative (wall) time for ``streamkit``
  and as the CPU time around ``import streamkit``, with bytecode cached for both
  versions alike (see :func:`environment`).
- A delta kind whose large size would take longer than a time limit per run in either
  version (extrapolated from its time at the small size and twice that) is measured in
  both at the largest size that fits, halving from the target; a version fast enough
  for the target size is also measured there alone (a row "... alone", and the one the
  targets table judges). The output says so.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import (
    annotated_text_stream,
    assistant_stream,
    chunked,
    code_interpreter_stream,
    file_search_stream,
    parallel_tool_calls_stream,
)

BASELINE_COMMIT = "281abac923370cd7bc2278b8519a4dd67331c99b"
BASELINE_VERSION = "0.1.0"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "_compare_worker.py"
DEFAULT_VENV = HERE / "results" / "venv-0.1.0"
PYCACHE = HERE / "results" / "pycache"
MARKER = "streamkit-baseline.json"
#: Installed in the baseline at the versions this environment has (only streamkit differs).
PINNED = ("attrs", "orjson", "anyio", "httpx", "httpx-sse")
#: Libraries issue 10 says ``import streamkit`` must not load.
IO_MODULES = ("httpx", "httpx_sse", "anyio", "rich")

#: key -> (label, generator) for every delta kind of issue 11.
KINDS: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "text": ("text", assistant_stream),
    "annotations": ("text with annotations (1 in 8 deltas)", annotated_text_stream),
    "function": ("function arguments, 4 parallel calls", parallel_tool_calls_stream),
    "ci_input": (
        "code interpreter input",
        lambda n: code_interpreter_stream(n, streamed="input"),
    ),
    "ci_logs": (
        "code interpreter logs output",
        lambda n: code_interpreter_stream(n, streamed="logs"),
    ),
    "file_search": ("file search (file_search objects)", file_search_stream),
}


@dataclass(frozen=True)
class Settings:
    text: int  # deltas for the bytes-to-snapshots figures
    linearity: tuple[int, int]
    memory: tuple[int, int]
    kinds: tuple[int, int]
    rounds: int  # interleaved samples per workload and version
    headline_rounds: int  # the same, for the two bytes-to-snapshots figures (cheap)
    slow_rounds: int  # the same, for workloads whose one run takes over a second
    runs: int  # runs per sample, at most ...
    sample_budget: float  # ... and no more once a sample has taken this many seconds
    max_run: float  # longest one run of a kind's large size may take, in CPU seconds
    import_runs: int


DEFAULT = Settings(
    text=2000,
    linearity=(1000, 64000),
    memory=(1000, 64000),
    kinds=(1000, 16000),
    rounds=5,
    headline_rounds=15,
    slow_rounds=3,
    runs=30,
    sample_budget=0.25,
    max_run=4.0,
    import_runs=10,
)
QUICK = Settings(
    text=1000,
    linearity=(1000, 8000),
    memory=(1000, 4000),
    kinds=(500, 2000),
    rounds=2,
    headline_rounds=3,
    slow_rounds=2,
    runs=5,
    sample_budget=0.05,
    max_run=0.3,
    import_runs=3,
)

_START = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _START:5.1f}s] {message}", file=sys.stderr, flush=True)


# --- the baseline environment ----------------------------------------------------------


def installed_pins() -> list[str]:
    pins = []
    for name in PINNED:
        with suppress(metadata.PackageNotFoundError):
            pins.append(f"{name}=={metadata.version(name)}")
    return pins


def read_marker(marker: Path) -> str | None:
    try:
        commit = json.loads(marker.read_text()).get("commit")
    except (OSError, ValueError, AttributeError):
        return None
    return commit if isinstance(commit, str) else None


def ensure_baseline(venv: Path) -> Path:
    """The baseline's interpreter, building its virtualenv first if needed."""
    python = venv / "bin" / "python"
    marker = venv / MARKER
    if python.exists() and marker.exists() and read_marker(marker) == BASELINE_COMMIT:
        return python
    if venv.exists() and not (venv / "pyvenv.cfg").exists():
        raise SystemExit(f"{venv} exists and is not a virtualenv: remove it or pass --venv")
    log(f"building the {BASELINE_VERSION} environment in {venv} (once; about a minute)")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE_COMMIT],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(
            f"git archive {BASELINE_COMMIT[:7]} failed in {ROOT}: "
            f"{archive.stderr.decode(errors='replace').strip()}"
        )
    with tempfile.TemporaryDirectory(prefix="streamkit-0.1.0-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+
                tar.extractall(tmp, filter="data")
            else:
                tar.extractall(tmp)  # our own repository's archive
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pins = installed_pins()
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", tmp, *pins],
            check=True,
        )
    marker.write_text(json.dumps({"commit": BASELINE_COMMIT, "pins": pins}) + "\n")
    return python


# --- talking to the workers -------------------------------------------------------------


@dataclass
class Version:
    """One interpreter under test, and its long-lived worker."""

    name: str  # "0.1.0" or "now"
    python: str
    env: dict[str, str]
    cwd: str
    info: dict[str, Any] = field(default_factory=dict)
    proc: subprocess.Popen[str] | None = None

    def once(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer ``request`` in a fresh process."""
        done = subprocess.run(
            [self.python, str(WORKER), "--once", json.dumps(request)],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.strip():
            raise SystemExit(f"{self.name}: the worker failed on {request}:\n{done.stderr}")
        return self._reply(request, done.stdout)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.python, str(WORKER), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=self.cwd,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.name}: the worker exited while answering {request}")
        return self._reply(request, line)

    def stop(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
            self.proc = None

    def _reply(self, request: dict[str, Any], text: str) -> dict[str, Any]:
        reply: dict[str, Any] = json.loads(text)
        if "error" in reply:
            raise SystemExit(f"{self.name}: the worker failed on {request}:\n{reply['error']}")
        return reply


@contextmanager
def serving(versions: list[Version]) -> Iterator[None]:
    for v in versions:
        v.start()
    try:
        yield
    finally:
        for v in versions:
            v.stop()


def environment(name: str) -> dict[str, str]:
    """The environment variables for ``name``'s processes.

    Bytecode is cached for both versions alike, in ``benchmarks/results/pycache/NAME``
    (with ``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would otherwise be
    compiled at every import while an installed package has its ``.pyc`` files). A
    ``PYTHONPATH`` pointing at this checkout must not reach 0.1.0.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE / name)
    if name == BASELINE_VERSION:
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
    return env


def identify(versions: list[Version]) -> None:
    src = (ROOT / "src").resolve()
    hints = {
        "now": "run this script with the interpreter of the environment to measure",
        BASELINE_VERSION: "--baseline-python must name an interpreter with streamkit 0.1.0",
    }
    for v in versions:
        try:
            v.info = v.once({"op": "identify"})
        except SystemExit as exc:
            raise SystemExit(f"{exc}\n{v.python} cannot run the worker: {hints[v.name]}") from None
        inside = Path(v.info["file"]).resolve().is_relative_to(src)
        if v.name == "now" and not inside:
            log(f"note: this interpreter imports streamkit from {v.info['file']}, not {src}")
        if v.name != "now":
            if inside:
                raise SystemExit(f"the baseline interpreter imports this checkout: {v.info}")
            if v.info["version"] != BASELINE_VERSION:
                raise SystemExit(f"the baseline is streamkit {v.info['version']}: {v.info}")


# --- streams and workloads -------------------------------------------------------------


@dataclass
class Body:
    path: str
    deltas: int
    events: int
    text_bytes: int | None  # the final message's text in UTF-8, for text streams


def final_text(body: bytes) -> str | None:
    """The text of the body's ``thread.message.completed`` message, if it has one."""
    marker = b"event: thread.message.completed\ndata: "
    start = body.find(marker)
    if start < 0:
        return None
    start += len(marker)
    data = json.loads(body[start : body.index(b"\n", start)])
    text: str = data["content"][0]["text"]["value"]
    return text


class Streams:
    """Stream bodies written once to ``tmp`` and shared by both versions."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.bodies: dict[tuple[str, int], Body] = {}

    def get(self, kind: str, n: int) -> Body:
        key = (kind, n)
        if key not in self.bodies:
            body = KINDS[kind][1](n)
            path = os.path.join(self.tmp, f"{kind}-{n}.sse")
            with open(path, "wb") as f:
                f.write(body)
            with open(path + ".chunks", "w", encoding="utf-8") as f:
                json.dump([len(c) for c in chunked(body)], f)
            text = final_text(body)
            self.bodies[key] = Body(
                path, n, body.count(b"\n\n"), None if text is None else len(text.encode())
            )
        return self.bodies[key]


_checked: dict[tuple[str, str, str], float] = {}  # (version, path, pipeline) -> CPU s


def check(versions: list[Version], body: Body, pipeline: str) -> dict[str, float]:
    """Validate ``body`` through ``pipeline`` in each version, once; the CPU time each
    version's run took."""
    out = {}
    for v in versions:
        key = (v.name, body.path, pipeline)
        if key not in _checked:
            got = v.ask({"op": "check", "path": body.path, "pipeline": pipeline})
            expected: dict[str, int | None]
            if pipeline == "fold":
                expected = {"events": body.events, "problems": 0}
            else:
                expected = {"text_deltas": body.deltas, "text_bytes": body.text_bytes}
            wrong = {k: got[k] for k in expected if got[k] != expected[k]}
            if wrong:
                name = os.path.basename(body.path)
                raise SystemExit(
                    f"{v.name}: {name} through {pipeline}: got {wrong}, not {expected}"
                )
            _checked[key] = got["elapsed"]
        out[v.name] = _checked[key]
    return out


@dataclass
class Workload:
    key: str
    body: Body
    pipeline: str
    rounds: int
    only: str | None = None  # measured in this version alone (the other is too slow)
    samples: dict[str, list[float]] = field(default_factory=dict)  # CPU seconds per delta
    wall: dict[str, list[float]] = field(default_factory=dict)  # wall seconds per delta

    def best(self, version: str) -> float:
        return min(self.samples[version])

    def median(self, version: str) -> float:
        return statistics.median(self.samples[version])


@dataclass
class Sizes:
    """The sizes a delta kind is measured at."""

    small: int
    large: int  # in both versions
    alone: dict[str, int] = field(default_factory=dict)  # version -> a larger size, alone


def choose_sizes(
    versions: list[Version], streams: Streams, kind: str, small: int, large: int, max_run: float
) -> tuple[Sizes, str | None]:
    """The sizes to measure ``kind`` at, and a note when they are not (small, large).

    The large size is the largest from ``large`` down (halving) at which one run is
    expected to take at most ``max_run`` CPU seconds in both versions, extrapolated from
    each version's times at ``small`` and ``2 * small``. A version fast enough for the
    full ``large`` while the other is not is also measured there alone.
    """
    t1 = check(versions, streams.get(kind, small), "fold")
    t2 = check(versions, streams.get(kind, 2 * small), "fold")
    power = {
        name: min(3.0, max(1.0, math.log2(max(t2[name], 1e-9) / max(t1[name], 1e-9))))
        for name in t1
    }

    def predict(name: str, n: int) -> float:
        return float(t2[name] * (n / (2 * small)) ** power[name])

    n = large
    while n > 2 * small and any(predict(name, n) > max_run for name in t1):
        n //= 2
    n = max(n, 2 * small)
    sizes = Sizes(small, n)
    if n == large:
        return sizes, None
    slow = max(t1, key=lambda name: predict(name, large))
    note = (
        f"{KINDS[kind][0]}: measured at {n:,} deltas, not {large:,}: one run of {large:,} "
        f"would take about {predict(slow, large):.0f} s of CPU in {slow} (its cost per "
        f"delta grows as n^{power[slow] - 1:.1f} from {small:,} to {2 * small:,} deltas)"
    )
    for name in t1:
        if predict(name, large) <= max_run:
            sizes.alone[name] = large
            note += f"; {name} is also measured alone at {large:,}"
    return sizes, note


def run_rounds(versions: list[Version], workloads: list[Workload], s: Settings) -> None:
    for w in workloads:
        w.samples = {v.name: [] for v in versions if w.only in (None, v.name)}
        w.wall = {v.name: [] for v in versions if w.only in (None, v.name)}
    for r in range(max(w.rounds for w in workloads)):
        log(f"round {r + 1}")
        for i, w in enumerate(workloads):
            if r >= w.rounds:
                continue
            order = versions if (r + i) % 2 == 0 else versions[::-1]
            for v in (v for v in order if w.only in (None, v.name)):
                request = {
                    "op": "time",
                    "path": w.body.path,
                    "pipeline": w.pipeline,
                    "runs": s.runs,
                    "budget": s.sample_budget,
                }
                got = v.ask(request)
                w.samples[v.name].append(min(got["cpu"]) / w.body.deltas)
                w.wall[v.name].append(min(got["wall"]) / w.body.deltas)


def measure_memory(versions: list[Version], body: Body) -> dict[str, dict[str, float]]:
    out = {}
    text_bytes = body.text_bytes
    assert text_bytes is not None
    for v in versions:
        got = v.once({"op": "memory", "path": body.path})
        out[v.name] = {
            "retained": got["retained"] / text_bytes,
            "peak": got["peak"] / text_bytes,
            "text_bytes": text_bytes,
        }
    return out


def import_times(versions: list[Version], runs: int) -> dict[str, dict[str, Any]]:
    """Import time of streamkit in fresh interpreters, and the I/O libraries it loads."""
    samples: dict[str, dict[str, list[float]]] = {
        v.name: {"importtime": [], "cpu": []} for v in versions
    }

    def python(v: Version, *args: str) -> tuple[str, str]:
        """Run ``v``'s interpreter with ``args``; its (stdout, stderr)."""
        done = subprocess.run(
            [v.python, *args], env=v.env, cwd=v.cwd, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"{v.name}: {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout, done.stderr

    def importtime(v: Version) -> float:
        _, report = python(v, "-X", "importtime", "-c", "import streamkit")
        for line in report.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() == " streamkit":
                return int(parts[1]) / 1e6
        raise SystemExit(f"{v.name}: no streamkit line in -X importtime's output")

    cpu_code = (
        "import time; start = time.process_time(); import streamkit; "
        "print(time.process_time() - start)"
    )
    for v in versions:  # compile and cache the bytecode first
        python(v, "-c", "import streamkit")
    for r in range(runs):
        for v in versions if r % 2 == 0 else versions[::-1]:
            samples[v.name]["importtime"].append(importtime(v))
            samples[v.name]["cpu"].append(float(python(v, "-c", cpu_code)[0]))
    modules_code = (
        "import json, sys, streamkit; "
        f"print(json.dumps([m for m in {list(IO_MODULES)!r} if m in sys.modules]))"
    )
    out: dict[str, dict[str, Any]] = {}
    for v in versions:
        t = samples[v.name]
        out[v.name] = {
            "importtime": (min(t["importtime"]), statistics.median(t["importtime"])),
            "cpu": (min(t["cpu"]), statistics.median(t["cpu"])),
            "modules": json.loads(python(v, "-c", modules_code)[0]),
        }
    return out


# --- the report ------------------------------------------------------------------------


Pair = tuple[float, float]


@dataclass
class Row:
    workload: str
    unit: str
    old: Pair | str  # (best, median), or a text
    new: Pair | str
    # (0.1.0, now): large / small, per delta or per text byte; None where not measured
    linearity: tuple[float | None, float | None] | None = None

    def ratio(self) -> Pair | None:
        if isinstance(self.old, str) or isinstance(self.new, str):
            return None
        return self.new[0] / self.old[0], self.new[1] / self.old[1]

    def to_json(self) -> dict[str, Any]:
        def value(v: Pair | str) -> Any:
            return v if isinstance(v, str) else {"best": v[0], "median": v[1]}

        ratio = self.ratio()
        return {
            "workload": self.workload,
            "unit": self.unit,
            BASELINE_VERSION: value(self.old),
            "now": value(self.new),
            "ratio": None if ratio is None else {"best": ratio[0], "median": ratio[1]},
            "linearity": None
            if self.linearity is None
            else {BASELINE_VERSION: self.linearity[0], "now": self.linearity[1]},
        }


def cell(v: Pair | str) -> str:
    if isinstance(v, str):
        return v
    best, median = v
    if best == median:
        return f"{best:.2f}"
    return f"{best:.2f} ({median:.2f})"


def markdown(
    rows: list[Row],
    targets: list[tuple[str, str, str, bool]],
    header: list[str],
    notes: list[str],
) -> str:
    lines = [*header, ""]
    lines.append(
        f"| workload | unit | {BASELINE_VERSION} | now | now / {BASELINE_VERSION} "
        f"| linearity {BASELINE_VERSION} | linearity now |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = row.ratio()
        lin = ["", ""]
        if row.linearity is not None:
            lin = ["" if x is None else f"{x:.2f}" for x in row.linearity]
        lines.append(
            f"| {row.workload} | {row.unit} | {cell(row.old)} | {cell(row.new)} "
            f"| {'' if ratio is None else cell(ratio)} | {lin[0]} | {lin[1]} |"
        )
    lines += ["", "| issue: target | target | now | met |", "|---|---|---:|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if met else '**no**'} |" for a, b, c, met in targets]
    lines.append("")
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines)


@dataclass
class Results:
    settings: Settings
    workloads: list[Workload]
    sizes: dict[str, Sizes]  # kind -> the sizes it was measured at
    memory: dict[int, dict[str, dict[str, float]]]  # deltas -> version -> per text byte
    imports: dict[str, dict[str, Any]]  # version -> import figures

    def workload(self, kind: str, n: int, alone: str | None = None) -> Workload:
        key = f"{kind}-{n}" if alone is None else f"{kind}-{n}@{alone}"
        return next(w for w in self.workloads if w.key == key)


def report_rows(r: Results) -> list[Row]:
    s, sizes, mem, imports = r.settings, r.sizes, r.memory, r.imports
    by_key = {w.key: w for w in r.workloads}
    old, new = BASELINE_VERSION, "now"
    us = 1e6

    def per_delta(w: Workload) -> tuple[Pair, Pair]:
        return (w.best(old) * us, w.median(old) * us), (w.best(new) * us, w.median(new) * us)

    rows = [
        Row(
            f"bytes → snapshots: `stream()` + handler, {s.text:,} text deltas",
            "µs/delta",
            *per_delta(by_key["stream"]),
        ),
        Row(
            f"bytes → snapshots: SSEParser + decode + State.apply, {s.text:,} text deltas",
            "µs/delta",
            *per_delta(by_key[f"text-{s.text}"]),
        ),
    ]

    def linear_rows(label: str, kind: str, small: int, large: int, show_small: bool) -> None:
        ws, wl = by_key[f"{kind}-{small}"], by_key[f"{kind}-{large}"]
        lin = (wl.best(old) / ws.best(old), wl.best(new) / ws.best(new))
        if show_small:
            rows.append(Row(f"{label}, {small:,} deltas", "µs/delta", *per_delta(ws)))
        label = f"{label}, {large:,} deltas (linearity: {large:,} / {small:,})"
        rows.append(Row(label, "µs/delta", *per_delta(wl), linearity=lin))

    for kind, (label, _) in KINDS.items():
        z = sizes[kind]
        linear_rows(f"kind: {label}", kind, z.small, z.large, show_small=True)
        for name, n in z.alone.items():
            ws, wl = r.workload(kind, z.small), r.workload(kind, n, alone=name)
            pair = (wl.best(name) * us, wl.median(name) * us)
            ratio = wl.best(name) / ws.best(name)
            text = f"kind: {label}, {n:,} deltas, {name} alone (linearity: {n:,} / {z.small:,})"
            if name == old:
                rows.append(Row(text, "µs/delta", pair, "too slow", linearity=(ratio, None)))
            else:
                rows.append(Row(text, "µs/delta", "too slow", pair, linearity=(None, ratio)))
    # the text row at the small size is there already when the sizes agree
    linear_rows("linearity: text", "text", *s.linearity, show_small=s.linearity[0] != s.kinds[0])

    small, large = s.memory
    for what in ("retained", "peak"):
        for n in (small, large):
            label = f"memory: {what} per final text byte, {n:,} deltas"
            lin = None
            if n == large:
                label += f" (linearity: {large:,} / {small:,})"
                lin = (
                    mem[large][old][what] / mem[small][old][what],
                    mem[large][new][what] / mem[small][new][what],
                )
            one, two = mem[n][old][what], mem[n][new][what]
            rows.append(Row(label, "bytes", (one, one), (two, two), linearity=lin))

    def ms(name: str, what: str) -> Pair:
        best, median = imports[name][what]
        return best * 1e3, median * 1e3

    rows.append(
        Row(
            "`import streamkit`: `-X importtime` cumulative (wall)",
            "ms",
            ms(old, "importtime"),
            ms(new, "importtime"),
        )
    )
    rows.append(
        Row(
            "`import streamkit`: CPU time in a fresh interpreter",
            "ms",
            ms(old, "cpu"),
            ms(new, "cpu"),
        )
    )

    def loaded(name: str) -> str:
        return ", ".join(imports[name]["modules"]) or "none"

    label = f"after `import streamkit`: which of {', '.join(IO_MODULES)} are loaded"
    rows.append(Row(label, "", loaded(old), loaded(new)))
    return rows


def target_rows(r: Results) -> list[tuple[str, str, str, bool]]:
    """The issues' targets that the figures decide: (what, target, measured, met)."""
    old, new = BASELINE_VERSION, "now"
    out = []
    stream_w = next(w for w in r.workloads if w.key == "stream")
    for label, w in (
        ("`stream()` + handler", stream_w),
        ("SSEParser + decode + State.apply", r.workload("text", r.settings.text)),
    ):
        ratio = w.best(new) / w.best(old)
        out.append(
            (
                f"10: bytes → snapshots per text delta, {label}: now / {old}",
                "<= 1.05",
                f"{ratio:.2f}",
                ratio <= 1.05,
            )
        )
    small, large = r.settings.linearity
    ws, wl = r.workload("text", small), r.workload("text", large)
    lin = {v: wl.best(v) / ws.best(v) for v in (old, new)}
    out.append(
        (
            f"10 (4): linearity holds, text per delta at {large:,} / {small:,}",
            "<= 1.2",
            f"{lin[new]:.2f} ({old}: {lin[old]:.2f})",
            lin[new] <= 1.2,
        )
    )
    worst = max(
        r.memory[n][new][what] / r.memory[n][old][what]
        for n in r.memory
        for what in ("retained", "peak")
    )
    out.append(
        (
            "10 (4): memory holds, retained and peak per text byte: worst now / " + old,
            "<= 1.05",
            f"{worst:.2f}",
            worst <= 1.05,
        )
    )
    loaded = r.imports[new]["modules"]
    out.append(
        (
            f"10: `import streamkit` loads none of {', '.join(IO_MODULES)}",
            "none",
            ", ".join(loaded) or "none",
            not loaded,
        )
    )
    for kind, (label, _) in KINDS.items():
        z = r.sizes[kind]
        ws, wl = r.workload(kind, z.small), r.workload(kind, z.large)
        lin = {v: wl.best(v) / ws.best(v) for v in (old, new)}
        measured = f"{lin[new]:.2f} ({old}: {lin[old]:.2f})"
        large = z.large
        if new in z.alone:  # judged at the full size, which only now reached
            large = z.alone[new]
            alone = r.workload(kind, large, alone=new)
            now = alone.best(new) / ws.best(new)
            measured = f"{now:.2f} ({old}, at {z.large:,} / {z.small:,}: {lin[old]:.2f})"
            lin[new] = now
        out.append(
            (
                f"11: {label}, per delta at {large:,} / {z.small:,}",
                "<= 1.2",
                measured,
                lin[new] <= 1.2,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Compare this checkout's speed, memory and import time with 0.1.0's."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--json", action="store_true", help="print JSON, not markdown")
    parser.add_argument(
        "--baseline-python", metavar="PATH", help="an interpreter with streamkit 0.1.0"
    )
    parser.add_argument(
        "--venv",
        type=Path,
        default=DEFAULT_VENV,
        help=f"where to make the 0.1.0 virtualenv (default {DEFAULT_VENV.relative_to(ROOT)})",
    )
    parser.add_argument("--rounds", type=int, help="interleaved samples per workload")
    args = parser.parse_args()
    s = QUICK if args.quick else DEFAULT
    if args.rounds is not None:
        n = args.rounds
        s = Settings(**{**s.__dict__, "rounds": n, "headline_rounds": n, "slow_rounds": n})

    # absolute, not resolved: a virtualenv's python is a symlink to its base interpreter
    if args.baseline_python is not None:
        baseline_python = os.path.abspath(args.baseline_python)
    else:
        baseline_python = str(ensure_baseline(Path(os.path.abspath(args.venv))))
    with tempfile.TemporaryDirectory(prefix="streamkit-compare-") as tmp:
        versions = [
            Version(BASELINE_VERSION, baseline_python, environment(BASELINE_VERSION), tmp),
            Version("now", sys.executable, environment("now"), tmp),
        ]
        log("identifying both interpreters")
        identify(versions)
        streams = Streams(tmp)
        notes: list[str] = []
        with serving(versions):
            log("generating and checking the streams in both versions")
            text = streams.get("text", s.text)
            check(versions, text, "stream")
            workloads = [Workload("stream", text, "stream", s.headline_rounds)]
            sizes: dict[str, Sizes] = {}
            for kind in KINDS:
                log(f"checking {kind} and choosing its sizes")
                sizes[kind], note = choose_sizes(versions, streams, kind, *s.kinds, s.max_run)
                if note:
                    notes.append(note)
            keys: list[tuple[str, int]] = [("text", s.text)]
            keys += [("text", n) for n in s.linearity]
            keys += [(kind, n) for kind, z in sizes.items() for n in (z.small, z.large)]
            log("checking the large sizes")
            for kind, n in dict.fromkeys(keys):
                elapsed = max(check(versions, streams.get(kind, n), "fold").values())
                rounds = s.slow_rounds if elapsed > 1.0 else s.rounds
                if (kind, n) == ("text", s.text):
                    rounds = s.headline_rounds
                workloads.append(Workload(f"{kind}-{n}", streams.get(kind, n), "fold", rounds))
            for kind, z in sizes.items():
                for name, n in z.alone.items():
                    alone = [v for v in versions if v.name == name]
                    elapsed = check(alone, streams.get(kind, n), "fold")[name]
                    rounds = s.slow_rounds if elapsed > 1.0 else s.rounds
                    body = streams.get(kind, n)
                    workloads.append(Workload(f"{kind}-{n}@{name}", body, "fold", rounds, name))
            log(f"timing {len(workloads)} workloads, interleaved")
            run_rounds(versions, workloads, s)
        log("memory, in fresh processes")
        mem = {n: measure_memory(versions, streams.get("text", n)) for n in s.memory}
        log("import time, in fresh interpreters")
        imports = import_times(versions, s.import_runs)

    results = Results(s, workloads, sizes, mem, imports)
    rows = report_rows(results)
    targets = target_rows(results)
    header = [
        f"# streamkit now vs {BASELINE_VERSION}, {'quick' if args.quick else 'full'} run",
        "",
        f"- {BASELINE_VERSION}: streamkit {versions[0].info['version']} (commit "
        f"{BASELINE_COMMIT[:7]}) in {versions[0].info['executable']}, "
        f"Python {versions[0].info['python']}",
        f"- now: streamkit {versions[1].info['version']} from {versions[1].info['file']}, "
        f"Python {versions[1].info['python']}",
        f"- times: CPU time of the worker (`time.process_time`), best of {s.rounds} "
        f"interleaved samples (median in parentheses; {s.headline_rounds} samples for the "
        f"two bytes → snapshots rows, {s.slow_rounds} for workloads whose one run takes "
        f"over 1 s), each sample the best of up to {s.runs} runs within "
        f"{s.sample_budget} s; now / {BASELINE_VERSION} of the best (of the medians)",
        "- linearity: per-delta cost at the large size / at the small size, per version "
        "(1.00 = linear); for memory, per-text-byte at the large size / at the small size",
    ]
    if args.quick:
        notes.append("quick run: too few samples and too small sizes to judge the targets")
    notes.append(f"this run took {time.monotonic() - _START:.0f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "baseline": {**versions[0].info, "commit": BASELINE_COMMIT},
                    "now": versions[1].info,
                    "settings": s.__dict__,
                    "sizes": {k: z.__dict__ for k, z in sizes.items()},
                    "rows": [r.to_json() for r in rows],
                    "targets": [
                        {"what": a, "target": b, "measured": c, "met": met}
                        for a, b, c, met in targets
                    ],
                    "samples_us_per_delta": {
                        w.key: {
                            "cpu": {k: [x * 1e6 for x in v] for k, v in w.samples.items()},
                            "wall": {k: [x * 1e6 for x in v] for k, v in w.wall.items()},
                        }
                        for w in workloads
                    },
                    "notes": notes,
                },
                indent=2,
            )
        )
    else:
        print(markdown(rows, targets, header, notes))


if __name__ == "__main__":
    main()
