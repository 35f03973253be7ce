"""Writing recordings: :class:`Recorder`, and :func:`tee` / :func:`atee` around a live source.

A :class:`Recorder` writes the header line when it is created (redacted, see
``_redact``), one line per chunk, and the end line when told the stream ended. Each line
is one unbuffered ``write`` to the operating system, so a crash loses at most the line
being written and what is left reads as a truncated recording. ``tee`` / ``atee`` yield a
source's chunks unchanged, timestamping each on arrival and writing it only when the
consumer asks for the next one, so recording never delays delivery. Nothing here imports
an async library: ``atee`` only iterates.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Generator, Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import IO, Any

import orjson

from .._version import __version__
from ._format import FORMAT_VERSION, MAGIC, MAX_STATUS, MAX_TIME, MIN_STATUS
from ._redact import BodySecretRedactor, Redactor

__all__ = ["Recorder", "atee", "tee"]

_NEWLINE = orjson.OPT_APPEND_NEWLINE


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
        if status is not None and not MIN_STATUS <= status <= MAX_STATUS:
            raise ValueError(f"status must be a three-digit HTTP status, got {status!r}")
        redactor = Redactor(redact)
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        header: dict[str, Any] = {
            MAGIC: FORMAT_VERSION,
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
        self._body_redactor = BodySecretRedactor() if redact_body_secrets else None
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
        if not self._last_t <= t <= 1e9:  # MAX_TIME as a literal: this is the hot path
            raise ValueError(self._bad_time("chunk", t))
        self._last_t = t
        data = bytes(chunk)
        if self._body_redactor is not None:
            data = self._body_redactor.feed(data)
        micros = int(t * 1e6 + 0.5) / 1e6  # _micros(t), inlined
        try:
            entry = {"t": micros, "text": data.decode("utf-8")}
        except UnicodeDecodeError:
            entry = {"t": micros, "base64": base64.b64encode(data).decode("ascii")}
        self._write_line(orjson.dumps(entry, option=_NEWLINE))
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
        if not self._last_t <= t <= MAX_TIME:
            raise ValueError(self._bad_time("end", t))
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

    def _bad_time(self, what: str, t: float) -> str:
        if t != t:  # NaN
            return f"{self.name}: {what} time is not a number"
        if t >= self._last_t:  # too large, or infinite
            return f"{self.name}: {what} time {t} is more than {MAX_TIME:g} seconds"
        return f"{self.name}: {what} time {t} is before {self._last_t}"

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


def tee(chunks: Iterable[bytes], recorder: Recorder) -> Generator[bytes, None, None]:
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


async def atee(chunks: AsyncIterable[bytes], recorder: Recorder) -> AsyncGenerator[bytes, None]:
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
