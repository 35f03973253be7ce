"""The Assistants protocol's lifecycles: which status may follow which, per object kind.

An object first seen may start in any status (a stream can begin mid-lifecycle). Staying
in the same status is allowed where the API sends two events for it (``created`` then
``queued``). Terminal statuses allow no move.
"""

from __future__ import annotations

from .. import Lifecycle

__all__ = [
    "MESSAGE",
    "MESSAGE_MOVES",
    "MESSAGE_TERMINAL",
    "RUN",
    "RUN_MOVES",
    "RUN_TERMINAL",
    "STEP",
    "STEP_MOVES",
    "STEP_TERMINAL",
]

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

RUN = Lifecycle("run", RUN_MOVES, RUN_TERMINAL)
STEP = Lifecycle("step", STEP_MOVES, STEP_TERMINAL)
MESSAGE = Lifecycle("message", MESSAGE_MOVES, MESSAGE_TERMINAL)
