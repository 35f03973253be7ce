"""The fold: one state machine that turns decoded events into snapshots and Changes.

Everything that changes a snapshot lives in this module. :meth:`State.apply` takes one
:class:`~streamkit.events.Event`, updates the snapshots of runs, run steps and messages,
and returns the list of :mod:`Changes <streamkit._changes>` it caused. Callbacks,
iterators and relays are all derived from those Changes, so they cannot disagree.

Lifecycles are tables (:data:`RUN_MOVES`, :data:`STEP_MOVES`, :data:`MESSAGE_MOVES`): which
status an object may move to from which. In strict mode (the default) an illegal move, or
a delta for an object never seen, raises :class:`~streamkit.ProtocolError` naming the
object, its status and the event, before anything is changed. In lenient mode the same
thing is returned as a :class:`Problem` change and the event is applied anyway.

Full-object events (``created``, ``in_progress``, ``completed`` ...) upsert: the snapshot
takes the values of a copy of the server's object (decoded events are never mutated),
in place, so a snapshot someone holds stays the live one. A stream may so
begin in the middle of a lifecycle, e.g. with ``thread.run.step.completed`` for a step
created in the stream before it, and a :class:`State` may be fed several streams (the one
that submits tool outputs continues the one that required action).

Merge rules for deltas:

- Lists of content parts, annotations, tool calls and code interpreter outputs are merged
  by their ``index``, which may arrive in any order or with gaps: the snapshot's list is
  kept sorted by index.
- Strings that stream in pieces are appended: text ``value``, ``refusal``, function
  ``arguments``, code interpreter ``input`` and ``logs``. Appending costs O(len(piece)):
  the pieces are joined when the value is read, once.
- Every other field is replaced by the delta's value when the delta has the key.
- What ``null`` means in a delta: a key that is absent leaves the field as it is; a key
  present with ``null`` sets a replaced field to null (the server says it has no value,
  e.g. ``"output": null`` on a function call that has not run), and appends nothing to an
  appended string (an append-only text cannot be un-said).

"Done" comes from lifecycles, exactly once: a content part is done when its message
completes or ends incomplete; a tool call is done when its step reaches a terminal
status or its run requires action; a part or call first seen in the final object is
created and then done at once.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from . import _changes as c
from ._changes import (
    Change,
    ContentPartCreated,
    ContentPartDelta,
    ContentPartDone,
    ErrorReceived,
    MessageCreated,
    MessageDeltaApplied,
    MessageDone,
    Problem,
    RunCreated,
    RunFinished,
    RunRequiresAction,
    RunStatusChanged,
    StepCreated,
    StepDeltaApplied,
    StepDone,
    StreamDone,
    ThreadStarted,
    ToolCallCreated,
    ToolCallDelta,
    ToolCallDone,
    UnknownReceived,
)
from ._errors import ProtocolError
from ._model import Model, UnknownVariant, append_to, copy_json, set_extra, set_field
from .events import (
    EVENT_TYPES,
    DoneEvent,
    ErrorEvent,
    Event,
    MalformedEvent,
    ThreadMessageDelta,
    ThreadRunStepDelta,
    UnknownEvent,
)
from .models import (
    CodeInterpreter,
    CodeInterpreterDelta,
    CodeInterpreterImage,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    CodeInterpreterToolCallImage,
    CodeInterpreterToolCallLogs,
    FileCitationAnnotation,
    FileCitationDeltaAnnotation,
    FilePathAnnotation,
    FilePathDeltaAnnotation,
    FileSearch,
    FileSearchToolCall,
    FileSearchToolCallDelta,
    FunctionToolCall,
    FunctionToolCallDelta,
    FunctionToolCallFunction,
    ImageFile,
    ImageFileContentBlock,
    ImageFileDeltaBlock,
    ImageURL,
    ImageURLContentBlock,
    ImageURLDeltaBlock,
    Message,
    MessageCreation,
    MessageCreationStepDetails,
    MessageDeltaEvent,
    RefusalContentBlock,
    RefusalDeltaBlock,
    Run,
    RunStep,
    RunStepDeltaEvent,
    RunStepDeltaMessageDelta,
    Text,
    TextContentBlock,
    TextDeltaBlock,
    Thread,
    ToolCallDeltaObject,
    ToolCallsStepDetails,
)

__all__ = [
    "MESSAGE_MOVES",
    "RUN_MOVES",
    "RUN_TERMINAL",
    "STEP_MOVES",
    "STEP_TERMINAL",
    "Change",
    "ContentPartCreated",
    "ContentPartDelta",
    "ContentPartDone",
    "ErrorReceived",
    "MessageCreated",
    "MessageDeltaApplied",
    "MessageDone",
    "Problem",
    "RunCreated",
    "RunFinished",
    "RunRequiresAction",
    "RunStatusChanged",
    "State",
    "StepCreated",
    "StepDeltaApplied",
    "StepDone",
    "StreamDone",
    "ThreadStarted",
    "ToolCallCreated",
    "ToolCallDelta",
    "ToolCallDone",
    "UnknownReceived",
]

# --- lifecycle tables -----------------------------------------------------------------
# For each object kind: status -> the statuses it may move to. An object first seen may
# start in any status (a stream can begin mid-lifecycle). Staying in the same status is
# allowed where the API sends two events for it (``created`` then ``queued``).

RUN_TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})
RUN_MOVES: dict[str, frozenset[str]] = {
    "queued": frozenset({"queued", "in_progress", "requires_action", "cancelling", *RUN_TERMINAL}),
    "in_progress": frozenset({"in_progress", "requires_action", "cancelling", *RUN_TERMINAL}),
    "requires_action": frozenset(
        {"queued", "in_progress", "cancelling", "cancelled", "failed", "expired"}
    ),
    "cancelling": frozenset({"cancelling", *RUN_TERMINAL}),
    **{status: frozenset() for status in RUN_TERMINAL},
}

STEP_TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
STEP_MOVES: dict[str, frozenset[str]] = {
    "in_progress": frozenset({"in_progress", *STEP_TERMINAL}),
    **{status: frozenset() for status in STEP_TERMINAL},
}

MESSAGE_TERMINAL = frozenset({"completed", "incomplete"})
MESSAGE_MOVES: dict[str, frozenset[str]] = {
    "in_progress": frozenset({"in_progress", *MESSAGE_TERMINAL}),
    **{status: frozenset() for status in MESSAGE_TERMINAL},
}

#: The status each full-object event moves its object to (None: any, e.g. ``created``).
_EVENT_STATUS: dict[str, str | None] = {
    "thread.run.created": None,
    "thread.run.queued": "queued",
    "thread.run.in_progress": "in_progress",
    "thread.run.requires_action": "requires_action",
    "thread.run.completed": "completed",
    "thread.run.incomplete": "incomplete",
    "thread.run.failed": "failed",
    "thread.run.cancelling": "cancelling",
    "thread.run.cancelled": "cancelled",
    "thread.run.expired": "expired",
    "thread.run.step.created": None,
    "thread.run.step.in_progress": "in_progress",
    "thread.run.step.completed": "completed",
    "thread.run.step.failed": "failed",
    "thread.run.step.cancelled": "cancelled",
    "thread.run.step.expired": "expired",
    "thread.message.created": None,
    "thread.message.in_progress": "in_progress",
    "thread.message.completed": "completed",
    "thread.message.incomplete": "incomplete",
}


# --- per-object bookkeeping -------------------------------------------------------------


@attrs.define(slots=True)
class _Indexed:
    """The items of an indexed list, by index, with the list kept sorted by index."""

    items: list[Any]
    indices: list[int]
    by_index: dict[int, Any]
    done: set[int] = attrs.field(factory=set)

    @classmethod
    def of(cls, items: list[Any]) -> _Indexed:
        return cls(items, list(range(len(items))), dict(enumerate(items)))

    def put(self, index: int, item: Any) -> None:
        at = bisect_left(self.indices, index)
        self.indices.insert(at, index)
        self.items.insert(at, item)
        self.by_index[index] = item

    def carry_over(self, old: _Indexed | None) -> tuple[set[int], dict[int, Any]]:
        """Continue ``old`` (the same object's items before a full-object event): take over
        what was done; return the indices it had, and the items it had that this lacks."""
        if old is None:
            return set(), {}
        self.done = old.done
        left = {i: item for i, item in old.by_index.items() if i not in self.by_index}
        return set(old.by_index), left

    def finish(self, leftover: dict[int, Any] | None = None) -> list[tuple[int, Any]]:
        """Mark every item not yet done as done and return them in index order, with the
        ``leftover`` items (created earlier, absent from the final object) among them."""
        items: list[tuple[int, Any]] = list(zip(self.indices, self.items, strict=True))
        if leftover:
            items = sorted([*items, *leftover.items()], key=lambda pair: pair[0])
        finished = [(i, item) for i, item in items if i not in self.done]
        self.done.update(i for i, _ in finished)
        return finished

    def replace(self, index: int, item: Any) -> None:
        self.items[bisect_left(self.indices, index)] = item
        self.by_index[index] = item


@attrs.define(slots=True)
class _MessageTrack:
    parts: _Indexed
    annotations: dict[int, _Indexed] = attrs.field(factory=dict)
    deltas: int = 0


@attrs.define(slots=True)
class _StepTrack:
    calls: _Indexed
    outputs: dict[int, _Indexed] = attrs.field(factory=dict)
    deltas: int = 0


_has = Model.has
_M = TypeVar("_M", bound=Model)


def _adopt(old: _M | None, new: _M) -> _M:
    """Make ``old`` (when there is one) the snapshot ``new`` describes, keeping its identity:
    whoever holds a snapshot keeps seeing it live across full-object events."""
    if old is None or type(old) is not type(new):
        return new
    for field in attrs.fields(type(old)):
        setattr(old, field.name, getattr(new, field.name))
    return old


def _index_of(delta: Any, items: _Indexed) -> int:
    """A delta item's ``index`` (for an unknown variant, from its raw object).

    An item without an integer index is taken to be a new item after the last one.
    """
    index = delta.raw.get("index") if isinstance(delta, UnknownVariant) else delta.index
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    return items.indices[-1] + 1 if items.indices else 0


# --- the state machine -------------------------------------------------------------------


class State:
    """Folds events into snapshots of runs, run steps and messages.

    ``apply(event)`` returns the Changes the event caused. Snapshots are readable at any
    time: :attr:`runs`, :attr:`steps`, :attr:`messages` by id (in order of first
    appearance), and :attr:`current_run`, :attr:`current_step`, :attr:`current_message`
    (the object the last event was about).
    """

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self.thread: Thread | None = None
        self.runs: dict[str, Run] = {}
        self.steps: dict[str, RunStep] = {}
        self.messages: dict[str, Message] = {}
        self.current_run: Run | None = None
        self.current_step: RunStep | None = None
        self.current_message: Message | None = None
        self.problems: list[c.Problem] = []
        self._message_tracks: dict[str, _MessageTrack] = {}
        self._step_tracks: dict[str, _StepTrack] = {}
        by_name: dict[str, Callable[[Any], list[c.Change]]] = {
            "thread.created": self._thread_created,
            "thread.message.delta": self._message_delta,
            "thread.run.step.delta": self._step_delta,
            "error": self._error,
            "done": self._done,
        }
        for name in _EVENT_STATUS:
            if name.startswith("thread.run.step."):
                by_name[name] = self._step_event
            elif name.startswith("thread.run."):
                by_name[name] = self._run_event
            else:
                by_name[name] = self._message_event
        self._by_name = by_name
        # Dispatch by class first: an event's class says its name, and a dict lookup by
        # class is cheaper than reading the ``event`` property (this runs once per delta).
        self._handlers: dict[type, Callable[[Any], list[c.Change]]] = {
            EVENT_TYPES.get(name, DoneEvent): handler for name, handler in by_name.items()
        }

    # -- entry point

    def apply(self, event: Event) -> list[c.Change]:
        """Fold one event into the state; return the Changes it caused, in order."""
        handler = self._handlers.get(event.__class__)
        if handler is None:
            cls = event.__class__
            if cls is UnknownEvent or cls is MalformedEvent:
                return self._other(event)
            handler = self._by_name.get(event.event)  # a subclass of an event class
            if handler is None:
                return self._other(event)
        return handler(event)

    # -- helpers

    def _violation(
        self,
        kind: str,
        message: str,
        *,
        what: str,
        object_id: str | None,
        status: str | None,
        event: Event,
    ) -> c.Problem:
        if self.strict:
            raise ProtocolError(
                message,
                kind=what,
                object_id=object_id,
                status=status,
                event=event.event,
                raw=event,
            )
        problem = c.Problem(event=event, kind=kind, message=message)
        self.problems.append(problem)
        return problem

    def _check_move(
        self,
        what: str,
        table: dict[str, frozenset[str]],
        object_id: str,
        old: str | None,
        new: str | None,
        event: Event,
        out: list[c.Change],
    ) -> None:
        expected = _EVENT_STATUS.get(event.event)
        if expected is not None and new != expected:
            out.append(
                self._violation(
                    "illegal_transition",
                    f"{event.event} carries {what} {object_id} with status {new!r}, "
                    f"expected {expected!r}",
                    what=what,
                    object_id=object_id,
                    status=old,
                    event=event,
                )
            )
        if old is None or new is None:
            return
        allowed = table.get(old)
        if allowed is None or new not in allowed:
            if event.event.endswith(".created"):
                verb = f"was created again by {event.event}"
            else:
                verb = f"cannot move to {new!r} on {event.event}"
            out.append(
                self._violation(
                    "illegal_transition",
                    f"{what} {object_id} in status {old!r} {verb}",
                    what=what,
                    object_id=object_id,
                    status=old,
                    event=event,
                )
            )

    def _delta_target(
        self, what: str, target: Any, object_id: str, event: Event, out: list[c.Change]
    ) -> Any:
        """For a delta whose step or message is unknown or not in progress: report it,
        and return the object to merge into (for an unknown one, a new placeholder)."""
        if target is not None:
            out.append(
                self._violation(
                    "illegal_transition",
                    f"{what} {object_id} in status {target.status!r} got {event.event}",
                    what=what,
                    object_id=object_id,
                    status=target.status,
                    event=event,
                )
            )
            return target
        self._unknown_object(what, object_id, event, out)
        if what == "step":
            step = RunStep(id=object_id, object="thread.run.step", status="in_progress")
            self.steps[object_id] = step
            self._step_tracks[object_id] = self._step_track(step)
            out.append(c.StepCreated(event, step))
            return step
        message = Message(id=object_id, object="thread.message", status="in_progress", content=[])
        self.messages[object_id] = message
        self._message_tracks[object_id] = self._message_track(message)
        out.append(c.MessageCreated(event, message))
        return message

    def _unknown_object(self, what: str, object_id: str, event: Event, out: list[c.Change]) -> None:
        out.append(
            self._violation(
                "unknown_object",
                f"{event.event} for {what} {object_id}, which this stream never created",
                what=what,
                object_id=object_id,
                status=None,
                event=event,
            )
        )

    # -- threads, errors, the rest

    def _thread_created(self, event: Event) -> list[c.Change]:
        self.thread = event.data.clone()
        return [c.ThreadStarted(event=event, thread=self.thread)]

    def _error(self, event: ErrorEvent) -> list[c.Change]:
        return [c.ErrorReceived(event=event, error=event.data)]

    def _done(self, event: DoneEvent) -> list[c.Change]:
        return [c.StreamDone(event=event)]

    def _other(self, event: Event) -> list[c.Change]:
        if isinstance(event, MalformedEvent):
            problem = c.Problem(
                event=event, kind="malformed", message=str(event.error), detail=event.error
            )
            self.problems.append(problem)
            return [problem]
        return [c.UnknownReceived(event=event)]

    def _recovered(self, event: Event, out: list[c.Change]) -> None:
        if event.warning is not None:
            problem = c.Problem(event=event, kind="recovered", message=event.warning)
            self.problems.append(problem)
            out.append(problem)

    # -- runs

    def _run_event(self, event: Event) -> list[c.Change]:
        data: Run = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        old = self.runs.get(data.id)
        old_status = old.status if old is not None else None
        if old is not None and event.event == "thread.run.created":
            self._check_move("run", {}, data.id, old_status, data.status, event, out)
        else:
            self._check_move("run", RUN_MOVES, data.id, old_status, data.status, event, out)
        run = _adopt(old, data.clone())
        self.runs[run.id] = run
        self.current_run = run
        if old is None:
            out.append(c.RunCreated(event=event, run=run))
        if old is None or old_status != run.status:
            out.append(
                c.RunStatusChanged(event=event, run=run, previous=old_status, status=run.status)
            )
        if run.status == "requires_action" and old_status != "requires_action":
            out.extend(self._calls_done_for_run(run.id, event))
            action = run.required_action
            calls = []
            if action is not None and action.submit_tool_outputs is not None:
                calls = action.submit_tool_outputs.tool_calls or []
            out.append(c.RunRequiresAction(event=event, run=run, tool_calls=calls))
        if run.status in RUN_TERMINAL and old_status not in RUN_TERMINAL:
            out.append(c.RunFinished(event=event, run=run))
        return out

    # -- steps

    def _step_track(self, step: RunStep) -> _StepTrack:
        details = step.step_details
        calls: list[Any] = []
        if isinstance(details, ToolCallsStepDetails):
            if details.tool_calls is None:
                set_field(details, "tool_calls", calls)
            else:
                calls = details.tool_calls
        return _StepTrack(_Indexed.of(calls))

    def _step_event(self, event: Event) -> list[c.Change]:
        data: RunStep = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        old = self.steps.get(data.id)
        old_status = old.status if old is not None else None
        table = {} if event.event == "thread.run.step.created" and old is not None else STEP_MOVES
        self._check_move("step", table, data.id, old_status, data.status, event, out)
        step = _adopt(old, data.clone())
        old_track = self._step_tracks.get(step.id)
        track = self._step_track(step)
        seen, leftover = track.calls.carry_over(old_track.calls if old_track else None)
        if old_track is not None:
            track.deltas = old_track.deltas
        self.steps[step.id] = step
        self._step_tracks[step.id] = track
        self.current_step = step
        if old is None:
            out.append(c.StepCreated(event=event, step=step))
        for index, call in zip(track.calls.indices, track.calls.items, strict=True):
            if index not in seen:
                out.append(c.ToolCallCreated(event=event, step=step, index=index, tool_call=call))
        if step.status in STEP_TERMINAL and old_status not in STEP_TERMINAL:
            # Calls built from deltas that the server's final object leaves out are done
            # too: whatever was created is done exactly once.
            out.extend(self._calls_done(step, track, event, leftover))
            out.append(c.StepDone(event=event, step=step))
        return out

    def _calls_done(
        self,
        step: RunStep,
        track: _StepTrack,
        event: Event,
        leftover: dict[int, Any] | None = None,
    ) -> list[c.Change]:
        return [
            c.ToolCallDone(event=event, step=step, index=index, tool_call=call)
            for index, call in track.calls.finish(leftover)
        ]

    def _calls_done_for_run(self, run_id: str, event: Event) -> list[c.Change]:
        out: list[c.Change] = []
        for step_id, step in self.steps.items():
            if step.run_id == run_id and step.status not in STEP_TERMINAL:
                out.extend(self._calls_done(step, self._step_tracks[step_id], event))
        return out

    def _step_delta(self, event: ThreadRunStepDelta) -> list[c.Change]:
        data: RunStepDeltaEvent = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        step = self.steps.get(data.id)
        if step is None or step.status != "in_progress":
            step = self._delta_target("step", step, data.id, event, out)
        track = self._step_tracks[step.id]
        track.deltas += 1
        self.current_step = step
        details = data.delta.step_details
        if isinstance(details, ToolCallDeltaObject):
            if not isinstance(step.step_details, ToolCallsStepDetails):
                new_details = ToolCallsStepDetails(type="tool_calls", tool_calls=[])
                set_field(step, "step_details", new_details)
                track.calls = _Indexed.of(new_details.tool_calls)  # type: ignore[arg-type]
            for call_delta in details.tool_calls or ():
                self._merge_call(step, track, call_delta, event, out)
        elif isinstance(details, RunStepDeltaMessageDelta):
            mc_details = step.step_details
            if not isinstance(mc_details, MessageCreationStepDetails):
                mc_details = MessageCreationStepDetails(type="message_creation")
                set_field(step, "step_details", mc_details)
            if details.message_creation is not None:
                creation = mc_details.message_creation
                if creation is None:
                    creation = MessageCreation(absent=("message_id",))
                    set_field(mc_details, "message_creation", creation)
                _set_fields(creation, details.message_creation, ("message_id",))
        out.append(StepDeltaApplied(event, step, data.delta))
        return out

    def _merge_call(
        self,
        step: RunStep,
        track: _StepTrack,
        delta: Any,
        event: Event,
        out: list[c.Change],
    ) -> None:
        index = _index_of(delta, track.calls)
        call = track.calls.by_index.get(index)
        if call is not None and call.__class__ is not _CALL_FOR.get(
            delta.__class__, call.__class__
        ):
            out.append(
                self._violation(
                    "illegal_transition",
                    f"tool call {index} of step {step.id} is {call.type!r}; "
                    f"a {delta.type!r} delta cannot merge into it ({event.event})",
                    what="step",
                    object_id=step.id,
                    status=step.status,
                    event=event,
                )
            )
            return
        if call is None:
            call = _new_call(delta)
            track.calls.put(index, call)
            out.append(c.ToolCallCreated(event=event, step=step, index=index, tool_call=call))
        _merge_call_fields(call, delta, track, index)
        out.append(ToolCallDelta(event, step, index, call, delta))

    # -- messages

    def _message_track(self, message: Message) -> _MessageTrack:
        content: list[Any] = []
        if message.content is None:
            set_field(message, "content", content)
        else:
            content = message.content
        track = _MessageTrack(_Indexed.of(content))
        for index, part in enumerate(content):
            if isinstance(part, TextContentBlock) and part.text is not None:
                annotations: list[Any] = []
                if part.text.annotations is None:
                    set_field(part.text, "annotations", annotations)
                else:
                    annotations = part.text.annotations
                track.annotations[index] = _Indexed.of(annotations)
        return track

    def _message_event(self, event: Event) -> list[c.Change]:
        data: Message = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        old = self.messages.get(data.id)
        old_status = old.status if old is not None else None
        table = {} if event.event == "thread.message.created" and old is not None else MESSAGE_MOVES
        self._check_move("message", table, data.id, old_status, data.status, event, out)
        message = data.clone()
        old_track = self._message_tracks.get(message.id)
        terminal = message.status in MESSAGE_TERMINAL and old_status not in MESSAGE_TERMINAL
        if terminal and old is not None and old_track is not None and old_track.deltas:
            self._compare(old, message, event, out)
        message = _adopt(old, message)
        track = self._message_track(message)
        seen, leftover = track.parts.carry_over(old_track.parts if old_track else None)
        if old_track is not None:
            track.deltas = old_track.deltas
        self.messages[message.id] = message
        self._message_tracks[message.id] = track
        self.current_message = message
        if old is None:
            out.append(c.MessageCreated(event=event, message=message))
        for index, part in zip(track.parts.indices, track.parts.items, strict=True):
            if index not in seen:
                out.append(
                    c.ContentPartCreated(event=event, message=message, index=index, part=part)
                )
        if terminal:
            out.extend(
                c.ContentPartDone(event=event, message=message, index=index, part=part)
                for index, part in track.parts.finish(leftover)
            )
            out.append(c.MessageDone(event=event, message=message))
        return out

    def _compare(self, folded: Message, final: Message, event: Event, out: list[c.Change]) -> None:
        mine = [p.to_dict() for p in folded.content or ()]
        theirs = [p.to_dict() for p in final.content or ()]
        if mine != theirs and _disagree(mine, theirs):
            problem = c.Problem(
                event=event,
                kind="mismatch",
                message=(
                    f"message {final.id}: the content folded from deltas differs from the "
                    f"server's {event.event} object (the server's is kept)"
                ),
                detail={"folded": mine, "final": theirs},
            )
            self.problems.append(problem)
            out.append(problem)

    def _message_delta(self, event: ThreadMessageDelta) -> list[c.Change]:
        data: MessageDeltaEvent = event.data
        out: list[c.Change] = []
        if event.warning is not None:
            self._recovered(event, out)
        message = self.messages.get(data.id)
        if message is None or message.status != "in_progress":
            message = self._delta_target("message", message, data.id, event, out)
        track = self._message_tracks[message.id]
        track.deltas += 1
        self.current_message = message
        delta = data.delta
        if delta.role is not None:
            set_field(message, "role", delta.role)
        parts = track.parts
        for part_delta in delta.content or ():
            index = getattr(part_delta, "index", None)
            if index.__class__ is not int:
                index = _index_of(part_delta, parts)
            part = parts.by_index.get(index)
            if part is None:
                part = _new_part(part_delta)
                parts.put(index, part)
                if isinstance(part, TextContentBlock):
                    track.annotations[index] = _Indexed.of(part.text.annotations)  # type: ignore[union-attr,arg-type]
                out.append(
                    c.ContentPartCreated(event=event, message=message, index=index, part=part)
                )
            elif part.__class__ is not _PART_FOR.get(part_delta.__class__, part.__class__):
                out.append(
                    self._violation(
                        "illegal_transition",
                        f"content part {index} of message {message.id} is {part.type!r}; "
                        f"a {part_delta.type!r} delta cannot merge into it ({event.event})",
                        what="message",
                        object_id=message.id,
                        status=message.status,
                        event=event,
                    )
                )
                continue
            _merge_part(part, part_delta, track, index)
            out.append(ContentPartDelta(event, message, index, part, part_delta))
        out.append(MessageDeltaApplied(event, message, delta))
        return out


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _disagree(mine: Any, theirs: Any) -> bool:
    """Whether two JSON values differ beyond a key that one side leaves out and the other
    has empty (servers drop a ``"quote": ""`` they streamed from the final object)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in mine.keys() | theirs.keys():
            if key not in theirs:
                if not _is_blank(mine[key]):
                    return True
            elif key not in mine:
                if not _is_blank(theirs[key]):
                    return True
            elif _disagree(mine[key], theirs[key]):
                return True
        return False
    if isinstance(mine, list) and isinstance(theirs, list):
        return len(mine) != len(theirs) or any(
            _disagree(a, b) for a, b in zip(mine, theirs, strict=True)
        )
    return bool(mine != theirs)


# --- building and merging parts ----------------------------------------------------------

#: The snapshot class each delta class merges into.
_PART_FOR: dict[type, type] = {
    TextDeltaBlock: TextContentBlock,
    ImageFileDeltaBlock: ImageFileContentBlock,
    ImageURLDeltaBlock: ImageURLContentBlock,
    RefusalDeltaBlock: RefusalContentBlock,
}
_CALL_FOR: dict[type, type] = {
    FunctionToolCallDelta: FunctionToolCall,
    CodeInterpreterToolCallDelta: CodeInterpreterToolCall,
    FileSearchToolCallDelta: FileSearchToolCall,
}


def _new_part(delta: Any) -> Any:
    """An empty content part of the delta's type (merged with the delta right after)."""
    if isinstance(delta, TextDeltaBlock):
        return TextContentBlock(type="text", text=Text(value="", annotations=[]))
    if isinstance(delta, ImageFileDeltaBlock):
        return ImageFileContentBlock(
            type="image_file", image_file=ImageFile(absent=("file_id", "detail"))
        )
    if isinstance(delta, ImageURLDeltaBlock):
        return ImageURLContentBlock(type="image_url", image_url=ImageURL(absent=("url", "detail")))
    if isinstance(delta, RefusalDeltaBlock):
        return RefusalContentBlock(type="refusal", refusal="")
    return type(delta)(type=delta.type, raw={})


_set = set_field


def _set_fields(target: Model, delta: Model, names: tuple[str, ...]) -> None:
    """Replace each named field of ``target`` whose key the delta has."""
    for name in names:
        if delta.has(name):
            _set(target, name, getattr(delta, name))


def _merge_raw(target: UnknownVariant, delta: UnknownVariant) -> None:
    for key, value in delta.raw.items():
        if key != "index":
            target.raw[key] = copy_json(value)


def _merge_part(part: Any, delta: Any, track: _MessageTrack, index: int) -> None:
    if delta.__class__ is TextDeltaBlock:  # the hot path: one text delta
        text_delta = delta.text
        if text_delta is None:
            return
        text = part.text
        if text is None:
            text = Text(value="", annotations=[])
            _set(part, "text", text)
            track.annotations[index] = _Indexed.of(text.annotations)  # type: ignore[arg-type]
        chunk = text_delta._value  # the slot behind ``value``: a str for a decoded delta
        if chunk.__class__ is not str:
            chunk = text_delta.value
        if chunk:
            grown = text._value
            if grown.__class__ is list:  # the common case, inlined: one more chunk
                grown.append(chunk)
            else:
                append_to(text, "_value", chunk)
        if text_delta.annotations:
            annotations = track.annotations[index]
            for ann_delta in text_delta.annotations:
                _merge_annotation(annotations, ann_delta)
    elif isinstance(delta, RefusalDeltaBlock):
        chunk = delta.refusal
        if chunk:
            append_to(part, "_refusal", chunk)
    elif isinstance(delta, ImageFileDeltaBlock):
        if delta.image_file is not None:
            _set_fields(part.image_file, delta.image_file, ("file_id", "detail"))
    elif isinstance(delta, ImageURLDeltaBlock):
        if delta.image_url is not None:
            _set_fields(part.image_url, delta.image_url, ("url", "detail"))
    elif isinstance(delta, UnknownVariant) and isinstance(part, UnknownVariant):
        _merge_raw(part, delta)


#: For each annotation delta class: the snapshot class, the key of its file object and the
#: file object's fields.
_ANNOTATIONS: dict[type, tuple[type[Model], str, tuple[str, ...]]] = {
    FileCitationDeltaAnnotation: (FileCitationAnnotation, "file_citation", ("file_id", "quote")),
    FilePathDeltaAnnotation: (FilePathAnnotation, "file_path", ("file_id",)),
}


def _merge_annotation(annotations: _Indexed, delta: Any) -> None:
    index = _index_of(delta, annotations)
    ann = annotations.by_index.get(index)
    known = _ANNOTATIONS.get(delta.__class__)
    if known is not None:
        cls, key, file_fields = known
        if ann is None or ann.__class__ is not cls:
            # New, or the delta says the annotation at this index is now of another type.
            absent = ("text", key, "start_index", "end_index")
            fresh = cls(type=delta.type, absent=absent)  # type: ignore[call-arg]
            if ann is None:
                annotations.put(index, fresh)
            else:
                annotations.replace(index, fresh)
            ann = fresh
        _set_fields(ann, delta, ("text", "start_index", "end_index"))
        if _has(delta, key):
            source, target = getattr(delta, key), getattr(ann, key)
            if source is None or target is None:
                _set(ann, key, source.clone() if source is not None else None)
            else:
                _set_fields(target, source, file_fields)
    elif isinstance(delta, UnknownVariant):
        if ann is None:
            ann = type(delta)(type=delta.type, raw={})
            annotations.put(index, ann)
        if isinstance(ann, UnknownVariant):
            _merge_raw(ann, delta)


# --- building and merging tool calls -------------------------------------------------------


def _new_call(delta: Any) -> Any:
    if isinstance(delta, FunctionToolCallDelta):
        return FunctionToolCall(
            id=None,
            type="function",
            function=FunctionToolCallFunction(arguments="", absent=("name", "output")),
            absent=("id",),
        )
    if isinstance(delta, CodeInterpreterToolCallDelta):
        return CodeInterpreterToolCall(
            id=None,
            type="code_interpreter",
            code_interpreter=CodeInterpreter(input="", outputs=[]),
            absent=("id",),
        )
    if isinstance(delta, FileSearchToolCallDelta):
        return FileSearchToolCall(
            id=None,
            type="file_search",
            file_search=FileSearch(absent=("ranking_options", "results")),
            absent=("id",),
        )
    return type(delta)(type=delta.type, raw={})


def _merge_call_fields(call: Any, delta: Any, track: _StepTrack, index: int) -> None:
    if isinstance(delta, UnknownVariant):
        if isinstance(call, UnknownVariant):
            _merge_raw(call, delta)
        return
    if _has(delta, "id"):
        _set(call, "id", delta.id)
    if isinstance(delta, FunctionToolCallDelta):
        fn = delta.function
        if fn is None:
            return
        target = call.function
        if target is None:
            target = FunctionToolCallFunction(arguments="", absent=("name", "output"))
            _set(call, "function", target)
        _set_fields(target, fn, ("name", "output"))
        chunk = fn.arguments
        if chunk:
            append_to(target, "_arguments", chunk)
        extra = fn.extra
        if extra:
            set_extra(target, copy_json(extra))
    elif isinstance(delta, CodeInterpreterToolCallDelta):
        ci: CodeInterpreterDelta | None = delta.code_interpreter
        if ci is None:
            return
        target = call.code_interpreter
        chunk = ci.input
        if chunk:
            append_to(target, "_input", chunk)
        if ci.outputs:
            outputs = track.outputs.get(index)
            if outputs is None:
                if target.outputs is None:
                    set_field(target, "outputs", [])
                outputs = track.outputs[index] = _Indexed.of(target.outputs)
            for out_delta in ci.outputs:
                _merge_output(outputs, out_delta)
    elif isinstance(delta, FileSearchToolCallDelta) and not _is_empty(delta.file_search):
        merged = call.file_search.to_dict() if call.file_search is not None else {}
        if isinstance(delta.file_search, dict):
            merged.update(copy_json(delta.file_search))
        set_field(call, "file_search", FileSearch.from_dict(merged))


def _is_empty(value: Any) -> bool:
    return value == {} or value is None


def _merge_output(outputs: _Indexed, delta: Any) -> None:
    index = _index_of(delta, outputs)
    item = outputs.by_index.get(index)
    if delta.type == "logs" and not isinstance(delta, UnknownVariant):
        if item is None:
            item = CodeInterpreterToolCallLogs(type="logs", logs="")
            outputs.put(index, item)
        chunk = delta.logs
        if chunk:
            append_to(item, "_logs", chunk)
    elif delta.type == "image" and not isinstance(delta, UnknownVariant):
        if item is None:
            item = CodeInterpreterToolCallImage(
                type="image", image=CodeInterpreterImage(absent=("file_id",))
            )
            outputs.put(index, item)
        if delta.image is not None:
            image = item.image
            if image is None:
                image = CodeInterpreterImage(absent=("file_id",))
                _set(item, "image", image)
            _set_fields(image, delta.image, ("file_id",))
    else:
        if item is None:
            item = type(delta)(type=delta.type, raw={})
            outputs.put(index, item)
        if isinstance(item, UnknownVariant):
            _merge_raw(item, delta)
