"""The Assistants protocol (``thread.run.*``, ``thread.run.step.*``, ``thread.message.*``).

The data: the event table :data:`streamkit.events.EVENTS` (event name -> event class,
payload model, object kind, status), the lifecycles :data:`RUN`, :data:`STEP`,
:data:`MESSAGE` (and their ``*_MOVES`` / ``*_TERMINAL`` tables), and the rule for a proper
end: a stream may end after ``done``, an ``error`` event, a run reaching a terminal
status, or a run requiring action. The merge rules are :class:`State`, its fold.
"""

from __future__ import annotations

from ...events import EVENTS, decode
from .. import Protocol
from ._fold import State
from ._lifecycles import (
    MESSAGE,
    MESSAGE_MOVES,
    MESSAGE_TERMINAL,
    RUN,
    RUN_MOVES,
    RUN_TERMINAL,
    STEP,
    STEP_MOVES,
    STEP_TERMINAL,
)

__all__ = [
    "ASSISTANTS",
    "MESSAGE",
    "MESSAGE_MOVES",
    "MESSAGE_TERMINAL",
    "RUN",
    "RUN_MOVES",
    "RUN_TERMINAL",
    "STEP",
    "STEP_MOVES",
    "STEP_TERMINAL",
    "State",
]


def _new_state(strict: bool) -> State:
    return State(strict=strict)


#: The Assistants protocol, as data.
ASSISTANTS = Protocol(
    name="assistants",
    events=EVENTS,
    lifecycles={"run": RUN, "step": STEP, "message": MESSAGE},
    decode=decode,
    new_state=_new_state,
    ending=(
        "done, an error event, a run in a terminal status "
        f"({', '.join(sorted(RUN_TERMINAL))}), or a run that requires action"
    ),
)
