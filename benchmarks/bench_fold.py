"""Bytes to snapshots: streamkit's parser + decoder + fold against the incumbents.

Run: ``python benchmarks/bench_fold.py`` (add ``--quick`` for a smoke run).

Measured on the same bytes, in the same process, best of several repeats:

- streamkit: ``SSEParser.feed`` -> ``events.decode`` -> ``fold.State.apply`` over 1-4 KiB
  chunks, i.e. everything up to live snapshots and the Change list.
- openai-python: its ``SSEDecoder.iter_bytes`` -> ``construct_type(AssistantStreamEvent)``
  -> ``AssistantEventHandler._emit_sse_event`` (the path its ``AssistantStreamManager``
  runs), with ``on_text_delta`` counting deltas.
- the floor: ``orjson.loads`` of every event's data, nothing else.

Reported: time per text delta for each, the ratios, and streamkit's per-delta cost at
64,000 deltas divided by its cost at 1,000 (1.0 = perfectly linear).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream, chunked
from streamkit import _changes
from streamkit.events import decode
from streamkit.fold import State
from streamkit.sse import SSEParser


def streamkit_fold(chunks: list[bytes]) -> int:
    parser = SSEParser()
    state = State()
    deltas = 0
    delta_change = _changes.ContentPartDelta
    for chunk in chunks:
        for sse in parser.feed(chunk):
            for change in state.apply(decode(sse)):
                if change.__class__ is delta_change:
                    deltas += 1
    for sse in parser.close():
        state.apply(decode(sse))
    message = next(iter(state.messages.values()))
    assert message.status == "completed"
    return deltas


def fold_state(chunks: list[bytes]) -> State:
    """The folded state of a stream (kept, for the memory measurement)."""
    parser = SSEParser()
    state = State()
    for chunk in chunks:
        for sse in parser.feed(chunk):
            state.apply(decode(sse))
    return state


def memory(n: int) -> tuple[int, int, int]:
    """(bytes retained by the folded state, peak bytes while folding, final text length)
    for an ``n``-delta stream, measured with tracemalloc (the input chunks not counted)."""
    chunks = chunked(assistant_stream(n))
    gc.collect()
    tracemalloc.start()
    state = fold_state(chunks)
    gc.collect()
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    message = next(iter(state.messages.values()))
    text = message.content[0].text.value  # type: ignore[index,union-attr]
    return retained, peak, len(text.encode())


def openai_handler(chunks: list[bytes]) -> int:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai.lib.streaming import AssistantEventHandler
    from openai.types.beta import AssistantStreamEvent

    class Counter(AssistantEventHandler):
        count = 0

        def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.count += 1

    handler = Counter()
    for sse in SSEDecoder().iter_bytes(iter(chunks)):
        if sse.event == "done":
            continue
        event = construct_type(
            type_=AssistantStreamEvent, value={"event": sse.event, "data": sse.json()}
        )
        handler._emit_sse_event(event)  # type: ignore[arg-type]
    return handler.count


def orjson_floor(datas: list[str]) -> int:
    loads = orjson.loads
    n = 0
    for data in datas:
        if data != "[DONE]":
            loads(data)
            n += 1
    return n


def data_lines(body: bytes) -> list[str]:
    return [line[6:] for line in body.decode().split("\n") if line.startswith("data: ")]


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    n = 200 if args.quick else 2000
    body = assistant_stream(n)
    chunks = chunked(body)
    datas = data_lines(body)
    assert streamkit_fold(chunks) == n
    assert openai_handler(chunks) == n

    t_sk = best(lambda: streamkit_fold(chunks), repeat)
    t_oa = best(lambda: openai_handler(chunks), max(2, repeat // 2))
    t_floor = best(lambda: orjson_floor(datas), repeat)

    small, large = (100, 6400) if args.quick else (1000, 64000)
    body_small, body_large = assistant_stream(small), assistant_stream(large)
    chunks_small, chunks_large = chunked(body_small), chunked(body_large)
    per_small = best(lambda: streamkit_fold(chunks_small), repeat) / small
    per_large = best(lambda: streamkit_fold(chunks_large), max(2, repeat // 2)) / large

    us = 1e6
    print(f"Bytes to snapshots, {n}-delta text stream ({len(body):,} bytes), best of {repeat}\n")
    print("| pipeline | µs per text delta | streamkit is |")
    print("|---|---:|---:|")
    print(f"| streamkit (parse + decode + fold) | {t_sk / n * us:.2f} | 1.00x |")
    print(f"| openai AssistantEventHandler | {t_oa / n * us:.2f} | {t_oa / t_sk:.1f}x faster |")
    print(f"| orjson.loads floor | {t_floor / n * us:.2f} | {t_sk / t_floor:.2f}x the floor |")
    print()
    print("| linearity | µs per delta |")
    print("|---|---:|")
    print(f"| {small:,} deltas | {per_small * us:.2f} |")
    print(f"| {large:,} deltas | {per_large * us:.2f} |")
    print(f"| ratio {large:,} / {small:,} | {per_large / per_small:.2f} |")
    print()
    print("| memory (tracemalloc) | final text | retained by State | peak | per text byte |")
    print("|---|---:|---:|---:|---:|")
    for size in (small, large):
        retained, peak, text = memory(size)
        print(
            f"| {size:,} deltas | {text:,} B | {retained:,} B | {peak:,} B "
            f"| {retained / text:.2f} / {peak / text:.2f} |"
        )


if __name__ == "__main__":
    main()
