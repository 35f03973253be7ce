"""The Change vocabulary: what one event did to the folded state.

These are streamkit's own words (run / step / tool call / message / content part:
created, delta, done), not the Assistants event names, so that another protocol with the
same shape of deltas can be mapped onto them. Every change carries the ``event`` that
caused it. Snapshot attributes (``run``, ``step``, ``message``, ``part``, ``tool_call``)
are the live objects held by the fold: read them now, copy (``.clone()``) to keep.
Changes are not frozen (frozen attrs classes cost twice as much to build, once per delta),
but nothing in streamkit modifies a Change after creating it, and neither should you.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .events import Event
    from .models import (
        ErrorObject,
        Message,
        MessageContent,
        MessageContentDelta,
        MessageDelta,
        RequiredActionFunctionToolCall,
        Run,
        RunStep,
        RunStepDelta,
        Thread,
        ToolCall,
    )
    from .models import (
        ToolCallDelta as ToolCallDeltaModel,
    )

__all__ = [
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


@attrs.define(slots=True, eq=False)
class Change:
    """Base of every change."""

    event: Event = attrs.field(repr=False)


@attrs.define(slots=True, eq=False)
class ThreadStarted(Change):
    """A thread was created (``thread.created``)."""

    thread: Thread


@attrs.define(slots=True, eq=False)
class RunCreated(Change):
    """A run was seen for the first time."""

    run: Run


@attrs.define(slots=True, eq=False)
class RunStatusChanged(Change):
    """A run moved from ``previous`` (None when first seen) to ``status``."""

    run: Run
    previous: str | None
    status: str | None


@attrs.define(slots=True, eq=False)
class RunRequiresAction(Change):
    """A run waits for the outputs of ``tool_calls``."""

    run: Run
    tool_calls: list[RequiredActionFunctionToolCall]


@attrs.define(slots=True, eq=False)
class RunFinished(Change):
    """A run reached a terminal status (completed, incomplete, failed, cancelled, expired)."""

    run: Run


@attrs.define(slots=True, eq=False)
class StepCreated(Change):
    """A run step was seen for the first time."""

    step: RunStep


@attrs.define(slots=True, eq=False)
class StepDeltaApplied(Change):
    """A ``thread.run.step.delta`` was merged into ``step``."""

    step: RunStep
    delta: RunStepDelta


@attrs.define(slots=True, eq=False)
class StepDone(Change):
    """A run step reached a terminal status (completed, failed, cancelled, expired)."""

    step: RunStep


@attrs.define(slots=True, eq=False)
class ToolCallCreated(Change):
    """A tool call appeared at ``index`` of ``step``."""

    step: RunStep
    index: int
    tool_call: ToolCall
    #: The call's type: "function", "code_interpreter", "file_search", or one not known yet.
    kind: str = ""


@attrs.define(slots=True, eq=False)
class ToolCallDelta(Change):
    """``delta`` was merged into the tool call at ``index``; ``text`` is the text it
    appended (a function's arguments, a code interpreter's input), "" when none."""

    step: RunStep
    index: int
    tool_call: ToolCall
    delta: ToolCallDeltaModel
    #: The call's type (see :class:`ToolCallCreated`).
    kind: str = ""
    #: The arguments or input text this delta appended ("" when none).
    text: str = ""


@attrs.define(slots=True, eq=False)
class ToolCallDone(Change):
    """The tool call at ``index`` is complete: its step ended or its run requires action."""

    step: RunStep
    index: int
    tool_call: ToolCall
    #: The call's type (see :class:`ToolCallCreated`).
    kind: str = ""


@attrs.define(slots=True, eq=False)
class MessageCreated(Change):
    """A message was seen for the first time."""

    message: Message


@attrs.define(slots=True, eq=False)
class MessageDeltaApplied(Change):
    """A ``thread.message.delta`` was merged into ``message``."""

    message: Message
    delta: MessageDelta


@attrs.define(slots=True, eq=False)
class MessageDone(Change):
    """A message completed or ended incomplete."""

    message: Message


@attrs.define(slots=True, eq=False)
class ContentPartCreated(Change):
    """A content part (text, image_file, image_url, refusal) appeared at ``index``."""

    message: Message
    index: int
    part: MessageContent
    #: The part's type: "text", "refusal", "image_file", "image_url", or one not known yet.
    kind: str = ""


@attrs.define(slots=True, eq=False)
class ContentPartDelta(Change):
    """``delta`` was merged into the content part at ``index``; ``text`` is the text it
    appended ("" when none), whatever the protocol."""

    message: Message
    index: int
    part: MessageContent
    delta: MessageContentDelta
    #: The part's type (see :class:`ContentPartCreated`).
    kind: str = ""
    #: The text this delta appended to a "text" or "refusal" part ("" when none).
    text: str = ""


@attrs.define(slots=True, eq=False)
class ContentPartDone(Change):
    """The content part at ``index`` is complete (its message completed or ended)."""

    message: Message
    index: int
    part: MessageContent
    #: The part's type (see :class:`ContentPartCreated`).
    kind: str = ""


@attrs.define(slots=True, eq=False)
class ErrorReceived(Change):
    """The server sent an ``error`` event."""

    error: ErrorObject


@attrs.define(slots=True, eq=False)
class UnknownReceived(Change):
    """An event this version does not know (kept whole in ``event``)."""


@attrs.define(slots=True, eq=False)
class StreamDone(Change):
    """The ``done`` event: the server ended the stream."""


@attrs.define(slots=True, eq=False)
class Problem(Change):
    """Something was wrong and was recorded instead of raised.

    ``kind`` is one of:

    - raised instead in strict mode: "illegal_transition" (a move the lifecycle forbids),
      "unknown_object" (a delta or event for an object never seen);
    - from tolerant decoding: "malformed", "recovered";
    - recorded in either mode, since the snapshot stays right: "status_mismatch" (an
      event whose name and payload status disagree; the payload wins), "left_open"
      (children a finished run never finished: they are done, their status kept as the
      server sent it), "mismatch" (the server's final object differs from what the deltas
      built; ``detail`` has both and the differing fields);
    - from :class:`~streamkit.Driver`: "truncated" (the stream ended before ``done`` or a
      final run status; its ``event`` is the last event, None when the stream was cut
      inside its very first event).

    ``message`` says what happened, naming the object, its status and the event.
    """

    kind: str
    message: str
    detail: Any = None
