"""Decoding cost of a text delta: streamkit.events.decode against orjson.loads and openai-python.

On the ``thread.message.delta`` events of ``assistant_stream(2000)`` (already split into
Server-Sent Events: parsing is not measured), per delta, best of several repeats:

- ``orjson.loads(data)``: the floor, untyped dicts;
- ``streamkit.events.decode(sse)``: JSON parse plus typed event and models (the issue's
  target is at most 3x the floor);
- ``MessageDeltaEvent.from_dict``: streamkit's model decoding alone, on parsed dicts;
- openai-python's way, when importable: ``json.loads`` (``ServerSentEvent.json``) then
  ``construct_type(type_=AssistantStreamEvent, value={"data": ..., "event": ...})``, as
  its ``Stream`` does for each Assistants event (and the same on orjson-parsed dicts).

Run: python benchmarks/bench_decode.py [--deltas N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream
from streamkit.events import ThreadMessageDelta, decode
from streamkit.models import MessageDeltaEvent
from streamkit.sse import ServerSentEvent, SSEParser


def text_deltas(n: int) -> list[ServerSentEvent]:
    """The ``thread.message.delta`` events of an ``n``-delta stream."""
    parser = SSEParser()
    events = parser.feed(assistant_stream(n))
    parser.close()
    deltas = [e for e in events if e.event == "thread.message.delta"]
    assert len(deltas) == n
    return deltas


def best(run: Callable[[], Any], repeat: int) -> float:
    """The fastest of ``repeat`` timed runs (after one warm-up), garbage collector off."""
    run()
    times = []
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
            gc.collect()
    finally:
        gc.enable()
    return min(times)


def openai_construct() -> Callable[[Any], Any] | None:
    """openai-python's event construction, or None when openai is not installed."""
    try:
        from openai._models import construct_type
        from openai.types.beta.assistant_stream_event import AssistantStreamEvent
    except ImportError:
        return None

    def construct(value: Any) -> Any:
        return construct_type(type_=AssistantStreamEvent, value=value)

    return construct


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deltas", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    events = text_deltas(args.deltas)
    datas = [e.data for e in events]
    parsed = [orjson.loads(d) for d in datas]
    names = [e.event for e in events]

    # The decoded events are what they should be before anything is timed.
    for sse, payload in zip(events, parsed, strict=True):
        event = decode(sse)
        assert type(event) is ThreadMessageDelta and event.data.to_dict() == payload

    loads = orjson.loads
    from_dict = MessageDeltaEvent.from_dict
    rows: list[tuple[str, float]] = [
        ("`orjson.loads(data)` (the floor)", best(lambda: [loads(d) for d in datas], args.repeat)),
        ("`streamkit.events.decode(sse)`", best(lambda: [decode(e) for e in events], args.repeat)),
        (
            "`MessageDeltaEvent.from_dict` (models only, parsed input)",
            best(lambda: [from_dict(p) for p in parsed], args.repeat),
        ),
    ]
    construct = openai_construct()
    if construct is not None:
        import openai

        json_loads = json.loads
        rows.append(
            (
                f"openai-python {openai.__version__}: `json.loads` + `construct_type`",
                best(
                    lambda: [
                        construct({"data": json_loads(d), "event": n})
                        for d, n in zip(datas, names, strict=True)
                    ],
                    args.repeat,
                ),
            )
        )
        rows.append(
            (
                "openai-python: `construct_type` only (parsed input)",
                best(
                    lambda: [
                        construct({"data": p, "event": n})
                        for p, n in zip(parsed, names, strict=True)
                    ],
                    args.repeat,
                ),
            )
        )

    floor = rows[0][1]
    n = len(events)
    print(
        f"{n:,} text deltas, Python {platform.python_version()}, orjson {orjson.__version__}; "
        f"best of {args.repeat}:\n"
    )
    print("| decoding | µs / delta | vs orjson.loads |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds / n * 1e6:.2f} | {seconds / floor:.2f}x |")
    ratio = rows[1][1] / floor
    verdict = "within" if ratio <= 3.0 else "above"
    print(f"\ndecode / orjson.loads = {ratio:.2f}x ({verdict} the 3x target)")


if __name__ == "__main__":
    main()
