"""What the API itself costs: the floor under any pure-Python bytes-to-snapshots pipeline.

Run: ``python benchmarks/bench_floor.py`` (add ``--quick`` for a smoke run).

Issues 4 and 5 ask for bytes to snapshots at >= 30x openai's ``AssistantEventHandler``
and <= 5x ``orjson.loads`` of the payloads. This script asks whether any pure-Python
implementation of the pinned API can meet that on this interpreter. On the same bytes and
in the same run, it times:

- ``orjson.loads`` of every event's data, pre-split (the targets' floor);
- the **object floor**: one hand-fused loop that does only what the API promises for
  each text delta and nothing else. It splits lines, decodes the data, and builds the
  objects the public API hands out: a ``ServerSentEvent``, the typed event and its
  four models (``MessageDeltaEvent`` > ``MessageDelta`` > ``TextDeltaBlock`` >
  ``TextDelta``), the two Changes and their list. Then it appends the text. It does no
  validation, no lifecycle or index checks, no line numbers, and no work at all for the
  events that are not text deltas. So it is a lower bound, not an implementation;
- the **lazy floor**: the same loop with the models left out (the event keeps the raw
  dict), which is what a design that builds typed objects only on access would start
  from;
- streamkit's real pipeline (``SSEParser`` -> ``decode`` -> ``State.apply``) and
  openai-python's handler, exactly as in ``bench_fold.py``.

Each row reports its ratio to the orjson floor and openai's ratio to it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _streams import assistant_stream, chunked
from bench_fold import best, data_lines, openai_handler, orjson_floor, streamkit_fold
from streamkit import models
from streamkit._changes import ContentPartDelta, MessageDeltaApplied
from streamkit.events import ThreadMessageDelta
from streamkit.sse import ServerSentEvent, _EventSlots

_new = object.__new__


def object_floor(chunks: list[bytes]) -> int:
    """Build, per text delta, exactly the objects the public API hands out; nothing else."""
    loads = orjson.loads
    text: list[str] = []
    message = models.Message.__new__(models.Message)  # stands in for the live snapshot
    event_type = ""
    offset = 0
    tail = b""
    deltas = 0
    for chunk in chunks:
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        for line in lines:
            if line[:6] == b"data: ":
                data = line[6:].decode()
                sse = _new(_EventSlots)
                sse.event, sse.data, sse.id, sse.retry = event_type, data, "", None
                sse.offset, sse.line = offset, 0
                sse.__class__ = ServerSentEvent
                if event_type == "thread.message.delta":
                    d = loads(data)
                    event = _new(ThreadMessageDelta)
                    event.sse, event.warning = sse, None
                    payload = _new(models.MessageDeltaEvent)
                    payload.id, payload.object, payload._absent, payload._extra = (
                        d["id"],
                        d["object"],
                        d,
                        None,
                    )
                    raw_delta = d["delta"]
                    delta = _new(models.MessageDelta)
                    delta.role, delta._absent, delta._extra = None, raw_delta, None
                    parts = []
                    for raw_part in raw_delta["content"]:
                        part = _new(models.TextDeltaBlock)
                        part.index, part.type = raw_part["index"], raw_part["type"]
                        part._absent, part._extra = raw_part, None
                        raw_text = raw_part["text"]
                        text_delta = _new(models.TextDelta)
                        text_delta._value, text_delta.annotations = raw_text["value"], None
                        text_delta._absent, text_delta._extra = raw_text, None
                        part.text = text_delta
                        parts.append(part)
                    delta.content = parts
                    payload.delta = delta
                    event.data = payload
                    changes = []
                    for part in parts:
                        text.append(part.text._value)
                        changes.append(ContentPartDelta(event, message, part.index, None, part))
                    changes.append(MessageDeltaApplied(event, message, delta))
                    for change in changes:
                        if change.__class__ is ContentPartDelta:
                            deltas += 1
            elif line[:7] == b"event: ":
                event_type = line[7:].decode()
            offset += len(line) + 1
    return deltas


def lazy_floor(chunks: list[bytes]) -> int:
    """The object floor without the four models: the event keeps the raw dict."""
    loads = orjson.loads
    text: list[str] = []
    message = models.Message.__new__(models.Message)
    event_type = ""
    offset = 0
    tail = b""
    deltas = 0
    for chunk in chunks:
        lines = (tail + chunk).split(b"\n")
        tail = lines.pop()
        for line in lines:
            if line[:6] == b"data: ":
                data = line[6:].decode()
                sse = _new(_EventSlots)
                sse.event, sse.data, sse.id, sse.retry = event_type, data, "", None
                sse.offset, sse.line = offset, 0
                sse.__class__ = ServerSentEvent
                if event_type == "thread.message.delta":
                    d = loads(data)
                    event = _new(ThreadMessageDelta)
                    event.sse, event.warning, event.data = sse, None, d
                    raw_delta = d["delta"]
                    changes = []
                    for raw_part in raw_delta["content"]:
                        text.append(raw_part["text"]["value"])
                        changes.append(
                            ContentPartDelta(event, message, raw_part["index"], None, raw_part)
                        )
                    changes.append(MessageDeltaApplied(event, message, raw_delta))
                    for change in changes:
                        if change.__class__ is ContentPartDelta:
                            deltas += 1
            elif line[:7] == b"event: ":
                event_type = line[7:].decode()
            offset += len(line) + 1
    return deltas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    repeat = 2 if args.quick else 7
    n = 200 if args.quick else 2000
    body = assistant_stream(n)
    chunks = chunked(body)
    datas = data_lines(body)
    for fn in (object_floor, lazy_floor, streamkit_fold, openai_handler):
        assert fn(chunks) == n, fn.__name__

    floor = best(lambda: orjson_floor(datas), repeat)
    rows = [
        ("orjson.loads of the pre-split payloads", floor),
        ("lazy floor (no typed models)", best(lambda: lazy_floor(chunks), repeat)),
        (
            "object floor (the API's objects, nothing else)",
            best(lambda: object_floor(chunks), repeat),
        ),
        ("streamkit (parse + decode + fold)", best(lambda: streamkit_fold(chunks), repeat)),
    ]
    openai = best(lambda: openai_handler(chunks), max(2, repeat // 3))

    us = 1e6
    print(f"Python {sys.version.split()[0]}, {n}-delta text stream, best of {repeat}")
    print("targets: >= 30x faster than openai, <= 5x the orjson floor\n")
    print("| pipeline | µs per text delta | x orjson floor | openai is x slower |")
    print("|---|---:|---:|---:|")
    for name, seconds in rows:
        print(
            f"| {name} | {seconds / n * us:.2f} | {seconds / floor:.2f} | {openai / seconds:.1f} |"
        )
    print(f"| openai AssistantEventHandler | {openai / n * us:.2f} | {openai / floor:.1f} | 1.0 |")


if __name__ == "__main__":
    main()
