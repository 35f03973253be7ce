"""Responses API streams, bytes to snapshots: streamkit against openai-python's helper.

Run: ``python benchmarks/bench_responses.py`` (``--quick`` for a smoke run).

On the same bytes, in the same process, best of several repeats, per text delta:

- streamkit: ``Driver(protocol=RESPONSES)``: ``SSEParser.feed`` -> the Responses decoder
  -> ``ResponsesState.apply`` over 1-4 KiB chunks: everything up to live snapshots and the
  Change list. Also ``streamkit.stream(body, protocol="auto")`` with an ``on_text_delta``
  hook (detection, handler dispatch).
- openai-python: ``client.responses.stream(...)``, its ``ResponseStream`` helper, served
  the same body by an ``httpx.MockTransport`` (no socket): its SSE decoder,
  ``construct_type`` of each event, and ``ResponseStreamState`` accumulating the
  snapshot, then ``get_final_response()``. One request per repeat: its fixed cost is
  spread over the deltas, and reported alone (an empty-body stream) to be subtracted.
- the floor: ``orjson.loads`` of every event's data, nothing else.

The body: one response with a message of N text deltas (a word each, as the service
sends them, with ``obfuscation``), then the real recording ``reasoning_summary.sse``
(654 deltas) when ``../shared/recordings/responses`` is there.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

import streamkit
from streamkit import Driver
from streamkit.protocols.responses import RESPONSES

RECORDING = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "recordings"
    / "responses"
    / "reasoning_summary.sse"
)


def synthetic(deltas: int) -> bytes:
    """A response whose message streams ``deltas`` text deltas."""
    out: list[bytes] = []
    number = 0

    def add(event: dict[str, Any]) -> None:
        nonlocal number
        event["sequence_number"] = number
        number += 1
        out.append(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())

    base = {"id": "resp_1", "object": "response", "model": "gpt-test", "output": []}
    add({"type": "response.created", "response": dict(base, status="in_progress")})
    item = {
        "id": "msg_1",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    add({"type": "response.output_item.added", "output_index": 0, "item": item})
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    add({"type": "response.content_part.added", **where, "part": part})
    for i in range(deltas):
        add(
            {
                "type": "response.output_text.delta",
                **where,
                "delta": f" word{i % 97}",
                "logprobs": [],
                "obfuscation": "xYz12",
            }
        )
    text = "".join(f" word{i % 97}" for i in range(deltas))
    done_part = dict(part, text=text)
    add({"type": "response.output_text.done", **where, "text": text, "logprobs": []})
    add({"type": "response.content_part.done", **where, "part": done_part})
    done_item = dict(item, status="completed", content=[done_part])
    add({"type": "response.output_item.done", "output_index": 0, "item": done_item})
    usage = {"input_tokens": 5, "output_tokens": deltas, "total_tokens": deltas + 5}
    final = dict(base, status="completed", output=[done_item], usage=usage)
    add({"type": "response.completed", "response": final})
    return b"".join(out)


def chunked(body: bytes, low: int = 1024, high: int = 4096) -> list[bytes]:
    chunks, at, size = [], 0, low
    while at < len(body):
        chunks.append(body[at : at + size])
        at += size
        size = low if size >= high else size * 2
    return chunks


def text_deltas(body: bytes) -> int:
    return (
        body.count(b'"type":"response.output_text.delta"')
        + body.count(b'"type": "response.output_text.delta"')
        + body.count(b'"type":"response.reasoning_summary_text.delta"')
    )


def run_driver(chunks: list[bytes]) -> Any:
    driver = Driver(protocol=RESPONSES)
    for chunk in chunks:
        for _ in driver.feed(chunk):
            pass
    assert not driver.close()
    return driver.state.current_run


class _Count(streamkit.EventHandler):
    count = 0

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.count += 1


def run_stream(chunks: list[bytes]) -> Any:
    with streamkit.stream(iter(chunks), handler=_Count()) as s:
        return s.get_final_run()


def openai_client(body: bytes) -> Any:
    import httpx
    import openai

    def answer(request: Any) -> Any:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return openai.OpenAI(
        api_key="sk-bench",
        base_url="http://127.0.0.1:9/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
    )


def run_openai(client: Any) -> Any:
    with client.responses.stream(model="gpt-test", input="hi") as stream:
        for _ in stream:
            pass
        return stream.get_final_response()


def run_floor(body: bytes) -> int:
    n = 0
    for line in body.split(b"\n"):
        if line.startswith(b"data: "):
            orjson.loads(line[6:])
            n += 1
    return n


def best(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, body: bytes, repeats: int) -> None:
    deltas = text_deltas(body)
    chunks = chunked(body)
    mine = run_driver(chunks).to_dict()
    client = openai_client(body)
    theirs = run_openai(client).model_dump(exclude_unset=True)
    assert [o.get("id") for o in mine["output"]] == [o.get("id") for o in theirs["output"]]
    empty = openai_client(synthetic(0))
    rows = {
        "streamkit Driver": best(lambda: run_driver(chunks), repeats),
        "streamkit stream() + hook": best(lambda: run_stream(chunks), repeats),
        "openai ResponseStream": best(lambda: run_openai(client), repeats),
        "  (its fixed cost, 0 deltas)": best(lambda: run_openai(empty), repeats),
        "orjson.loads floor": best(lambda: run_floor(body), repeats),
    }
    print(f"\n{name}: {len(body):,} bytes, {deltas:,} text deltas (best of {repeats})")
    floor = rows["orjson.loads floor"]
    for label, seconds in rows.items():
        per = seconds / max(deltas, 1) * 1e6
        ratio = seconds / floor
        print(f"  {label:<30} {seconds * 1e3:9.2f} ms  {per:7.2f} us/delta  {ratio:6.1f}x floor")
    net = rows["openai ResponseStream"] - rows["  (its fixed cost, 0 deltas)"]
    print(f"  openai (net of fixed cost) / streamkit Driver: {net / rows['streamkit Driver']:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args()
    repeats = 2 if args.quick else 7
    for deltas in (1_000,) if args.quick else (1_000, 20_000):
        measure(f"synthetic, {deltas:,} deltas", synthetic(deltas), repeats)
    if RECORDING.is_file():
        measure("reasoning_summary.sse (recorded)", RECORDING.read_bytes(), repeats)


if __name__ == "__main__":
    main()
