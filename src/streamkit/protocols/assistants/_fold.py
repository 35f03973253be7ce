"""The Assistants fold: :class:`State`, runs, run steps and messages from their events.

Routing reads the protocol's event table (:data:`streamkit.events.EVENTS`): each event's
row says which kind of object it is about, whether it carries a whole object or a delta,
and which status it moves the object to. Lifecycles are the tables of
:mod:`streamkit.protocols.assistants` (``RUN``, ``STEP``, ``MESSAGE``); the generic
machinery (violations, problems, upserts keeping identity, indexed lists, done
bookkeeping) is :mod:`streamkit.fold._core`, and the merge rules for content parts and
tool calls are :mod:`._merge`. The behaviour is documented in :mod:`streamkit.fold`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ... import _changes as c
from ..._changes import ContentPartDelta, MessageDeltaApplied, StepDeltaApplied, ToolCallDelta
from ..._model import ShapeError, UnknownVariant, set_field
from ...events import (
    EVENTS,
    DoneEvent,
    ErrorEvent,
    Event,
    MalformedEvent,
    ThreadMessageDelta,
    ThreadRunStepDelta,
    UnknownEvent,
)
from ...fold._core import FoldCore, Indexed, adopt, index_of
from ...models import (
    FunctionToolCall,
    FunctionToolCallDelta,
    FunctionToolCallFunction,
    Message,
    MessageCreation,
    MessageCreationStepDetails,
    MessageDelta,
    MessageDeltaEvent,
    Run,
    RunStep,
    RunStepDelta,
    RunStepDeltaEvent,
    RunStepDeltaMessageDelta,
    Text,
    TextContentBlock,
    TextDelta,
    TextDeltaBlock,
    Thread,
    ToolCallDeltaObject,
    ToolCallsStepDetails,
)
from ._lifecycles import MESSAGE, RUN, STEP
from ._merge import (
    CALL_FOR,
    PART_FOR,
    CallTail,
    MessageTrack,
    StepTrack,
    TextTail,
    differences,
    merge_call_fields,
    merge_part,
    new_call,
    new_part,
    set_fields,
)

__all__ = ["State"]

_RUN_TERMINAL = RUN.terminal
_STEP_TERMINAL = STEP.terminal
_MESSAGE_TERMINAL = MESSAGE.terminal


class _Every(dict[type, Any]):
    """A routing table that sends every event to one handler."""

    def __init__(self, handler: Callable[[Any], list[c.Change]]) -> None:
        super().__init__()
        self.handler = handler

    def get(self, key: type, default: Any = None) -> Any:
        return self.handler


def _calls_of(step: RunStep) -> list[Any] | None:
    details = step.step_details
    return details.tool_calls if isinstance(details, ToolCallsStepDetails) else None


def _keeps_folded(
    status: str | None, terminal: bool, folded: Indexed, payload: list[Any] | None
) -> bool:
    """Whether a full-object event leaves the children folded so far in place: a second
    ``created``, or a non-final event listing no more children than were folded."""
    if status is None:
        return True
    return not terminal and len(folded.items) >= len(payload or ())


def _folders() -> tuple[Any, Any] | None:
    """The compiled fast paths (see :class:`TextTail` and :class:`CallTail`): the text
    folder and the arguments folder, when the C speedups are active, the compiled decoder
    too, and these classes match."""
    from ...sse import __compiled__

    if not __compiled__:
        return None
    from ... import _speedups

    classes = (
        TextTail,
        MessageTrack,
        Message,
        TextContentBlock,
        Text,
        ContentPartDelta,
        MessageDeltaApplied,
        CallTail,
        StepTrack,
        RunStep,
        FunctionToolCall,
        ToolCallDelta,
        StepDeltaApplied,
    )
    try:
        folders: tuple[Any, Any] = _speedups.install_fold(classes)
    except TypeError as error:
        warnings.warn(
            f"streamkit: the compiled fold does not match this build ({error}); "
            "folding in pure Python",
            RuntimeWarning,
            stacklevel=2,
        )
        return None
    return folders


_FOLDERS = _folders()
_TEXT_FOLDER, _CALL_FOLDER = _FOLDERS if _FOLDERS is not None else (None, None)


def _router() -> Callable[[State, Callable[[Any], list[c.Change]]], Any] | None:
    """:meth:`State.apply` compiled (``_speedups.ApplyRouter``), with the fast path."""
    if _TEXT_FOLDER is None:
        return None
    from ... import _speedups

    return _speedups.ApplyRouter


_ROUTER = _router()


class State(FoldCore):
    """Folds Assistants events into snapshots of runs, run steps and messages.

    ``apply(event)`` returns the Changes the event caused. Snapshots are readable at any
    time: :attr:`runs`, :attr:`steps`, :attr:`messages` by id (in order of first
    appearance), and :attr:`current_run`, :attr:`current_step`, :attr:`current_message`
    (the object the last event was about). :attr:`problems` lists what was recorded
    instead of raised. Pass the same State to the next stream to continue it.
    """

    def __init__(self, *, strict: bool = True) -> None:
        super().__init__(strict=strict)
        self.thread: Thread | None = None
        self.runs: dict[str, Run] = {}
        self.steps: dict[str, RunStep] = {}
        self.messages: dict[str, Message] = {}
        self.current_run: Run | None = None
        self.current_step: RunStep | None = None
        self.current_message: Message | None = None
        self._message_tracks: dict[str, MessageTrack] = {}
        self._step_tracks: dict[str, StepTrack] = {}
        route: dict[tuple[str, bool], Callable[[Any], list[c.Change]]] = {
            ("thread", False): self._thread_created,
            ("run", False): self._run_event,
            ("step", False): self._step_event,
            ("step", True): self._step_delta,
            ("message", False): self._message_event,
            ("message", True): self._message_delta,
            ("error", False): self._error,
            ("done", False): self._done,
        }
        by_name = {name: route[spec.kind, spec.delta] for name, spec in EVENTS.items()}
        self._by_name = by_name
        # Dispatch by class first: an event's class says its name, and a dict lookup by
        # class is cheaper than reading the ``event`` property (this runs once per delta).
        self._by_class: dict[type, Callable[[Any], list[c.Change]]] = {
            EVENTS[name].event_class: handler for name, handler in by_name.items()
        }
        #: What routes events now: ``_by_class``, or, after a ``done`` event in the current
        #: stream, a table that reports every event as coming after the end.
        self._handlers: dict[type, Callable[[Any], list[c.Change]]] = self._by_class
        #: The fold's offers to the compiled fast path, by message id (see :class:`TextTail`);
        #: one dict for the state's life (the compiled folder holds it: never rebound).
        self.text_tails: dict[str, TextTail] = {}
        #: The same for function calls' arguments, by step id (see :class:`CallTail`).
        self.call_tails: dict[str, CallTail] = {}
        if _TEXT_FOLDER is not None:
            self.use_speedups(True)

    def use_speedups(self, enabled: bool) -> None:
        """Fold plain text deltas through the compiled fast path (when it is built and
        active; the default then) or not (the pure-Python reference, for comparison)."""
        self.text_tails.clear()
        self.call_tails.clear()
        handler: Callable[[Any], list[c.Change]] = self._message_delta
        step_handler: Callable[[Any], list[c.Change]] = self._step_delta
        if enabled and _TEXT_FOLDER is not None and _CALL_FOLDER is not None:
            handler = _TEXT_FOLDER(self, self._message_delta_offering)
            step_handler = _CALL_FOLDER(self, self._step_delta_offering)
        self._by_class[ThreadMessageDelta] = handler
        self._by_class[ThreadRunStepDelta] = step_handler
        # ``apply`` itself, compiled (unless a subclass has its own): the same routing.
        router = _ROUTER if enabled and type(self).apply is State.apply else None
        if router is None:
            vars(self).pop("apply", None)
        else:
            vars(self)["apply"] = router(self, self._route)

    # -- entry point

    def apply(self, event: Event) -> list[c.Change]:
        """Fold one event into the state; return the Changes it caused, in order.

        (With the C speedups active, an instance attribute of the same name, the compiled
        router, routes exactly as this does.)"""
        handler = self._handlers.get(event.__class__)
        if handler is None:
            return self._route(event)
        return handler(event)

    def _route(self, event: Event) -> list[c.Change]:
        cls = event.__class__
        handler = self._by_class.get(cls)
        if handler is None:
            if cls is UnknownEvent or cls is MalformedEvent:
                return self._other(event)
            handler = self._by_name.get(event.event)  # a subclass of an event class
            if handler is None:
                return self._other(event)
        return handler(event)

    def begin_stream(self) -> None:
        """A new answer starts feeding this state (the continuation after tool outputs):
        events may follow the previous answer's ``done``."""
        super().begin_stream()
        self._handlers = self._by_class

    def _after_done(self, event: Event) -> list[c.Change]:
        # A server closes the stream at done: what follows is another answer (a body that
        # holds several, such as a whole conversation's recording). Read it as such, and
        # say so: the next answer's end is judged on its own.
        sse = event.sse
        line = f" at line {sse.line}" if sse is not None and sse.line is not None else ""
        problem = self.note(
            event,
            "after_done",
            f"{event.event}{line} follows a 'done' event, which ends a stream: read as the "
            "start of another answer (this body holds several)",
        )
        self.begin_stream()
        return [problem, *self._route(event)]

    # -- helpers

    def _delta_target(
        self, what: str, target: Any, object_id: str, event: Event, out: list[c.Change]
    ) -> Any:
        """For a delta whose step or message is unknown or not in progress: report it,
        and return the object to merge into (for an unknown one, a new placeholder)."""
        if target is not None:
            if what == "step" and target.status in _STEP_TERMINAL:
                # Azure delivers a tool's output in a step delta after the step completed:
                # read as sent, and noted.
                out.append(
                    self.note(
                        event,
                        "late_delta",
                        f"step {object_id} in status {target.status!r} got {event.event}: "
                        "merged into the finished step",
                    )
                )
                return target
            out.append(
                self.violation(
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
            self.violation(
                "unknown_object",
                f"{event.event} for {what} {object_id}, which this stream never created "
                "(to continue an earlier stream, pass its state: stream(..., state=...); "
                "to read such a stream anyway, pass strict=False)",
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
        self.endings += 1  # the server closes the stream after an error event
        return [c.ErrorReceived(event=event, error=event.data)]

    def _done(self, event: DoneEvent) -> list[c.Change]:
        self.endings += 1
        self._handlers = _Every(self._after_done)
        return [c.StreamDone(event=event)]

    def _other(self, event: Event) -> list[c.Change]:
        if isinstance(event, MalformedEvent):
            return [self.note(event, "malformed", str(event.error), event.error)]
        if isinstance(event, UnknownEvent) and event.name == "message":
            sse = event.sse
            line = f" at line {sse.line}" if sse is not None and sse.line is not None else ""
            problem = self.note(
                event,
                "unnamed_event",
                f"an event with no event name (SSE type 'message'){line}: its 'event:' line "
                "is missing or misspelt (a byte order mark in mid-stream does this); the "
                "Assistants protocol names every event, so its data was not folded (it is "
                "kept in the UnknownEvent)",
            )
            return [problem, c.UnknownReceived(event=event)]
        return [c.UnknownReceived(event=event)]

    def _recovered(self, event: Event, out: list[c.Change]) -> None:
        if event.warning is not None:
            out.append(self.note(event, "recovered", event.warning))

    # -- runs

    def _run_event(self, event: Event) -> list[c.Change]:
        data: Run = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        old = self.runs.get(data.id)
        old_status = old.status if old is not None else None
        self.check_move(RUN, EVENTS[event.event], data.id, old_status, data.status, event, out)
        run = adopt(old, data.clone())
        self.runs[run.id] = run
        self.current_run = run
        if old is None:
            out.append(c.RunCreated(event=event, run=run))
        if old is None or old_status != run.status:
            out.append(
                c.RunStatusChanged(event=event, run=run, previous=old_status, status=run.status)
            )
        if run.status == "requires_action" and old_status != "requires_action":
            self.endings += 1
            out.extend(self._calls_done_for_run(run.id, event))
            action = run.required_action
            calls = []
            if action is not None and action.submit_tool_outputs is not None:
                calls = action.submit_tool_outputs.tool_calls or []
            out.append(c.RunRequiresAction(event=event, run=run, tool_calls=calls))
        if run.status in _RUN_TERMINAL:
            self.endings += 1
            if self.finish_once("run", run.id):
                self._finish_children(run, event, out)
                out.append(c.RunFinished(event=event, run=run))
        return out

    def _finish_children(self, run: Run, event: Event, out: list[c.Change]) -> None:
        """A run ended: whatever of it is still open is done now (status kept as sent)."""
        left: list[str] = []
        for step_id, step in self.steps.items():
            if step.run_id == run.id and not self.is_finished("step", step_id):
                self._step_done(step, self._step_tracks[step_id], event, out)
                left.append(f"step {step_id} ({step.status})")
        for message_id, message in self.messages.items():
            if message.run_id == run.id and not self.is_finished("message", message_id):
                self._message_done(message, self._message_tracks[message_id], event, out)
                left.append(f"message {message_id} ({message.status})")
        if left:
            out.append(
                self.note(
                    event,
                    "left_open",
                    f"run {run.id} ended {run.status!r} leaving {', '.join(left)} unfinished: "
                    "each is done now, its status kept as the server sent it",
                )
            )

    # -- steps

    def _step_track(self, step: RunStep) -> StepTrack:
        details = step.step_details
        calls: list[Any] = []
        if isinstance(details, ToolCallsStepDetails):
            if details.tool_calls is None:
                set_field(details, "tool_calls", calls)
            else:
                calls = details.tool_calls
        return StepTrack(Indexed.of(calls))

    def _step_event(self, event: Event) -> list[c.Change]:
        data: RunStep = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        self.call_tails.pop(data.id, None)  # the step may change in any way: no offer
        old = self.steps.get(data.id)
        old_status = old.status if old is not None else None
        spec = EVENTS[event.event]
        self.check_move(STEP, spec, data.id, old_status, data.status, event, out)
        step = data.clone()
        old_track = self._step_tracks.get(step.id)
        if (
            old is not None
            and old_track is not None
            and _keeps_folded(
                spec.status, step.status in _STEP_TERMINAL, old_track.calls, _calls_of(step)
            )
        ):
            # Created again (Azure does this), or a progress event that knows less than
            # the deltas told: keep the tool calls folded so far.
            set_field(step, "step_details", old.step_details)
            step = adopt(old, step)
            track = old_track
            seen, leftover = set(track.calls.by_index), dict[int, Any]()
        else:
            step = adopt(old, step)
            track = self._step_track(step)
            old_calls = old_track.calls if old_track else None
            seen, leftover, rekeyed = track.calls.carry_over(old_calls)
            if rekeyed:
                out.append(self._reindexed("step", step.id, "tool calls", old_calls, event))
            if old_track is not None:
                track.deltas = old_track.deltas
        self.steps[step.id] = step
        self._step_tracks[step.id] = track
        self.current_step = step
        if old is None:
            out.append(c.StepCreated(event=event, step=step))
        for index, call in zip(track.calls.indices, track.calls.items, strict=True):
            if index not in seen:
                out.append(c.ToolCallCreated(event, step, index, call, call.type))
        if step.status in _STEP_TERMINAL and not self.is_finished("step", step.id):
            # Calls built from deltas that the server's final object leaves out are done
            # too: whatever was created is done exactly once.
            self._step_done(step, track, event, out, leftover)
        return out

    def _step_done(
        self,
        step: RunStep,
        track: StepTrack,
        event: Event,
        out: list[c.Change],
        leftover: dict[int, Any] | None = None,
    ) -> None:
        self.finish_once("step", step.id)
        self.call_tails.pop(step.id, None)
        out.extend(self._calls_done(step, track, event, leftover))
        out.append(c.StepDone(event=event, step=step))

    def _calls_done(
        self,
        step: RunStep,
        track: StepTrack,
        event: Event,
        leftover: dict[int, Any] | None = None,
    ) -> list[c.Change]:
        return [
            c.ToolCallDone(event, step, index, call, call.type)
            for index, call in track.calls.finish(leftover)
        ]

    def _calls_done_for_run(self, run_id: str, event: Event) -> list[c.Change]:
        out: list[c.Change] = []
        for step_id, step in self.steps.items():
            if step.run_id == run_id and not self.is_finished("step", step_id):
                out.extend(self._calls_done(step, self._step_tracks[step_id], event))
        return out

    def _step_delta_offering(self, event: ThreadRunStepDelta) -> list[c.Change]:
        """:meth:`_step_delta`, then, for a plain arguments delta whose call can take the
        next ones by a plain append, the offer of that call to the fast path."""
        out = self._step_delta(event)
        data = event.data
        delta = data.delta if data.__class__ is RunStepDeltaEvent else None
        details = delta.step_details if delta.__class__ is RunStepDelta else None
        calls = details.tool_calls if details.__class__ is ToolCallDeltaObject else None
        if calls.__class__ is list and len(calls) == 1:
            call_delta = calls[0]
            step = self.steps.get(data.id)
            track = self._step_tracks.get(data.id)
            if (
                call_delta.__class__ is FunctionToolCallDelta
                and call_delta.index.__class__ is int
                and step is not None
                and track is not None
                and step.status == "in_progress"
            ):
                call = track.calls.by_index.get(call_delta.index)
                if (
                    call.__class__ is FunctionToolCall
                    and call.function.__class__ is FunctionToolCallFunction
                ):
                    self.call_tails[data.id] = CallTail(
                        step, step.step_details, track, call_delta.index, call, call.function
                    )
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
                self.call_tails.pop(step.id, None)  # its calls start again: no offer
                new_details = ToolCallsStepDetails(type="tool_calls", tool_calls=[])
                set_field(step, "step_details", new_details)
                track.calls = track.calls.restart(new_details.tool_calls)  # type: ignore[arg-type]
            for call_delta in details.tool_calls or ():
                self._merge_call(step, track, call_delta, event, out)
        elif isinstance(details, RunStepDeltaMessageDelta):
            mc_details = step.step_details
            if not isinstance(mc_details, MessageCreationStepDetails):
                self.call_tails.pop(step.id, None)  # its calls are gone: no offer
                mc_details = MessageCreationStepDetails(type="message_creation")
                set_field(step, "step_details", mc_details)
            if details.message_creation is not None:
                creation = mc_details.message_creation
                if creation is None:
                    creation = MessageCreation(absent=("message_id",))
                    set_field(mc_details, "message_creation", creation)
                set_fields(creation, details.message_creation, ("message_id",))
        out.append(StepDeltaApplied(event, step, data.delta))
        return out

    def _merge_call(
        self,
        step: RunStep,
        track: StepTrack,
        delta: Any,
        event: Event,
        out: list[c.Change],
    ) -> None:
        index = index_of(delta, track.calls)
        call: Any = track.calls.by_index.get(index)
        if call is None and index in track.calls.known:
            return  # left out of the server's final object: nothing to merge into
        if (
            call is not None
            and call.__class__ is not CALL_FOR.get(delta.__class__)
            and not (delta.__class__ not in CALL_FOR and isinstance(call, UnknownVariant))
        ):
            out.append(
                self.violation(
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
            call = new_call(delta)
            track.calls.put(index, call)
            out.append(c.ToolCallCreated(event, step, index, call, call.type))
        try:
            text = merge_call_fields(call, delta, track, index)
        except ShapeError as e:  # a free-form part of the delta (file_search) of a bad shape
            out.append(
                self.violation(
                    "malformed",
                    f"tool call {index} of step {step.id}: {e.reason} (at {e.where()}), "
                    f"in {event.event}; the delta was not merged",
                    what="step",
                    object_id=step.id,
                    status=step.status,
                    event=event,
                )
            )
            return
        out.append(ToolCallDelta(event, step, index, call, delta, call.type, text))

    # -- messages

    def _message_track(self, message: Message) -> MessageTrack:
        content: list[Any] = []
        if message.content is None:
            set_field(message, "content", content)
        else:
            content = message.content
        track = MessageTrack(Indexed.of(content))
        self._index_annotations(track)
        return track

    @staticmethod
    def _index_annotations(track: MessageTrack) -> None:
        """Track the annotations of each text part, by the part's index."""
        track.annotations = {}
        for index, part in zip(track.parts.indices, track.parts.items, strict=True):
            if isinstance(part, TextContentBlock) and part.text is not None:
                annotations: list[Any] = []
                if part.text.annotations is None:
                    set_field(part.text, "annotations", annotations)
                else:
                    annotations = part.text.annotations
                track.annotations[index] = Indexed.of(annotations)

    def _reindexed(
        self, what: str, object_id: str, items: str, old: Indexed | None, event: Event
    ) -> c.Problem:
        used = old.indices if old is not None else []
        return self.note(
            event,
            "reindexed",
            f"{what} {object_id}: the deltas addressed its {items} at indices {used}; the "
            f"{event.event} object lists them densely, so they were matched in order",
        )

    def _message_event(self, event: Event) -> list[c.Change]:
        data: Message = event.data
        out: list[c.Change] = []
        self._recovered(event, out)
        self.text_tails.pop(data.id, None)  # the message may change in any way: no offer
        old = self.messages.get(data.id)
        old_status = old.status if old is not None else None
        spec = EVENTS[event.event]
        self.check_move(MESSAGE, spec, data.id, old_status, data.status, event, out)
        message = data.clone()
        old_track = self._message_tracks.get(message.id)
        terminal = message.status in _MESSAGE_TERMINAL and not self.is_finished(
            "message", message.id
        )
        if (
            old is not None
            and old_track is not None
            and _keeps_folded(spec.status, terminal, old_track.parts, message.content)
        ):
            # Created again, or a progress event that knows less than the deltas told:
            # keep the content folded so far (only a final object replaces it).
            set_field(message, "content", old.content)
            message = adopt(old, message)
            track = old_track
            seen, leftover = set(track.parts.by_index), dict[int, Any]()
        else:
            if terminal and old is not None and old_track is not None and old_track.deltas:
                self._compare(old, message, event, out)
            message = adopt(old, message)
            track = self._message_track(message)
            old_parts = old_track.parts if old_track else None
            seen, leftover, rekeyed = track.parts.carry_over(old_parts)
            if rekeyed:
                self._index_annotations(track)
                out.append(
                    self._reindexed("message", message.id, "content parts", old_parts, event)
                )
            if old_track is not None:
                track.deltas = old_track.deltas
        self.messages[message.id] = message
        self._message_tracks[message.id] = track
        self.current_message = message
        if old is None:
            out.append(c.MessageCreated(event=event, message=message))
        for index, part in zip(track.parts.indices, track.parts.items, strict=True):
            if index not in seen:
                out.append(c.ContentPartCreated(event, message, index, part, part.type))
        if terminal:
            self._message_done(message, track, event, out, leftover)
        return out

    def _message_done(
        self,
        message: Message,
        track: MessageTrack,
        event: Event,
        out: list[c.Change],
        leftover: dict[int, Any] | None = None,
    ) -> None:
        self.finish_once("message", message.id)
        self.text_tails.pop(message.id, None)
        out.extend(
            c.ContentPartDone(event, message, index, part, part.type)
            for index, part in track.parts.finish(leftover)
        )
        out.append(c.MessageDone(event=event, message=message))

    def _compare(self, folded: Message, final: Message, event: Event, out: list[c.Change]) -> None:
        mine = [p.to_dict() for p in folded.content or ()]
        theirs = [p.to_dict() for p in final.content or ()]
        if mine == theirs:
            return
        fields = differences(mine, theirs, "content")
        if fields:
            shown = ", ".join(fields[:5]) + (
                f" and {len(fields) - 5} more" if len(fields) > 5 else ""
            )
            out.append(
                self.note(
                    event,
                    "mismatch",
                    f"message {final.id}: the content folded from deltas differs from the "
                    f"server's {event.event} object at {shown} (the server's is kept)",
                    {"folded": mine, "final": theirs, "fields": fields},
                )
            )

    def _message_delta_offering(self, event: ThreadMessageDelta) -> list[c.Change]:
        """:meth:`_message_delta`, then, for a plain text delta whose part can take the
        next ones by a plain append, the offer of that part to the fast path."""
        out = self._message_delta(event)
        data = event.data
        delta = data.delta if data.__class__ is MessageDeltaEvent else None
        content = delta.content if delta.__class__ is MessageDelta else None
        if content.__class__ is list and len(content) == 1:
            block = content[0]
            message = self.messages.get(data.id)
            track = self._message_tracks.get(data.id)
            if (
                block.__class__ is TextDeltaBlock
                and block.text.__class__ is TextDelta
                and message is not None
                and track is not None
                and message.status == "in_progress"
            ):
                part = track.parts.by_index.get(block.index)
                if part.__class__ is TextContentBlock and part.text.__class__ is Text:
                    self.text_tails[data.id] = TextTail(
                        message, track, block.index, part, part.text
                    )
        return out

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
                index = index_of(part_delta, parts)
            part: Any = parts.by_index.get(index)
            if part is None:
                if index in parts.known:
                    continue  # left out of the server's final object: nothing to merge into
                part = new_part(part_delta)
                parts.put(index, part)
                if isinstance(part, TextContentBlock):
                    track.annotations[index] = Indexed.of(part.text.annotations)  # type: ignore[union-attr,arg-type]
                out.append(c.ContentPartCreated(event, message, index, part, part.type))
            elif part.__class__ is not PART_FOR.get(part_delta.__class__) and not (
                part_delta.__class__ not in PART_FOR and isinstance(part, UnknownVariant)
            ):
                out.append(
                    self.violation(
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
            text = merge_part(part, part_delta, track, index)
            out.append(ContentPartDelta(event, message, index, part, part_delta, part.type, text))
        out.append(MessageDeltaApplied(event, message, delta))
        return out
