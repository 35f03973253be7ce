"""Tests of streamkit.sse: one test per rule of the standard, limits, diagnostics, encode,
and properties (chunking, round trip, robustness, no late events, a reference parser)."""

from __future__ import annotations

import contextlib
import pickle
import re
from collections.abc import Iterable
from pathlib import Path

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit._errors import StreamkitError
from streamkit.sse import Diagnostic, ServerSentEvent, SSEError, SSEParser, encode

RECORDINGS = Path(__file__).parents[1].parent / "shared" / "recordings"

Row = tuple[str, str, str | None, int | None, int | None, int | None]


def parse(*chunks: bytes, **kwargs: int) -> list[ServerSentEvent]:
    """Feed ``chunks`` to a fresh parser, close it, return every event."""
    parser = SSEParser(**kwargs)
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    assert parser.close() == []
    return events


def rows(events: Iterable[ServerSentEvent]) -> list[Row]:
    """Events as tuples, offset and line included (they take no part in ==)."""
    return [(e.event, e.data, e.id, e.retry, e.offset, e.line) for e in events]


def one(stream: bytes) -> ServerSentEvent:
    (event,) = parse(stream)
    return event


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


# -- decoding -----------------------------------------------------------------------------


def test_invalid_utf8_becomes_replacement_character() -> None:
    assert one(b"data: a\xffb\xed\xa0\x80c\n\n").data == "a\ufffdb\ufffd\ufffd\ufffdc"


def test_multibyte_character_split_across_chunks() -> None:
    text = "é€😀"
    stream = f"event: {text}\ndata: {text}\n\n".encode()
    assert parse(*[bytes([b]) for b in stream]) == [ServerSentEvent(text, text)]


def test_truncated_sequence_split_across_chunks_is_one_replacement() -> None:
    # E2 82 is a truncated 3-byte sequence: one U+FFFD, whatever the chunking.
    assert parse(b"data: \xe2", b"\x82x\n\n")[0].data == "\ufffdx"
    assert parse(b"data: \xe2\x82x\n\n")[0].data == "\ufffdx"


def test_bom_stripped_at_stream_start() -> None:
    event = one(b"\xef\xbb\xbfdata: x\n\n")
    assert event.data == "x"
    assert (event.offset, event.line) == (3, 1)


def test_bom_split_across_chunks_is_stripped() -> None:
    assert parse(b"\xef", b"\xbb", b"\xbfdata: x\n\n") == [ServerSentEvent(data="x")]
    assert parse(b"\xef\xbb", b"\xbfdata: x\n\n") == [ServerSentEvent(data="x")]


def test_only_one_bom_stripped() -> None:
    # The second BOM is part of the first line: field "\ufeffdata" is unknown.
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n") == []


def test_bom_later_in_stream_is_kept() -> None:
    assert parse(b"data: 1\n\n\xef\xbb\xbfdata: 2\n\n") == [ServerSentEvent(data="1")]
    assert one(b"data: \xef\xbb\xbfx\n\n").data == "\ufeffx"


def test_bom_prefix_that_is_not_a_bom_is_data() -> None:
    assert parse(b"\xef", b"\xbbdata: x\n\n") == []  # field "\ufffddata"
    assert parse(b"\xef\xbb") == []


# -- lines ----------------------------------------------------------------------------------


def test_crlf_lf_and_cr_all_end_a_line() -> None:
    assert one(b"data: a\r\ndata: b\ndata: c\rdata: d\r\n\r\n").data == "a\nb\nc\nd"
    assert one(b"data: x\r\r").data == "x"
    assert one(b"data: x\n\r").data == "x"


def test_cr_at_chunk_end_then_lf_is_one_line_end() -> None:
    # Had the LF counted as a second line end, "a" and "b" would be two events.
    assert parse(b"data: a\r", b"\ndata: b\n\n") == [ServerSentEvent(data="a\nb")]
    assert parse(b"data: a\r", b"\n", b"\r", b"\n") == [ServerSentEvent(data="a")]


def test_cr_at_chunk_end_completes_the_line_at_once() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\r\n\r") == [ServerSentEvent(data="x")]
    assert parser.feed(b"\n") == []
    assert parser.feed(b"data: y\n\n") == [ServerSentEvent(data="y")]


def test_unicode_line_separators_are_not_line_ends() -> None:
    data = "a\u2028b\u2029c\x85d\x0be\x0cf\x1cg"
    assert one(f"data: {data}\n\n".encode()).data == data


def test_comment_lines_are_ignored() -> None:
    assert one(b": hello\ndata: x\n:\n: data: y\n\n") == ServerSentEvent(data="x")


def test_comment_only_block_dispatches_nothing() -> None:
    assert parse(b": ping\n\n: ping\n\n") == []


# -- fields ---------------------------------------------------------------------------------


def test_value_loses_exactly_one_leading_space() -> None:
    assert one(b"data:x\n\n").data == "x"
    assert one(b"data: x\n\n").data == "x"
    assert one(b"data:  x \n\n").data == " x "
    assert one(b"event:  t\ndata\n\n").event == " t"


def test_value_split_at_first_colon() -> None:
    assert one(b"data: a: b:c\n\n").data == "a: b:c"


def test_line_without_colon_is_field_with_empty_value() -> None:
    assert one(b"data\n\n") == ServerSentEvent(data="")
    assert one(b"data\ndata\n\n").data == "\n"
    assert one(b"event\ndata: x\n\n").event == "message"


def test_field_names_are_case_sensitive() -> None:
    assert parse(b"Data: x\n\nDATA: y\n\n") == []
    assert one(b"Event: t\ndata: x\n\n").event == "message"


def test_data_lines_joined_with_lf_one_trailing_lf_removed() -> None:
    assert one(b"data: a\ndata:\ndata: b\n\n").data == "a\n\nb"
    assert one(b"data: a\ndata\n\n").data == "a\n"


def test_event_field_sets_type() -> None:
    assert one(b"event: thread.run.created\ndata: {}\n\n").event == "thread.run.created"


def test_type_defaults_to_message() -> None:
    assert one(b"data: x\n\n").event == "message"
    assert one(b"event:\ndata: x\n\n").event == "message"


def test_last_event_field_wins() -> None:
    assert one(b"event: a\nevent: b\ndata: x\n\n").event == "b"


def test_type_reset_after_dispatch() -> None:
    events = parse(b"event: t\ndata: 1\n\ndata: 2\n\n")
    assert [e.event for e in events] == ["t", "message"]


def test_id_sets_last_event_id_which_persists() -> None:
    parser = SSEParser()
    events = parser.feed(b"id: 1\ndata: a\n\ndata: b\n\n")
    assert [e.id for e in events] == ["1", "1"]
    assert parser.last_event_id == "1"


def test_id_containing_nul_is_ignored() -> None:
    parser = SSEParser()
    events = parser.feed(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\nid:\x00\ndata: c\n\n")
    assert [e.id for e in events] == ["1", "1", "1"]


def test_empty_id_sets_empty_string() -> None:
    parser = SSEParser()
    events = parser.feed(b"id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n")
    assert [e.id for e in events] == ["1", "", ""]
    assert parser.last_event_id == ""


def test_no_id_is_none() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n\n")[0].id is None
    assert parser.last_event_id is None


def test_last_event_id_takes_effect_when_the_block_ends() -> None:
    parser = SSEParser()
    assert parser.feed(b"id: 5\n") == []
    assert parser.last_event_id is None
    assert parser.feed(b"\n") == []  # a block without data still sets it
    assert parser.last_event_id == "5"
    parser.feed(b"id: 6\ndata: x\n")
    parser.close()  # the unterminated block is discarded, its id too
    assert parser.last_event_id == "5"


@pytest.mark.parametrize("value", ["-1", "+5", "\u0661\u0662\u0663", "", "1.5", " 5", "5 ", "1e3"])
def test_retry_other_than_ascii_digits_is_ignored(value: str) -> None:
    parser = SSEParser()
    events = parser.feed(f"retry: {value}\ndata: x\n\n".encode())
    assert events[0].retry is None
    assert parser.retry is None


def test_retry_of_ascii_digits_is_applied() -> None:
    parser = SSEParser()
    events = parser.feed(b"retry: 3000\ndata: a\n\ndata: b\n\nretry:007\ndata: c\n\n")
    assert [e.retry for e in events] == [3000, None, 7]
    assert parser.retry == 7


def test_retry_applies_at_once_even_without_dispatch() -> None:
    parser = SSEParser()
    parser.feed(b"retry: 10\n")
    assert parser.retry == 10


def test_retry_too_long_to_convert_is_ignored() -> None:
    parser = SSEParser()
    (event,) = parser.feed(b"retry: " + b"1" * 5000 + b"\ndata: x\n\n")
    assert event.retry is None
    assert parser.retry is None


def test_unknown_fields_are_ignored() -> None:
    assert one(b"foo: bar\ndata: x\nbaz\n\n") == ServerSentEvent(data="x")


# -- dispatch -------------------------------------------------------------------------------


def test_blank_line_dispatches() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\n") == []
    assert parser.feed(b"\n") == [ServerSentEvent(data="x")]


def test_block_without_data_dispatches_nothing_and_resets_type() -> None:
    assert parse(b"event: t\n\ndata: x\n\n") == [ServerSentEvent(data="x")]


def test_extra_blank_lines_dispatch_nothing() -> None:
    assert parse(b"\n\n\ndata: x\n\n\n\n") == [ServerSentEvent(data="x")]


def test_unterminated_block_is_discarded_at_close() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: x\n\ndata: y\n") == [ServerSentEvent(data="x")]
    assert parser.close() == []
    assert parser.close() == []


def test_feed_after_close_raises() -> None:
    parser = SSEParser()
    parser.close()
    with pytest.raises(SSEError, match="after close"):
        parser.feed(b"data: x\n\n")


def test_empty_chunks_are_harmless() -> None:
    parser = SSEParser()
    assert parser.feed(b"") == []
    assert parser.feed(b"data: x\n") == []
    assert parser.feed(b"") == []
    assert parser.feed(b"\n") == [ServerSentEvent(data="x")]


# -- positions --------------------------------------------------------------------------


def test_offset_and_line_locate_the_first_line_of_the_block() -> None:
    stream = "\ufeff: c\r\nevent: é\r\ndata: 1\r\n\r\n\ndata: 2\rdata: ü\r\r: x\nid: 7\ndata: 3\n\n"
    raw = stream.encode()
    events = parse(raw)
    assert [(e.data, e.offset, e.line) for e in events] == [
        ("1", raw.index(b": c"), 1),
        ("2\nü", raw.index(b"data: 2"), 6),
        ("3", raw.index(b": x"), 9),
    ]


def test_offset_and_line_are_not_part_of_equality_or_repr() -> None:
    a = ServerSentEvent("t", "d", "1", 5, offset=10, line=2)
    b = ServerSentEvent("t", "d", "1", 5)
    assert a == b
    assert hash(a) == hash(b)
    assert repr(a) == "ServerSentEvent(event='t', data='d', id='1', retry=5)"


def test_parsed_events_are_ordinary_frozen_events() -> None:
    event = one(b"event: t\nid: 1\ndata: x\n\n")
    assert type(event) is ServerSentEvent
    assert event == ServerSentEvent("t", "x", "1", None)
    assert hash(event) == hash(ServerSentEvent("t", "x", "1", None))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    assert attrs.evolve(event, data="y") == ServerSentEvent("t", "y", "1", None)
    assert pickle.loads(pickle.dumps(event)) == event
    assert (event.offset, event.line) == (0, 1)


def test_json_decodes_data() -> None:
    assert one(b'data: {"a": [1, 2]}\n\n').json() == {"a": [1, 2]}


# -- encode -------------------------------------------------------------------------------


def test_encode_writes_fields_and_blank_line() -> None:
    event = ServerSentEvent("t", "a\nb", "7", 100)
    assert encode(event) == b"event: t\nid: 7\nretry: 100\ndata: a\ndata: b\n\n"


def test_encode_omits_message_type_and_none_fields() -> None:
    assert encode(ServerSentEvent(data="x")) == b"data: x\n\n"
    assert encode(ServerSentEvent()) == b"data: \n\n"


def test_encode_round_trips_empty_id_and_empty_data() -> None:
    for event in (ServerSentEvent(id=""), ServerSentEvent("t", "", "", 0)):
        assert parse(encode(event)) == [event]


def test_encode_splits_data_on_cr_and_crlf_which_come_back_as_lf() -> None:
    assert encode(ServerSentEvent(data="a\r\nb\rc")) == b"data: a\ndata: b\ndata: c\n\n"
    assert one(encode(ServerSentEvent(data="a\r\nb\rc"))).data == "a\nb\nc"


@pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\x00b"])
def test_encode_refuses_line_breaks_and_nul_in_type_and_id(bad: str) -> None:
    with pytest.raises(ValueError, match="event type"):
        encode(ServerSentEvent(event=bad))
    with pytest.raises(ValueError, match="id"):
        encode(ServerSentEvent(id=bad))


def test_encode_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="utf-8"):
        encode(ServerSentEvent(data="\ud800"))


def test_encode_refuses_what_cannot_round_trip() -> None:
    with pytest.raises(ValueError, match="event type"):
        encode(ServerSentEvent(event=""))
    with pytest.raises(ValueError, match="retry"):
        encode(ServerSentEvent(retry=-1))


# -- limits -------------------------------------------------------------------------------


def assert_unusable(parser: SSEParser) -> None:
    with pytest.raises(SSEError, match="unusable"):
        parser.feed(b"data: x\n\n")
    with pytest.raises(SSEError, match="unusable"):
        parser.close()


def test_sse_error_is_a_streamkit_error() -> None:
    assert issubclass(SSEError, StreamkitError)


@pytest.mark.parametrize(
    "chunks",
    [
        [b"event: t\ndata: 1\n\nevent: big\ndata: " + b"x" * 20 + b"\n\n"],  # complete line
        [b"event: t\ndata: 1\n\nevent: big\ndata: ", b"x" * 20],  # incomplete last line
        [b"event: t\ndata: 1\n\nevent: big\rdata: " + b"x" * 20 + b"\r\n"],  # mixed ends
        [b"event: t\ndata: 1\n\nevent: big\ndata: ", *[b"x"] * 20],  # grows chunk by chunk
    ],
)
def test_line_longer_than_limit_raises_and_parser_is_unusable(chunks: list[bytes]) -> None:
    parser = SSEParser(max_line_bytes=16)
    with pytest.raises(SSEError) as info:
        for chunk in chunks:
            parser.feed(chunk)
    message = str(info.value)
    assert "max_line_bytes=16" in message
    assert "line 5" in message
    assert f"byte {len(b'event: t|data: 1||event: big|')}" in message
    assert "'big'" in message
    assert_unusable(parser)


def test_line_at_the_limit_is_fine() -> None:
    assert parse(b"data: " + b"x" * 10 + b"\n\n", max_line_bytes=16)[0].data == "x" * 10


def test_event_longer_than_limit_raises_and_parser_is_unusable() -> None:
    parser = SSEParser(max_event_bytes=100)
    assert parser.feed(b"data: 1\n\n") == [ServerSentEvent(data="1")]
    with pytest.raises(SSEError) as info:
        for _ in range(20):
            parser.feed(b"event: long\ndata: 0123456789\n")
    message = str(info.value)
    assert "max_event_bytes=100" in message
    assert "line 3, byte 9" in message
    assert "'long'" in message
    assert_unusable(parser)


@pytest.mark.parametrize("sep", [b"\n", b"\r\n", b"\r"])
def test_event_limit_counts_the_block_up_to_its_blank_line(sep: bytes) -> None:
    block = sep.join([b"data: 01234567", b"data: 01234567", b"", b""])  # 2 lines + blank
    size = len(block) - len(sep)
    assert len(parse(block, max_event_bytes=size)) == 1
    with pytest.raises(SSEError, match="max_event_bytes"):
        parse(block, max_event_bytes=size - 1)


def test_event_limit_is_checked_when_a_chunk_is_only_the_lf_of_a_split_crlf() -> None:
    # The same bytes fed whole raise; the chunk holding just the LF of a CRLF split after
    # the CR must check the open block too.
    body = b"data: x\r\ndata: y\r\n"  # an open block of 18 bytes
    with pytest.raises(SSEError, match="max_event_bytes=17"):
        SSEParser(max_event_bytes=17).feed(body)
    parser = SSEParser(max_event_bytes=17)
    parser.feed(body[:-1])
    with pytest.raises(SSEError, match="max_event_bytes=17"):
        parser.feed(b"\n")


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SSEParser(max_line_bytes=0)


# -- diagnostics --------------------------------------------------------------------------


def diagnose(stream: bytes) -> list[Diagnostic]:
    parser = SSEParser(diagnostics=True)
    parser.feed(stream)
    parser.close()
    return parser.diagnostics


def test_no_diagnostics_unless_asked() -> None:
    parser = SSEParser()
    parser.feed(b'{"id": 1}\n\nid: \x00\nretry: x\n\ndata: y')
    parser.close()
    assert parser.diagnostics == []


def test_diagnostic_for_unknown_field_names_a_lost_data_prefix() -> None:
    (d, _) = diagnose(b'data: 1\n\n{"id":"msg_1","object":"thread.message"}\n\n')
    assert (d.kind, d.line, d.offset) == ("unknown_field", 3, 9)
    assert d.text == '{"id":"msg_1","object":"thread.message"}'
    assert "data:" in d.message


def test_diagnostic_for_case_mismatch() -> None:
    (d, _) = diagnose(b"Data: x\n\n")
    assert d.kind == "unknown_field"
    assert "case-sensitive" in d.message


def test_diagnostic_for_dataless_block() -> None:
    (d,) = diagnose(b"data: 1\n\nevent: done\nid: 4\n\n: ping\n\n")
    assert (d.kind, d.line, d.offset, d.text) == ("dataless_block", 3, 9, "event: done")
    assert "'done'" in d.message


def test_diagnostic_for_id_with_nul() -> None:
    (d,) = diagnose(b"id: a\x00b\ndata: x\n\n")
    assert (d.kind, d.line, d.offset, d.text) == ("invalid_id", 1, 0, "id: a\x00b")


def test_diagnostic_for_invalid_retry() -> None:
    (d,) = diagnose(b"data: x\nretry: -1\n\n")
    assert (d.kind, d.line, d.offset) == ("invalid_retry", 2, 8)
    assert "'-1'" in d.message


def test_diagnostic_for_unterminated_block() -> None:
    (d,) = diagnose(b'data: 1\n\nevent: t\ndata: {"a"')
    assert (d.kind, d.line, d.offset, d.text) == ("unterminated_block", 3, 9, "event: t")
    (d,) = diagnose(b"data: 1\n\ndata: {")
    assert (d.kind, d.line, d.offset, d.text) == ("unterminated_block", 3, 9, "data: {")


# -- properties ---------------------------------------------------------------------------

_BOM = b"\xef\xbb\xbf"


def reference(stream: bytes) -> tuple[list[Row], str | None, int | None]:
    """The standard's algorithm, written plainly: decode the whole stream, split lines."""
    start = 3 if stream.startswith(_BOM) else 0
    text = stream[start:].decode("utf-8", "replace")
    text_lines = re.findall(r"([^\r\n]*)(?:\r\n|\r|\n)", text)
    byte_lines = re.finditer(rb"[^\r\n]*(?:\r\n|\r|\n)", stream[start:])
    byte_starts = [start + m.start() for m in byte_lines]
    assert len(text_lines) == len(byte_starts)
    events: list[Row] = []
    data_buf, type_buf, id_buf = "", "", None
    last_id: str | None = None
    retry: int | None = None
    block_retry: int | None = None
    block: tuple[int, int] | None = None
    for number, (line, offset) in enumerate(zip(text_lines, byte_starts, strict=True), 1):
        if not line:
            last_id = id_buf
            if data_buf:
                assert block is not None
                data = data_buf[:-1] if data_buf.endswith("\n") else data_buf
                events.append((type_buf or "message", data, id_buf, block_retry, *block))
            data_buf, type_buf, block_retry, block = "", "", None, None
            continue
        if block is None:
            block = (offset, number)
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            type_buf = value
        elif name == "data":
            data_buf += value + "\n"
        elif name == "id" and "\0" not in value:
            id_buf = value
        elif name == "retry" and value and all("0" <= c <= "9" for c in value):
            with contextlib.suppress(ValueError):  # too many digits for int()
                retry = block_retry = int(value)
    return events, last_id, retry


_LINES = st.one_of(
    st.sampled_from(
        [
            b"",
            b"",
            b":",
            b": ping",
            b"data",
            b"data:",
            b"data: x",
            b"data:  y",
            b'data: {"a":1}',
            b"event: t",
            b"event:u",
            b"event",
            b"id: 1",
            b"id",
            b"id: a\x00",
            b"retry: 10",
            b"retry: -1",
            b"retry",
            b"foo: bar",
            b"Data: z",
            b"\xef\xbb\xbf",
            "data: é€😀".encode(),
        ]
    ),
    st.builds(
        bytes.__add__,
        st.sampled_from([b"data: ", b"data:", b"event: ", b"id: ", b"retry: ", b""]),
        st.binary(max_size=6),
    ),
)
_EOLS = st.sampled_from([b"\n", b"\n", b"\r\n", b"\r"])
_STREAMS = st.builds(
    lambda bom, lines, tail: bom + b"".join(a + b for a, b in lines) + tail,
    st.sampled_from([b"", b"", _BOM, _BOM[:2]]),
    st.lists(st.tuples(_LINES, _EOLS), max_size=25),
    st.sampled_from([b"", b"", b"data: t", b"\xe2\x82"]),
)
_CUTS = st.lists(st.integers(min_value=1, max_value=400), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_STREAMS, _CUTS)
def test_property_any_chunking_gives_the_same_events_as_the_reference(
    stream: bytes, cuts: list[int]
) -> None:
    expected, last_id, retry = reference(stream)
    for chunks in ([stream], split_at(stream, cuts), [bytes([b]) for b in stream]):
        for diagnostics in (False, True):
            parser = SSEParser(diagnostics=diagnostics)
            events = [e for chunk in chunks for e in parser.feed(chunk)]
            assert parser.close() == []
            assert rows(events) == expected
            assert (parser.last_event_id, parser.retry) == (last_id, retry)


_NO_BREAKS = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n\x00"))
_EVENTS = st.builds(
    ServerSentEvent,
    event=st.one_of(st.just("message"), _NO_BREAKS.filter(bool)),
    data=st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r")),
    id=st.none() | _NO_BREAKS,
    retry=st.none() | st.integers(min_value=0, max_value=10**30),
)


@settings(max_examples=300, deadline=None)
@given(_EVENTS)
def test_property_encode_then_parse_is_identity(event: ServerSentEvent) -> None:
    assert parse(encode(event)) == [event]


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300) | _STREAMS,
    _CUTS,
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=80),
    st.booleans(),
)
def test_property_any_bytes_raise_nothing_but_sse_error(
    stream: bytes, cuts: list[int], max_line: int, max_event: int, diagnostics: bool
) -> None:
    parser = SSEParser(max_line_bytes=max_line, max_event_bytes=max_event, diagnostics=diagnostics)
    try:
        for chunk in split_at(stream, cuts):
            parser.feed(chunk)
        parser.close()
    except SSEError:
        with pytest.raises(SSEError):
            parser.feed(b"\n")


@settings(max_examples=150, deadline=None)
@given(st.lists(_EVENTS, min_size=1, max_size=6), _EOLS, _CUTS)
def test_property_no_late_events(
    events: list[ServerSentEvent], eol: bytes, cuts: list[int]
) -> None:
    blocks = [encode(event).replace(b"\n", eol) for event in events]
    stream = b"".join(blocks)
    end = 0
    for count, block in enumerate(blocks, 1):
        end += len(block)
        parser = SSEParser()
        got = [e for chunk in split_at(stream[:end], cuts) for e in parser.feed(chunk)]
        assert len(got) == count
        assert [(e.event, e.data, e.retry) for e in got] == [
            (e.event, e.data, e.retry) for e in events[:count]
        ]


# -- real recordings ----------------------------------------------------------------------


@pytest.mark.external
def test_real_recordings_parse_to_json_or_done() -> None:
    files = sorted(RECORDINGS.glob("openai-dotnet/*.sse"))
    if not files:
        pytest.skip(f"no recordings under {RECORDINGS}")
    for path in files:
        body = path.read_bytes()
        events = parse(*split_at(body, range(0, len(body), 997)))
        assert events, path.name
        assert rows(events) == reference(body)[0]
        for event in events:
            assert event.event.startswith("thread.") or event.event == "done", path.name
            if event.data != "[DONE]":
                assert isinstance(orjson.loads(event.data), dict), (path.name, event.line)
        assert events[-1] == ServerSentEvent("done", "[DONE]")


def test_pending_says_whether_an_event_has_begun_and_not_finished() -> None:
    parser = SSEParser()
    assert not parser.pending
    parser.feed(b"event: x\ndata: 1")
    assert parser.pending  # inside a line
    parser.feed(b"\n")
    assert parser.pending  # inside a block
    assert len(parser.feed(b"\n")) == 1
    assert not parser.pending


@given(
    body=st.lists(st.sampled_from([b"data: x", b"event: e", b"", b": c", b"\xef\xbb\xbf"]))
    .flatmap(
        lambda lines: st.tuples(
            st.just(lines),
            st.lists(
                st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=len(lines), max_size=len(lines)
            ),
        )
    )
    .map(lambda pair: b"".join(line + end for line, end in zip(*pair, strict=True))),
    cut=st.integers(0, 3),
    diagnostics=st.booleans(),
)
def test_last_line_counts_the_lines_of_the_input(body: bytes, cut: int, diagnostics: bool) -> None:
    body = body[: max(0, len(body) - cut)]
    parser = SSEParser(diagnostics=diagnostics)
    for i in range(0, len(body), 3):
        parser.feed(body[i : i + 3])
    text = body.decode("utf-8", "replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    expected = len(lines) - 1 if lines[-1] == "" else len(lines)
    assert parser.last_line == expected
