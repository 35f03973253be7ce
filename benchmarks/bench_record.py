"""Per-chunk cost of recording a live stream with streamkit.record.tee / atee.

For 50,000 chunks of ~100 bytes, written to a file in a temp directory, compares iterating
the source directly with iterating it through tee (sync), atee (asyncio, trio):

* cost: wall time per chunk of the whole loop (includes the recording write);
* delivery: time from the source yielding a chunk to the consumer holding it, p50 / p99
  (tee hands the chunk over before writing it, so this should barely move).

Run: python benchmarks/bench_record.py [--chunks N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import anyio

from streamkit.record import Recorder, atee, load_recording, tee


def make_chunks(n: int) -> list[bytes]:
    chunks = []
    for i in range(n):
        chunk = b'data: {"delta":{"content":[{"text":{"value":"token %06d' % i
        chunk += b"x" * (92 - len(chunk)) + b'"}}]}}\n\n'
        chunks.append(chunk)
    return chunks


class Stamp:
    """Shared slot: when the source last yielded."""

    sent = 0.0


def source(chunks: list[bytes], stamp: Stamp) -> Iterator[bytes]:
    clock = time.perf_counter
    for chunk in chunks:
        stamp.sent = clock()
        yield chunk


async def asource(chunks: list[bytes], stamp: Stamp) -> AsyncIterator[bytes]:
    clock = time.perf_counter
    for chunk in chunks:
        stamp.sent = clock()
        yield chunk


def run_sync(
    chunks: list[bytes], path: Path | None, redact: bool = False
) -> tuple[float, list[float]]:
    """(seconds per chunk for a plain loop, delivery latencies of a measuring loop)."""
    clock = time.perf_counter
    stamp = Stamp()

    def wrap() -> tuple[Iterator[bytes], Recorder | None]:
        if path is None:
            return source(chunks, stamp), None
        rec = Recorder(path, redact_body_secrets=redact)
        return tee(source(chunks, stamp), rec), rec

    it, rec = wrap()
    start = clock()
    for _chunk in it:
        pass
    cost = (clock() - start) / len(chunks)
    if rec is not None:
        rec.close()

    it, rec = wrap()
    latencies = []
    for _chunk in it:
        latencies.append(clock() - stamp.sent)
    if rec is not None:
        rec.close()
    return cost, latencies


async def run_async(chunks: list[bytes], path: Path | None) -> tuple[float, list[float]]:
    clock = time.perf_counter
    stamp = Stamp()

    def wrap() -> tuple[AsyncIterator[bytes], Recorder | None]:
        if path is None:
            return asource(chunks, stamp), None
        rec = Recorder(path)
        return atee(asource(chunks, stamp), rec), rec

    it, rec = wrap()
    start = clock()
    async for _chunk in it:
        pass
    cost = (clock() - start) / len(chunks)
    if rec is not None:
        rec.close()

    it, rec = wrap()
    latencies = []
    async for _chunk in it:
        latencies.append(clock() - stamp.sent)
    if rec is not None:
        rec.close()
    return cost, latencies


def measure(
    run: Callable[[Path | None], tuple[float, list[float]]], path: Path, repeat: int
) -> dict[str, float]:
    """Medians over ``repeat`` runs, alternating direct and tee."""
    results: dict[str, list[float]] = {k: [] for k in ("d", "t", "d50", "t50", "d99", "t99")}
    for _ in range(repeat):
        for key, target in (("d", None), ("t", path)):
            cost, lat = run(target)
            q = statistics.quantiles(lat, n=100)
            results[key].append(cost)
            results[key + "50"].append(q[49])
            results[key + "99"].append(q[98])
    return {k: statistics.median(v) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    chunks = make_chunks(args.chunks)
    size = sum(map(len, chunks)) / len(chunks)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        rows = {
            "sync `tee`": measure(lambda p: run_sync(chunks, p), path, args.repeat),
            "sync `tee`, `redact_body_secrets`": measure(
                lambda p: run_sync(chunks, p, redact=True), path, args.repeat
            ),
            "asyncio `atee`": measure(
                lambda p: anyio.run(run_async, chunks, p, backend="asyncio"), path, args.repeat
            ),
            "trio `atee`": measure(
                lambda p: anyio.run(run_async, chunks, p, backend="trio"), path, args.repeat
            ),
        }
        recording = load_recording(path)
        assert recording.complete and recording.body == b"".join(chunks)

    us = 1e6
    print(f"{args.chunks} chunks of {size:.0f} bytes, median of {args.repeat} runs, times in µs\n")
    print(
        "| path | direct / chunk | with tee / chunk | added / chunk | delivery p50 | delivery p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        cells = [r["d"], r["t"], r["t"] - r["d"]]
        delivery = [
            f"{r[d] * us:.2f} → {r[t] * us:.2f}" for d, t in (("d50", "t50"), ("d99", "t99"))
        ]
        print(
            f"| {name} | "
            + " | ".join(f"{c * us:.2f}" for c in cells)
            + " | "
            + " | ".join(delivery)
            + " |"
        )


if __name__ == "__main__":
    main()
