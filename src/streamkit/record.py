"""Record raw response streams byte for byte, with timing, and replay them.

This module works on raw byte chunks only, not on parsed events. The file format is
specified in ``docs/record.md``: JSON Lines, a header line, one line per chunk (seconds
since the start of the response, and the bytes as text or base64), and an end line
written when the stream ended normally. Plain ``.sse`` bodies are accepted wherever a
recording is.
"""

from __future__ import annotations

import base64
import io
import math
import os
import re
import time
import warnings
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any, Final, Literal

import anyio
import anyio.lowlevel
import attrs
import httpx
import orjson

from ._errors import StreamkitError
from ._version import __version__

__all__ = [
    "FORMAT_VERSION",
    "REDACTED",
    "Chunk",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingHeader",
    "TruncatedRecordingWarning",
    "arecord_response",
    "areplay",
    "atee",
    "load_recording",
    "record_response",
    "replay",
    "tee",
]

FORMAT_VERSION: Final = 1
"""The recording format version this module writes and the highest it reads."""

REDACTED: Final = "[REDACTED]"
"""What a redacted secret is replaced with."""

_MAGIC: Final = "streamkit_recording"

# Header names (compared lower-cased, "_" read as "-") whose values are always redacted.
_SECRET_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "openai-api-key",
        "cookie",
        "set-cookie",
        "client-secret",
    }
)
# A ChatKit / ephemeral client secret: "ek_" and at least 8 token characters, not glued to
# a preceding word ("week_..." is not one).
_EK_SECRET: Final = re.compile(r"(?<![A-Za-z0-9_])ek_[A-Za-z0-9_-]{8,}")
# A JSON string field named client_secret inside a text value.
_JSON_CLIENT_SECRET: Final = re.compile(r'("client_secret"\s*:\s*")(?:[^"\\]|\\.)*(")')

_Source = str | os.PathLike[str] | bytes | bytearray | memoryview
"""What ``load_recording`` reads: a file path, or the file's content as bytes."""


class RecordingError(StreamkitError):
    """A recording is malformed: names the file, the line (1-based) and what was wrong."""

    def __init__(self, source: str, line: int | None, reason: str) -> None:
        super().__init__(source, line, reason)
        self.source = source
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}, line {self.line}"
        return f"{where}: {self.reason}"


class TruncatedRecordingWarning(UserWarning):
    """A recording has no end line: it was cut short, and only its complete chunks are used."""


@attrs.frozen
class Chunk:
    """One chunk of a response body as it arrived.

    ``t`` is seconds since the start of the response, or None when unknown (plain bodies).
    """

    t: float | None
    data: bytes


@attrs.frozen
class RecordingHeader:
    """The first line of a recording: format version, request, response status and headers."""

    version: int
    started_at: datetime
    streamkit_version: str
    method: str | None = None
    path: str | None = None
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    metadata: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class Recording:
    """A loaded recording (or plain body).

    ``complete``: the end line was read, so the stream is known to have ended normally.
    ``truncated``: the recording is known to be cut short (end line missing, or last line
    partial); ``chunks`` then holds every complete chunk before the cut. A plain body has
    no header and is neither. ``duration`` is the end line's time, when there is one.
    """

    header: RecordingHeader | None
    chunks: list[Chunk]
    truncated: bool = False
    complete: bool = False
    duration: float | None = None

    @property
    def body(self) -> bytes:
        """All chunks joined: the response body."""
        return b"".join(chunk.data for chunk in self.chunks)


# --- redaction --------------------------------------------------------------------------


def _normalize_name(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _redact_text(value: str) -> str:
    value = _JSON_CLIENT_SECRET.sub(lambda m: f"{m[1]}{REDACTED}{m[2]}", value)
    return _EK_SECRET.sub(REDACTED, value)


class _Redactor:
    """Redacts secrets in header values and metadata (never in the body)."""

    def __init__(self, extra_names: Iterable[str]) -> None:
        self._names = _SECRET_HEADERS | {_normalize_name(n) for n in extra_names}

    def secret_name(self, name: str) -> bool:
        return _normalize_name(name) in self._names

    def header(self, name: str, value: str) -> str:
        return REDACTED if self.secret_name(name) else _redact_text(value)

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return _redact_text(value)
        if isinstance(value, Mapping):
            return {
                key: REDACTED if self.secret_name(str(key)) else self.json(item)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value


_WHITESPACE: Final = frozenset(b" \t\r\n")


class _BodySecretRedactor:
    """Replaces the values of ``"client_secret":"..."`` JSON fields in a chunked byte stream.

    Stateful, so a key or value split across chunks is still found; every chunk maps to
    exactly one output chunk (boundaries are kept, lengths change).
    """

    _KEY: Final = b'"client_secret"'

    def __init__(self) -> None:
        self._phase: Literal["key", "colon", "open", "value"] = "key"
        self._matched = 0  # bytes of _KEY matched so far (phase "key")
        self._escaped = False  # the previous value byte was a backslash (phase "value")

    def feed(self, chunk: bytes) -> bytes:
        key = self._KEY
        out = bytearray()
        i, n = 0, len(chunk)
        while i < n:
            if self._phase == "key":
                if self._matched:
                    need = key[self._matched :]
                    m = min(len(need), n - i)
                    if chunk[i : i + m] == need[:m]:
                        out += chunk[i : i + m]
                        i += m
                        self._matched += m
                        if self._matched == len(key):
                            self._matched = 0
                            self._phase = "colon"
                        continue
                    self._matched = 0  # a new match can only start at i (see _KEY's quotes)
                j = chunk.find(key, i)
                if j >= 0:
                    out += chunk[i : j + len(key)]
                    i = j + len(key)
                    self._phase = "colon"
                    continue
                # Does the chunk end with the start of a key? Only a quote can begin one, and
                # the key has no quote but its first and last, so only the last quote can.
                j = chunk.rfind(b'"', max(i, n - len(key) + 1))
                if j >= 0 and key.startswith(chunk[j:]):
                    self._matched = n - j
                if i == 0:
                    return chunk  # nothing to change
                out += chunk[i:]
                break
            byte = chunk[i]
            if self._phase == "value":
                if self._escaped:
                    self._escaped = False
                elif byte == 0x5C:  # backslash
                    self._escaped = True
                elif byte == 0x22:  # closing quote
                    out.append(byte)
                    self._phase = "key"
                i += 1
            elif byte in _WHITESPACE:
                out.append(byte)
                i += 1
            elif self._phase == "colon" and byte == 0x3A:  # ":"
                out.append(byte)
                self._phase = "open"
                i += 1
            elif self._phase == "open" and byte == 0x22:  # opening quote of a string value
                out.append(byte)
                out += REDACTED.encode()
                self._phase = "value"
                i += 1
            else:  # not a string-valued client_secret field: back to scanning, same byte
                self._phase = "key"
        return bytes(out)


# --- recording --------------------------------------------------------------------------


def _micros(t: float) -> float:
    """``t`` rounded to the microsecond (t >= 0); prints as at most 6 decimals, like round()
    but several times faster: k / 1e6 is the double nearest to the decimal k * 10**-6."""
    return int(t * 1e6 + 0.5) / 1e6


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Recorder:
    """Writes one recording: the header on creation, then chunks, then the end line.

    Every line is flushed as it is written (to the OS, not fsync'd), so a crash loses at
    most the line being written. Call ``end()`` when the stream ended normally; a recording
    closed without it reads back as truncated. As a context manager it closes on exit
    (without writing the end line). ``file`` is a path (created or overwritten, closed by
    ``close()``) or a binary file object (flushed, left open). Header values are redacted
    (see ``docs/record.md``); ``redact`` names more headers / metadata keys to redact, and
    ``redact_body_secrets`` also rewrites ``"client_secret":"..."`` values in the chunks.
    """

    def __init__(
        self,
        file: str | os.PathLike[str] | IO[bytes],
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        metadata: Mapping[str, Any] | None = None,
        redact: Iterable[str] = (),
        redact_body_secrets: bool = False,
        clock: Callable[[], float] = time.perf_counter,
        started_at: datetime | None = None,
    ) -> None:
        redactor = _Redactor(redact)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        header: dict[str, Any] = {
            _MAGIC: FORMAT_VERSION,
            "started_at": _iso_utc(started_at or datetime.now(UTC)),
            "streamkit_version": __version__,
            "method": method,
            "path": path,
            "status": status,
            "headers": [[name, redactor.header(name, value)] for name, value in pairs],
            "metadata": redactor.json(dict(metadata or {})),
        }
        line = orjson.dumps(header, option=orjson.OPT_APPEND_NEWLINE)
        self._file: IO[bytes]
        if isinstance(file, str | os.PathLike):
            self.name = os.fspath(file)
            # Unbuffered: each line is one write() straight to the OS, no flush needed.
            self._file = open(file, "wb", buffering=0)  # noqa: SIM115 - closed by close()
            self._owns_file = True
        else:
            self.name = str(getattr(file, "name", "<stream>"))
            self._file = file
            self._owns_file = False
        self._body_redactor = _BodySecretRedactor() if redact_body_secrets else None
        self._clock = clock
        self._chunks = 0
        self._bytes = 0
        self._last_t = 0.0
        self._ended = False
        self._closed = False
        try:
            self._write_line(line)
        except BaseException:
            self.close()
            raise
        self._t0 = clock()

    @property
    def clock(self) -> Callable[[], float]:
        """The clock timestamps are taken from (``time.perf_counter`` unless injected)."""
        return self._clock

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    @property
    def ended(self) -> bool:
        """Whether the end line was written."""
        return self._ended

    def elapsed(self) -> float:
        """Seconds since the header was written (the start of the response)."""
        return self._clock() - self._t0

    def write(self, chunk: bytes, *, t: float | None = None) -> None:
        """Append one chunk, timestamped ``t`` (from ``elapsed()``; now when omitted)."""
        if self._ended or self._closed:
            raise ValueError(f"{self.name}: recorder is {'ended' if self._ended else 'closed'}")
        if t is None:
            t = max(self._clock() - self._t0, self._last_t)
        elif not t >= self._last_t:
            raise ValueError(f"{self.name}: chunk time {t} is before {self._last_t}")
        self._last_t = t
        data = bytes(chunk)
        if self._body_redactor is not None:
            data = self._body_redactor.feed(data)
        try:
            entry = {"t": _micros(t), "text": data.decode("utf-8")}
        except UnicodeDecodeError:
            entry = {"t": _micros(t), "base64": base64.b64encode(data).decode("ascii")}
        self._write_line(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
        self._chunks += 1
        self._bytes += len(data)

    def end(self, *, t: float | None = None) -> None:
        """Write the end line: the stream ended normally. Later calls do nothing."""
        if self._closed:
            raise ValueError(f"{self.name}: recorder is closed")
        if self._ended:
            return
        if t is None:
            t = max(self._clock() - self._t0, self._last_t)
        elif not t >= self._last_t:
            raise ValueError(f"{self.name}: end time {t} is before {self._last_t}")
        entry = {"end": _micros(t), "chunks": self._chunks, "bytes": self._bytes}
        self._write_line(orjson.dumps(entry, option=orjson.OPT_APPEND_NEWLINE))
        self._ended = True

    def close(self) -> None:
        """Close the file (when the recorder opened it). Idempotent; does not call ``end()``."""
        if self._closed:
            return
        self._closed = True
        if self._owns_file:
            self._file.close()
        else:
            self._file.flush()

    def _write_line(self, line: bytes) -> None:
        written = self._file.write(line)
        while written < len(line):  # a raw file may write short; buffered ones never do
            line = line[written:]
            written = self._file.write(line)
        if not self._owns_file:
            self._file.flush()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def tee(chunks: Iterable[bytes], recorder: Recorder) -> Iterator[bytes]:
    """Yield ``chunks`` unchanged while recording them, then write the end line.

    Each chunk is timestamped on arrival and handed to the consumer first; it is written
    when the consumer asks for the next one (or stops). The recorder is not closed.
    """
    elapsed = recorder.elapsed
    write = recorder.write
    for chunk in chunks:
        t = elapsed()
        try:
            yield chunk
        except BaseException:  # the consumer stopped (close / throw): keep what it saw
            if not recorder.closed:
                write(chunk, t=t)
            raise
        write(chunk, t=t)
    recorder.end()


async def atee(chunks: AsyncIterable[bytes], recorder: Recorder) -> AsyncIterator[bytes]:
    """Async twin of ``tee``: same timing and ordering, on any anyio backend.

    The writes are small synchronous file writes (no thread hop).
    """
    elapsed = recorder.elapsed
    write = recorder.write
    async for chunk in chunks:
        t = elapsed()
        try:
            yield chunk
        except BaseException:
            if not recorder.closed:
                write(chunk, t=t)
            raise
        write(chunk, t=t)
    recorder.end()


def _response_recorder(
    response: httpx.Response,
    file: str | os.PathLike[str] | IO[bytes],
    redact: Iterable[str],
    redact_body_secrets: bool,
    metadata: Mapping[str, Any] | None,
    clock: Callable[[], float],
) -> Recorder:
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a Response built without a request
        request = None
    return Recorder(
        file,
        method=request.method if request is not None else None,
        path=request.url.path if request is not None else None,
        status=response.status_code,
        headers=response.headers.multi_items(),
        metadata=metadata,
        redact=redact,
        redact_body_secrets=redact_body_secrets,
        clock=clock,
    )


def record_response(
    response: httpx.Response,
    path: str | os.PathLike[str] | IO[bytes],
    *,
    redact: Iterable[str] = (),
    redact_body_secrets: bool = False,
    metadata: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[bytes]:
    """Yield ``response.iter_bytes()`` while recording it to ``path``.

    The header (request method and URL path, status, response headers) is written when
    iteration starts; the end line when the body is exhausted. Stopping early leaves a
    truncated recording.
    """
    with _response_recorder(response, path, redact, redact_body_secrets, metadata, clock) as rec:
        yield from tee(response.iter_bytes(), rec)


async def arecord_response(
    response: httpx.Response,
    path: str | os.PathLike[str] | IO[bytes],
    *,
    redact: Iterable[str] = (),
    redact_body_secrets: bool = False,
    metadata: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> AsyncIterator[bytes]:
    """Async twin of ``record_response``, over ``response.aiter_bytes()``."""
    with _response_recorder(response, path, redact, redact_body_secrets, metadata, clock) as rec:
        async for chunk in atee(response.aiter_bytes(), rec):
            yield chunk


# --- loading ----------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _time(obj: Mapping[str, Any], key: str, name: str, lineno: int, after: float) -> float:
    value = obj[key]
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise RecordingError(name, lineno, f"{key!r} must be a number >= 0, got {value!r}")
    if value < after:
        raise RecordingError(name, lineno, f"{key!r} {value} is before the previous time {after}")
    return float(value)


def _json_object(line: bytes, name: str, lineno: int, what: str) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise RecordingError(name, lineno, f"{what} is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise RecordingError(name, lineno, f"{what} is not a JSON object")
    return obj


def _parse_header(line: bytes, name: str) -> RecordingHeader:
    obj = _json_object(line, name, 1, "the header line")
    version = obj.get(_MAGIC)
    if version is None:
        raise RecordingError(name, 1, f"not a streamkit recording: no {_MAGIC!r} key")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordingError(name, 1, f"bad format version {version!r}")
    if version > FORMAT_VERSION:
        raise RecordingError(
            name, 1, f"format version {version} is newer than this streamkit reads"
        )

    def field(key: str, kind: type | tuple[type, ...], required: bool = False) -> Any:
        value = obj.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RecordingError(name, 1, f"header field {key!r} is missing or invalid")
        return value

    started = field("started_at", str, required=True)
    try:
        started_at = datetime.fromisoformat(started)
    except ValueError:
        raise RecordingError(name, 1, f"bad started_at {started!r}") from None
    if started_at.utcoffset() is None:
        raise RecordingError(
            name, 1, f"started_at {started!r} has no time zone (write UTC, ending in 'Z')"
        )
    headers = field("headers", list) or []
    if not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(s, str) for s in pair)
        for pair in headers
    ):
        raise RecordingError(name, 1, "header field 'headers' must be a list of [name, value]")
    return RecordingHeader(
        version=version,
        started_at=started_at,
        streamkit_version=field("streamkit_version", str, required=True),
        method=field("method", str),
        path=field("path", str),
        status=field("status", int),
        headers=tuple((k, v) for k, v in headers),
        metadata=field("metadata", dict) or {},
    )


def _chunk_data(obj: Mapping[str, Any], name: str, lineno: int) -> bytes:
    text, b64 = obj.get("text"), obj.get("base64")
    if isinstance(text, str) and b64 is None:
        return text.encode("utf-8")
    if isinstance(b64, str) and text is None:
        try:
            return base64.b64decode(b64, validate=True)
        except ValueError:  # binascii.Error, or a non-ASCII character
            raise RecordingError(name, lineno, "'base64' is not valid base64") from None
    raise RecordingError(name, lineno, "a chunk line needs exactly one of 'text' or 'base64'")


def _plain(data: bytes, chunk_size: int | None) -> Recording:
    if chunk_size is None:
        chunks = [Chunk(None, data)] if data else []
    else:
        chunks = [Chunk(None, data[i : i + chunk_size]) for i in range(0, len(data), chunk_size)]
    return Recording(header=None, chunks=chunks)


def _check_chunk_size(plain_chunk_size: int | None) -> None:
    if plain_chunk_size is not None and plain_chunk_size < 1:
        raise ValueError(f"plain_chunk_size must be >= 1, got {plain_chunk_size}")


def _header_line(line: bytes, name: str) -> RecordingHeader:
    if not line.endswith(b"\n"):
        raise RecordingError(
            name, 1, "the header line is incomplete (cut before its newline): not a recording"
        )
    return _parse_header(line[:-1], name)


@attrs.define
class _Ending:
    """How a recording's chunk lines ended: the end line's time, or a cut."""

    duration: float | None = None
    partial: bool = False
    chunks: int = 0


def _read_chunks(lines: Iterable[bytes], name: str, ending: _Ending) -> Iterator[Chunk]:
    """The chunks of a recording's lines after the header (each line with its newline, but
    a last one cut short), checked one line at a time; ``ending`` is filled in at the end."""
    last_t = 0.0
    total = 0
    lineno = 1
    for raw in lines:
        lineno += 1
        if ending.duration is not None:
            raise RecordingError(name, lineno, "a line after the end line")
        if not raw.endswith(b"\n"):  # the file was cut inside its last line
            ending.partial = True
            return
        obj = _json_object(raw[:-1], name, lineno, "the line")
        if "end" in obj:
            ending.duration = _time(obj, "end", name, lineno, last_t)
            counts = obj.get("chunks"), obj.get("bytes")
            if counts != (ending.chunks, total):
                raise RecordingError(
                    name,
                    lineno,
                    f"end line counts (chunks, bytes) {counts} do not match the recording "
                    f"({ending.chunks}, {total})",
                )
        elif "t" in obj:
            last_t = _time(obj, "t", name, lineno, last_t)
            chunk = _chunk_data(obj, name, lineno)
            ending.chunks += 1
            total += len(chunk)
            yield Chunk(last_t, chunk)
        else:
            raise RecordingError(name, lineno, "neither a chunk line ('t') nor an end line")


def _warn_truncated(name: str, ending: _Ending, stacklevel: int) -> None:
    cut = "its last line is partial" if ending.partial else "it has no end line"
    warnings.warn(
        TruncatedRecordingWarning(
            f"{name}: recording is truncated ({cut}); using its {ending.chunks} complete chunks"
        ),
        stacklevel=stacklevel + 1,
    )


def _parse(data: bytes, name: str, plain_chunk_size: int | None, stacklevel: int) -> Recording:
    _check_chunk_size(plain_chunk_size)
    if not data.startswith(b"{"):
        return _plain(data, plain_chunk_size)
    lines = iter(io.BytesIO(data))
    header = _header_line(next(lines), name)
    ending = _Ending()
    chunks = list(_read_chunks(lines, name, ending))
    truncated = ending.duration is None
    if truncated:
        _warn_truncated(name, ending, stacklevel)
    return Recording(
        header=header,
        chunks=chunks,
        truncated=truncated,
        complete=not truncated,
        duration=ending.duration,
    )


class _FileChunks:
    """The chunks of a recording or plain body file, read as they are asked for.

    Opening reads the header line, so a missing file or a file that is not a recording
    fails at once; a bad line later raises ``RecordingError`` when it is reached, and a
    truncated recording warns when its end is reached. A plain body is read in
    ``plain_chunk_size`` pieces. ``close()`` closes the file.
    """

    def __init__(self, path: str | os.PathLike[str], plain_chunk_size: int) -> None:
        _check_chunk_size(plain_chunk_size)
        self._name = os.fspath(path)
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._chunks: Iterator[bytes]
        try:
            if self._file.peek(1)[:1] == b"{":
                _header_line(self._file.readline(), self._name)
                self._ending: _Ending | None = _Ending()
                self._chunks = (c.data for c in _read_chunks(self._file, self._name, self._ending))
            else:
                self._ending = None
                read, size = self._file.read, plain_chunk_size
                self._chunks = iter(lambda: read(size), b"")
        except BaseException:
            self._file.close()
            raise

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            ending = self._ending
            if ending is not None and ending.duration is None:
                self._ending = None  # warn once
                _warn_truncated(self._name, ending, stacklevel=2)
            raise

    def batch(self, size: int) -> list[bytes]:
        """The next chunks, about ``size`` bytes of them; an empty list at the end."""
        out: list[bytes] = []
        total = 0
        for chunk in self:
            out.append(chunk)
            total += len(chunk)
            if total >= size:
                break
        return out

    def close(self) -> None:
        self._file.close()


def _load(
    source: _Source, name: str | None, plain_chunk_size: int | None, stacklevel: int
) -> Recording:
    # stacklevel counts from _parse: 1 _parse, 2 _load, then the callers.
    if isinstance(source, bytes | bytearray | memoryview):
        return _parse(bytes(source), name or "<bytes>", plain_chunk_size, stacklevel)
    with open(source, "rb") as f:
        data = f.read()
    return _parse(data, name or os.fspath(source), plain_chunk_size, stacklevel)


def load_recording(
    source: _Source, *, plain_chunk_size: int | None = None, name: str | None = None
) -> Recording:
    """Read a recording, or a plain body, from a path or from bytes.

    The format is detected from the first byte: ``{`` starts a recording, anything else
    (including an empty input) is a plain body. A plain body becomes one chunk with no
    timing, or chunks of ``plain_chunk_size`` bytes. A truncated recording loads its
    complete chunks, with ``truncated=True`` and a ``TruncatedRecordingWarning``; a malformed
    one raises ``RecordingError``. ``name`` is used in messages (defaults to the path).
    """
    return _load(source, name, plain_chunk_size, stacklevel=4)


def _coerce(recording: Recording | _Source, plain_chunk_size: int | None) -> Sequence[Chunk]:
    if isinstance(recording, Recording):
        return recording.chunks
    return _load(recording, None, plain_chunk_size, stacklevel=5).chunks


def _check_speed(speed: float | None) -> None:
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be > 0 or None, got {speed!r}")


def replay(
    recording: Recording | _Source,
    *,
    speed: float | None = None,
    plain_chunk_size: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[bytes]:
    """Yield the recorded chunks in order, exactly.

    ``speed=None`` replays instantly; otherwise chunk *i* is yielded at ``t_i / speed``
    seconds after iteration starts (1.0 real time, 2.0 twice as fast), scheduled from the
    start so delays don't accumulate. Chunks without timing (plain bodies) never wait. The
    recording is loaded when this is called, so load errors surface here.
    """
    _check_speed(speed)
    chunks = _coerce(recording, plain_chunk_size)
    return _replay(chunks, speed, clock, sleep)


def _replay(
    chunks: Sequence[Chunk],
    speed: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
) -> Iterator[bytes]:
    if speed is None:
        for chunk in chunks:
            yield chunk.data
        return
    start = clock()
    for chunk in chunks:
        if chunk.t is not None:
            delay = start + chunk.t / speed - clock()
            if delay > 0:
                sleep(delay)
        yield chunk.data


def areplay(
    recording: Recording | _Source,
    *,
    speed: float | None = None,
    plain_chunk_size: int | None = None,
    clock: Callable[[], float] = anyio.current_time,
    sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
) -> AsyncIterator[bytes]:
    """Async twin of ``replay`` (anyio: asyncio or trio); checkpoints before every chunk."""
    _check_speed(speed)
    chunks = _coerce(recording, plain_chunk_size)
    return _areplay(chunks, speed, clock, sleep)


async def _areplay(
    chunks: Sequence[Chunk],
    speed: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[object]],
) -> AsyncIterator[bytes]:
    if speed is None:
        for chunk in chunks:
            await anyio.lowlevel.checkpoint()
            yield chunk.data
        return
    start = clock()
    for chunk in chunks:
        delay = 0.0 if chunk.t is None else start + chunk.t / speed - clock()
        if delay > 0:
            await sleep(delay)
        else:
            await anyio.lowlevel.checkpoint()
        yield chunk.data
