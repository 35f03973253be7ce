"""Server-Sent Events: an exact, incremental, sans-IO parser and an encoder.

:class:`SSEParser` implements "Interpreting an event stream" of the WHATWG HTML Living
Standard exactly, for any chunking of the bytes: UTF-8 with U+FFFD for invalid bytes, one
leading BOM stripped, CRLF / LF / CR line ends, comments, ``event`` / ``data`` / ``id`` /
``retry`` fields, dispatch on a blank line, nothing dispatched for a block without data,
and an unterminated block at the end of the stream discarded. An event is returned by the
:meth:`SSEParser.feed` call whose bytes complete it, never later.

Lines are split on the raw bytes (CR and LF never occur inside a multi-byte UTF-8
sequence), so byte offsets are exact and a character split across chunks is decoded
whole; each line is decoded when complete.

When the optional C extension ``streamkit._speedups`` is built (see ``docs/speedups.md``),
:meth:`SSEParser.feed` is its compiled twin of the fast path below, which returns exactly
the same events, errors and state and hands every other input to :func:`python_feed`, the
pure-Python code here (the reference). ``__compiled__`` says which is active;
``STREAMKIT_PURE_PYTHON=1`` in the environment keeps it pure Python.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any, Final

import orjson
from attrs import define, field

from ._errors import StreamkitError

__all__ = ["Diagnostic", "SSEError", "SSEParser", "ServerSentEvent", "encode"]

_BOM: Final = b"\xef\xbb\xbf"
_LINE_END: Final = re.compile(rb"\r\n|\r|\n")
_TEXT_LINE_END: Final = re.compile(r"\r\n|\r|\n")
_FIELDS: Final = frozenset({"event", "data", "id", "retry"})


class SSEError(StreamkitError):
    """A line or an event exceeded its limit; or the parser was used after such an error."""


@define(frozen=True, slots=True, weakref_slot=False)
class ServerSentEvent:
    """One dispatched event.

    ``event`` is the type ("message" when none was set), ``data`` the data lines joined
    with LF, ``id`` the last event id in effect when it was dispatched (None when none was
    ever set, "" after an empty ``id`` field), ``retry`` a valid ``retry`` field of this
    event's own block. ``offset`` (byte offset in the stream, a BOM included) and ``line``
    (1-based) locate the first line of the event's block; they take no part in equality.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    offset: int | None = field(default=None, eq=False, repr=False)
    line: int | None = field(default=None, eq=False, repr=False)

    def json(self) -> Any:
        """Decode ``data`` as JSON (with orjson)."""
        return orjson.loads(self.data)


@define(frozen=True, slots=True)
class Diagnostic:
    """Something legal but suspicious the parser met (see ``SSEParser(diagnostics=True)``).

    ``kind`` is one of "unknown_field", "dataless_block", "invalid_id", "invalid_retry",
    "unterminated_block"; ``line`` (1-based) and ``offset`` (bytes) locate the line, ``text``
    is that line as decoded, ``message`` says what happened.
    """

    kind: str
    line: int
    offset: int
    text: str
    message: str
    #: The first line of the block the diagnosed line belongs to (None outside a block).
    block_line: int | None = None


def _type_so_far(event_type: str) -> str:
    return f"event type so far: {event_type!r}" if event_type else "no event type yet"


# attrs' frozen __init__ sets each slot through object.__setattr__ by name, which costs more
# than all the parsing of a typical event. The hot loop instead fills an instance of this
# plain class with the same slots (fast attribute stores) and then assigns its __class__,
# which CPython allows between classes of identical layout: the result is an ordinary
# ServerSentEvent, frozen from then on. (The layout check is why ServerSentEvent has no
# __weakref__ slot.) tests/test_sse.py checks that such events equal constructed ones.
_EventSlots = type("_EventSlots", (), {"__slots__": ServerSentEvent.__slots__})
_new = object.__new__


class SSEParser:
    """Incremental, exact parser of a ``text/event-stream`` body.

    Feed it the body's bytes in any chunking with :meth:`feed`, which returns the events
    those bytes complete, then call :meth:`close` at the end of the stream. ``last_event_id``
    is the last event id in effect (None when none was set, "" after an empty ``id``
    field), updated when a block ends as the standard says; ``retry`` is the last valid
    ``retry`` value seen.

    A line longer than ``max_line_bytes`` or a block longer than ``max_event_bytes`` (line
    ends included, the blank line excluded) raises :class:`SSEError`, and so does every
    later call: the parser is then unusable. The events the raising call had completed are
    not returned. With ``diagnostics=True`` the parser records suspicious input in
    ``diagnostics`` (see :class:`Diagnostic`).
    """

    __slots__ = (
        "_block_line",
        "_block_off",
        "_block_retry",
        "_block_text",
        "_closed",
        "_data",
        "_data_first",
        "_data_last",
        "_diag",
        "_error",
        "_has_fields",
        "_id_buf",
        "_lineno",
        "_max_event",
        "_max_line",
        "_pos",
        "_skip_lf",
        "_started",
        "_tail",
        "_tail_len",
        "_type",
        "_type_line",
        "_type_value",
        "data_lines",
        "diagnostics",
        "last_event_id",
        "retry",
    )

    def __init__(
        self,
        *,
        max_line_bytes: int = 1 << 20,
        max_event_bytes: int = 16 << 20,
        diagnostics: bool = False,
    ) -> None:
        if max_line_bytes < 1 or max_event_bytes < 1:
            raise ValueError("max_line_bytes and max_event_bytes must be positive")
        self._max_line = max_line_bytes
        self._max_event = max_event_bytes
        self._diag = diagnostics
        self.diagnostics: list[Diagnostic] = []
        #: With diagnostics: for each event dispatched since it was last emptied, by its
        #: ``offset``, the numbers of its first and last ``data`` lines (for reports).
        self.data_lines: dict[int, tuple[int, int]] = {}
        self._data_first = 0
        self._data_last = 0
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._error: str | None = None
        self._closed = False
        self._started = False  # past the point where a BOM could be
        self._skip_lf = False  # the last chunk ended in CR: skip one LF at the next start
        self._tail: list[bytes] = []  # the incomplete last line, in pieces
        self._tail_len = 0
        self._pos = 0  # stream offset of the first byte not yet consumed as a line
        self._lineno = 1  # line number of that byte's line
        # The current block.
        self._data: list[str] = []
        self._type = ""
        self._id_buf: str | None = None  # the standard's "last event ID buffer"
        self._block_retry: int | None = None
        self._block_off = -1  # offset of the block's first line, -1 when no line yet
        self._block_line = 0
        self._block_text = ""  # first line's text (diagnostics only)
        self._has_fields = False  # a non-comment line was seen (diagnostics only)
        self._type_line = b""  # the last ``event: `` line the fast path decoded, and its value
        self._type_value = ""

    # -- public API ---------------------------------------------------------------------

    @property
    def last_line(self) -> int:
        """The number of the last line of the input fed so far (0 for none): a line in
        progress counts, the empty "line" after a final line end does not."""
        if self._tail:
            return self._lineno
        return self._lineno - 1

    @property
    def pending(self) -> bool:
        """Whether the bytes fed so far end inside a line or a block: an event had begun
        and was not finished (at the end of the stream, those bytes are discarded)."""
        return bool(self._tail) or self._block_off >= 0

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Consume the next bytes of the stream; return the events they complete."""
        if self._error is not None or self._closed:
            self._raise_unusable()
        if not data:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if data[0] == 10:  # the LF of a CRLF split across chunks
                self._pos += 1
                data = data[1:]
                if not data:
                    self._check_open()
                    return []
        if not self._started:
            head = b"".join(self._tail) + data if self._tail else data
            if len(head) < 3 and _BOM.startswith(head):
                self._tail = [head]
                self._tail_len = len(head)
                return []
            self._started = True
            self._tail = []
            self._tail_len = 0
            if head.startswith(_BOM):
                head = head[3:]
                self._pos = 3
            if not head:
                return []
            data = head
        if b"\n" not in data and b"\r" not in data:
            self._tail.append(data)
            self._tail_len += len(data)
            self._check_open()
            return []
        if self._tail:
            self._tail.append(data)
            buf = b"".join(self._tail)
            self._tail = []
            self._tail_len = 0
        else:
            buf = data
        if not self._diag:
            if b"\r" not in buf:
                return self._feed_fast(buf.split(b"\n"), len(buf), 1)
            lines = buf.split(b"\r\n")
            if len(lines) - 1 == buf.count(b"\r") == buf.count(b"\n"):  # CRLF only
                return self._feed_fast(lines, len(buf), 2)
        return self._feed_general(buf)

    def close(self) -> list[ServerSentEvent]:
        """End the stream: discard an unterminated block. Returns no events (an event is
        always returned by the feed call that completes it); calling it again is a no-op."""
        if self._error is not None:
            self._raise_unusable()
        if self._closed:
            return []
        self._closed = True
        if self._diag and (self._tail or self._block_off >= 0):
            if self._block_off >= 0:
                offset, line, text = self._block_off, self._block_line, self._block_text
            else:
                offset, line = self._pos, self._lineno
                text = b"".join(self._tail).decode("utf-8", "replace")
            self._note(
                "unterminated_block",
                line,
                offset,
                text,
                f"the stream ended inside a block ({_type_so_far(self._type)}) that no blank "
                "line terminated; it was discarded",
            )
        self._tail = []
        self._tail_len = 0
        self._data = []
        return []

    # -- line splitting -----------------------------------------------------------------

    def _feed_fast(self, lines: list[bytes], size: int, sep_len: int) -> list[ServerSentEvent]:
        """``lines`` split from ``size`` bytes whose every line end is LF (``sep_len`` 1)
        or CRLF (2), the last one incomplete; no diagnostics. The hot loop.

        The common lines (blank, ``data: ``, ``event: ``, ``id: ``) are handled inline on
        the raw bytes with as few Python operations as we could manage (first byte, then
        a slice compare; the decoded event type is reused while its line repeats; events
        are built as ``_EventSlots``); any other line goes through :meth:`_field`.
        """
        tail = lines.pop()
        bad = -1
        max_line = self._max_line
        if size > max_line and max(map(len, lines)) > max_line:
            bad = next(i for i, line in enumerate(lines) if len(line) > max_line)
            del lines[bad:]
        out: list[ServerSentEvent] = []
        append = out.append
        new = _new
        slots_class = _EventSlots
        event_class = ServerSentEvent
        max_event = self._max_event
        pos = self._pos
        lineno = self._lineno
        parts = self._data
        event_type = self._type
        id_buf = self._id_buf
        committed = self.last_event_id
        block_retry = self._block_retry
        block_off = self._block_off
        block_line = self._block_line
        type_line = self._type_line
        type_value = self._type_value
        for line in lines:
            if line:
                if block_off < 0:
                    block_off = pos
                    block_line = lineno
                first = line[0]
                if first == 100 and line[:6] == b"data: ":
                    try:
                        parts.append(line[6:].decode())
                    except UnicodeDecodeError:
                        parts.append(line[6:].decode("utf-8", "replace"))
                elif first == 101 and line[:7] == b"event: ":
                    if line != type_line:
                        type_line = line
                        type_value = line[7:].decode("utf-8", "replace")
                    event_type = type_value
                elif first == 105 and line[:4] == b"id: ":
                    value = line[4:].decode("utf-8", "replace")
                    if "\0" not in value:
                        id_buf = value
                else:
                    self._type, self._id_buf, self._data = event_type, id_buf, parts
                    self._block_retry = block_retry
                    self._field(line, pos, lineno)
                    event_type, id_buf, block_retry = self._type, self._id_buf, self._block_retry
            elif block_off >= 0:  # a blank line ending a block
                if pos - block_off > max_event:
                    committed = id_buf  # committed first, as on every path
                    self._pos, self._lineno, self._type = pos, lineno, event_type
                    self._block_off, self._block_line = block_off, block_line
                    self._id_buf, self.last_event_id = id_buf, committed
                    self._block_retry = block_retry
                    self._type_line, self._type_value = type_line, type_value
                    self._fail_event(pos)
                if parts:
                    event: Any = new(slots_class)
                    event.event = event_type or "message"
                    event.data = parts[0] if len(parts) == 1 else "\n".join(parts)
                    event.id = id_buf
                    event.retry = block_retry
                    event.offset = block_off
                    event.line = block_line
                    event.__class__ = event_class
                    append(event)
                    parts = []
                committed = id_buf
                event_type = ""
                block_retry = None
                block_off = -1
            pos += len(line) + sep_len
            lineno += 1
        self._pos = pos
        self._lineno = lineno
        self._data = parts
        self._type = event_type
        self._id_buf = id_buf
        self.last_event_id = committed
        self._block_retry = block_retry
        self._block_off = block_off
        self._block_line = block_line
        self._type_line = type_line
        self._type_value = type_value
        if bad >= 0:
            self._fail_line(pos, lineno)
        if tail:
            self._tail = [tail]
            self._tail_len = len(tail)
        self._check_open()
        return out

    def _feed_general(self, buf: bytes) -> list[ServerSentEvent]:
        """Any mix of CRLF, LF and CR; diagnostics. One line at a time."""
        out: list[ServerSentEvent] = []
        max_line = self._max_line
        start = 0
        for m in _LINE_END.finditer(buf):
            end = m.start()
            if end - start > max_line:
                self._fail_line(self._pos, self._lineno)
            line = buf[start:end]
            if line:
                if self._block_off < 0:
                    self._block_off = self._pos
                    self._block_line = self._lineno
                    if self._diag:
                        self._block_text = line.decode("utf-8", "replace")
                self._field(line, self._pos, self._lineno)
            else:
                event = self._dispatch(self._pos)
                if event is not None:
                    out.append(event)
            self._pos += m.end() - start
            self._lineno += 1
            start = m.end()
        if buf[-1] == 13:  # a CR ending the chunk ended its line: skip a following LF
            self._skip_lf = True
        if start < len(buf):
            tail = buf[start:]
            self._tail = [tail]
            self._tail_len = len(tail)
        self._check_open()
        return out

    # -- fields and dispatch ------------------------------------------------------------

    def _field(self, raw: bytes, offset: int, lineno: int) -> None:
        """Process one non-blank line (the block's start is already recorded)."""
        text = raw.decode("utf-8", "replace")
        if text[0] == ":":
            return
        name, colon, value = text.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if self._diag:
            self._has_fields = True
        if name == "data":
            self._data.append(value)
            if self._diag:
                if len(self._data) == 1:
                    self._data_first = lineno
                self._data_last = lineno
        elif name == "event":
            self._type = value
        elif name == "id":
            if "\0" in value:
                if self._diag:
                    self._note(
                        "invalid_id", lineno, offset, text, "id contains NUL; the field is ignored"
                    )
            else:
                self._id_buf = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                try:
                    self.retry = self._block_retry = int(value)
                except ValueError:  # more digits than int() converts
                    if self._diag:
                        self._note(
                            "invalid_retry",
                            lineno,
                            offset,
                            text,
                            f"retry value has {len(value)} digits, too many to convert; "
                            "the field is ignored",
                        )
            elif self._diag:
                self._note(
                    "invalid_retry",
                    lineno,
                    offset,
                    text,
                    f"retry value {value[:40]!r} is not all ASCII digits 0-9; the field is ignored",
                )
        elif self._diag:
            message = f"unknown field {name[:40]!r} ignored"
            if name[:1] in ("{", "[", '"'):
                message += " (a JSON line that lost its 'data:' prefix?)"
            elif name.lower() in _FIELDS:
                message += " (field names are case-sensitive)"
            self._note("unknown_field", lineno, offset, text, message)

    def _dispatch(self, offset: int) -> ServerSentEvent | None:
        """A blank line at ``offset``: dispatch the block (if it has data), reset it."""
        event = None
        self.last_event_id = self._id_buf
        if self._block_off >= 0 and offset - self._block_off > self._max_event:
            self._fail_event(offset)
        if self._data:
            event = ServerSentEvent(
                self._type or "message",
                "\n".join(self._data),
                self._id_buf,
                self._block_retry,
                self._block_off,
                self._block_line,
            )
            self._data = []
            if self._diag:
                self.data_lines[self._block_off] = (self._data_first, self._data_last)
        elif self._diag and self._has_fields:
            self._note(
                "dataless_block",
                self._block_line,
                self._block_off,
                self._block_text,
                f"block ({_type_so_far(self._type)}) has no data field, so nothing was dispatched",
            )
        self._type = ""
        self._block_retry = None
        self._block_off = -1
        self._has_fields = False
        return event

    # -- limits, errors, diagnostics ----------------------------------------------------

    def _check_open(self) -> None:
        """Check the incomplete last line and the open block against the limits."""
        if self._tail_len > self._max_line:
            self._fail_line(self._pos, self._lineno)
        start = self._block_off if self._block_off >= 0 else self._pos
        if self._pos + self._tail_len - start > self._max_event:
            self._fail_event(self._pos + self._tail_len)

    def _fail_line(self, offset: int, lineno: int) -> None:
        self._fail(
            f"SSE line {lineno} at byte {offset} is longer than "
            f"max_line_bytes={self._max_line} ({_type_so_far(self._type)})"
        )

    def _fail_event(self, offset: int) -> None:
        if self._block_off >= 0:
            where = f"starting at line {self._block_line}, byte {self._block_off}"
        else:
            where = f"starting at line {self._lineno}, byte {self._pos}"
        self._fail(
            f"SSE event {where} is longer than max_event_bytes={self._max_event} at byte "
            f"{offset} ({_type_so_far(self._type)})"
        )

    def _fail(self, message: str) -> None:
        self._error = message
        self._tail = []
        self._data = []
        raise SSEError(message)

    def _raise_unusable(self) -> None:
        if self._error is not None:
            raise SSEError(f"SSEParser is unusable after an earlier error: {self._error}")
        raise SSEError("SSEParser.feed() called after close()")

    def _note(self, kind: str, line: int, offset: int, text: str, message: str) -> None:
        block = self._block_line if self._block_off >= 0 else None
        self.diagnostics.append(Diagnostic(kind, line, offset, text, message, block))


#: The pure-Python :meth:`SSEParser.feed` (the reference implementation), also when the
#: compiled one is active: ``python_feed(parser, data)``.
python_feed: Final[Callable[[SSEParser, bytes], list[ServerSentEvent]]] = SSEParser.feed


def _use_speedups() -> bool:
    """Install the compiled ``feed`` when built, allowed and matching; say whether it is."""
    if os.environ.get("STREAMKIT_PURE_PYTHON", "") not in ("", "0"):
        return False
    try:
        from . import _speedups
    except ImportError:
        return False
    try:
        if ServerSentEvent.__slots__ != ("event", "data", "id", "retry", "offset", "line"):
            raise TypeError(f"ServerSentEvent has slots {ServerSentEvent.__slots__}")
        feed = _speedups.install(SSEParser, ServerSentEvent, python_feed)
    except TypeError as error:
        warnings.warn(
            f"streamkit: the compiled speedups do not match this build ({error}); "
            "running in pure Python",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    setattr(SSEParser, "feed", feed)  # noqa: B010 (a method descriptor, not a def)
    return True


#: Whether :meth:`SSEParser.feed` is the compiled one (see ``docs/speedups.md``).
__compiled__: Final[bool] = _use_speedups()


def encode(event: ServerSentEvent) -> bytes:
    """Serialize ``event`` as one SSE block (LF line ends, a blank line at the end).

    Writes ``event:`` (omitted for "message"), ``id:`` (omitted for None; ``id: `` for ""),
    ``retry:`` and one ``data:`` line per line of ``data``, split on LF, CRLF and CR, so
    that a fresh parser gives back an equal event. Not encodable, and refused with
    ValueError: an event type or id containing CR, LF or NUL, the event type "" (it would
    come back as "message"), a negative retry; a lone surrogate anywhere raises
    UnicodeEncodeError (a ValueError). A CR or CRLF in ``data`` comes back as LF.

    ``id`` None writes no ``id`` line, so a parser keeps the id of an earlier event in
    effect; ``id=""`` clears it.
    """
    out: list[str] = []
    event_type = event.event
    if event_type != "message":
        if not event_type:
            raise ValueError("event type '' cannot be encoded: it would parse as 'message'")
        _check_line_value("event type", event_type)
        out.append(f"event: {event_type}\n")
    if event.id is not None:
        _check_line_value("id", event.id)
        out.append(f"id: {event.id}\n")
    if event.retry is not None:
        if event.retry < 0:
            raise ValueError(f"retry must be a non-negative integer, not {event.retry!r}")
        out.append(f"retry: {event.retry:d}\n")
    for line in _TEXT_LINE_END.split(event.data):
        out.append(f"data: {line}\n")
    out.append("\n")
    return "".join(out).encode()


def _check_line_value(name: str, value: str) -> None:
    for char, label in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if char in value:
            raise ValueError(f"{name} {value[:40]!r} contains {label} and cannot be encoded")
