"""The optional C speedups: which path is active, the fallback, and the compiled parser
agreeing with the pure-Python one (here by property; ``test_speedups_fuzz.py`` fuzzes)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit
from streamkit import sse
from streamkit.sse import ServerSentEvent, SSEError, SSEParser
from test_speedups_fuzz import TOKENS, differ

needs_compiled = pytest.mark.skipif(not sse.__compiled__, reason="the C speedups are not active")


def _python(parser: SSEParser, data: bytes) -> list[ServerSentEvent]:
    return sse.python_feed(parser, data)


def _default(parser: SSEParser, data: bytes) -> list[ServerSentEvent]:
    return parser.feed(data)  # the compiled one when active


FEEDS = [pytest.param(_python, id="python"), pytest.param(_default, id="default")]


def test_the_active_path_is_reported() -> None:
    assert isinstance(streamkit.__compiled__, bool)
    assert streamkit.__compiled__ is sse.__compiled__
    assert (SSEParser.feed is not sse.python_feed) is sse.__compiled__
    out = subprocess.run(
        [sys.executable, "-m", "streamkit", "--version"], capture_output=True, text=True
    ).stdout
    assert ("compiled C speedups" if sse.__compiled__ else "pure Python") in out


def test_pure_python_is_forced_by_the_environment() -> None:
    code = "import streamkit, streamkit.sse as s; print(streamkit.__compiled__, s.SSEParser.feed)"
    env = {**os.environ, "STREAMKIT_PURE_PYTHON": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    ).stdout
    assert out.startswith("False <function SSEParser.feed")


def test_pure_python_means_every_compiled_step_is_off() -> None:
    # In a process where the extension is built (in place), the variable turns off the
    # parser, the decoder and the fold's fast path alike.
    code = (
        "import streamkit, streamkit.events as e, streamkit.sse as s\n"
        "from streamkit.fold import State\n"
        "folder = State()._by_class[e.ThreadMessageDelta]\n"
        "print(streamkit.__compiled__, s.SSEParser.feed is s.python_feed,"
        " e.decode is e.python_decode, getattr(folder, '__func__', None) is State._message_delta)"
    )
    env = {**os.environ, "STREAMKIT_PURE_PYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["False", "True", "True", "True"], out.stderr


@needs_compiled
def test_the_compiled_decoder_and_fold_are_active() -> None:
    from streamkit import events
    from streamkit.fold import State

    assert events.decode is not events.python_decode
    assert type(State()._by_class[events.ThreadMessageDelta]).__name__ == "TextFolder"
    assert type(State()._by_class[events.ThreadRunStepDelta]).__name__ == "CallFolder"


@needs_compiled
def test_text_path_classes_of_another_layout_are_refused() -> None:
    from streamkit import _speedups, events  # type: ignore[attr-defined]
    from streamkit.models import (
        FunctionToolCallDelta,
        FunctionToolCallFunction,
        MessageDelta,
        MessageDeltaEvent,
        RunStepDelta,
        RunStepDeltaEvent,
        TextDelta,
        TextDeltaBlock,
        ToolCallDeltaObject,
    )

    @attrs.define(slots=True, kw_only=True, eq=False)
    class TextDelta2(TextDelta):  # one slot more than the decoder knows
        more: int = 0

    @attrs.define(slots=True, kw_only=True, eq=False)
    class Function2(FunctionToolCallFunction):  # one slot more than the decoder knows
        more: int = 0

    TextDelta2.__name__ = TextDelta2.__qualname__ = "TextDelta"
    Function2.__name__ = Function2.__qualname__ = "FunctionToolCallFunction"
    good = (events.ThreadMessageDelta, MessageDeltaEvent, MessageDelta, TextDeltaBlock)
    calls = (
        events.ThreadRunStepDelta,
        RunStepDeltaEvent,
        RunStepDelta,
        ToolCallDeltaObject,
        FunctionToolCallDelta,
    )
    # The absent keys of each model, outer to inner: the text delta's, the arguments delta's.
    records = ((), ("role",), (), ("annotations",), (), (), (), ("id",), ("name", "output"))
    decode, loads = events.python_decode, orjson.loads
    with pytest.raises(TypeError, match="instance storage"):
        _speedups.install_decode(
            (*good, TextDelta2, *calls, FunctionToolCallFunction), decode, loads, records
        )
    with pytest.raises(TypeError, match="instance storage"):
        _speedups.install_decode((*good, TextDelta, *calls, Function2), decode, loads, records)
    with pytest.raises(TypeError, match="is not TextDelta"):
        _speedups.install_decode(
            (*good, MessageDelta, *calls, FunctionToolCallFunction), decode, loads, records
        )
    with pytest.raises(TypeError, match="absent-key records of 9 models"):
        _speedups.install_decode(
            (*good, TextDelta, *calls, FunctionToolCallFunction), decode, loads, records[:4]
        )
    with pytest.raises(TypeError, match="expected a tuple"):
        _speedups.install_fold(good)
    # A refused install leaves the active decoder as it was.
    parser = SSEParser()
    parser.feed(b"\n")
    data = b'{"id":"m","delta":{"content":[{"index":0,"type":"text","text":{"value":"v"}}]}}'
    (found,) = parser.feed(b"event: thread.message.delta\ndata: " + data + b"\n\n")
    event = events.decode(found)
    assert type(event.data.delta.content[0].text) is TextDelta
    assert event.to_dict() == orjson.loads(data)


def test_a_plain_text_delta_decodes_to_the_same_objects_either_way() -> None:
    from streamkit import events

    part = '{"index":3,"type":"text","text":{"value":"v"}}'
    data = '{"id":"m","object":"thread.message.delta","delta":{"content":[' + part + "]}}"
    found = ServerSentEvent("thread.message.delta", data)
    fast, ref = events.decode(found), events.python_decode(found)
    for a, b in [(fast, ref), (fast.data, ref.data), (fast.data.delta, ref.data.delta)]:
        assert type(a) is type(b)
    block, ref_block = fast.data.delta.content[0], ref.data.delta.content[0]
    assert (block.index, block.type, block.text.value) == (3, "text", "v")
    assert block.to_dict() == ref_block.to_dict()
    assert fast.data.extra == ref.data.extra == {}
    assert fast.data.absent == ref.data.absent
    assert fast.to_dict() == ref.to_dict() == orjson.loads(data)
    assert (fast.sse, fast.warning) == (found, None)


@needs_compiled
def test_a_layout_that_does_not_match_is_refused() -> None:
    from streamkit import _speedups  # type: ignore[attr-defined]

    @attrs.define(frozen=True)
    class Other:  # a __weakref__ slot: not the layout of ServerSentEvent
        event: str = ""
        data: str = ""
        id: str | None = None
        retry: int | None = None
        offset: int | None = None
        line: int | None = None

    with pytest.raises(TypeError, match="layout"):
        _speedups.install(SSEParser, Other, sse.python_feed)

    class Parser:
        __slots__ = ("_pos",)

    with pytest.raises(TypeError, match="plain object slot"):
        _speedups.install(Parser, ServerSentEvent, sse.python_feed)

    class Shifted:  # the six slots, at other offsets
        __slots__ = ("a", "data", "event", "id", "line", "offset", "retry")

    with pytest.raises(TypeError, match="layout"):
        _speedups.install(SSEParser, Shifted, sse.python_feed)
    # A refused install leaves the active one as it was.
    parser = SSEParser()
    parser.feed(b"\n")  # the stream's first bytes go through Python (the BOM check)
    (event,) = parser.feed(b"id: 1\ndata: x\n\n")
    assert (event, event.offset, event.line) == (ServerSentEvent(data="x", id="1"), 1, 2)


@needs_compiled
def test_compiled_feed_checks_its_receiver() -> None:
    with pytest.raises(TypeError):
        SSEParser.feed(object(), b"data: x\n\n")  # type: ignore[arg-type]


@pytest.mark.parametrize("feed", FEEDS)
def test_compiled_and_python_events_are_ordinary_events(feed: Any) -> None:
    parser = SSEParser()
    (event,) = feed(parser, b"event: e\nid: 1\ndata: a\ndata: b\n\n")
    assert type(event) is ServerSentEvent
    assert event == ServerSentEvent("e", "a\nb", "1", None)
    assert (event.offset, event.line) == (0, 1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.data = "x"  # type: ignore[misc]


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("chunk", [bytearray(b"x\n\n")])
def test_bytes_like_chunks_are_read_too(feed: Any, chunk: Any) -> None:
    parser = SSEParser()
    assert feed(parser, b"data: a") == []
    assert feed(parser, chunk) == [ServerSentEvent(data="ax")]
    assert feed(parser, b"data: y\n\n") == [ServerSentEvent(data="y")]


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b"\r"])
def test_last_event_id_is_committed_before_an_over_limit_event_raises(
    feed: Any, sep: bytes
) -> None:
    # The standard sets the last event ID when the block ends, before dispatching; every
    # line-end path agrees (the LF and CRLF fast paths used to keep the earlier id).
    body = b"id: 1" + sep + b"data: a" + sep + sep + b"id: 2" + sep + b"data: " + b"x" * 40
    parser = SSEParser(max_event_bytes=30)
    with pytest.raises(SSEError, match="longer than max_event_bytes=30"):
        feed(parser, body + sep + sep)
    assert parser.last_event_id == "2"


@pytest.mark.parametrize("feed", FEEDS)
def test_last_event_id_of_events_before_an_over_long_line_is_kept(feed: Any) -> None:
    parser = SSEParser(max_line_bytes=20)
    with pytest.raises(SSEError, match="SSE line 4 at byte 15 is longer than max_line_bytes=20"):
        feed(parser, b"id: 9\ndata: a\n\n" + b"data: " + b"y" * 30 + b"\n")
    assert parser.last_event_id == "9"


sse_bytes = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=8)), max_size=25).map(
    b"".join
)


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(
    body=sse_bytes,
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
    limits=st.one_of(
        st.just({}),
        st.fixed_dictionaries(
            {
                "max_line_bytes": st.integers(min_value=1, max_value=60),
                "max_event_bytes": st.integers(min_value=1, max_value=120),
            }
        ),
    ),
)
def test_property_compiled_parser_equals_the_reference(
    body: bytes, cuts: list[int], limits: dict[str, int]
) -> None:
    points = sorted({min(cut, len(body)) for cut in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert differ(chunks, limits) is None
