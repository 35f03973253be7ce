"""Decoding Responses events: every payload of the recordings round-trips through its
class; unnamed frames, ``[DONE]``, events outside the union, bad data; the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamkit import MalformedEventError
from streamkit.events import DoneEvent, MalformedEvent, UnknownEvent
from streamkit.protocols.responses import (
    EVENTS,
    ITEM,
    RESPONSE,
    RESPONSES,
    ResponseErrorEvent,
    ResponseOutputTextDelta,
    decode,
)
from streamkit.sse import ServerSentEvent, SSEParser

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "responses"
FILES = sorted(RECORDINGS.glob("*.sse"))


def frames(body: bytes) -> list[ServerSentEvent]:
    parser = SSEParser()
    out = parser.feed(body)
    parser.close()
    return out


@pytest.mark.external
@pytest.mark.skipif(not FILES, reason="no Responses recordings")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_event_of_the_recordings_round_trips(path: Path) -> None:
    for sse in frames(path.read_bytes()):
        event = decode(sse)
        assert not isinstance(event, UnknownEvent), sse.event
        assert event.event == sse.event
        assert event.to_dict() == json.loads(sse.data)
        assert type(event) is EVENTS[sse.event].event_class


def _sse(data: str, event: str = "message") -> ServerSentEvent:
    return frames(f"event: {event}\ndata: {data}\n\n".encode())[0]


def test_a_frame_without_an_event_line_is_named_by_its_type() -> None:
    data = (
        '{"type":"response.output_text.delta","delta":"Hi","item_id":"m",'
        '"output_index":0,"content_index":0,"sequence_number":3}'
    )
    (sse,) = frames(f"data: {data}\n\n".encode())
    event = decode(sse)
    assert isinstance(event, ResponseOutputTextDelta)
    assert event.data.delta == "Hi" and event.data.sequence_number == 3
    assert event.to_dict() == json.loads(data)


def test_done_terminator_and_events_outside_the_union() -> None:
    assert isinstance(decode(frames(b"data: [DONE]\n\n")[0]), DoneEvent)
    keepalive = decode(_sse('{"type":"keepalive","sequence_number":9}'))
    assert isinstance(keepalive, UnknownEvent) and keepalive.event == "keepalive"
    assert keepalive.data == {"type": "keepalive", "sequence_number": 9}
    limits = decode(
        _sse(
            '{"type":"response.rate_limits.updated","rate_limits":[]}',
            "response.rate_limits.updated",
        )
    )
    assert isinstance(limits, UnknownEvent) and limits.data["rate_limits"] == []


def test_error_events_in_both_shapes() -> None:
    nested = (
        '{"type":"error","sequence_number":2,"error":'
        '{"type":"invalid_request_error","code":"x","message":"bad","param":null}}'
    )
    flat = '{"type":"error","sequence_number":2,"code":"x","message":"bad","param":null}'
    for data in (nested, flat):
        event = decode(_sse(data, "error"))
        assert isinstance(event, ResponseErrorEvent)
        assert event.data.details.message == "bad" and event.data.details.code == "x"
        assert event.to_dict() == json.loads(data)


def test_bad_data_is_named_with_its_event_and_line() -> None:
    body = b'event: response.output_text.delta\ndata: {"delta": 5}\n\n'
    with pytest.raises(MalformedEventError) as info:
        decode(frames(body)[0])
    assert info.value.event == "response.output_text.delta" and info.value.path == "delta"
    assert info.value.line == 1 and info.value.data == '{"delta": 5}'
    event = decode(frames(b"event: response.completed\ndata: {oops\n\n")[0], tolerant=True)
    assert isinstance(event, MalformedEvent) and event.raw == "{oops"
    with pytest.raises(MalformedEventError, match="not valid JSON"):
        decode(frames(b"event: response.completed\ndata: {oops\n\n")[0])


def test_big_integers_are_read_exactly() -> None:
    data = (
        '{"type":"response.output_item.added","sequence_number":1,"output_index":0,'
        '"item":{"type":"function_call","id":"f","tokens":18446744073709551615}}'
    )
    event = decode(_sse(data))
    assert event.to_dict()["item"]["tokens"] == 18446744073709551615


@given(st.text(max_size=60), st.sampled_from(["message", *list(EVENTS)[:12], "error", "keepalive"]))
def test_decode_raises_nothing_but_malformed_event_error(data: str, name: str) -> None:
    sse = ServerSentEvent(event=name, data=data)
    try:
        event = decode(sse)
    except MalformedEventError as e:
        assert e.data == data
        return
    tolerant = decode(sse, tolerant=True)
    assert type(tolerant) is type(event)


def test_the_protocol_table() -> None:
    spec = RESPONSES.spec("response.completed")
    assert spec is not None and spec.status == "completed" and spec.kind == "response"
    assert RESPONSES.spec("response.output_text.delta").delta  # type: ignore[union-attr]
    assert RESPONSES.spec("keepalive") is None
    assert RESPONSE.allows("queued", "in_progress") and not RESPONSE.allows(
        "completed", "in_progress"
    )
    assert ITEM.allows("in_progress", "searching") and not ITEM.allows("completed", "in_progress")
    assert len(EVENTS) >= 50


def test_deeply_nested_data_is_malformed_not_a_crash() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(MalformedEventError):
        decode(_sse(deep, "response.completed"))
    assert isinstance(decode(_sse(deep, "keepalive")), UnknownEvent)
