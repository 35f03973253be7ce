"""The measuring half of ``compare_versions.py``: runs workloads in one interpreter.

``compare_versions.py`` starts this script once in each environment it compares (the
current checkout's and 0.1.0's), so it may use only what both versions have: the public
names ``streamkit.stream``, ``streamkit.EventHandler`` (``on_text_delta``),
``streamkit.SSEParser``, ``streamkit.decode`` and ``streamkit.State`` (``apply``,
``problems``), and nothing from ``benchmarks/`` (the parent generates the stream bodies
and hands both interpreters the same files).

How it talks: with ``--serve`` it reads one JSON request per line on stdin and writes one
JSON reply per line on stdout, for as long as stdin stays open (the parent keeps one such
worker per version and alternates requests between them, so that machine noise hits both
alike). With ``--once REQUEST`` it answers one request and exits, for measurements that
want a fresh process (memory). Anything the library might print goes to stderr; a
request that fails is answered with ``{"error": traceback}``.

A stream is a file ``NAME`` (the body) and ``NAME.chunks`` (the JSON list of chunk sizes
in which it is fed). Requests:

- ``{"op": "check", "path", "pipeline", ...}``: run once, validating: for ``fold`` the
  strict fold's event count and problems; for ``stream`` the number of ``on_text_delta``
  calls and the final text's length. Returns the counts and the CPU time taken.
- ``{"op": "time", "path", "pipeline", "runs", "budget"}``: run up to ``runs`` times
  (at least once, and no more once ``budget`` seconds have passed), a full garbage
  collection before each; returns each run's CPU time (``time.process_time``: what the
  run cost, which a busy shared machine inflates far less than wall time) and wall time.
- ``{"op": "memory", "path"}``: tracemalloc's retained and peak bytes for a strict fold
  (the input chunks are read before tracing starts and not counted).
- ``{"op": "identify"}``: the streamkit version, file and interpreter.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import streamkit
from streamkit import EventHandler, SSEParser, State, decode, stream

Chunks = list[bytes]


def load(path: str) -> Chunks:
    """The body at ``path`` cut into the chunk sizes listed in ``path + ".chunks"``."""
    with open(path, "rb") as f:
        body = f.read()
    with open(path + ".chunks", encoding="utf-8") as f:
        sizes: list[int] = json.load(f)
    chunks, pos = [], 0
    for size in sizes:
        chunks.append(body[pos : pos + size])
        pos += size
    if pos != len(body):
        raise ValueError(f"{path}: chunk sizes add up to {pos}, the body has {len(body)} bytes")
    return chunks


class TextCounter(EventHandler):
    """A handler that counts its ``on_text_delta`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.deltas = 0

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.deltas += 1


#: The file search stream's final object holds every result: its line outgrows the
#: parser's default 1 MiB limit at 16,000 deltas (a limit both versions take).
LIMITS = {"max_line_bytes": 1 << 30, "max_event_bytes": 1 << 30}


def parse_all(chunks: Chunks) -> Iterator[Any]:
    parser = SSEParser(**LIMITS)
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()


def run_fold(chunks: Chunks) -> State:
    """SSEParser -> decode -> State.apply (strict) over every chunk."""
    parser = SSEParser(**LIMITS)
    state = State()
    apply = state.apply
    for chunk in chunks:
        for sse in parser.feed(chunk):
            apply(decode(sse))
    for sse in parser.close():
        apply(decode(sse))
    return state


def run_stream(chunks: Chunks) -> TextCounter:
    """``streamkit.stream(chunks, handler=...)`` to the end."""
    handler = TextCounter()
    stream(chunks, handler=handler).until_done()
    return handler


PIPELINES: dict[str, Callable[[Chunks], object]] = {"fold": run_fold, "stream": run_stream}


def check(req: dict[str, Any]) -> dict[str, Any]:
    chunks = load(req["path"])
    gc.collect()
    start = time.process_time()
    if req["pipeline"] == "fold":
        state = State()
        events = problems = 0
        for sse in parse_all(chunks):
            events += 1
            problems += sum(type(c).__name__ == "Problem" for c in state.apply(decode(sse)))
        elapsed = time.process_time() - start
        problems = max(problems, len(getattr(state, "problems", ())))
        return {"elapsed": elapsed, "events": events, "problems": problems}
    handler = TextCounter()
    s = stream(chunks, handler=handler)
    s.until_done()
    elapsed = time.process_time() - start
    return {
        "elapsed": elapsed,
        "text_deltas": handler.deltas,
        "text_bytes": len(s.get_final_text().encode()),
    }


def timed(req: dict[str, Any]) -> dict[str, Any]:
    chunks = load(req["path"])
    run = PIPELINES[req["pipeline"]]
    cpu: list[float] = []
    wall: list[float] = []
    while len(cpu) < req["runs"] and (not wall or sum(wall) < req["budget"]):
        gc.collect()
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        run(chunks)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start_wall)
    return {"cpu": cpu, "wall": wall}


def memory(req: dict[str, Any]) -> dict[str, Any]:
    chunks = load(req["path"])
    gc.collect()
    tracemalloc.start()
    state = run_fold(chunks)
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del state
    return {"retained": retained, "peak": peak}


def identify(req: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": streamkit.__version__,
        "file": streamkit.__file__,
        "python": platform.python_version(),
        "executable": sys.executable,
    }


OPS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "check": check,
    "time": timed,
    "memory": memory,
    "identify": identify,
}


def answer(line: str) -> str:
    try:
        req = json.loads(line)
        reply = OPS[req["op"]](req)
    except Exception:
        reply = {"error": traceback.format_exc()}
    return json.dumps(reply)


def main() -> None:
    parser = argparse.ArgumentParser(description="streamkit benchmark worker (see docstring)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--serve", action="store_true", help="answer JSON lines on stdin")
    group.add_argument("--once", metavar="REQUEST", help="answer one JSON request")
    args = parser.parse_args()
    # Replies go to the real stdout; anything else printed goes to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout = sys.stderr
    if args.once is not None:
        print(answer(args.once), file=out, flush=True)
        return
    for line in sys.stdin:
        if line.strip():
            print(answer(line), file=out, flush=True)


if __name__ == "__main__":
    main()
