"""Every source kind stream() and astream() read, and that closing closes the source."""

from __future__ import annotations

import http.server
import io
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import anyio
import httpx
import httpx_sse
import pytest

from streamkit import ResponseError, StreamkitError, _sources
from streamkit._sources import CHUNK_SIZE
from streamkit._stream import StreamTruncated, astream, stream
from streamkit.record import Recorder, RecordingError, TruncatedRecordingWarning
from streamkit.record._format import FileChunks


def sse(event: str, data: object) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {event}\ndata: {text}\n\n".encode()


def body_of(n: int) -> bytes:
    """A complete text run whose message arrives in ``n`` deltas (n=3000: ~300 KB)."""
    ids = {"thread_id": "thread_1", "assistant_id": "asst_1", "run_id": "run_1"}
    run = {"id": "run_1", "object": "thread.run", **ids}
    msg = {"id": "msg_1", "object": "thread.message", "role": "assistant", **ids}
    pieces = [f" w{i}" for i in range(n)]
    text = {"type": "text", "text": {"value": "".join(pieces), "annotations": []}}
    return b"".join(
        [
            sse("thread.run.created", {**run, "status": "queued"}),
            sse("thread.message.created", {**msg, "status": "in_progress", "content": []}),
            *(
                sse(
                    "thread.message.delta",
                    {
                        "id": "msg_1",
                        "object": "thread.message.delta",
                        "delta": {"content": [{"index": 0, "type": "text", "text": {"value": p}}]},
                    },
                )
                for p in pieces
            ),
            sse("thread.message.completed", {**msg, "status": "completed", "content": [text]}),
            sse("thread.run.completed", {**run, "status": "completed"}),
            sse("done", "[DONE]"),
        ]
    )


SMALL = body_of(5)
SMALL_TEXT = "".join(f" w{i}" for i in range(5))
BIG = body_of(3000)
BIG_TEXT = "".join(f" w{i}" for i in range(3000))


def chunks_of(body: bytes, size: int = 100) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


# --- sync ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: BIG,
        lambda: bytearray(BIG),
        lambda: memoryview(BIG),
        lambda: chunks_of(BIG),
        lambda: tuple(chunks_of(BIG)),
        lambda: iter(chunks_of(BIG)),
        lambda: (bytearray(c) for c in chunks_of(BIG, 7)),
        lambda: io.BytesIO(BIG),
        lambda: io.BufferedReader(io.BytesIO(BIG)),
    ],
    ids=["bytes", "bytearray", "memoryview", "list", "tuple", "iter", "gen", "BytesIO", "reader"],
)
def test_sync_in_memory_sources(make: Any) -> None:
    assert stream(make()).get_final_text() == BIG_TEXT


def test_bytes_are_handed_out_in_slices() -> None:
    s = stream(BIG)
    events = iter(s)
    next(events)
    assert s.driver.bytes == 64 * 1024  # the pump read one slice, not the whole body
    s.close()


class ReadOnly:
    """A file-like object with only read() and close()."""

    def __init__(self, data: bytes) -> None:
        self.data = io.BytesIO(data)
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        return self.data.read(size)

    def close(self) -> None:
        self.closed = True


def test_file_objects_are_closed() -> None:
    f = ReadOnly(SMALL)
    assert stream(f).get_final_text() == SMALL_TEXT
    assert f.closed

    f = ReadOnly(BIG)
    with stream(f) as s:
        next(iter(s))
    assert f.closed


def test_real_file(tmp_path: Path) -> None:
    path = tmp_path / "run.sse"
    path.write_bytes(BIG)
    with open(path, "rb") as f:
        s = stream(f)
        assert s.get_final_text() == BIG_TEXT
        assert f.closed


def write_recording(path: Path, chunks: list[bytes], *, end: bool = True) -> None:
    with Recorder(path, method="POST", path="/v1/threads/runs", status=200) as rec:
        for i, chunk in enumerate(chunks):
            rec.write(chunk, t=i * 0.001)
        if end:
            rec.end()


def test_paths_plain_and_recording(tmp_path: Path) -> None:
    plain = tmp_path / "run.sse"
    plain.write_bytes(BIG)
    assert stream(plain).get_final_text() == BIG_TEXT
    assert stream(str(plain)).get_final_text() == BIG_TEXT

    recording = tmp_path / "run.jsonl"
    write_recording(recording, chunks_of(SMALL, 33))
    assert stream(recording).get_final_text() == SMALL_TEXT

    cut = tmp_path / "cut.jsonl"
    write_recording(cut, chunks_of(SMALL, 33)[:5], end=False)
    with pytest.warns(TruncatedRecordingWarning), pytest.raises(StreamTruncated):
        stream(cut).until_done()


def test_a_missing_path_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        stream(tmp_path / "nope.sse")


def test_a_path_is_read_as_the_stream_is_consumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A multi-megabyte archive is not loaded whole: after the first event only the first
    # read's worth of the file has been read, and closing the stream closes the file.
    opened: list[FileChunks] = []

    class Spy(FileChunks):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            opened.append(self)

    monkeypatch.setattr(_sources, "FileChunks", Spy)
    for path in (tmp_path / "big.sse", tmp_path / "big.jsonl"):
        if path.suffix == ".sse":
            path.write_bytes(body_of(100_000))
        else:
            write_recording(path, chunks_of(body_of(20_000), 500))
        s = stream(path)
        assert next(iter(s)).event == "thread.run.created"
        assert opened[-1]._file.tell() <= 2 * CHUNK_SIZE < path.stat().st_size
        s.close()
        assert opened[-1]._file.closed


def test_a_recording_path_fails_at_once_on_its_header_and_later_at_a_bad_line(
    tmp_path: Path,
) -> None:
    bad_header = tmp_path / "bad.jsonl"
    bad_header.write_bytes(b'{"not": "a recording"}\n')
    with pytest.raises(RecordingError, match="not a streamkit recording"):
        stream(bad_header)

    # The bad line is met when the stream reaches it; what came before stays folded.
    recording = tmp_path / "run.jsonl"
    write_recording(recording, chunks_of(SMALL, 33))
    lines = recording.read_bytes().split(b"\n")
    bad = len(lines) * 3 // 4
    lines[bad] = b'{"t": "soon"}'
    recording.write_bytes(b"\n".join(lines))
    s = stream(recording)
    with pytest.raises(RecordingError, match=rf"run\.jsonl, line {bad + 1}: 't' must be a number"):
        s.until_done()
    assert s.get_final_run() is not None
    assert s.get_final_messages()[0].status == "in_progress"


def test_a_path_that_is_truncated_warns_when_its_end_is_reached(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jsonl"
    write_recording(cut, chunks_of(SMALL, 33)[:5], end=False)
    chunks = FileChunks(cut, CHUNK_SIZE)
    first = next(chunks)
    assert first == SMALL[:33]
    with pytest.warns(TruncatedRecordingWarning, match=r"no end line\); using its 5 complete"):
        assert len(list(chunks)) == 4
    chunks.close()


def test_a_str_body_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="pass the body as bytes"):
        stream(SMALL.decode())


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (42, "cannot stream from a int"),
        (["event: done\n", "data: [DONE]\n\n"], "got a chunk of type str"),
        (io.StringIO("event: done\ndata: [DONE]\n\n"), "got a chunk of type str"),
    ],
    ids=["int", "str chunks", "text file"],
)
def test_wrong_sources(source: Any, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        stream(source).until_done()


def test_async_sources_are_refused_by_stream() -> None:
    async def agen() -> AsyncIterator[bytes]:
        yield SMALL

    gen = agen()
    with pytest.raises(TypeError, match="astream"):
        stream(gen)  # type: ignore[arg-type]
    response = httpx.Response(200, stream=AsyncBody([SMALL]))
    with pytest.raises(TypeError, match="AsyncClient"):
        stream(response)


def test_generator_is_closed_on_early_exit() -> None:
    log: list[str] = []

    def gen() -> Iterator[bytes]:
        try:
            yield from chunks_of(BIG)
        finally:
            log.append("closed")

    with stream(gen()) as s:
        for event in s:
            if event.event == "thread.message.delta":
                break
    assert log == ["closed"]


class ClosableIterable:
    """An iterable (not its own iterator) with close(), like requests.Response."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


class AClosableIterable:
    """An async iterable (not its own iterator) with aclose()."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    async def _gen(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def aclose(self) -> None:
        self.closed = True


def test_an_iterable_with_close_is_closed() -> None:
    source = ClosableIterable(chunks_of(BIG))
    assert stream(source).get_final_text() == BIG_TEXT
    assert source.closed

    source = ClosableIterable(chunks_of(BIG))
    with stream(source) as s:
        next(s)
    assert source.closed


@pytest.mark.anyio
async def test_an_iterable_with_close_is_closed_by_astream() -> None:
    source = ClosableIterable(chunks_of(BIG))
    assert await astream(source).get_final_text() == BIG_TEXT
    assert source.closed

    asource = AClosableIterable(chunks_of(BIG))
    async with astream(asource) as s:
        await s.__anext__()
    assert asource.closed


# --- httpx ---------------------------------------------------------------------------------


class SyncBody(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks

    def close(self) -> None:
        self.closed = True


class AsyncBody(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            await anyio.sleep(0)
            self.sent += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


HEADERS = {"content-type": "text/event-stream"}


def sync_response(body: SyncBody) -> httpx.Response:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers=HEADERS, stream=body)
    )
    client = httpx.Client(transport=transport)
    request = client.build_request("POST", "https://api.example/v1/threads/runs")
    return client.send(request, stream=True)


def test_httpx_response() -> None:
    body = SyncBody(chunks_of(BIG, 1000))
    response = sync_response(body)
    assert stream(response).get_final_text() == BIG_TEXT
    assert response.is_closed and body.closed

    body = SyncBody(chunks_of(BIG, 1000))
    response = sync_response(body)
    with stream(response) as s:
        next(iter(s))
    assert response.is_closed and body.closed  # closed early: the connection is released


def test_httpx_sse_event_source() -> None:
    body = SyncBody(chunks_of(SMALL, 10))
    response = sync_response(body)
    source = httpx_sse.EventSource(response)
    assert stream(source).get_final_text() == SMALL_TEXT
    assert response.is_closed


async def async_response(body: AsyncBody) -> httpx.Response:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, headers=HEADERS, stream=body)
    )
    client = httpx.AsyncClient(transport=transport)
    request = client.build_request("POST", "https://api.example/v1/threads/runs")
    return await client.send(request, stream=True)


# httpx's aiter_bytes() nests async generators it does not close (aiter_raw, the bound
# stream's and the transport stream's __aiter__); closing a response early leaves them to
# the garbage collector, which trio reports. streamkit closes the generator it holds and
# the response (and so the transport stream: see the ``closed`` asserts).
HTTPX_NESTED_GENERATORS = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <async_generator object "
    r"(Response\.aiter_raw|\w+\.__aiter__):pytest.PytestUnraisableExceptionWarning"
)


@pytest.mark.anyio
@HTTPX_NESTED_GENERATORS
async def test_async_httpx_response() -> None:
    body = AsyncBody(chunks_of(BIG, 1000))
    response = await async_response(body)
    assert await astream(response).get_final_text() == BIG_TEXT
    assert response.is_closed and body.closed

    body = AsyncBody(chunks_of(BIG, 1000))
    response = await async_response(body)
    async with astream(response) as s:
        async for _ in s:
            break
    assert response.is_closed and body.closed and body.sent == 1

    body = AsyncBody(chunks_of(SMALL, 10))
    response = await async_response(body)
    assert await astream(httpx_sse.EventSource(response)).get_final_text() == SMALL_TEXT
    assert response.is_closed


@pytest.mark.anyio
@HTTPX_NESTED_GENERATORS
async def test_async_cancellation_closes_the_response() -> None:
    class Hanging(AsyncBody):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield self.chunks[0]
            await anyio.sleep_forever()
            yield b""  # pragma: no cover

    body = Hanging(chunks_of(SMALL, 50))
    response = await async_response(body)
    with anyio.move_on_after(0.05):
        async with astream(response) as s:
            await s.until_done()
    assert response.is_closed and body.closed


@pytest.mark.anyio
async def test_sync_response_in_astream_is_read_in_a_thread() -> None:
    body = SyncBody(chunks_of(BIG, 1000))
    response = sync_response(body)
    assert await astream(response).get_final_text() == BIG_TEXT
    assert response.is_closed


# --- async: the other kinds ------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    "make",
    [
        lambda: BIG,
        lambda: bytearray(BIG),
        lambda: chunks_of(BIG),
        lambda: iter(chunks_of(BIG)),
        lambda: io.BytesIO(BIG),
    ],
    ids=["bytes", "bytearray", "list", "iter", "BytesIO"],
)
async def test_async_in_memory_sources(make: Any) -> None:
    assert await astream(make()).get_final_text() == BIG_TEXT


@pytest.mark.anyio
async def test_async_generator_is_aclosed() -> None:
    log: list[str] = []

    async def agen() -> AsyncIterator[bytes]:
        try:
            for chunk in chunks_of(BIG):
                yield chunk
        finally:
            log.append("closed")

    assert await astream(agen()).get_final_text() == BIG_TEXT
    assert log == ["closed"]

    async with astream(agen()) as s:
        async for _ in s.text_deltas:
            break
    assert log == ["closed", "closed"]


@pytest.mark.anyio
async def test_async_files_and_paths(tmp_path: Path) -> None:
    plain = tmp_path / "run.sse"
    plain.write_bytes(BIG)
    assert await astream(plain).get_final_text() == BIG_TEXT
    assert await astream(str(plain)).get_final_text() == BIG_TEXT

    with open(plain, "rb") as f:
        assert await astream(f).get_final_text() == BIG_TEXT
        assert f.closed

    afile = await anyio.open_file(plain, "rb")
    assert await astream(afile).get_final_text() == BIG_TEXT
    with pytest.raises(ValueError):  # closed by the stream
        await afile.read(1)

    recording = tmp_path / "run.jsonl"
    write_recording(recording, chunks_of(SMALL, 33))
    assert await astream(recording).get_final_text() == SMALL_TEXT

    with pytest.raises(FileNotFoundError):  # async: the file is opened when read
        await astream(tmp_path / "nope.sse").until_done()

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(recording.read_bytes().replace(b'{"t":', b'{"t":"x","u":', 1))
    s = astream(bad)
    with pytest.raises(RecordingError, match=r"bad\.jsonl, line 2: 't' must be a number"):
        await s.until_done()


@pytest.mark.anyio
async def test_async_wrong_sources() -> None:
    with pytest.raises(TypeError, match="cannot stream from a int"):
        astream(42)  # type: ignore[arg-type]

    async def strings() -> AsyncIterator[str]:
        yield "event: done\n\n"

    with pytest.raises(TypeError, match="chunk of type str"):
        await astream(strings()).until_done()  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_async_path_closes_its_file_when_the_consumer_stops_early(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[FileChunks] = []
    read: list[int] = []

    class Spy(FileChunks):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            opened.append(self)

        def batch(self, size: int) -> list[bytes]:
            chunks = super().batch(size)
            read.append(sum(map(len, chunks)))
            return chunks

    monkeypatch.setattr(_sources, "FileChunks", Spy)
    path = tmp_path / "big.sse"
    path.write_bytes(body_of(100_000))
    with anyio.CancelScope() as scope:
        async with astream(path) as s:
            async for event in s:
                if event.event == "thread.message.delta":
                    scope.cancel()
                    await anyio.sleep(1)
    assert scope.cancelled_caught
    assert sum(read) <= 2 * CHUNK_SIZE < path.stat().st_size  # read as consumed
    assert opened[0]._file.closed


# --- a response that is not an event stream ------------------------------------------------


class _Answers(http.server.BaseHTTPRequestHandler):
    """Answers each path with a canned status, content type and body."""

    answers: ClassVar[dict[str, tuple[int, str, bytes, dict[str, str]]]] = {
        "/401": (
            401,
            "application/json",
            json.dumps(
                {
                    "error": {
                        "message": "Incorrect API key provided: sk-...",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                        "param": None,
                    }
                }
            ).encode(),
            {"x-request-id": "req_123"},
        ),
        "/502": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>", {}),
        "/json": (200, "application/json", b'{"id": "run_1", "status": "queued"}', {}),
        "/ok": (
            200,
            "text/event-stream; charset=utf-8",
            b'event: thread.run.created\ndata: {"id": "run_1", "status": "queued"}\n\n'
            b"event: done\ndata: [DONE]\n\n",
            {},
        ),
    }

    def do_GET(self) -> None:
        status, content_type, body, headers = self.answers[self.path.split("?")[0]]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_http_error_names_status_request_id_and_the_api_error(server: str) -> None:
    with httpx.Client() as client, client.stream("GET", f"{server}/401?api_key=sk-x") as r:
        s = stream(r)  # nothing is read yet
        with pytest.raises(ResponseError) as info:
            s.until_done()
    error = info.value
    assert isinstance(error, StreamkitError)
    assert (error.status_code, error.request_id) == (401, "req_123")
    assert error.content_type == "application/json"
    assert error.error is not None and error.error["code"] == "invalid_api_key"
    message = str(error)
    assert "HTTP 401" in message and "req_123" in message and "invalid_api_key" in message
    assert "sk-x" not in message  # the URL is shown without its query
    assert r.is_closed


def test_a_gateway_page_is_shown_not_parsed(server: str) -> None:
    with (
        httpx.Client() as client,
        client.stream("GET", f"{server}/502") as r,
        pytest.raises(ResponseError, match=r"HTTP 502.*text/html.*502 Bad Gateway") as info,
    ):
        stream(r).until_done()
    assert info.value.error is None and info.value.body.startswith("<html>")


def test_a_2xx_that_is_not_an_event_stream_is_an_error_too(server: str) -> None:
    with (
        httpx.Client() as client,
        client.stream("GET", f"{server}/json") as r,
        pytest.raises(ResponseError, match=r"not an event stream.*application/json"),
    ):
        stream(r).until_done()


def test_an_event_stream_with_parameters_in_its_content_type_streams(server: str) -> None:
    with httpx.Client() as client, client.stream("GET", f"{server}/ok") as r:
        assert stream(r).get_final_run() is not None


@pytest.mark.anyio
@HTTPX_NESTED_GENERATORS
async def test_async_http_errors(server: str) -> None:
    async with httpx.AsyncClient() as client:
        async with client.stream("GET", f"{server}/401") as r:
            with pytest.raises(ResponseError, match="HTTP 401") as info:
                await astream(r).until_done()
            assert info.value.request_id == "req_123"
        async with client.stream("GET", f"{server}/ok") as r:
            assert await astream(r).get_final_run() is not None
    with (
        httpx.Client() as sync_client,
        sync_client.stream("GET", f"{server}/502") as r,
        pytest.raises(ResponseError, match="HTTP 502"),  # a sync response, in a thread
    ):
        await astream(r).until_done()
