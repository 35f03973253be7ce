"""Per-stage cost of a text delta: SSE parsing, decoding, the fold, each alone.

Run it in two interpreters to see where a difference between versions comes from, e.g.
this checkout and the 0.1.0 baseline that ``compare_versions.py`` builds::

    python benchmarks/bench_stages.py
    benchmarks/results/venv-0.1.0/bin/python benchmarks/bench_stages.py

Each stage runs over the same 2,000-delta stream (``_streams.assistant_stream``), its
input prepared beforehand; the figure is the best of ``--repeat`` runs, in µs per delta.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream, chunked
from streamkit import SSEParser, decode
from streamkit.fold import State

N = 2_000


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times) * 1e6 / N


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=30)
    repeat = options.parse_args().repeat
    chunks = chunked(assistant_stream(N))
    parser = SSEParser()
    sses = [sse for chunk in chunks for sse in parser.feed(chunk)]
    events = [decode(sse) for sse in sses]

    def parse() -> None:
        p = SSEParser()
        for chunk in chunks:
            p.feed(chunk)

    def decode_all() -> None:
        for sse in sses:
            decode(sse)

    def fold() -> None:
        apply = State().apply
        for event in events:
            apply(event)

    figures = {name: best(run, repeat) for name, run in (
        ("parse", parse), ("decode", decode_all), ("fold", fold)
    )}  # fmt: skip
    print(
        f"Python {sys.version.split()[0]}: "
        + ", ".join(f"{name} {value:.2f}" for name, value in figures.items())
        + f", total {sum(figures.values()):.2f} µs per text delta"
    )


if __name__ == "__main__":
    main()
