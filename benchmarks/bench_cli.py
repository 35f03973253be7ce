"""The CLI on hostile input: peak memory on a large stream, and no quadratic path.

1. Peak memory (max RSS of a fresh process) of ``streamkit validate`` and
   ``streamkit inspect`` on a large stream (285 MB by default: one long message of text
   deltas), against ``streamkit.stream(path)`` reading the same file with a handler. The
   CLI keeps the snapshots and its reports, never the stream, so it should be bounded by
   what ``stream(path)`` uses (both hold the final text).
2. ``streamkit validate`` on blocks whose JSON line lost its ``data:`` prefix: time per
   block at 16k and 32k blocks (0.1.0 was quadratic: 7 s and 29 s).

Run: ``python benchmarks/bench_cli.py [--mb 285] [--keep]``. Every process is a fresh
interpreter; the big file is written to a temporary directory and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STREAM = """
import sys, streamkit
class Quiet(streamkit.EventHandler):
    def on_text_delta(self, delta, snapshot):
        pass
s = streamkit.stream(sys.argv[1], handler=Quiet())
s.until_done()
print(len(s.get_final_text()))
"""


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def write_big(path: Path, megabytes: int) -> int:
    """A run with one message of text deltas, ``megabytes`` MB long; returns the deltas."""
    message = {
        "id": "msg_1",
        "object": "thread.message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
        "run_id": "run_1",
    }
    delta = sse(
        "thread.message.delta",
        {
            "id": "msg_1",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "token "}}]},
        },
    )
    count = megabytes * 1_000_000 // len(delta)
    with path.open("wb") as out:
        out.write(sse("thread.run.created", {"id": "run_1", "status": "queued"}))
        out.write(sse("thread.message.created", message))
        batch = delta * 10_000
        for _ in range(count // 10_000):
            out.write(batch)
        out.write(delta * (count % 10_000))
        out.write(sse("thread.message.completed", {**message, "status": "completed"}))
        out.write(sse("thread.run.completed", {"id": "run_1", "status": "completed"}))
        out.write(b"event: done\ndata: [DONE]\n\n")
    return count


def peak(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one fresh process running ``args``."""
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1):
        raise SystemExit(f"{args} failed: {done.stderr}")
    # ru_maxrss of the children is the largest so far: run the smallest first.
    return seconds, max(rss, before) / 1024


def cli(command: str, path: Path) -> list[str]:
    return [sys.executable, "-m", "streamkit", command, str(path)]


def lost_prefix_body(blocks: int) -> bytes:
    block = b'event: thread.run.completed\n{"id": "run_1", "status": "completed"}\n\n'
    return block * blocks + b"event: done\ndata: [DONE]\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=285, help="size of the big stream (MB)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary files")
    options = parser.parse_args()
    print(f"Python {sys.version.split()[0]}; each figure is one fresh process\n")
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)

        print("| quadratic check: `validate`, blocks without 'data:' | time | per block |")
        print("|---|---:|---:|")
        for blocks in (16_000, 32_000):
            path = directory / f"lost{blocks}.sse"
            path.write_bytes(lost_prefix_body(blocks))
            seconds, _ = peak(cli("validate", path))
            print(f"| {blocks:,} blocks | {seconds:.2f} s | {seconds / blocks * 1e6:.0f} µs |")

        big = directory / "big.sse"
        deltas = write_big(big, options.mb)
        size = big.stat().st_size / 1e6
        print(f"\n| {size:.0f} MB stream, {deltas:,} text deltas | time | peak RSS |")
        print("|---|---:|---:|")
        rows = [
            ("`streamkit.stream(path)` + handler", [sys.executable, "-c", STREAM, str(big)]),
            ("`streamkit validate`", cli("validate", big)),
            ("`streamkit inspect --json`", [*cli("inspect", big), "--json"]),
        ]
        for label, args in rows:
            # A fresh measuring process per row: ru_maxrss of children is a running max.
            code = (
                "import resource, subprocess, sys, time\n"
                "t = time.perf_counter()\n"
                f"subprocess.run({args!r}, stdout=subprocess.DEVNULL, check=False)\n"
                "r = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
                "print(time.perf_counter() - t, r / 1024)\n"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            seconds, rss = map(float, out.stdout.split())
            print(f"| {label} | {seconds:.1f} s | {rss:.0f} MB |")
        if options.keep:
            kept = Path.cwd() / "benchmarks" / "results"
            kept.mkdir(parents=True, exist_ok=True)
            os.replace(big, kept / "big.sse")


if __name__ == "__main__":
    main()
