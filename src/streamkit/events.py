"""Typed stream events, decoded from Server-Sent Events.

:func:`decode` turns one :class:`~streamkit.sse.ServerSentEvent` into an :class:`Event`:
one class per event name in the API reference (``ThreadRunCreated``, ``ThreadMessageDelta``
..., ``ErrorEvent``, ``DoneEvent``), whose ``data`` is the typed model. Forward
compatibility: an event name this version does not know becomes :class:`UnknownEvent`
holding its name and raw data; nothing is dropped or mistyped.

Bad input raises :class:`~streamkit.MalformedEventError` naming the event, where it was,
what was wrong and the raw data.

Data is parsed by orjson. When orjson refuses it, or reads an integer beyond 64 bits as a
float (see ``streamkit._model.InexactNumber``), the text is parsed again with the standard
library, with integers read exactly and no ``NaN`` or infinite number: data it reads
(escaped UTF-16 surrogates, a surrogate pair split across two deltas, a float of 1e19)
decodes exactly; anything else (an integer beyond 64 bits, which no encoder downstream
could write back, or of more than :data:`MAX_INT_DIGITS` digits) gets the true reason
why it is not JSON streamkit reads. That second parse happens only for such data.

With ``tolerant=True`` the problem is returned as a :class:`MalformedEvent` value
instead, and a payload that is one complete JSON value followed by junk (the reference's
own examples have a stray ``}``) is recovered: the event is decoded from the JSON value,
its ``warning`` says what was dropped, and a :class:`RecoveredEventWarning` is issued.

Decoded events are never mutated by streamkit afterwards.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import orjson

from ._errors import MalformedEventError
from ._model import (
    MAX_DEPTH,
    InexactNumber,
    Model,
    ShapeError,
    check_json,
    copy_json,
    exact_numbers,
    note_surrogates,
)
from .models import (
    ErrorObject,
    FunctionToolCallDelta,
    FunctionToolCallFunction,
    Message,
    MessageDelta,
    MessageDeltaEvent,
    Run,
    RunStep,
    RunStepDelta,
    RunStepDeltaEvent,
    TextDelta,
    TextDeltaBlock,
    Thread,
    ToolCallDeltaObject,
)
from .protocols import EventSpec

if TYPE_CHECKING:
    from .sse import ServerSentEvent

__all__ = [
    "EVENTS",
    "EVENT_TYPES",
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "AssistantStreamEvent",
    "DoneEvent",
    "ErrorEvent",
    "Event",
    "MalformedEvent",
    "MessageStreamEvent",
    "RecoveredEventWarning",
    "RunStepStreamEvent",
    "RunStreamEvent",
    "ThreadCreated",
    "ThreadMessageCompleted",
    "ThreadMessageCreated",
    "ThreadMessageDelta",
    "ThreadMessageInProgress",
    "ThreadMessageIncomplete",
    "ThreadRunCancelled",
    "ThreadRunCancelling",
    "ThreadRunCompleted",
    "ThreadRunCreated",
    "ThreadRunExpired",
    "ThreadRunFailed",
    "ThreadRunInProgress",
    "ThreadRunIncomplete",
    "ThreadRunQueued",
    "ThreadRunRequiresAction",
    "ThreadRunStepCancelled",
    "ThreadRunStepCompleted",
    "ThreadRunStepCreated",
    "ThreadRunStepDelta",
    "ThreadRunStepExpired",
    "ThreadRunStepFailed",
    "ThreadRunStepInProgress",
    "ThreadStreamEvent",
    "UnknownEvent",
    "decode",
]


class RecoveredEventWarning(UserWarning):
    """Tolerant decoding dropped junk after an event's JSON value."""


@attrs.define(slots=True, kw_only=True)
class Event:
    """Base of every decoded event: ``event`` (the SSE name) and ``data`` (typed).

    ``sse`` is the Server-Sent Event it came from (with its id, line and byte offset);
    ``warning`` is set when tolerant decoding had to recover the payload.
    """

    EVENT: ClassVar[str] = ""

    data: Any = None
    sse: ServerSentEvent | None = attrs.field(default=None, repr=False, eq=False)
    warning: str | None = attrs.field(default=None, repr=False)

    @property
    def event(self) -> str:
        """The event name, as in the SSE ``event:`` field."""
        return self.EVENT

    def to_dict(self) -> Any:
        """The event's data as the JSON it was decoded from (a fresh copy)."""
        data = self.data
        return data.to_dict() if isinstance(data, Model) else copy_json(data)


@attrs.define(slots=True, kw_only=True)
class ThreadCreated(Event):
    """``thread.created``: a new thread."""

    EVENT = "thread.created"
    data: Thread


@attrs.define(slots=True, kw_only=True)
class ThreadRunCreated(Event):
    """``thread.run.created``: a new run."""

    EVENT = "thread.run.created"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunQueued(Event):
    """``thread.run.queued``: the run moved to ``queued``."""

    EVENT = "thread.run.queued"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunInProgress(Event):
    """``thread.run.in_progress``: the run moved to ``in_progress``."""

    EVENT = "thread.run.in_progress"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunRequiresAction(Event):
    """``thread.run.requires_action``: the run waits for tool outputs."""

    EVENT = "thread.run.requires_action"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunCompleted(Event):
    """``thread.run.completed``: the run completed."""

    EVENT = "thread.run.completed"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunIncomplete(Event):
    """``thread.run.incomplete``: the run ended incomplete."""

    EVENT = "thread.run.incomplete"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunFailed(Event):
    """``thread.run.failed``: the run failed."""

    EVENT = "thread.run.failed"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunCancelling(Event):
    """``thread.run.cancelling``: the run is being cancelled."""

    EVENT = "thread.run.cancelling"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunCancelled(Event):
    """``thread.run.cancelled``: the run was cancelled."""

    EVENT = "thread.run.cancelled"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunExpired(Event):
    """``thread.run.expired``: the run expired."""

    EVENT = "thread.run.expired"
    data: Run


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepCreated(Event):
    """``thread.run.step.created``: a new run step."""

    EVENT = "thread.run.step.created"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepInProgress(Event):
    """``thread.run.step.in_progress``: the step moved to ``in_progress``."""

    EVENT = "thread.run.step.in_progress"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepDelta(Event):
    """``thread.run.step.delta``: parts of a step changed."""

    EVENT = "thread.run.step.delta"
    data: RunStepDeltaEvent


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepCompleted(Event):
    """``thread.run.step.completed``: the step completed."""

    EVENT = "thread.run.step.completed"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepFailed(Event):
    """``thread.run.step.failed``: the step failed."""

    EVENT = "thread.run.step.failed"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepCancelled(Event):
    """``thread.run.step.cancelled``: the step was cancelled."""

    EVENT = "thread.run.step.cancelled"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadRunStepExpired(Event):
    """``thread.run.step.expired``: the step expired."""

    EVENT = "thread.run.step.expired"
    data: RunStep


@attrs.define(slots=True, kw_only=True)
class ThreadMessageCreated(Event):
    """``thread.message.created``: a new message."""

    EVENT = "thread.message.created"
    data: Message


@attrs.define(slots=True, kw_only=True)
class ThreadMessageInProgress(Event):
    """``thread.message.in_progress``: the message moved to ``in_progress``."""

    EVENT = "thread.message.in_progress"
    data: Message


@attrs.define(slots=True, kw_only=True)
class ThreadMessageDelta(Event):
    """``thread.message.delta``: parts of a message changed."""

    EVENT = "thread.message.delta"
    data: MessageDeltaEvent


@attrs.define(slots=True, kw_only=True)
class ThreadMessageCompleted(Event):
    """``thread.message.completed``: the message completed."""

    EVENT = "thread.message.completed"
    data: Message


@attrs.define(slots=True, kw_only=True)
class ThreadMessageIncomplete(Event):
    """``thread.message.incomplete``: the message ended before it was complete."""

    EVENT = "thread.message.incomplete"
    data: Message


@attrs.define(slots=True, kw_only=True)
class ErrorEvent(Event):
    """``error``: the server reports an error (internal error or timeout).

    Two shapes decode: the reference's bare error object, and the envelope the live
    service sends, ``{"error": {"message", "type", "code", "param"}}``. Either way ``data``
    is the :class:`~streamkit.models.ErrorObject`; ``envelope`` is the outer object when
    there was one (None otherwise), and ``to_dict()`` gives back exactly what came in.
    """

    EVENT = "error"
    data: ErrorObject
    envelope: dict[str, Any] | None = attrs.field(default=None, repr=False)

    @property
    def nested(self) -> bool:
        """Whether the error object came inside an ``{"error": ...}`` envelope."""
        return self.envelope is not None

    def to_dict(self) -> Any:
        envelope = self.envelope
        if envelope is None:
            return self.data.to_dict()
        return {
            key: self.data.to_dict() if key == "error" else copy_json(value)
            for key, value in envelope.items()
        }


@attrs.define(slots=True, kw_only=True)
class DoneEvent(Event):
    """``done``: the stream is over (its data, ``[DONE]``, is not JSON; ``data`` is None)."""

    EVENT = "done"
    data: None = None


@attrs.define(slots=True, kw_only=True)
class UnknownEvent(Event):
    """An event name this version does not know.

    ``name`` is the event name, ``raw`` the data text, ``data`` the parsed JSON (or None
    when the data is not JSON).
    """

    name: str
    raw: str

    @property
    def event(self) -> str:
        return self.name


@attrs.define(slots=True, kw_only=True)
class MalformedEvent(Event):
    """Tolerant mode's stand-in for an event that could not be decoded.

    ``name`` and ``raw`` are the event name and data text; ``error`` says what was wrong.
    """

    name: str
    raw: str
    error: MalformedEventError

    @property
    def event(self) -> str:
        return self.name


#: The union types of the reference, for annotations.
RunStreamEvent = (
    ThreadRunCreated
    | ThreadRunQueued
    | ThreadRunInProgress
    | ThreadRunRequiresAction
    | ThreadRunCompleted
    | ThreadRunIncomplete
    | ThreadRunFailed
    | ThreadRunCancelling
    | ThreadRunCancelled
    | ThreadRunExpired
)
RunStepStreamEvent = (
    ThreadRunStepCreated
    | ThreadRunStepInProgress
    | ThreadRunStepDelta
    | ThreadRunStepCompleted
    | ThreadRunStepFailed
    | ThreadRunStepCancelled
    | ThreadRunStepExpired
)
MessageStreamEvent = (
    ThreadMessageCreated
    | ThreadMessageInProgress
    | ThreadMessageDelta
    | ThreadMessageCompleted
    | ThreadMessageIncomplete
)
ThreadStreamEvent = ThreadCreated
AssistantStreamEvent = (
    ThreadStreamEvent | RunStreamEvent | RunStepStreamEvent | MessageStreamEvent | ErrorEvent
)

#: The Assistants protocol's event table: one row per event name (see
#: :class:`~streamkit.protocols.EventSpec`). Routing, decoding and the fold's lifecycle
#: checks all read this table; nothing is routed by a prefix of the event name.
EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("thread.created", ThreadCreated, Thread, "thread"),
        EventSpec("thread.run.created", ThreadRunCreated, Run, "run"),
        EventSpec("thread.run.queued", ThreadRunQueued, Run, "run", "queued"),
        EventSpec("thread.run.in_progress", ThreadRunInProgress, Run, "run", "in_progress"),
        EventSpec(
            "thread.run.requires_action", ThreadRunRequiresAction, Run, "run", "requires_action"
        ),
        EventSpec("thread.run.completed", ThreadRunCompleted, Run, "run", "completed"),
        EventSpec("thread.run.incomplete", ThreadRunIncomplete, Run, "run", "incomplete"),
        EventSpec("thread.run.failed", ThreadRunFailed, Run, "run", "failed"),
        EventSpec("thread.run.cancelling", ThreadRunCancelling, Run, "run", "cancelling"),
        EventSpec("thread.run.cancelled", ThreadRunCancelled, Run, "run", "cancelled"),
        EventSpec("thread.run.expired", ThreadRunExpired, Run, "run", "expired"),
        EventSpec("thread.run.step.created", ThreadRunStepCreated, RunStep, "step"),
        EventSpec(
            "thread.run.step.in_progress", ThreadRunStepInProgress, RunStep, "step", "in_progress"
        ),
        EventSpec(
            "thread.run.step.delta", ThreadRunStepDelta, RunStepDeltaEvent, "step", delta=True
        ),
        EventSpec(
            "thread.run.step.completed", ThreadRunStepCompleted, RunStep, "step", "completed"
        ),
        EventSpec("thread.run.step.failed", ThreadRunStepFailed, RunStep, "step", "failed"),
        EventSpec(
            "thread.run.step.cancelled", ThreadRunStepCancelled, RunStep, "step", "cancelled"
        ),
        EventSpec("thread.run.step.expired", ThreadRunStepExpired, RunStep, "step", "expired"),
        EventSpec("thread.message.created", ThreadMessageCreated, Message, "message"),
        EventSpec(
            "thread.message.in_progress", ThreadMessageInProgress, Message, "message", "in_progress"
        ),
        EventSpec(
            "thread.message.delta", ThreadMessageDelta, MessageDeltaEvent, "message", delta=True
        ),
        EventSpec(
            "thread.message.completed", ThreadMessageCompleted, Message, "message", "completed"
        ),
        EventSpec(
            "thread.message.incomplete", ThreadMessageIncomplete, Message, "message", "incomplete"
        ),
        EventSpec("error", ErrorEvent, ErrorObject, "error"),
        EventSpec("done", DoneEvent, None, "done"),
    )
}

#: Every event class by event name (``done`` aside: its data is not JSON).
EVENT_TYPES: dict[str, type[Event]] = {
    name: spec.event_class for name, spec in EVENTS.items() if spec.model is not None
}

#: The most digits an integer may have (Python's own default limit for int from text).
MAX_INT_DIGITS = 4300

_new = object.__new__
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
#: The decoded events but ``error`` (two shapes: see :func:`_decode_error`).
_TABLE: dict[str, tuple[type[Event], Any]] = {
    name: (spec.event_class, spec.model._decoder())
    for name, spec in EVENTS.items()
    if spec.model is not None and spec.event_class is not ErrorEvent
}
_ERROR_KEYS = frozenset(("message", "type", "code", "param"))
_error_object = ErrorObject._decoder()


def _decode_error(payload: Any) -> tuple[ErrorObject, dict[str, Any] | None]:
    """The error object of an ``error`` payload, and its envelope when it was nested."""
    if payload.__class__ is dict:
        inner = payload.get("error")
        if inner.__class__ is dict and not _ERROR_KEYS.intersection(payload):
            for key, value in payload.items():
                if key != "error":
                    try:
                        check_json(value)
                    except ShapeError as e:
                        raise e.at(key) from None
            try:
                return _error_object(inner), payload
            except ShapeError as e:
                raise e.at("error") from None
    return _error_object(payload), None


def _error(sse: ServerSentEvent, reason: str, path: str | None = None) -> MalformedEventError:
    return MalformedEventError(
        reason,
        event=sse.event,
        data=sse.data,
        id=sse.id,
        offset=getattr(sse, "offset", None),
        line=getattr(sse, "line", None),
        path=path,
    )


class _NotJSON(Exception):
    """Why a text is not JSON (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Junk(Exception):
    """A text is one JSON ``value`` followed by junk; ``reason`` says what."""

    def __init__(self, reason: str, value: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.value = value


def _constant(name: str) -> Any:
    raise _NotJSON(f"data is not valid JSON: {name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJSON(f"data has a number too large for a double: {_clip_junk(text)}")
    return value


def _int(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_INT_DIGITS:
        raise _NotJSON(
            f"data has an integer of {digits} digits (streamkit reads at most {MAX_INT_DIGITS})"
        )
    value = int(text)
    if not -(2**63) <= value < 2**64:
        raise _NotJSON(
            f"data has an integer beyond 64 bits: {_clip_junk(text)} "
            "(JSON integers are read from -2**63 to 2**64 - 1)"
        )
    return value


_STDLIB = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _parse_exact(data: str) -> Any:
    """Parse ``data`` with the standard library: exact integers, finite numbers only.

    Returns the value, or raises :class:`_NotJSON` or :class:`_Junk` with the true reason.
    Never raises anything else: whatever the text, the answer is a value or a reason.
    """
    stripped = data.strip(" \t\n\r")
    if not stripped:
        raise _NotJSON("data is empty, not JSON")
    try:
        value, end = _STDLIB.raw_decode(stripped)
    except _NotJSON:
        raise
    except json.JSONDecodeError as e:
        raise _NotJSON(
            f"data is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    except RecursionError:
        raise _NotJSON(f"data is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except (ValueError, MemoryError) as e:  # pragma: no cover - defensive
        raise _NotJSON(f"data cannot be read as JSON ({type(e).__name__})") from None
    if _SURROGATE_ESCAPE.search(stripped):
        note_surrogates()
    junk = stripped[end:]
    if junk:
        raise _Junk(
            f"data is a JSON value followed by {len(junk)} character(s) of junk "
            f"({_clip_junk(junk)!r} at column {end + 1})",
            value,
        )
    return value


def _clip_junk(junk: str) -> str:
    return junk if len(junk) <= 20 else junk[:20] + "..."


_NOTHING: Any = object()


def decode(sse: ServerSentEvent, *, tolerant: bool = False) -> Event:
    """Decode one Server-Sent Event into a typed :class:`Event`.

    Raises :class:`~streamkit.MalformedEventError` when the data is not JSON or has the
    wrong shape for its event; with ``tolerant=True`` returns a :class:`MalformedEvent`
    instead, and recovers a JSON value followed by junk (see the module docstring).
    """
    entry = _TABLE.get(sse.event)
    if entry is not None:
        try:
            data = entry[1](_loads(sse.data))
        except _JSONDecodeError:
            return _slow(sse, entry[0], entry[1], tolerant)
        except InexactNumber:
            return _slow(sse, entry[0], entry[1], tolerant)
        except ShapeError as e:
            error = _error(sse, e.reason, e.where())
            if tolerant:
                return MalformedEvent(name=sse.event, raw=sse.data, error=error, sse=sse)
            raise error from None
        event = _new(entry[0])
        event.data = data
        event.sse = sse
        event.warning = None
        return event
    name = sse.event
    if name == "error":
        return _slow(sse, ErrorEvent, _decode_error, tolerant, fast=True)
    if name == "done":
        return DoneEvent(sse=sse)
    return UnknownEvent(name=name, raw=sse.data, data=_unknown_data(sse.data), sse=sse)


def _unknown_data(data: str) -> Any:
    """An unknown event's parsed data, or None when it is not JSON streamkit can keep."""
    try:
        value = _loads(data)
        check_json(value)
    except (_JSONDecodeError, InexactNumber):
        try:
            value = _parse_exact(data)
            with exact_numbers():
                check_json(value)
        except (_NotJSON, _Junk, ShapeError):
            return None
    except ShapeError:
        return None
    return value


def _slow(
    sse: ServerSentEvent,
    cls: type[Event],
    decoder: Any,
    tolerant: bool,
    *,
    fast: bool = False,
) -> Event:
    """Decode off the hot path: an ``error`` event (``fast``: try orjson first), or data
    orjson refused or could not read exactly, parsed again by :func:`_parse_exact`."""
    warning = None
    exact = not fast
    try:
        if fast:
            try:
                payload = _loads(sse.data)
                result = decoder(payload)
            except (_JSONDecodeError, InexactNumber):
                exact = True
        if exact:
            try:
                payload = _parse_exact(sse.data)
            except _Junk as junk:
                if not tolerant:
                    raise _error(sse, junk.reason) from None
                payload, warning = junk.value, junk.reason
            with exact_numbers():
                result = decoder(payload)
    except _NotJSON as e:
        error = _error(sse, e.reason)
        if tolerant:
            return MalformedEvent(name=sse.event, raw=sse.data, error=error, sse=sse)
        raise error from None
    except ShapeError as e:
        reason = e.reason if warning is None else f"{warning}, and then: {e.reason}"
        error = _error(sse, reason, e.where())
        if tolerant:
            return MalformedEvent(name=sse.event, raw=sse.data, error=error, sse=sse)
        raise error from None
    if warning is not None:
        warning = f"recovered {sse.event!r} event: {warning}; the junk was dropped"
        warnings.warn(warning, RecoveredEventWarning, stacklevel=3)
    if cls is ErrorEvent:
        data, envelope = result
        return ErrorEvent(data=data, envelope=envelope, sse=sse, warning=warning)
    return cls(data=result, sse=sse, warning=warning)


#: The pure-Python :func:`decode`: the reference implementation, also when the compiled
#: one is active (see ``docs/speedups.md``).
python_decode = decode


def _plain_delta_records() -> tuple[tuple[str, ...], ...]:
    """What the models of a plain text delta and of a plain function-arguments delta (the
    shapes the compiled decoder builds without orjson) record as absent, outer to inner:
    the known JSON keys those shapes do not send, read from the reference decoder."""
    text = MessageDeltaEvent.from_dict(
        {
            "id": "msg_0",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "x"}}]},
        }
    )
    block = text.delta.content[0] if text.delta.content else None
    if not isinstance(block, TextDeltaBlock) or block.text is None:
        raise TypeError("the reference decoder reads a plain text delta otherwise")
    call_delta = {"index": 0, "type": "function", "function": {"arguments": "x"}}
    args = RunStepDeltaEvent.from_dict(
        {
            "id": "step_0",
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call_delta]}},
        }
    )
    details = args.delta.step_details
    if not isinstance(details, ToolCallDeltaObject) or not details.tool_calls:
        raise TypeError("the reference decoder reads a plain arguments delta otherwise")
    call = details.tool_calls[0]
    if not isinstance(call, FunctionToolCallDelta) or call.function is None:
        raise TypeError("the reference decoder reads a plain arguments delta otherwise")
    models: tuple[Model, ...] = (text, text.delta, block, block.text, args, args.delta)
    models += (details, call, call.function)
    if any(model.extra for model in models):
        raise TypeError("the reference decoder finds unknown keys in a plain delta")
    return tuple(tuple(sorted(model.absent)) for model in models)


def _compiled_decode() -> Callable[..., Event] | None:
    """The compiled :func:`decode` (plain text and arguments deltas in C, anything else by
    :func:`python_decode`) when the C speedups are active and match these classes."""
    from .sse import __compiled__

    if not __compiled__:
        return None
    from . import _speedups

    classes = (
        ThreadMessageDelta,
        MessageDeltaEvent,
        MessageDelta,
        TextDeltaBlock,
        TextDelta,
        ThreadRunStepDelta,
        RunStepDeltaEvent,
        RunStepDelta,
        ToolCallDeltaObject,
        FunctionToolCallDelta,
        FunctionToolCallFunction,
    )
    try:
        compiled: Callable[..., Event] = _speedups.install_decode(
            classes, python_decode, _loads, _plain_delta_records()
        )
    except TypeError as error:
        warnings.warn(
            f"streamkit: the compiled decoder does not match this build ({error}); "
            "decoding in pure Python",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return compiled


_compiled = _compiled_decode()
if _compiled is not None and not TYPE_CHECKING:
    decode = _compiled
