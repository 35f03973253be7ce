"""Build Responses API streams for tests: from a plan of items, as SSE bytes."""

from __future__ import annotations

import json
from typing import Any

RESPONSE_ID = "resp_test"


def response(status: str, output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": RESPONSE_ID,
        "object": "response",
        "status": status,
        "output": output or [],
        "model": "gpt-test",
    }
    if status == "completed":
        body["usage"] = {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8}
    return body


def message(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def call(item_id: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": "call_" + item_id,
        "name": "lookup",
        "arguments": arguments,
    }


def item_events(
    index: int, item: dict[str, Any], pieces: list[str], *, announce: bool = True
) -> list[dict[str, Any]]:
    """The events of one item (without sequence numbers): added, deltas, done."""
    item_id = item["id"]
    events: list[dict[str, Any]] = []
    where = {"item_id": item_id, "output_index": index}
    if item["type"] == "message":
        if announce:
            added = dict(item, status="in_progress", content=[])
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": added}
            )
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append(
                {"type": "response.content_part.added", **where, "content_index": 0, "part": part}
            )
        for piece in pieces:
            events.append(
                {
                    "type": "response.output_text.delta",
                    **where,
                    "content_index": 0,
                    "delta": piece,
                    "logprobs": [],
                }
            )
        text = item["content"][0]["text"]
        events.append(
            {
                "type": "response.output_text.done",
                **where,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            }
        )
        events.append(
            {
                "type": "response.content_part.done",
                **where,
                "content_index": 0,
                "part": item["content"][0],
            }
        )
    else:
        if announce:
            added = dict(item, status="in_progress", arguments="")
            events.append(
                {"type": "response.output_item.added", "output_index": index, "item": added}
            )
        for piece in pieces:
            events.append(
                {"type": "response.function_call_arguments.delta", **where, "delta": piece}
            )
        events.append(
            {
                "type": "response.function_call_arguments.done",
                **where,
                "arguments": item["arguments"],
            }
        )
    events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    return events


def number(events: list[dict[str, Any]], start: int = 0) -> list[dict[str, Any]]:
    return [dict(event, sequence_number=start + i) for i, event in enumerate(events)]


def sse(events: list[dict[str, Any]], *, named: bool = True) -> bytes:
    out = []
    for event in events:
        head = f"event: {event['type']}\n" if named else ""
        out.append(f"{head}data: {json.dumps(event, ensure_ascii=False)}\n\n")
    return "".join(out).encode()


def whole(items: list[dict[str, Any]], body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """created, in_progress, the body, completed: numbered."""
    return number(
        [
            {"type": "response.created", "response": response("in_progress")},
            {"type": "response.in_progress", "response": response("in_progress")},
            *body,
            {"type": "response.completed", "response": response("completed", items)},
        ]
    )
