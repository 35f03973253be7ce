"""A differential fuzzer: the compiled SSEParser.feed against the pure-Python reference.

Each case is a body (random SSE-ish tokens, random bytes, or a hostile stream of
``tests/_fuzz.py`` with its mutations, then byte-level mutations: CR / LF / CRLF swapped,
BOMs, NULs, invalid UTF-8, cuts, duplicated slices), cut into random chunks (single bytes,
a CR at a chunk's end, empty chunks, the odd bytearray), read with random limits (often
tiny) and sometimes with diagnostics. The same chunks go through ``parser.feed`` (the
compiled one) and :func:`streamkit.sse.python_feed` on a second parser; after every chunk
the results (events with their class, fields, offsets and lines; or the error's type and
message) and the whole parser state (every slot, ``pending``, ``last_line``) must agree,
also after an error and after ``close()``.

Run as a script for a long campaign: ``python tests/test_speedups_fuzz.py --cases 1000000``
(``--seed`` to reproduce, ``--jobs`` processes). The test below runs a CI budget
(``STREAMKIT_SPEEDUPS_FUZZ_CASES``, default 100,000). Skipped when the C extension is not
active.
"""

from __future__ import annotations

import argparse
import operator
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _fuzz
from streamkit import sse
from streamkit.sse import SSEParser

CASES = int(os.environ.get("STREAMKIT_SPEEDUPS_FUZZ_CASES", "100000"))
SEED = int(os.environ.get("STREAMKIT_SPEEDUPS_FUZZ_SEED", "1"))

TOKENS = [
    b"data: ",
    b"data:",
    b"event: ",
    b"event: thread.message.delta",
    b"id: ",
    b"id: 7",
    b"id",
    b"retry: ",
    b"retry: 1500",
    b"retry: 99999999999999999999999",
    b": ping",
    b":",
    b"\n",
    b"\n",
    b"\n\n",
    b"\r\n",
    b"\r\n\r\n",
    b"\r",
    b"\xef\xbb\xbf",
    b"\xef\xbb",
    b"\x00",
    b"\xff",
    b"\xe2\x82",
    b"\xac",
    b"\xf0\x9f\x98\x80",
    b'{"delta": {"content": [{"index": 0, "type": "text", "text": {"value": "hi"}}]}}',
    b"x",
    b"hello world",
    b" ",
    b"Data: ",
    b"[DONE]",
]

_HOSTILE: list[bytes] = []


def _hostile(rng: random.Random) -> bytes:
    """A window of a stream from the pipeline fuzzer's seeds and mutations (a pool of 400
    per process, made once: the JSON mutations cost more than the comparison)."""
    if not _HOSTILE:
        pool_rng = random.Random(rng.random())
        seeds = _fuzz.seeds()[:4]  # the generated seeds (and a recording or two)
        for _ in range(400):
            events, _ = _fuzz.mutate(pool_rng, pool_rng.choice(seeds))
            _HOSTILE.append(_fuzz.encode(pool_rng, events))
    body = rng.choice(_HOSTILE)
    if len(body) > 300:  # a window keeps cases fast; any window is a valid input
        start = rng.randrange(len(body) - 300)
        body = body[start : start + 300] if rng.random() < 0.7 else body[:300]
    return body


def _mutate(rng: random.Random, body: bytes) -> bytes:
    for _ in range(rng.randrange(4)):
        if not body:
            break
        at = rng.randrange(len(body) + 1)
        roll = rng.randrange(8)
        if roll == 0:
            body = body[:at] + rng.choice([b"\r", b"\n", b"\r\n"]) + body[at:]
        elif roll == 1:
            body = body.replace(b"\n", rng.choice([b"\r\n", b"\r"]), rng.randrange(1, 4))
        elif roll == 2:
            body = body[:at] + rng.choice(TOKENS) + body[at:]
        elif roll == 3:
            body = body[:at] + body[at + rng.randrange(1, 8) :]
        elif roll == 4:
            body = body[:at]
        elif roll == 5:
            end = min(len(body), at + rng.randrange(1, 60))
            body = body[:end] + body[at:end] + body[end:]
        elif roll == 6:
            body = body[:at] + bytes([rng.randrange(256)]) + body[at + 1 :]
        else:
            body = b"\xef\xbb\xbf" + body
    return body


def make_body(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind < 4:
        body = b"".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 30)))
    elif kind < 5:
        body = bytes(rng.choice(b"ab:\r\n \x00\xef\xbb\xbf\xff") for _ in range(rng.randrange(60)))
    else:
        body = _hostile(rng)
    return _mutate(rng, body)


def make_chunks(rng: random.Random, body: bytes) -> list[bytes]:
    roll = rng.randrange(8)
    if roll == 0:
        cuts = list(range(1, min(len(body), 80)))  # byte by byte (the first 80)
    elif roll == 1:  # after every CR: the split CRLF
        cuts = [i + 1 for i, b in enumerate(body) if b == 13]
    elif roll == 2:
        cuts = []
    else:
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, rng.randrange(1, 8))))
    chunks: list[bytes] = []
    start = 0
    for cut in [*cuts, len(body)]:
        chunks.append(body[start:cut])
        start = cut
    if rng.random() < 0.05 and chunks:
        i = rng.randrange(len(chunks))
        chunks[i] = bytearray(chunks[i])  # type: ignore[call-overload]
    return chunks


def make_options(rng: random.Random) -> dict[str, Any]:
    roll = rng.randrange(6)
    if roll < 3:
        return {}
    options: dict[str, Any] = {
        "max_line_bytes": rng.randrange(1, 90),
        "max_event_bytes": rng.randrange(1, 250),
    }
    if roll == 5:
        options["diagnostics"] = True
    return options


_state = operator.attrgetter(*SSEParser.__slots__, "pending", "last_line")


def _outcome(call: Any) -> tuple[Any, ...]:
    try:
        events = call()
    except Exception as error:
        return ("error", type(error), str(error))
    rows = [(type(e), e.event, e.data, e.id, e.retry, e.offset, e.line) for e in events]
    return ("events", rows)


def differ(chunks: list[bytes], options: dict[str, Any]) -> str | None:
    """Feed both parsers; describe the first difference, or None. The results are compared
    after every chunk, the whole state after an error and at the end."""
    compiled, python = SSEParser(**options), SSEParser(**options)
    for n, chunk in enumerate(chunks):
        got = _outcome(lambda chunk=chunk: compiled.feed(chunk))
        want = _outcome(lambda chunk=chunk: sse.python_feed(python, chunk))
        if got != want:
            return f"chunk {n}: compiled {got!r} != python {want!r}"
        if got[0] == "error" and _state(compiled) != _state(python):
            return f"chunk {n}: state {_state(compiled)!r} != {_state(python)!r}"
    if _state(compiled) != _state(python):
        return f"end: state {_state(compiled)!r} != {_state(python)!r}"
    got, want = _outcome(compiled.close), _outcome(python.close)
    if got != want or _state(compiled) != _state(python):
        return f"close: {got!r} != {want!r}"
    return None


def campaign(cases: int, seed: int, start: int = 0) -> list[str]:
    reports = []
    for case in range(start, start + cases):
        rng = random.Random(seed * 1_000_003 + case)
        body = make_body(rng)
        chunks, options = make_chunks(rng, body), make_options(rng)
        found = differ(chunks, options)
        if found is not None:
            reports.append(f"case {case} (seed {seed}) {options} {chunks!r}:\n  {found}")
    return reports


def _work(args: tuple[int, int, int]) -> list[str]:
    return campaign(*args)


def run(cases: int, seed: int, jobs: int) -> list[str]:
    batch = max(1, cases // (jobs * 4))
    work = [(min(batch, cases - start), seed, start) for start in range(0, cases, batch)]
    if jobs == 1:
        return [report for item in work for report in _work(item)]
    # An executor, not a Pool: a worker that dies (a sanitizer abort, a segfault) fails
    # the run with BrokenProcessPool instead of hanging it.
    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        return [report for found in pool.map(_work, work) for report in found]


needs_compiled = pytest.mark.skipif(not sse.__compiled__, reason="the C speedups are not active")


@needs_compiled
@pytest.mark.timeout(600)
def test_compiled_and_python_parsers_agree_on_fuzzed_input() -> None:
    reports = run(CASES, SEED, 2)
    assert not reports, f"{len(reports)} differences; first:\n" + "\n".join(reports[:3])


@needs_compiled
def test_the_differential_check_sees_a_difference() -> None:
    chunks = [b"data: a\n\n"]
    assert differ(chunks, {}) is None
    original = sse.python_feed
    try:
        sse.python_feed = lambda parser, data: original(parser, data)[1:]  # type: ignore[misc]
        assert differ(chunks, {}) is not None
    finally:
        sse.python_feed = original  # type: ignore[misc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not sse.__compiled__:
        print("the C speedups are not active: nothing to compare", file=sys.stderr)
        return 2
    started = time.perf_counter()
    reports = run(args.cases, args.seed, args.jobs)
    elapsed = time.perf_counter() - started
    for report in reports[:10]:
        print(report)
    print(f"{args.cases} cases, seed {args.seed}: {len(reports)} differences in {elapsed:.1f}s")
    return 1 if reports else 0


if __name__ == "__main__":
    raise SystemExit(main())
