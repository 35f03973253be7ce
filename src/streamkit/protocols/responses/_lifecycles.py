"""The Responses protocol's lifecycles: of a response, and of its output items.

A response starts ``queued`` (background mode) or ``in_progress`` and ends
``completed``, ``incomplete``, ``failed`` or ``cancelled``. An item is ``in_progress``
(hosted tools pass through ``searching``, ``interpreting``, ``generating``, ``calling``)
until ``completed``, ``incomplete`` or ``failed``; statuses of items this version does
not know are read as sent.
"""

from __future__ import annotations

from .. import Lifecycle

__all__ = ["ITEM", "ITEM_MOVES", "ITEM_TERMINAL", "RESPONSE", "RESPONSE_MOVES", "RESPONSE_TERMINAL"]

RESPONSE_TERMINAL = frozenset({"completed", "incomplete", "failed", "cancelled"})
RESPONSE_MOVES: dict[str, frozenset[str]] = {
    "queued": frozenset({"queued", "in_progress", *RESPONSE_TERMINAL}),
    "in_progress": frozenset({"in_progress", *RESPONSE_TERMINAL}),
    **{status: frozenset() for status in RESPONSE_TERMINAL},
}

ITEM_TERMINAL = frozenset({"completed", "incomplete", "failed"})
_ITEM_WORKING = frozenset({"in_progress", "searching", "interpreting", "generating", "calling"})
ITEM_MOVES: dict[str, frozenset[str]] = {
    **{status: _ITEM_WORKING | ITEM_TERMINAL for status in _ITEM_WORKING},
    **{status: frozenset() for status in ITEM_TERMINAL},
}

RESPONSE = Lifecycle("response", RESPONSE_MOVES, RESPONSE_TERMINAL)
ITEM = Lifecycle("item", ITEM_MOVES, ITEM_TERMINAL)
