"""The fold: turns decoded events into snapshots and Changes.

Everything that changes a snapshot lives in the fold. ``State.apply(event)`` takes one
:class:`~streamkit.events.Event`, updates the snapshots of runs, run steps and messages,
and returns the list of Changes it caused. Callbacks, iterators, the CLI and relays are
all derived from those Changes, so they cannot disagree.

The fold is split in two: the generic machinery every protocol shares
(:mod:`streamkit.fold._core`: indexed lists, upserts that keep a snapshot's identity,
violations, done bookkeeping) and each protocol's merge rules; :class:`State` is the
Assistants protocol's (:mod:`streamkit.protocols.assistants`).

Lifecycles are tables (:data:`RUN_MOVES`, :data:`STEP_MOVES`, :data:`MESSAGE_MOVES`): which
status an object may move to from which. In strict mode (the default) an illegal move, or
a delta for an object never seen, raises :class:`~streamkit.ProtocolError` naming the
object, its status and the event, before anything is changed. In lenient mode the same
thing is returned as a :class:`Problem` change and the event is applied anyway. What a
real server sends that leaves the snapshot right is never raised, in either mode: it is a
Problem (an event whose name and payload status disagree: the payload's status wins).

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
created and then done at once; and when a run reaches a terminal status, every step,
message, part and call of it still open is done then (its status kept as the server sent
it, and a ``left_open`` Problem says which).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._changes import (
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

if TYPE_CHECKING:
    from ..protocols.assistants import (
        MESSAGE_MOVES,
        MESSAGE_TERMINAL,
        RUN_MOVES,
        RUN_TERMINAL,
        STEP_MOVES,
        STEP_TERMINAL,
        State,
    )

#: The Assistants protocol's fold and tables, loaded on first use: that protocol's modules
#: import the generic core of this package, so importing them here would be circular.
_ASSISTANTS = frozenset(
    {
        "MESSAGE_MOVES",
        "MESSAGE_TERMINAL",
        "RUN_MOVES",
        "RUN_TERMINAL",
        "STEP_MOVES",
        "STEP_TERMINAL",
        "State",
    }
)


def __getattr__(name: str) -> Any:
    if name in _ASSISTANTS:
        from ..protocols import assistants

        value = getattr(assistants, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'streamkit.fold' has no attribute {name!r}")


__all__ = [
    "MESSAGE_MOVES",
    "MESSAGE_TERMINAL",
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
