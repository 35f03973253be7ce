"""SSE parsing throughput: streamkit's SSEParser against httpx-sse's and openai's decoders.

Each parser gets the same stream body (``assistant_stream(n)``, optionally with CRLF line
ends) as the same list of 1-4 KiB chunks of random size (fixed seed), and does all the
work from bytes to event objects, as it does on a live response:

- streamkit: ``SSEParser.feed(chunk)`` for each chunk, then ``close()``.
- httpx-sse: what ``EventSource.iter_sse`` does over ``response.iter_text()``: an
  incremental UTF-8 decoder (errors="replace", as httpx's), ``SSELineDecoder`` to split
  lines, ``line.rstrip("\\n")`` and ``SSEDecoder.decode(line)`` per line.
- openai: ``openai._streaming.SSEDecoder().iter_bytes(iter(chunks))``.

Events per second, best of ``--repeat`` runs with the garbage collector off; all three must
produce the same number of events.

    python benchmarks/bench_sse.py            # --repeat R
"""

from __future__ import annotations

import argparse
import codecs
import gc
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream, chunked
from streamkit.sse import SSEParser

Parse = Callable[[list[bytes]], int]


def parse_streamkit(chunks: list[bytes]) -> int:
    parser = SSEParser()
    n = 0
    for chunk in chunks:
        n += len(parser.feed(chunk))
    n += len(parser.close())
    return n


def parse_httpx_sse(chunks: list[bytes]) -> int:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    lines = SSELineDecoder()
    decoder = SSEDecoder()
    n = 0
    for chunk in chunks:
        for line in lines.decode(text_decoder.decode(chunk)):
            if decoder.decode(line.rstrip("\n")) is not None:
                n += 1
    for line in lines.decode(text_decoder.decode(b"", final=True)) + lines.flush():
        if decoder.decode(line.rstrip("\n")) is not None:
            n += 1
    return n


def parse_openai(chunks: list[bytes]) -> int:
    from openai._streaming import SSEDecoder

    return sum(1 for _ in SSEDecoder().iter_bytes(iter(chunks)))


def best(parse: Parse, chunks: list[bytes], repeat: int) -> tuple[int, float]:
    """(events, fastest time in seconds) over ``repeat`` runs after one warm-up."""
    events = parse(chunks)
    times = []
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            parse(chunks)
            times.append(time.perf_counter() - start)
            gc.collect()
    finally:
        gc.enable()
    return events, min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per parser (best kept)")
    args = ap.parse_args()

    parsers: list[tuple[str, Parse]] = [
        ("streamkit", parse_streamkit),
        ("httpx-sse", parse_httpx_sse),
        ("openai", parse_openai),
    ]
    streams = [
        ("2,000 deltas", assistant_stream(2_000)),
        ("50,000 deltas", assistant_stream(50_000)),
        ("2,000 deltas, CRLF", assistant_stream(2_000).replace(b"\n", b"\r\n")),
    ]
    print(f"Python {platform.python_version()}, {platform.system()}; chunks of 1-4 KiB;")
    print(f"events/s, best of {args.repeat}\n")
    print("| stream | events | MB | streamkit | httpx-sse | openai | vs httpx-sse | vs openai |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, body in streams:
        chunks = chunked(body, lo=1024, hi=4096, seed=0)
        rates: dict[str, float] = {}
        counts: dict[str, int] = {}
        for label, parse in parsers:
            counts[label], seconds = best(parse, chunks, args.repeat)
            rates[label] = counts[label] / seconds
        if len(set(counts.values())) != 1:
            raise SystemExit(f"{name}: parsers disagree on the number of events: {counts}")
        sk, hx, oa = rates["streamkit"], rates["httpx-sse"], rates["openai"]
        print(
            f"| {name} | {counts['streamkit']:,} | {len(body) / 1e6:.1f} | {sk:,.0f} | "
            f"{hx:,.0f} | {oa:,.0f} | {sk / hx:.2f}x | {sk / oa:.2f}x |"
        )


if __name__ == "__main__":
    main()
