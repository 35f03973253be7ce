"""The recording format: its data types, and reading a recording line by line.

A recording is JSON Lines (specified in ``docs/record.md``): a header line, one line per
chunk (seconds since the start of the response, and the bytes as text or base64), and an
end line written when the stream ended normally. Reading checks one line at a time
(:func:`read_chunks`), so :func:`load_recording` (a whole file or bytes) and
:class:`FileChunks` (a file read as its chunks are asked for, which ``stream(path)``
uses) fail the same way at the same line. A time is a number of seconds from 0 to
:data:`MAX_TIME`, so every recorded time can be waited for on replay. Plain ``.sse``
bodies are accepted wherever a recording is: the first byte tells them apart.
"""

from __future__ import annotations

import base64
import io
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Final

import attrs
import orjson

from .._errors import StreamkitError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_STATUS",
    "MAX_TIME",
    "MIN_STATUS",
    "Chunk",
    "Ending",
    "FileChunks",
    "Recording",
    "RecordingError",
    "RecordingHeader",
    "Source",
    "TruncatedRecordingWarning",
    "check_chunk_size",
    "load",
    "load_recording",
    "read_chunks",
]

FORMAT_VERSION: Final = 1
"""The recording format version this module writes and the highest it reads."""

MAGIC: Final = "streamkit_recording"
"""The header line's first key; its value is the format version."""

MAX_TIME: Final = 1e9
"""The largest time (seconds, about 31.7 years) a recording may hold: every time up to it
can be slept for, and keeps its microseconds exactly."""

MIN_STATUS: Final = 100
MAX_STATUS: Final = 999
"""A recorded HTTP status is a three-digit number."""

Source = str | os.PathLike[str] | bytes | bytearray | memoryview
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


# --- loading ----------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time(obj: Mapping[str, Any], key: str, name: str, lineno: int, after: float) -> float:
    value = obj[key]
    # One chained comparison is also False for NaN (orjson reads no infinity).
    if not _is_number(value) or not 0 <= value <= MAX_TIME:
        raise RecordingError(
            name,
            lineno,
            f"{key!r} must be a number of seconds from 0 to {MAX_TIME:g}, got {value!r}",
        )
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
    version = obj.get(MAGIC)
    if version is None:
        raise RecordingError(name, 1, f"not a streamkit recording: no {MAGIC!r} key")
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
    status = field("status", int)
    if status is not None and not MIN_STATUS <= status <= MAX_STATUS:
        raise RecordingError(
            name, 1, f"header field 'status' must be a three-digit HTTP status, got {status}"
        )
    return RecordingHeader(
        version=version,
        started_at=started_at,
        streamkit_version=field("streamkit_version", str, required=True),
        method=field("method", str),
        path=field("path", str),
        status=status,
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


def check_chunk_size(plain_chunk_size: int | None) -> None:
    """Raise ``ValueError`` unless ``plain_chunk_size`` is None or at least 1."""
    if plain_chunk_size is not None and plain_chunk_size < 1:
        raise ValueError(f"plain_chunk_size must be >= 1, got {plain_chunk_size}")


def _header_line(line: bytes, name: str) -> RecordingHeader:
    if not line.endswith(b"\n"):
        raise RecordingError(
            name, 1, "the header line is incomplete (cut before its newline): not a recording"
        )
    return _parse_header(line[:-1], name)


@attrs.define
class Ending:
    """How a recording's chunk lines ended: the end line's time, or a cut."""

    duration: float | None = None
    partial: bool = False
    chunks: int = 0


def read_chunks(lines: Iterable[bytes], name: str, ending: Ending) -> Iterator[Chunk]:
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
            if not all(_is_int(count) for count in counts):
                raise RecordingError(
                    name, lineno, f"end line counts (chunks, bytes) {counts} must be integers"
                )
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


def _warn_truncated(name: str, ending: Ending, stacklevel: int) -> None:
    cut = "its last line is partial" if ending.partial else "it has no end line"
    warnings.warn(
        TruncatedRecordingWarning(
            f"{name}: recording is truncated ({cut}); using its {ending.chunks} complete chunks"
        ),
        stacklevel=stacklevel + 1,
    )


def _parse(data: bytes, name: str, plain_chunk_size: int | None, stacklevel: int) -> Recording:
    check_chunk_size(plain_chunk_size)
    if not data.startswith(b"{"):
        return _plain(data, plain_chunk_size)
    lines = iter(io.BytesIO(data))
    header = _header_line(next(lines), name)
    ending = Ending()
    chunks = list(read_chunks(lines, name, ending))
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


class FileChunks:
    """The chunks of a recording or plain body file, read as they are asked for.

    Opening reads the header line, so a missing file or a file that is not a recording
    fails at once; a bad line later raises ``RecordingError`` when it is reached, and a
    truncated recording warns when its end is reached. A plain body is read in
    ``plain_chunk_size`` pieces. ``close()`` closes the file.
    """

    def __init__(self, path: str | os.PathLike[str], plain_chunk_size: int) -> None:
        check_chunk_size(plain_chunk_size)
        self._name = os.fspath(path)
        #: Set when the end is reached: a recording whose end line is missing (cut short).
        self.truncated = False
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._chunks: Iterator[bytes]
        try:
            if self._file.peek(1)[:1] == b"{":
                _header_line(self._file.readline(), self._name)
                self._ending: Ending | None = Ending()
                self._chunks = (c.data for c in read_chunks(self._file, self._name, self._ending))
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
                self.truncated = True
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
        """Close the file."""
        self._file.close()


def load(
    source: Source, name: str | None, plain_chunk_size: int | None, stacklevel: int
) -> Recording:
    """``load_recording``, with the truncation warning's ``stacklevel`` counted from the
    parser: 1 the parser, 2 this function, 3 its caller, and so on."""
    if isinstance(source, bytes | bytearray | memoryview):
        return _parse(bytes(source), name or "<bytes>", plain_chunk_size, stacklevel)
    with open(source, "rb") as f:
        data = f.read()
    return _parse(data, name or os.fspath(source), plain_chunk_size, stacklevel)


def load_recording(
    source: Source, *, plain_chunk_size: int | None = None, name: str | None = None
) -> Recording:
    """Read a recording, or a plain body, from a path or from bytes.

    The format is detected from the first byte: ``{`` starts a recording, anything else
    (including an empty input) is a plain body. A plain body becomes one chunk with no
    timing, or chunks of ``plain_chunk_size`` bytes. A truncated recording loads its
    complete chunks, with ``truncated=True`` and a ``TruncatedRecordingWarning``; a malformed
    one raises ``RecordingError``. ``name`` is used in messages (defaults to the path).
    """
    return load(source, name, plain_chunk_size, stacklevel=4)
