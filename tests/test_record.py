"""Tests for streamkit.record: recording format, replay, truncation, redaction, tee."""

from __future__ import annotations

import base64
import io
import itertools
import math
import re
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit._errors import StreamkitError
from streamkit._stream import stream
from streamkit._version import __version__
from streamkit.record import (
    FORMAT_VERSION,
    REDACTED,
    Chunk,
    Recorder,
    Recording,
    RecordingError,
    TruncatedRecordingWarning,
    arecord_response,
    areplay,
    atee,
    load_recording,
    record_response,
    replay,
    tee,
)
from streamkit.record._format import MAX_TIME, FileChunks

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings"
STARTED = datetime(2025, 10, 30, 22, 2, 22, 123456, tzinfo=UTC)
EURO = "€".encode()  # 3 bytes: split across chunks below


class FakeClock:
    """A clock whose time only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def no_sleep(seconds: float) -> None:
    raise AssertionError(f"instant replay slept {seconds}")


async def ano_sleep(seconds: float) -> None:
    raise AssertionError(f"instant replay slept {seconds}")


# Chunks and their arrival times (seconds since the start).
CHUNKS = [
    b"event: thread.run.created\ndata: {}\n\n",
    b"data: caf" + EURO[:1],
    EURO[1:] + b"\n\n",
    b"\xff\xfe binary",
    b"",
    b"event: done\ndata: [DONE]\n\n",
]
TIMES = [0.0, 0.25, 0.25, 1.0, 1.5, 2.75]


def timed_source(clock: FakeClock, times: list[float] = TIMES) -> Iterator[bytes]:
    start = clock.now
    for t, chunk in zip(times, CHUNKS, strict=True):
        clock.now = start + t
        yield chunk


def make_recording(clock: FakeClock | None = None, **kwargs: object) -> bytes:
    clock = clock or FakeClock()
    out = io.BytesIO()
    with Recorder(out, clock=clock, started_at=STARTED, **kwargs) as rec:  # type: ignore[arg-type]
        assert list(tee(timed_source(clock), rec)) == CHUNKS
    return out.getvalue()


def load_quiet(data: bytes | Path, **kwargs: object) -> Recording:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedRecordingWarning)
        return load_recording(data, **kwargs)  # type: ignore[arg-type]


# --- format ----------------------------------------------------------------------------


def test_format_lines() -> None:
    data = make_recording(method="POST", path="/v1/threads/runs", status=200)
    lines = [orjson.loads(line) for line in data.splitlines()]
    assert data.endswith(b"\n")
    assert data.startswith(b'{"streamkit_recording":1,')
    assert lines[0] == {
        "streamkit_recording": FORMAT_VERSION,
        "started_at": "2025-10-30T22:02:22.123456Z",
        "streamkit_version": __version__,
        "method": "POST",
        "path": "/v1/threads/runs",
        "status": 200,
        "headers": [],
        "metadata": {},
    }
    assert lines[1] == {"t": 0.0, "text": CHUNKS[0].decode()}
    # A chunk ending in the middle of a multi-byte character is not valid UTF-8 alone.
    assert lines[2] == {"t": 0.25, "base64": base64.b64encode(CHUNKS[1]).decode()}
    assert lines[3] == {"t": 0.25, "base64": base64.b64encode(CHUNKS[2]).decode()}
    assert lines[4]["base64"] == base64.b64encode(CHUNKS[3]).decode()
    assert lines[5] == {"t": 1.5, "text": ""}
    assert lines[-1] == {"end": 2.75, "chunks": 6, "bytes": sum(map(len, CHUNKS))}


def test_record_then_load_round_trip() -> None:
    rec = load_recording(make_recording(method="GET", path="/x", status=201, metadata={"a": 1}))
    assert rec.complete and not rec.truncated
    assert rec.chunks == [Chunk(t, c) for t, c in zip(TIMES, CHUNKS, strict=True)]
    assert rec.duration == 2.75
    assert rec.body == b"".join(CHUNKS)
    assert rec.header is not None
    assert rec.header.started_at == STARTED
    assert (rec.header.method, rec.header.path, rec.header.status) == ("GET", "/x", 201)
    assert rec.header.metadata == {"a": 1}
    assert rec.header.streamkit_version == __version__


def test_recorder_file_path_and_explicit_writes(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "r.jsonl"
    with Recorder(path, clock=clock, headers={"content-type": "text/event-stream"}) as rec:
        clock.advance(0.5)
        rec.write(b"a")
        rec.write(b"b", t=0.75)
        with pytest.raises(ValueError, match="before"):
            rec.write(b"c", t=0.1)
        rec.end()
        rec.end()  # idempotent
        assert rec.ended
        with pytest.raises(ValueError, match="ended"):
            rec.write(b"d")
    assert rec.closed
    loaded = load_recording(path)
    assert [(c.t, c.data) for c in loaded.chunks] == [(0.5, b"a"), (0.75, b"b")]
    assert loaded.duration == 0.75
    assert loaded.header is not None
    assert loaded.header.headers == (("content-type", "text/event-stream"),)


def test_each_line_is_flushed(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    rec = Recorder(path)
    assert path.read_bytes().count(b"\n") == 1
    rec.write(b"x")
    assert path.read_bytes().count(b"\n") == 2  # visible before close
    rec.close()
    with pytest.raises(ValueError, match="closed"):
        rec.end()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20))
def test_any_chunks_round_trip(chunks: list[bytes]) -> None:
    out = io.BytesIO()
    with Recorder(out) as rec:
        for chunk in chunks:
            rec.write(chunk)
        rec.end()
    loaded = load_recording(out.getvalue())
    assert [c.data for c in loaded.chunks] == chunks
    assert list(replay(loaded)) == chunks


# --- truncation and malformed recordings ----------------------------------------------


def test_truncated_at_every_byte() -> None:
    data = make_recording(status=200, headers=[("content-type", "text/event-stream")])
    header_len = data.index(b"\n") + 1
    line_ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")]
    for cut in range(len(data) + 1):
        prefix = data[:cut]
        if cut == 0:
            empty = load_recording(prefix)  # an empty file is an empty plain body
            assert empty.header is None and empty.chunks == []
            continue
        if cut < header_len:
            with pytest.raises(RecordingError, match="line 1: the header line is incomplete"):
                load_recording(prefix)
            continue
        expected = sum(1 for end in line_ends[1:-1] if end <= cut)  # complete chunk lines
        if cut == len(data):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                rec = load_recording(prefix)
            assert rec.complete and not rec.truncated
        else:
            with pytest.warns(TruncatedRecordingWarning, match="truncated"):
                rec = load_recording(prefix, name="cut.jsonl")
            assert rec.truncated and not rec.complete and rec.duration is None
        assert [c.data for c in rec.chunks] == CHUNKS[:expected], cut
        assert list(replay(rec)) == CHUNKS[:expected]


def test_truncated_file_replays_with_warning(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    data = make_recording()
    path.write_bytes(data[: data.rindex(b'{"end"')])  # end line missing entirely
    with pytest.warns(TruncatedRecordingWarning, match="no end line") as caught:
        chunks = list(replay(path))
    assert chunks == CHUNKS
    assert caught[0].filename == __file__  # points at the caller


def test_recorder_closed_without_end_is_truncated() -> None:
    out = io.BytesIO()
    with pytest.raises(RuntimeError), Recorder(out) as rec:
        for chunk in tee(iter(CHUNKS), rec):
            if chunk == CHUNKS[2]:
                raise RuntimeError("consumer failed")
    loaded = load_quiet(out.getvalue())
    assert loaded.truncated
    assert [c.data for c in loaded.chunks] == CHUNKS[:3]  # the chunk being handled is kept


def header_line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "streamkit_recording": 1,
        "started_at": "2025-10-30T22:02:22Z",
        "streamkit_version": "0.1.0",
    }
    return orjson.dumps(base | fields) + b"\n"


MALFORMED = [
    (b"{not json}\n", 1, "header line is not valid JSON"),
    (b'{"a":1}\n', 1, "not a streamkit recording"),
    (header_line(streamkit_recording=2), 1, "newer than this streamkit reads"),
    (header_line(streamkit_recording=True), 1, "bad format version"),
    (header_line(started_at="yesterday"), 1, "bad started_at"),
    (header_line(started_at="2025-10-30T22:02:22"), 1, "has no time zone"),
    (header_line(started_at=None), 1, "'started_at' is missing or invalid"),
    (header_line(status="200"), 1, "'status' is missing or invalid"),
    (header_line(headers=[["a"]]), 1, "list of \\[name, value\\]"),
    (header_line() + b'{"t":0,"text":"a"}\nnot json\n{"end":0}\n', 3, "not valid JSON"),
    (header_line() + b"\n", 2, "not valid JSON"),
    (header_line() + b'{"t":-1,"text":"a"}\n', 2, "must be a number of seconds from 0"),
    # Times no replay can wait for (issue 11: 1e308 passed validate and crashed replay).
    (header_line() + b'{"t":1e308,"text":"a"}\n', 2, "from 0 to 1e\\+09, got 1e\\+308"),
    (header_line() + b'{"t":1000000000.5,"text":"a"}\n', 2, "from 0 to 1e\\+09"),
    (header_line() + b'{"t":1e400,"text":"a"}\n', 2, "not valid JSON"),
    (header_line() + b'{"t":NaN,"text":"a"}\n', 2, "not valid JSON"),
    (header_line() + b'{"t":"0","text":"a"}\n', 2, "must be a number of seconds"),
    (header_line() + b'{"t":true,"text":"a"}\n', 2, "must be a number of seconds"),
    (header_line() + b'{"end":1e308,"chunks":0,"bytes":0}\n', 2, "'end' must be a number"),
    (header_line() + b'{"end":0,"chunks":0.0,"bytes":0}\n', 2, "must be integers"),
    (header_line() + b'{"end":0,"chunks":false,"bytes":0}\n', 2, "must be integers"),
    (header_line() + b'{"end":0,"chunks":0}\n', 2, "must be integers"),
    (header_line(status=-1), 1, "three-digit HTTP status, got -1"),
    (header_line(status=10**18), 1, "three-digit HTTP status"),
    (header_line(status=1e308), 1, "'status' is missing or invalid"),
    (b'{"streamkit_recording":1000000000000000000000000000000}\n', 1, "bad format version"),
    (header_line() + b'{"t":2,"text":"a"}\n{"t":1,"text":"b"}\n', 3, "before the previous"),
    (header_line() + b'{"t":0,"text":"a","base64":"YQ=="}\n', 2, "exactly one of"),
    (header_line() + b'{"t":0,"base64":"!!"}\n', 2, "not valid base64"),
    (header_line() + '{"t":0,"base64":"é"}\n'.encode(), 2, "not valid base64"),
    (header_line() + b'{"t":0}\n', 2, "exactly one of"),
    (header_line() + b'{"x":0}\n', 2, "neither a chunk line"),
    (header_line() + b'{"end":0,"chunks":1,"bytes":0}\n', 2, "do not match"),
    (header_line() + b'{"end":0,"chunks":0,"bytes":0}\n{"t":1,"text":"a"}\n', 3, "after"),
    (header_line() + b'{"end":0,"chunks":0,"bytes":0}\n{"t":1,', 3, "after the end line"),
]


@pytest.mark.parametrize(("data", "line", "message"), MALFORMED)
def test_malformed_recordings(data: bytes, line: int, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    with pytest.raises(RecordingError, match=message) as info:
        load_recording(path)
    assert isinstance(info.value, StreamkitError)
    assert (info.value.source, info.value.line) == (str(path), line)
    assert str(info.value).startswith(f"{path}, line {line}: ")


@pytest.mark.parametrize(("data", "line", "message"), MALFORMED)
def test_malformed_recordings_read_as_a_stream_fail_the_same_way(
    data: bytes, line: int, message: str, tmp_path: Path
) -> None:
    # stream(path) reads a recording a line at a time; it reports the same error at the
    # same line as load_recording, once it gets there.
    path = tmp_path / "bad.jsonl"
    path.write_bytes(data)
    with pytest.raises(RecordingError, match=message) as info, stream(path) as s:
        s.until_done()
    assert (info.value.source, info.value.line) == (str(path), line)


JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 1e9, 1e308, -0.0, 5e-324, 2**53 + 1]),
    st.text(max_size=8),
    st.sampled_from(["YQ==", "!!", "", "2025-10-30T22:02:22Z"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
VALID_LINES = [
    b'{"t":0,"text":"a"}',
    b'{"t":0.5,"base64":"YQ=="}',
    b'{"end":1,"chunks":0,"bytes":0}',
]


LINE_KEYS = ["t", "text", "base64", "end", "chunks", "bytes", "x"]
HEADER_KEYS = ["streamkit_recording", "started_at", "streamkit_version", "status", "headers"]


def fuzzed_line(keys: list[str]) -> st.SearchStrategy[bytes]:
    fields = st.dictionaries(st.sampled_from(keys), JSON_VALUES, max_size=4)
    raw = st.sampled_from([b"", b"{", b"[]", b"null", b"{}", b'{"t":1e400}', b"\xff"])
    return st.one_of(fields.map(orjson.dumps), raw)


@given(
    st.one_of(
        st.just({}),
        st.dictionaries(st.sampled_from(HEADER_KEYS), JSON_VALUES, max_size=3),
    ),
    st.lists(st.one_of(fuzzed_line(LINE_KEYS), st.sampled_from(VALID_LINES)), max_size=6),
    st.booleans(),
)
@settings(max_examples=200, deadline=None)
def test_fuzzed_recordings_load_or_raise_recording_error(
    header_fields: dict[str, object], lines: list[bytes], cut: bool
) -> None:
    """Any line a recording can hold: loading, and reading it as a stream, either give
    chunks that replay (at any speed) or raise RecordingError naming a line; never
    another exception."""
    data = header_line(**header_fields) + b"".join(line + b"\n" for line in lines)
    if cut:
        data = data[:-1]
    with tempfile.TemporaryDirectory() as scratch:  # read as stream(path) reads it
        path = Path(scratch) / "fuzz.jsonl"
        path.write_bytes(data)
        streamed: list[bytes] | RecordingError
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TruncatedRecordingWarning)
                chunks = FileChunks(path, 64 * 1024)
                try:
                    streamed = list(chunks)
                finally:
                    chunks.close()
        except RecordingError as error:
            streamed = error
    try:
        rec = load_quiet(data)
    except RecordingError as error:
        assert error.line is not None and 1 <= error.line <= len(lines) + 1
        assert isinstance(streamed, RecordingError) and streamed.line == error.line
        return
    assert streamed == [c.data for c in rec.chunks]
    for chunk in rec.chunks:
        assert chunk.t is not None and 0 <= chunk.t <= MAX_TIME
    clock = FakeClock()
    assert list(replay(rec, speed=1.0, clock=clock, sleep=clock.sleep)) == [
        c.data for c in rec.chunks
    ]


def test_unknown_fields_are_ignored() -> None:
    data = header_line(future="x") + b'{"t":0,"text":"a","extra":1}\n'
    data += b'{"end":0.5,"chunks":1,"bytes":1,"note":"ok"}\n'
    rec = load_recording(data)
    assert rec.complete and rec.chunks == [Chunk(0.0, b"a")]
    assert rec.header is not None and rec.header.method is None


# --- plain bodies ----------------------------------------------------------------------


def test_plain_body(tmp_path: Path) -> None:
    body = b"event: a\ndata: {}\n\n" * 10
    path = tmp_path / "body.sse"
    path.write_bytes(body)
    rec = load_recording(path)
    assert rec.header is None and not rec.truncated and not rec.complete
    assert rec.chunks == [Chunk(None, body)]
    split = load_recording(path, plain_chunk_size=7)
    assert [len(c.data) for c in split.chunks] == [7] * (len(body) // 7) + [len(body) % 7]
    assert split.body == body and all(c.t is None for c in split.chunks)
    assert list(replay(path, speed=1.0, sleep=no_sleep)) == [body]  # no timing: no waiting
    assert b"".join(replay(path, plain_chunk_size=100)) == body
    assert load_recording(b'[{"streamkit_recording":1}]\n').header is None  # only "{" counts
    with pytest.raises(ValueError, match="plain_chunk_size"):
        load_recording(body, plain_chunk_size=0)


@pytest.mark.external
@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="../shared/recordings is absent")
def test_real_recordings_as_plain_bodies() -> None:
    files = sorted((RECORDINGS / "openai-dotnet").glob("*.sse"))
    assert files
    for path in files:
        body = path.read_bytes()
        rec = load_recording(path)
        assert rec.header is None and rec.body == body
        assert b"".join(replay(path)) == body
        assert b"".join(replay(path, plain_chunk_size=512)) == body
        # Re-recorded in small chunks, they come back byte-exact too.
        out = io.BytesIO()
        with Recorder(out) as recorder:
            pieces = [body[i : i + 61] for i in range(0, len(body), 61)]
            assert list(tee(pieces, recorder)) == pieces
        assert list(replay(out.getvalue())) == pieces


# --- timing ----------------------------------------------------------------------------


def test_replay_timing_with_fake_clock() -> None:
    rec = load_recording(make_recording())
    for speed in (1.0, 2.0, 0.5):
        clock = FakeClock(start=50.0)
        seen = []
        for chunk in replay(rec, speed=speed, clock=clock, sleep=clock.sleep):
            seen.append((round(clock.now - 50.0, 9), chunk))
        assert seen == [(t / speed, c) for t, c in zip(TIMES, CHUNKS, strict=True)]


def test_replay_schedule_does_not_accumulate_errors() -> None:
    rec = Recording(header=None, chunks=[Chunk(i * 0.1, b"x") for i in range(10)])
    clock = FakeClock(start=0.0)

    def slow_sleep(seconds: float) -> None:  # every sleep overshoots by 10 ms
        clock.sleep(seconds + 0.01)

    for _ in replay(rec, speed=1.0, clock=clock, sleep=slow_sleep):
        clock.advance(0.02)  # and the consumer takes 20 ms per chunk
    assert clock.now == pytest.approx(0.9 + 0.01 + 0.02)


def test_instant_replay_does_not_sleep() -> None:
    rec = load_recording(make_recording())
    assert list(replay(rec, sleep=no_sleep)) == CHUNKS
    assert list(replay(rec, speed=float("inf"), sleep=no_sleep)) == CHUNKS
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="speed"):
            replay(rec, speed=bad)


@pytest.mark.parametrize(
    ("t", "shown"),
    [("1e308", "1e+308"), ("1e10", "10000000000.0"), ("1000000000.000001", "1000000000.000001")],
)
def test_a_time_no_replay_can_wait_for_is_a_load_error(
    t: str, shown: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 11: such a recording passed `validate` and crashed `replay` with OverflowError.
    from streamkit._cli import main

    path = tmp_path / "far.jsonl"
    chunk = b'{"t":%s,"text":"data: {}\\n\\n"}\n' % t.encode()
    path.write_bytes(header_line() + b'{"t":0,"text":""}\n' + chunk)
    with pytest.raises(RecordingError, match=re.escape(f"from 0 to 1e+09, got {shown}")) as info:
        replay(path, speed=1.0)  # raised when called: nothing is replayed
    assert (info.value.source, info.value.line) == (str(path), 3)
    with pytest.raises(RecordingError):
        areplay(path, speed=1.0)
    for command in ("validate", "replay", "inspect"):
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err
        assert err == f"streamkit: malformed recording: {path}, line 3: {info.value.reason}\n"


def test_the_longest_time_replays() -> None:
    data = header_line() + b'{"t":1e9,"text":"a"}\n{"end":1e9,"chunks":1,"bytes":1}\n'
    clock = FakeClock(start=0.0)
    assert list(replay(data, speed=1.0, clock=clock, sleep=clock.sleep)) == [b"a"]
    assert clock.sleeps == [1e9]


@pytest.mark.parametrize("t", [1e308, float("inf"), float("nan"), math.nextafter(MAX_TIME, 2e9)])
def test_recorder_refuses_a_time_it_could_not_replay(t: float) -> None:
    with Recorder(io.BytesIO()) as recorder:
        with pytest.raises(ValueError, match=r"more than 1e\+09 seconds|not a number"):
            recorder.write(b"x", t=t)
        with pytest.raises(ValueError, match=r"more than 1e\+09 seconds|not a number"):
            recorder.end(t=t)
        recorder.write(b"x", t=MAX_TIME)  # the largest time is fine, and the recorder still works
        recorder.end()


def test_recorder_refuses_a_time_from_its_clock_it_could_not_replay() -> None:
    times = iter([0.0, 1e308])
    with (
        Recorder(io.BytesIO(), clock=lambda: next(times)) as recorder,
        pytest.raises(ValueError, match=r"more than 1e\+09 seconds"),
    ):
        recorder.write(b"x")


@pytest.mark.parametrize("status", [-1, 0, 99, 1000, 10**30])
def test_recorder_refuses_a_status_that_is_not_three_digits(status: int) -> None:
    with pytest.raises(ValueError, match="three-digit"):
        Recorder(io.BytesIO(), status=status)


def test_replay_refuses_a_wait_no_sleep_accepts() -> None:
    # A Recording built in memory is not checked by a loader; replay checks it when called.
    for t in (1e308, float("inf"), float("nan")):
        far = Recording(header=None, chunks=[Chunk(0.0, b"a"), Chunk(t, b"b")])
        with pytest.raises(ValueError, match="a replay can wait"):
            replay(far, speed=1.0)
        with pytest.raises(ValueError, match="a replay can wait"):
            areplay(far, speed=1.0)
        assert list(replay(far)) == [b"a", b"b"]  # instant replay never waits
    # A slow speed can stretch a valid recording beyond what can be waited for.
    rec = Recording(header=None, chunks=[Chunk(1e9, b"a")])
    with pytest.raises(ValueError, match="speed 1e-300"):
        replay(rec, speed=1e-300)
    assert list(replay(rec, speed=1.0, clock=FakeClock(), sleep=FakeClock().sleep)) == [b"a"]


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(min_value=1e-300))
@settings(max_examples=300, deadline=None)
def test_any_time_either_replays_or_is_refused_on_load(t: float, speed: float) -> None:
    """Whatever time a chunk line holds, loading refuses it or replay can wait for it:
    never an OverflowError, ValueError or other untyped error from the sleep."""
    line = b'{"t":' + orjson.dumps(t) + b',"text":"a"}\n'
    try:
        rec = load_quiet(header_line() + line)
    except RecordingError:
        return
    clock = FakeClock(start=0.0)
    try:
        chunks = list(replay(rec, speed=speed, clock=clock, sleep=clock.sleep))
    except ValueError as error:  # a speed too slow for this recording: said when called
        assert "a replay can wait" in str(error)
        return
    assert chunks == [b"a"]
    # time.sleep accepts up to about 9.2e9 s (2**63 ns); asyncio and trio more.
    assert all(0 < seconds <= 1e9 for seconds in clock.sleeps)


def test_real_time_record_and_replay() -> None:
    delays = [0.0, 0.03, 0.03, 0.04]

    def slow_source() -> Iterator[bytes]:
        for i, delay in enumerate(delays):
            time.sleep(delay)
            yield b"chunk %d\n" % i

    out = io.BytesIO()
    with Recorder(out) as rec:
        list(tee(slow_source(), rec))
    loaded = load_recording(out.getvalue())
    duration = loaded.chunks[-1].t
    assert duration == pytest.approx(0.1, abs=0.05)
    assert duration is not None
    for speed, expected in ((1.0, duration), (2.0, duration / 2)):
        start = time.monotonic()
        assert len(list(replay(loaded, speed=speed))) == 4
        assert time.monotonic() - start == pytest.approx(expected, abs=0.04)


# --- redaction -------------------------------------------------------------------------

SECRET = "ek_68f4a0c1e2d3b4a5968778695a4b3c2d"


def test_header_and_metadata_redaction() -> None:
    out = io.BytesIO()
    headers = [
        ("Authorization", "Bearer sk-abc"),
        ("API-Key", "k1"),
        ("x-api-key", "k2"),
        ("OpenAI-Api-Key", "k3"),
        ("set-cookie", "__cf_bm=xyz"),
        ("X-Custom-Token", "t"),
        ("X-Trace", "only by the redact argument"),
        ("x-session", f'{{"client_secret": "{SECRET}", "id": "cksess_1"}}'),
        ("x-note", f"secret is {SECRET}; week_123456789 stays"),
        ("content-type", "text/event-stream"),
    ]
    metadata = {
        "client_secret": {"value": SECRET},
        "request": {"headers": {"authorization": "Bearer sk-x"}, "token": "x-custom-token"},
        "list": [SECRET, "ok"],
        "X_Custom_Token": "t2",
        "x_trace": "t3",
        "note": "x-custom-token",
    }
    Recorder(out, headers=headers, metadata=metadata, redact=["x-trace"]).close()
    assert b"sk-" not in out.getvalue() and SECRET.encode() not in out.getvalue()
    header = load_quiet(out.getvalue()).header
    assert header is not None
    assert dict(header.headers) == {
        "Authorization": REDACTED,
        "API-Key": REDACTED,
        "x-api-key": REDACTED,
        "OpenAI-Api-Key": REDACTED,
        "set-cookie": REDACTED,
        "X-Custom-Token": REDACTED,
        "X-Trace": REDACTED,
        "x-session": f'{{"client_secret": "{REDACTED}", "id": "cksess_1"}}',
        "x-note": f"secret is {REDACTED}; week_123456789 stays",
        "content-type": "text/event-stream",
    }
    assert header.metadata == {
        "client_secret": REDACTED,
        "request": {"headers": {"authorization": REDACTED}, "token": REDACTED},
        "list": [REDACTED, "ok"],
        "X_Custom_Token": REDACTED,
        "x_trace": REDACTED,
        "note": "x-custom-token",  # a value is redacted by its key's name, not its text
    }


def test_body_is_kept_exact_unless_asked() -> None:
    body = f'data: {{"id":"cksess_1","client_secret":"{SECRET}","expires_at":1}}\n\n'.encode()
    pieces = [body[:30], body[30:47], body[47:]]  # key and value both split
    for redact_body, expected in ((False, body), (True, body.replace(SECRET.encode(), b""))):
        out = io.BytesIO()
        with Recorder(out, redact_body_secrets=redact_body) as rec:
            assert list(tee(pieces, rec)) == pieces  # the consumer always gets the original
        loaded = load_recording(out.getvalue())
        assert len(loaded.chunks) == 3
        if redact_body:
            expected = expected.replace(b'"client_secret":""', b'"client_secret":"[REDACTED]"')
        assert loaded.body == expected


def redact_chunks(chunks: list[bytes]) -> bytes:
    out = io.BytesIO()
    with Recorder(out, redact_body_secrets=True) as rec:
        for chunk in chunks:
            rec.write(chunk)
        rec.end()
    return load_recording(out.getvalue()).body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"client_secret" : "a\\"b\\\\"}', b'{"client_secret" : "[REDACTED]"}'),
        (b'{"client_secret":null,"x":"y"}', b'{"client_secret":null,"x":"y"}'),
        (b'{"client_secret":{"value":"v"}}', b'{"client_secret":{"value":"v"}}'),
        (b'"client_secret""client_secret":"v"', b'"client_secret""client_secret":"[REDACTED]"'),
        (b'{"text":"\\"client_secret\\":\\"v\\""}', b'{"text":"\\"client_secret\\":\\"v\\""}'),
        (
            b'"client_secret":"v1" "client_secret":""',
            b'"client_secret":"[REDACTED]" "client_secret":"[REDACTED]"',
        ),
    ],
)
def test_body_redaction_cases(body: bytes, expected: bytes) -> None:
    assert redact_chunks([body]) == expected
    assert redact_chunks([body[i : i + 1] for i in range(len(body))]) == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([b'"client_secret"', b":", b" ", b'"', b"\\", b"ek_x", b"a", b"{", b","]),
        max_size=30,
    ),
    st.lists(st.integers(min_value=0, max_value=200), max_size=8),
)
def test_body_redaction_does_not_depend_on_chunking(parts: list[bytes], cuts: list[int]) -> None:
    body = b"".join(parts)
    bounds = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
    assert redact_chunks(chunks) == redact_chunks([body])


# --- httpx -----------------------------------------------------------------------------

SSE_BODY = [b"event: thread.created\n", b"data: {}\n\n", b"data: [DONE]\n\n"]
RESPONSE_HEADERS = {
    "content-type": "text/event-stream",
    "openai-organization": "org",
    "x-session": f'{{"client_secret":"{SECRET}"}}',
}


def handler(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer sk-test"
    return httpx.Response(200, headers=RESPONSE_HEADERS, content=iter(SSE_BODY))


async def ahandler(request: httpx.Request) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        for chunk in SSE_BODY:
            yield chunk

    return httpx.Response(200, headers=RESPONSE_HEADERS, content=body())


def check_response_recording(path: Path) -> None:
    rec = load_recording(path)
    assert rec.complete
    assert [c.data for c in rec.chunks] == SSE_BODY
    assert rec.header is not None
    assert (rec.header.method, rec.header.path, rec.header.status) == ("POST", "/v1/runs", 200)
    headers = dict(rec.header.headers)
    assert headers["content-type"] == "text/event-stream"
    assert headers["openai-organization"] == REDACTED
    assert headers["x-session"] == f'{{"client_secret":"{REDACTED}"}}'


def test_record_response(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    client = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    with (
        client,
        client.stream(
            "POST", "/v1/runs?key=secret", headers={"authorization": "Bearer sk-test"}
        ) as response,
    ):
        chunks = list(record_response(response, path, redact=["OpenAI-Organization"]))
    assert chunks == SSE_BODY
    check_response_recording(path)
    assert b"key=secret" not in path.read_bytes()


def test_record_response_stopped_early_is_truncated(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    client = httpx.Client(transport=httpx.MockTransport(handler))
    headers = {"authorization": "Bearer sk-test"}
    with client, client.stream("POST", "https://x/", headers=headers) as response:
        for _ in record_response(response, path):
            break
    rec = load_quiet(path)
    assert rec.truncated and [c.data for c in rec.chunks] == SSE_BODY[:1]


@pytest.mark.anyio
async def test_arecord_response(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    transport = httpx.MockTransport(ahandler)
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://api.test") as client,
        client.stream("POST", "/v1/runs") as response,
    ):
        chunks = [c async for c in arecord_response(response, path, redact=["openai-organization"])]
    assert chunks == SSE_BODY
    check_response_recording(path)


# --- async -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_atee_and_areplay_with_fake_clock() -> None:
    clock = FakeClock()

    async def source() -> AsyncIterator[bytes]:
        for chunk in timed_source(clock):
            await anyio.lowlevel.checkpoint()
            yield chunk

    out = io.BytesIO()
    with Recorder(out, clock=clock) as rec:
        assert [c async for c in atee(source(), rec)] == CHUNKS
    loaded = load_recording(out.getvalue())
    assert loaded.complete
    assert loaded.chunks == [Chunk(t, c) for t, c in zip(TIMES, CHUNKS, strict=True)]

    assert [c async for c in areplay(loaded, sleep=ano_sleep)] == CHUNKS
    replay_clock = FakeClock(start=0.0)
    seen = [
        (replay_clock.now, c)
        async for c in areplay(loaded, speed=2.0, clock=replay_clock, sleep=replay_clock.asleep)
    ]
    assert seen == [(t / 2, c) for t, c in zip(TIMES, CHUNKS, strict=True)]


@pytest.mark.anyio
async def test_areplay_real_time_and_truncated(tmp_path: Path) -> None:
    rec = Recording(header=None, chunks=[Chunk(i * 0.02, b"%d" % i) for i in range(5)])
    start = anyio.current_time()
    assert [c async for c in areplay(rec, speed=2.0)] == [b"0", b"1", b"2", b"3", b"4"]
    assert anyio.current_time() - start == pytest.approx(0.04, abs=0.04)

    path = tmp_path / "cut.jsonl"
    data = make_recording()
    path.write_bytes(data[:-5])
    with pytest.warns(TruncatedRecordingWarning):
        chunks = [c async for c in areplay(path)]
    assert chunks == CHUNKS
