"""Event handlers: callbacks with the names and arguments of openai-python's helpers.

:class:`EventHandler` (and its async twin :class:`AsyncEventHandler`) has every hook of
openai-python's ``AssistantEventHandler``, plus hooks for runs, refusals, image URLs,
server errors, unknown events and problems. Subclass it and override what you need; the
base methods do nothing.

The same hooks fire for either protocol (the Assistants API, or OpenAI's Responses API:
``docs/responses.md``). Each hook receives that protocol's objects:

- run hooks: the Assistants ``Run``, or the Responses
  :class:`~streamkit.models.responses.Response`;
- message hooks: the ``Message``, or a Responses message or reasoning item;
- ``on_text_created`` / ``on_text_done``: the ``Text`` (``.value``), or the ``output_text``
  part itself (``.text``); ``on_text_delta(delta, snapshot)``: the ``TextDelta``
  (``delta.value``) and the ``Text``, or the event's payload (``delta.delta`` is the
  text; an annotation arrives as ``delta.annotation``) and the part (``snapshot.text``);
- tool call hooks: the ``ToolCall``, or the output item (a function call, a hosted tool
  call ...); ``on_tool_call_delta``'s delta is the ``ToolCallDelta``, or the event's
  payload (``delta.delta`` is the piece of arguments, input or code).

Responses-only hooks: :meth:`EventHandler.on_reasoning_delta`,
:meth:`EventHandler.on_reasoning_done`, :meth:`EventHandler.on_tool_call_progress`,
:meth:`EventHandler.on_mcp_approval_request`.

Dispatch is a table from :mod:`Change <streamkit._changes>` type to hook (see
:func:`dispatch_table`), so every hook fires exactly when the fold says, exactly once:
``on_event`` is the only hook that sees raw events, before they are folded. Hooks a
subclass does not override are never called, which keeps the per-event cost down to the
hooks in use.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol

from . import _changes as c

if TYPE_CHECKING:
    from .client import ToolCallError
    from .events import Event
    from .models import (
        ErrorObject,
        ImageFile,
        ImageURL,
        Message,
        MessageDelta,
        RefusalContentBlock,
        RefusalDeltaBlock,
        RequiredActionFunctionToolCall,
        Run,
        RunStep,
        RunStepDelta,
        Text,
        TextDelta,
        ToolCall,
        ToolCallDelta,
    )

__all__ = ["AsyncEventHandler", "EventHandler", "dispatch_table"]


class _Live(Protocol):
    """What a handler reads its ``current_*`` properties from (the stream it is bound to)."""

    @property
    def current_event(self) -> Event | None: ...
    @property
    def current_run(self) -> Run | None: ...
    @property
    def current_message_snapshot(self) -> Message | None: ...
    @property
    def current_run_step_snapshot(self) -> RunStep | None: ...


class _HandlerBase:
    """The ``current_*`` properties, read from the stream the handler is bound to."""

    _streamkit_stream: _Live | None = None

    @property
    def current_event(self) -> Event | None:
        """The event being handled (inside a callback), else the last one handled."""
        live = self._streamkit_stream
        return live.current_event if live is not None else None

    @property
    def current_run(self) -> Run | None:
        """The snapshot of the run the last run event was about."""
        live = self._streamkit_stream
        return live.current_run if live is not None else None

    @property
    def current_message_snapshot(self) -> Message | None:
        """The snapshot of the message the last message event was about."""
        live = self._streamkit_stream
        return live.current_message_snapshot if live is not None else None

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        """The snapshot of the run step the last step event was about."""
        live = self._streamkit_stream
        return live.current_run_step_snapshot if live is not None else None


class EventHandler(_HandlerBase):
    """Callbacks for :func:`streamkit.stream`; override the ones you need.

    Snapshots passed to callbacks are live objects, updated in place as the stream goes
    on: read them in the callback, ``.clone()`` them to keep them. See ``docs/handlers.md``
    for the order in which callbacks fire.
    """

    def on_event(self, event: Event) -> None:
        """Every decoded event, before it is folded into the snapshots."""

    def on_end(self) -> None:
        """The stream ended: read to the end, failed, or closed early. Fires once."""

    def on_exception(self, exception: Exception) -> None:
        """An exception while streaming (source, parser, decoding, fold, or a callback)."""

    def on_timeout(self) -> None:
        """The source timed out (before ``on_exception`` with the timeout error)."""

    def on_run_created(self, run: Run) -> None:
        """A run was seen for the first time."""

    def on_run_status(self, run: Run, previous: str | None) -> None:
        """A run's status changed (``previous`` is None when the run is first seen)."""

    def on_requires_action(
        self, run: Run, tool_calls: list[RequiredActionFunctionToolCall]
    ) -> None:
        """The run waits for the outputs of ``tool_calls`` (submit them to continue)."""

    def on_run_done(self, run: Run) -> None:
        """The run reached a terminal status (completed, incomplete, failed, ...)."""

    def on_run_step_created(self, run_step: RunStep) -> None:
        """A run step was created."""

    def on_run_step_delta(self, delta: RunStepDelta, snapshot: RunStep) -> None:
        """A step delta (as sent) and the step's snapshot with the delta merged."""

    def on_run_step_done(self, run_step: RunStep) -> None:
        """A run step reached a terminal status."""

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        """A tool call appeared in a step."""

    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        """A tool call delta (as sent) and the call's snapshot with the delta merged."""

    def on_tool_call_done(self, tool_call: ToolCall) -> None:
        """A tool call is complete: its step ended, or its run requires action."""

    def on_message_created(self, message: Message) -> None:
        """A message was created."""

    def on_message_delta(self, delta: MessageDelta, snapshot: Message) -> None:
        """A message delta (as sent) and the message's snapshot with the delta merged."""

    def on_message_done(self, message: Message) -> None:
        """A message completed or ended incomplete."""

    def on_text_created(self, text: Text) -> None:
        """A text content part appeared (already holding its first delta)."""

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        """A text delta (``delta.value``) and the text so far (``snapshot.value``)."""

    def on_text_done(self, text: Text) -> None:
        """A text content part is complete (its message completed or ended)."""

    def on_refusal_delta(self, delta: RefusalDeltaBlock, snapshot: RefusalContentBlock) -> None:
        """A refusal delta (``delta.refusal``) and the refusal so far (``snapshot.refusal``)."""

    def on_refusal_done(self, refusal: RefusalContentBlock) -> None:
        """A refusal content part is complete (``refusal.refusal`` is its text)."""

    def on_image_file_done(self, image_file: ImageFile) -> None:
        """An image_file content part is complete."""

    def on_image_url_done(self, image_url: ImageURL) -> None:
        """An image_url content part is complete."""

    def on_error_event(self, error: ErrorObject) -> None:
        """The server sent an ``error`` event."""

    def on_unknown_event(self, event: Event) -> None:
        """An event this version of streamkit does not know (kept whole)."""

    def on_problem(self, problem: c.Problem) -> None:
        """A problem recorded instead of raised (lenient fold, tolerant decoding, truncation)."""

    def on_tool_error(self, error: ToolCallError) -> None:
        """A tool call of the client's tool loop failed (``error.kind``: invalid_arguments,
        unknown_tool, raised, timeout); ``error.output`` is what the model is sent, if any."""

    def on_reasoning_delta(self, delta: Any, snapshot: Any) -> None:
        """Responses: a piece of reasoning (``delta.delta``) and the part so far
        (``snapshot.text``; ``snapshot.type`` is "summary_text" or "reasoning_text")."""

    def on_reasoning_done(self, part: Any) -> None:
        """Responses: a reasoning summary or reasoning text part is complete."""

    def on_tool_call_progress(self, status: str, tool_call: Any) -> None:
        """Responses: a hosted tool's item moved to ``status`` ("in_progress",
        "searching", "interpreting", "generating", "completed", "failed"), or sent a
        partial image ("partial_image": the image is in ``current_event.data``)."""

    def on_mcp_approval_request(self, request: Any) -> None:
        """Responses: the model asks approval before calling an MCP tool (the
        ``mcp_approval_request`` item: ``server_label``, ``name``, ``arguments``)."""


class AsyncEventHandler(_HandlerBase):
    """Async callbacks for :func:`streamkit.astream`: the hooks of :class:`EventHandler`,
    as coroutines. A callback may ``await``; the stream waits for it (backpressure)."""

    async def on_event(self, event: Event) -> None:
        """Every decoded event, before it is folded into the snapshots."""

    async def on_end(self) -> None:
        """The stream ended: read to the end, failed, or closed early. Fires once."""

    async def on_exception(self, exception: Exception) -> None:
        """An exception while streaming (source, parser, decoding, fold, or a callback)."""

    async def on_timeout(self) -> None:
        """The source timed out (before ``on_exception`` with the timeout error)."""

    async def on_run_created(self, run: Run) -> None:
        """A run was seen for the first time."""

    async def on_run_status(self, run: Run, previous: str | None) -> None:
        """A run's status changed (``previous`` is None when the run is first seen)."""

    async def on_requires_action(
        self, run: Run, tool_calls: list[RequiredActionFunctionToolCall]
    ) -> None:
        """The run waits for the outputs of ``tool_calls`` (submit them to continue)."""

    async def on_run_done(self, run: Run) -> None:
        """The run reached a terminal status (completed, incomplete, failed, ...)."""

    async def on_run_step_created(self, run_step: RunStep) -> None:
        """A run step was created."""

    async def on_run_step_delta(self, delta: RunStepDelta, snapshot: RunStep) -> None:
        """A step delta (as sent) and the step's snapshot with the delta merged."""

    async def on_run_step_done(self, run_step: RunStep) -> None:
        """A run step reached a terminal status."""

    async def on_tool_call_created(self, tool_call: ToolCall) -> None:
        """A tool call appeared in a step."""

    async def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        """A tool call delta (as sent) and the call's snapshot with the delta merged."""

    async def on_tool_call_done(self, tool_call: ToolCall) -> None:
        """A tool call is complete: its step ended, or its run requires action."""

    async def on_message_created(self, message: Message) -> None:
        """A message was created."""

    async def on_message_delta(self, delta: MessageDelta, snapshot: Message) -> None:
        """A message delta (as sent) and the message's snapshot with the delta merged."""

    async def on_message_done(self, message: Message) -> None:
        """A message completed or ended incomplete."""

    async def on_text_created(self, text: Text) -> None:
        """A text content part appeared (already holding its first delta)."""

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        """A text delta (``delta.value``) and the text so far (``snapshot.value``)."""

    async def on_text_done(self, text: Text) -> None:
        """A text content part is complete (its message completed or ended)."""

    async def on_refusal_delta(
        self, delta: RefusalDeltaBlock, snapshot: RefusalContentBlock
    ) -> None:
        """A refusal delta (``delta.refusal``) and the refusal so far (``snapshot.refusal``)."""

    async def on_refusal_done(self, refusal: RefusalContentBlock) -> None:
        """A refusal content part is complete (``refusal.refusal`` is its text)."""

    async def on_image_file_done(self, image_file: ImageFile) -> None:
        """An image_file content part is complete."""

    async def on_image_url_done(self, image_url: ImageURL) -> None:
        """An image_url content part is complete."""

    async def on_error_event(self, error: ErrorObject) -> None:
        """The server sent an ``error`` event."""

    async def on_unknown_event(self, event: Event) -> None:
        """An event this version of streamkit does not know (kept whole)."""

    async def on_problem(self, problem: c.Problem) -> None:
        """A problem recorded instead of raised (lenient fold, tolerant decoding, truncation)."""

    async def on_tool_error(self, error: ToolCallError) -> None:
        """A tool call of the client's tool loop failed (see :meth:`EventHandler.on_tool_error`)."""

    async def on_reasoning_delta(self, delta: Any, snapshot: Any) -> None:
        """Responses: see :meth:`EventHandler.on_reasoning_delta`."""

    async def on_reasoning_done(self, part: Any) -> None:
        """Responses: see :meth:`EventHandler.on_reasoning_done`."""

    async def on_tool_call_progress(self, status: str, tool_call: Any) -> None:
        """Responses: see :meth:`EventHandler.on_tool_call_progress`."""

    async def on_mcp_approval_request(self, request: Any) -> None:
        """Responses: see :meth:`EventHandler.on_mcp_approval_request`."""


#: A table entry: calls the hook(s) for one change; returns what the hook returned (a
#: coroutine for an async handler, which the stream awaits).
Dispatch = Callable[[Any], Any]


def _hook(handler: object, base: type, name: str) -> Callable[..., Any] | None:
    """The bound hook ``name``, or None when the handler's class does not override it."""
    if getattr(type(handler), name) is getattr(base, name):
        return None
    return getattr(handler, name)  # type: ignore[no-any-return]


def _one(hook: Callable[..., Any], attr: str) -> Dispatch:
    get = attrgetter(attr)
    return lambda change: hook(get(change))


def _text_snapshot(part: Any) -> Any:
    """What text hooks are given as the text: a part's ``text`` object (Assistants), or
    the part itself when its ``text`` is a plain string (Responses)."""
    text = part.text
    return part if text.__class__ is str else text


def _part_created(text: Callable[..., Any]) -> Dispatch:
    def dispatch(change: c.ContentPartCreated) -> Any:
        if change.kind == "text":
            return text(_text_snapshot(change.part))
        return None

    return dispatch


def _part_delta(
    text: Callable[..., Any] | None,
    refusal: Callable[..., Any] | None,
    reasoning: Callable[..., Any] | None,
) -> Dispatch:
    def dispatch(change: c.ContentPartDelta) -> Any:
        kind = change.kind
        if kind == "text":
            if text is None:
                return None
            part: Any = change.part
            snapshot = part.text
            if snapshot.__class__ is str:  # Responses: the payload and the part
                return text(change.delta, part)
            delta: Any = change.delta
            if delta.text is not None:
                return text(delta.text, snapshot)
        elif kind == "refusal" and refusal is not None:
            return refusal(change.delta, change.part)
        elif kind == "reasoning" and reasoning is not None:
            return reasoning(change.delta, change.part)
        return None

    return dispatch


#: For each part kind: the hook called when such a part is done, and the attribute of the
#: part it is given (None: the part itself).
_DONE_HOOKS: dict[str, tuple[str, str | None]] = {
    "text": ("on_text_done", "text"),
    "reasoning": ("on_reasoning_done", None),
    "image_file": ("on_image_file_done", "image_file"),
    "image_url": ("on_image_url_done", "image_url"),
    "refusal": ("on_refusal_done", None),
}


def _part_done(hooks: dict[str, tuple[Callable[..., Any], str | None]]) -> Dispatch:
    def dispatch(change: c.ContentPartDone) -> Any:
        entry = hooks.get(change.kind)
        if entry is None:
            return None
        hook, attr = entry
        if attr == "text":
            return hook(_text_snapshot(change.part))
        return hook(change.part if attr is None else getattr(change.part, attr))

    return dispatch


def _approval(approval: Callable[..., Any], done: Dispatch | None) -> Dispatch:
    """``on_tool_call_done`` (when overridden), then, for an ``mcp_approval_request``
    item, ``on_mcp_approval_request``."""

    def dispatch(change: c.ToolCallDone) -> Any:
        if change.kind != "mcp_approval_request":
            return done(change) if done is not None else None
        if done is None:
            return approval(change.tool_call)
        return _then(done(change), approval, change.tool_call)

    return dispatch


def _then(first: Any, hook: Callable[..., Any], arg: Any) -> Any:
    """Call ``hook(arg)`` after ``first`` (awaited first when it is a coroutine)."""
    if first is None or not hasattr(first, "__await__"):
        return hook(arg)

    async def both() -> Any:
        await first
        return await hook(arg)

    return both()


_HOOKS: list[tuple[Any, Any]] = []  # the compiled hooks' types (None: pure Python), once


def _hook_types() -> tuple[Any, Any]:
    """``_speedups.TextDeltaHook`` and ``CallDeltaHook`` when the C speedups and the
    compiled fold are active, else Nones."""
    if not _HOOKS:
        from .sse import __compiled__

        types: tuple[Any, Any] = (None, None)
        if __compiled__:
            from . import _speedups

            text, call = _speedups.TextDeltaHook, _speedups.CallDeltaHook
            try:
                text(print, print)  # refused until the fold's classes are checked
                types = (text, call)
            except RuntimeError:
                pass
        _HOOKS.append(types)
    return _HOOKS[0]


def dispatch_table(
    handler: EventHandler | AsyncEventHandler, *, speedups: bool = True
) -> dict[type, Dispatch]:
    """Change type -> the function calling ``handler``'s hooks for it (overridden hooks only).

    The one place that maps Changes to callbacks. ``on_event``, ``on_end``,
    ``on_exception`` and ``on_timeout`` are not in it: the stream calls them itself.
    With the C speedups active, an Assistants text delta reaches ``on_text_delta``, and a
    tool call delta ``on_tool_call_delta``, through a compiled dispatch making the same
    call (``speedups=False``: the Python one).
    """
    base: type = EventHandler if isinstance(handler, EventHandler) else AsyncEventHandler

    def hook(name: str) -> Callable[..., Any] | None:
        return _hook(handler, base, name)

    table: dict[type, Dispatch] = {}
    simple: list[tuple[type, str, str]] = [
        (c.RunCreated, "on_run_created", "run"),
        (c.RunFinished, "on_run_done", "run"),
        (c.StepCreated, "on_run_step_created", "step"),
        (c.StepDone, "on_run_step_done", "step"),
        (c.ToolCallCreated, "on_tool_call_created", "tool_call"),
        (c.ToolCallDone, "on_tool_call_done", "tool_call"),
        (c.MessageCreated, "on_message_created", "message"),
        (c.MessageDone, "on_message_done", "message"),
        (c.ErrorReceived, "on_error_event", "error"),
        (c.UnknownReceived, "on_unknown_event", "event"),
    ]
    for change_type, name, attr in simple:
        if (h := hook(name)) is not None:
            table[change_type] = _one(h, attr)
    if (h := hook("on_problem")) is not None:
        table[c.Problem] = h
    if (h := hook("on_run_status")) is not None:
        status = h
        table[c.RunStatusChanged] = lambda ch: status(ch.run, ch.previous)
    if (h := hook("on_requires_action")) is not None:
        action = h
        table[c.RunRequiresAction] = lambda ch: action(ch.run, ch.tool_calls)
    if (h := hook("on_run_step_delta")) is not None:
        step_delta = h
        table[c.StepDeltaApplied] = lambda ch: step_delta(ch.delta, ch.step)
    compiled_text, compiled_call = _hook_types() if speedups else (None, None)
    if (h := hook("on_tool_call_delta")) is not None:
        call_delta = h
        table[c.ToolCallDelta] = lambda ch: call_delta(ch.delta, ch.tool_call)
        if compiled_call is not None:
            table[c.ToolCallDelta] = compiled_call(h, table[c.ToolCallDelta])
    if (h := hook("on_message_delta")) is not None:
        message_delta = h
        table[c.MessageDeltaApplied] = lambda ch: message_delta(ch.delta, ch.message)
    if (h := hook("on_text_created")) is not None:
        table[c.ContentPartCreated] = _part_created(h)
    text_delta, refusal_delta = hook("on_text_delta"), hook("on_refusal_delta")
    reasoning_delta = hook("on_reasoning_delta")
    if text_delta is not None or refusal_delta is not None or reasoning_delta is not None:
        part_delta = _part_delta(text_delta, refusal_delta, reasoning_delta)
        if compiled_text is not None and text_delta is not None:
            part_delta = compiled_text(text_delta, part_delta)
        table[c.ContentPartDelta] = part_delta
    if (h := hook("on_tool_call_progress")) is not None:
        from .protocols.responses import ToolCallProgress

        progress = h
        table[ToolCallProgress] = lambda ch: progress(ch.status, ch.tool_call)
    if (h := hook("on_mcp_approval_request")) is not None:
        approval, done_call = h, table.get(c.ToolCallDone)
        table[c.ToolCallDone] = _approval(approval, done_call)
    done: dict[str, tuple[Callable[..., Any], str | None]] = {
        kind: (h, attr)
        for kind, (name, attr) in _DONE_HOOKS.items()
        if (h := hook(name)) is not None
    }
    if done:
        table[c.ContentPartDone] = _part_done(done)
    return table
