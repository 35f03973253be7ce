"""stream() / astream() on Responses bodies: the protocol is told from the first event
(or forced), and EventHandler's hooks fire with the Responses objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import streamkit
from _responses_streams import call, item_events, message, number, response, sse, whole
from streamkit import AsyncEventHandler, Driver, EventHandler
from streamkit.models.responses import FunctionCall, OutputText, ReasoningItem, Response
from streamkit.protocols.assistants import ASSISTANTS
from streamkit.protocols.responses import RESPONSES, ResponsesState

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "responses"
FILES = sorted(RECORDINGS.glob("*.sse"))
ASSISTANTS_BODY = (
    b"event: thread.run.created\n"
    b'data: {"id": "run_1", "object": "thread.run", "status": "queued"}\n\n'
    b"event: thread.run.completed\n"
    b'data: {"id": "run_1", "object": "thread.run", "status": "completed"}\n\n'
    b"event: done\ndata: [DONE]\n\n"
)


class Recorder(EventHandler):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_run_created(self, run: Any) -> None:
        self.calls.append(("run_created", run))

    def on_run_done(self, run: Any) -> None:
        self.calls.append(("run_done", run))

    def on_message_created(self, message: Any) -> None:
        self.calls.append(("message_created", message))

    def on_text_created(self, text: Any) -> None:
        self.calls.append(("text_created", text))

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.calls.append(("text_delta", (delta.delta, snapshot.text)))

    def on_text_done(self, text: Any) -> None:
        self.calls.append(("text_done", text))

    def on_tool_call_created(self, tool_call: Any) -> None:
        self.calls.append(("call_created", tool_call))

    def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        self.calls.append(("call_delta", (delta.delta, snapshot.arguments)))

    def on_tool_call_done(self, tool_call: Any) -> None:
        self.calls.append(("call_done", tool_call))

    def on_reasoning_delta(self, delta: Any, snapshot: Any) -> None:
        self.calls.append(("reasoning_delta", (delta.delta, snapshot.type)))

    def on_reasoning_done(self, part: Any) -> None:
        self.calls.append(("reasoning_done", part))

    def on_tool_call_progress(self, status: str, tool_call: Any) -> None:
        self.calls.append(("progress", (status, tool_call.type)))

    def on_mcp_approval_request(self, request: Any) -> None:
        self.calls.append(("approval", request.name))

    def named(self, name: str) -> list[Any]:
        return [arg for hook, arg in self.calls if hook == name]


def _body() -> tuple[bytes, list[dict[str, Any]]]:
    text, args = message("msg_1", "Hello there"), call("fc_1", '{"city":"Oslo"}')
    body = [
        *item_events(0, text, ["Hel", "lo", " there"]),
        *item_events(1, args, ['{"city"', ':"Oslo"}']),
    ]
    events = whole([text, args], body)
    return sse(events), events


def test_the_protocol_is_told_from_the_first_event() -> None:
    body, _ = _body()
    assert Driver(protocol="auto").protocol is ASSISTANTS  # until an event says
    driver = Driver(protocol="auto")
    list(driver.feed(body))
    assert driver.protocol is RESPONSES and isinstance(driver.state, ResponsesState)
    unnamed = sse(
        number([{"type": "response.created", "response": response("queued")}]), named=False
    )
    driver = Driver(protocol="auto")
    list(driver.feed(unnamed))
    assert driver.protocol is RESPONSES
    driver = Driver(protocol="auto")
    list(driver.feed(ASSISTANTS_BODY))
    assert driver.protocol is ASSISTANTS and not driver.close()
    with pytest.raises(ValueError, match="protocol"):
        Driver(protocol="chat")


def test_stream_reads_a_responses_body_with_the_same_hooks() -> None:
    body, events = _body()
    handler = Recorder()
    with streamkit.stream(body, handler=handler) as s:
        assert list(s.text_deltas) == ["Hel", "lo", " there"]
    assert isinstance(s.state, ResponsesState)
    assert s.get_final_text() == "Hello there"
    run = s.get_final_run()
    assert isinstance(run, Response) and run.to_dict() == events[-1]["response"]
    assert handler.named("run_created") == [run] and handler.named("run_done") == [run]
    assert handler.named("text_delta") == [
        ("Hel", "Hel"),
        ("lo", "Hello"),
        (" there", "Hello there"),
    ]
    (created,) = handler.named("text_created")
    assert isinstance(created, OutputText) and handler.named("text_done") == [created]
    (call_item,) = handler.named("call_created")
    assert isinstance(call_item, FunctionCall)
    assert handler.named("call_delta") == [('{"city"', '{"city"'), (':"Oslo"}', '{"city":"Oslo"}')]
    assert handler.named("call_done") == [call_item] and call_item.arguments == '{"city":"Oslo"}'


def test_a_forced_protocol_is_used() -> None:
    body, _ = _body()
    with streamkit.stream(body, protocol="responses") as s:
        s.until_done()
    assert isinstance(s.state, ResponsesState)
    with pytest.raises(streamkit.StreamTruncated):  # read as Assistants: never ends
        streamkit.stream(body, protocol="assistants").until_done()


@pytest.mark.external
@pytest.mark.skipif(not FILES, reason="no Responses recordings")
def test_reasoning_hooks_on_a_recording() -> None:
    path = RECORDINGS / "reasoning_summary.sse"
    handler = Recorder()
    streamkit.stream(path.read_bytes(), handler=handler).until_done()
    pieces = handler.named("reasoning_delta")
    assert pieces and {kind for _, kind in pieces} == {"summary_text"}
    assert len(handler.named("reasoning_done")) == 4
    assert isinstance(handler.named("message_created")[0], ReasoningItem)
    last = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("data: {")]
    final = json.loads(last[-1][6:])["response"]
    summary = "".join(part["text"] for part in final["output"][0]["summary"])
    assert "".join(piece for piece, _ in pieces) == summary


def test_hosted_tool_progress_and_mcp_approval_hooks() -> None:
    search = {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}
    approval = {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "deepwiki",
        "name": "ask_question",
        "arguments": "{}",
    }
    body = [
        {"type": "response.output_item.added", "output_index": 0, "item": search},
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
        {"type": "response.web_search_call.completed", "item_id": "ws_1", "output_index": 0},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": dict(search, status="completed"),
        },
        {"type": "response.output_item.added", "output_index": 1, "item": approval},
        {"type": "response.output_item.done", "output_index": 1, "item": approval},
    ]
    handler = Recorder()
    items = [dict(search, status="completed"), approval]
    streamkit.stream(sse(whole(items, body)), handler=handler).until_done()
    assert handler.named("progress") == [
        ("searching", "web_search_call"),
        ("completed", "web_search_call"),
    ]
    assert handler.named("approval") == ["ask_question"]
    assert [item.type for item in handler.named("call_done")] == [
        "web_search_call",
        "mcp_approval_request",
    ]


class AsyncRecorder(AsyncEventHandler):
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.done: list[Any] = []

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.pieces.append(delta.delta)

    async def on_run_done(self, run: Any) -> None:
        self.done.append(run.status)


@pytest.mark.anyio
async def test_astream_reads_a_responses_body() -> None:
    body, _ = _body()
    handler = AsyncRecorder()
    async with streamkit.astream(body, handler=handler) as s:
        await s.until_done()
    assert handler.pieces == ["Hel", "lo", " there"] and handler.done == ["completed"]


def test_an_annotation_reaches_on_text_delta_with_no_text() -> None:
    cite = {"type": "file_citation", "file_id": "f1", "filename": "a.txt", "index": 2}
    text = message("msg_1", "Hi")
    text["content"][0]["annotations"] = [cite]
    events = item_events(0, text, ["Hi"])
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    added = {"type": "response.output_text.annotation.added", **where, "annotation_index": 0}
    events.insert(3, {**added, "annotation": cite})
    handler = Recorder()
    streamkit.stream(sse(whole([text], events)), handler=handler).until_done()
    assert handler.named("text_delta") == [("Hi", "Hi"), ("", "Hi")]
    (part,) = handler.named("text_done")
    assert [a.to_dict() for a in part.annotations] == [cite]
