"""The Responses protocol (OpenAI's Responses API: ``response.*`` events, ``error``).

The data: the event table :data:`EVENTS` (one class per event of the streaming union,
see :mod:`._events`), the lifecycles of a response (:data:`RESPONSE`) and of its output
items (:data:`ITEM`), and the rule for a proper end: ``response.completed``,
``response.incomplete``, ``response.failed``, ``response.cancelled``, an ``error``
event, or ``[DONE]``. The
merge rules are :class:`ResponsesState`, its fold, which emits the same Changes as the
Assistants fold (the response is the run; see ``docs/responses.md``).
"""

from __future__ import annotations

from .. import Protocol
from ._events import *  # noqa: F403
from ._events import EVENTS, decode
from ._events import __all__ as _events_all
from ._fold import ResponsesState, ToolCallProgress
from ._lifecycles import ITEM, ITEM_TERMINAL, RESPONSE, RESPONSE_TERMINAL

__all__ = [
    "ITEM",
    "ITEM_TERMINAL",
    "RESPONSE",
    "RESPONSES",
    "RESPONSE_TERMINAL",
    "ResponsesState",
    "ToolCallProgress",
    *_events_all,
]


def _new_state(strict: bool) -> ResponsesState:
    return ResponsesState(strict=strict)


#: The Responses protocol, as data.
RESPONSES = Protocol(
    name="responses",
    events=EVENTS,
    lifecycles={"response": RESPONSE, "item": ITEM},
    decode=decode,
    new_state=_new_state,
    ending=(
        "response.completed, response.incomplete, response.failed, response.cancelled, "
        "an error event, or [DONE]"
    ),
)
