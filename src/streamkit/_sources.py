"""Byte sources for :func:`streamkit.stream` and :func:`streamkit.astream`.

A source becomes a pull-based chunk iterator plus a function that closes it. No I/O
library is imported here: httpx types are recognised only when httpx is already in use
(a response cannot exist otherwise), and anyio is imported by the async side when used.


- ``bytes`` / ``bytearray`` / ``memoryview``: a whole body, handed out in slices;
- ``str`` or ``os.PathLike``: a file, either a plain ``.sse`` body or a streamkit
  recording (:mod:`streamkit.record` tells them apart and replays them);
- a binary file object (``read1`` or ``read``): read in pieces, closed at the end;
- an ``httpx.Response``: ``iter_bytes()`` / ``aiter_bytes()``, closed at the end; its
  status and content type are checked first (a :class:`~streamkit.ResponseError` for a
  non-2xx status or a body that is not ``text/event-stream``);
- an ``httpx_sse.EventSource``: its response, so that streamkit's parser does the parsing;
- an iterable (or, for ``astream``, an async iterable) of bytes: iterated, and closed
  (``close()`` / ``aclose()``) when it has such a method.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias, cast

from .record._format import FileChunks

if TYPE_CHECKING:
    import httpx
    import httpx_sse

__all__ = ["AsyncSource", "Source", "open_async", "open_sync"]

#: Size of the slices a bytes body, a file or a plain ``.sse`` file is handed out in.
CHUNK_SIZE: Final = 64 * 1024


class BinaryReader(Protocol):
    """A binary file object: anything with ``read(size) -> bytes`` (``close()`` is used
    when present)."""

    def read(self, size: int, /) -> bytes: ...


Source: TypeAlias = (
    "bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryReader | Iterable[bytes]"
    " | httpx.Response | httpx_sse.EventSource"
)
"""What :func:`streamkit.stream` reads."""

AsyncSource: TypeAlias = "Source | AsyncIterable[bytes]"
"""What :func:`streamkit.astream` reads: a :data:`Source` or an async iterable of bytes."""

Close = Callable[[], None]
AClose = Callable[[], Awaitable[None]]


def _nothing() -> None:
    return None


def as_bytes(chunk: object) -> bytes:
    """A source chunk as ``bytes`` (bytes-like accepted; anything else is a TypeError)."""
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    raise TypeError(
        f"a stream source must produce bytes, got a chunk of type {type(chunk).__name__}"
        + (" (decode nothing: pass the raw response bytes)" if isinstance(chunk, str) else "")
    )


def _slices(body: bytes | bytearray | memoryview) -> list[bytes]:
    data = bytes(body)
    return [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)]


def _check_path(source: str | os.PathLike[str]) -> None:
    if isinstance(source, str) and ("\n" in source or "\r" in source):
        raise TypeError(
            "a str source is a file path; this one contains a line break, so it looks like "
            "a stream body: pass the body as bytes"
        )


def _response(source: object) -> httpx.Response | None:
    httpx_sse = sys.modules.get("httpx_sse")
    if httpx_sse is not None and isinstance(source, httpx_sse.EventSource):
        response: httpx.Response = source.response
        return response
    httpx_module = sys.modules.get("httpx")
    if httpx_module is not None and isinstance(source, httpx_module.Response):
        return cast("httpx.Response", source)
    return None


def _checked(response: httpx.Response) -> Iterator[bytes]:
    """The body of an event-stream response; a :class:`~streamkit.ResponseError` for
    anything else, raised at the first pull (nothing is read before the stream is
    consumed)."""
    from ._http import event_stream_problem

    problem = event_stream_problem(response)
    if problem is not None:
        raise problem
    yield from response.iter_bytes()


async def _achecked(response: httpx.Response) -> AsyncIterator[bytes]:
    """The async twin of :func:`_checked`."""
    from ._http import aevent_stream_problem

    problem = await aevent_stream_problem(response)
    if problem is not None:
        raise problem
    async for chunk in response.aiter_bytes():
        yield chunk


def _is_async_response(response: httpx.Response) -> bool:
    import httpx

    stream = response.stream
    return isinstance(stream, httpx.AsyncByteStream) and not isinstance(
        stream, httpx.SyncByteStream
    )


def _reader(file: Any) -> Callable[[int], Any]:
    read1 = getattr(file, "read1", None)
    return read1 if callable(read1) else file.read  # type: ignore[no-any-return]


def _read_file(read: Callable[[int], Any]) -> Iterator[bytes]:
    while chunk := read(CHUNK_SIZE):
        yield chunk


def _closing(*objects: object) -> Close:
    """Close each object that has a ``close()`` method, in order."""

    def close() -> None:
        for obj in objects:
            method = getattr(obj, "close", None)
            if callable(method):
                method()

    return close


def open_sync(source: Source) -> tuple[Iterator[bytes], Close]:
    """A chunk iterator over ``source`` and the function that closes it.

    A path is loaded here, so that a missing or malformed file fails at once.
    """
    chunks: Iterator[bytes]
    response = _response(source)
    if response is not None:
        if _is_async_response(response):
            raise TypeError(
                "this httpx.Response comes from an AsyncClient: use streamkit.astream()"
            )
        chunks = _checked(response)
        return chunks, _closing(chunks, response)
    if isinstance(source, bytes | bytearray | memoryview):
        return iter(_slices(source)), _nothing
    if isinstance(source, str | os.PathLike):
        _check_path(source)
        chunks = FileChunks(source, CHUNK_SIZE)
        return chunks, chunks.close
    if hasattr(source, "read"):
        if inspect.iscoroutinefunction(source.read):
            raise TypeError("this file object is async: use streamkit.astream()")
        chunks = _read_file(_reader(source))
        return chunks, _closing(chunks, source)
    if isinstance(source, Iterable):
        chunks = iter(source)
        return chunks, _closing(chunks) if chunks is source else _closing(chunks, source)
    if isinstance(source, AsyncIterable):
        raise TypeError("an async iterable source needs streamkit.astream()")
    raise TypeError(f"cannot stream from a {type(source).__name__}: see streamkit.stream()")


async def _in_memory(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    import anyio.lowlevel

    checkpoint = anyio.lowlevel.checkpoint
    for chunk in chunks:
        await checkpoint()
        yield chunk


def _next_nonempty(chunks: Iterator[bytes], end: bytes) -> bytes:
    for chunk in chunks:
        if chunk:
            return chunk
    return end


async def _in_thread(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Iterate a blocking iterator, each ``next`` in a worker thread."""
    import anyio.to_thread

    end = b""  # never a chunk: empty chunks are skipped
    while (chunk := await anyio.to_thread.run_sync(_next_nonempty, chunks, end)) is not end:
        yield chunk


async def _from_path(source: str | os.PathLike[str]) -> AsyncIterator[bytes]:
    """The file's chunks, read in a worker thread about ``CHUNK_SIZE`` bytes at a time."""
    import anyio.lowlevel
    import anyio.to_thread

    chunks = await anyio.to_thread.run_sync(FileChunks, source, CHUNK_SIZE)
    try:
        while batch := await anyio.to_thread.run_sync(chunks.batch, CHUNK_SIZE):
            for chunk in batch:
                await anyio.lowlevel.checkpoint()
                yield chunk
    finally:
        chunks.close()


async def _read_async_file(read: Callable[[int], Awaitable[bytes]]) -> AsyncIterator[bytes]:
    while chunk := await read(CHUNK_SIZE):
        yield chunk


async def _call(close: Callable[[], object]) -> None:
    result = close()
    if inspect.isawaitable(result):
        await result


def _closer(obj: object) -> Callable[[], object] | None:
    """``obj.aclose`` or else ``obj.close``, or None."""
    close = getattr(obj, "aclose", None) or getattr(obj, "close", None)
    return close if callable(close) else None


def _aclosing(chunks: object, *closers: Callable[[], object] | None) -> AClose:
    """Close ``chunks`` (``aclose`` or ``close``), then call each closer (sync or async)."""

    async def aclose() -> None:
        for close in (_closer(chunks), *closers):
            if close is not None:
                await _call(close)

    return aclose


def open_async(source: AsyncSource) -> tuple[AsyncIterator[bytes], AClose]:
    """An async chunk iterator over ``source`` and the coroutine function that closes it.

    Blocking sources (file objects, responses of a sync ``httpx.Client``) are read in a
    worker thread; a plain sync iterable is iterated in the event loop, with a checkpoint
    per chunk, so it must not block. Nothing is read before the first ``__anext__``.
    """
    chunks: AsyncIterator[bytes]
    response = _response(source)
    if response is not None:
        if _is_async_response(response):
            chunks = _achecked(response)
            return chunks, _aclosing(chunks, response.aclose)
        chunks = _in_thread(_checked(response))
        return chunks, _aclosing(chunks, response.close)
    if isinstance(source, bytes | bytearray | memoryview):
        chunks = _in_memory(_slices(source))
        return chunks, _aclosing(chunks)
    if isinstance(source, str | os.PathLike):
        _check_path(source)
        chunks = _from_path(source)
        return chunks, _aclosing(chunks)
    if hasattr(source, "read"):
        read: Any = source.read
        if inspect.iscoroutinefunction(read):
            chunks = _read_async_file(read)
        else:
            chunks = _in_thread(_read_file(_reader(source)))
        return chunks, _aclosing(chunks, _closer(source))
    if isinstance(source, AsyncIterable):
        chunks = aiter(source)
        return chunks, _aclosing(chunks, None if chunks is source else _closer(source))
    if isinstance(source, Iterable):
        sync_chunks = iter(source)
        chunks = _in_memory(sync_chunks)
        source_close = None if sync_chunks is source else _closer(source)
        return chunks, _aclosing(chunks, _closer(sync_chunks), source_close)
    raise TypeError(f"cannot stream from a {type(source).__name__}: see streamkit.astream()")
