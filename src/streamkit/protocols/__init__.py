"""Protocols as data: what an event stream's events are and how its objects live.

A :class:`Protocol` is the data the generic pipeline needs to read one event format: a
table of :class:`EventSpec` rows (event name -> event class, payload model, object kind,
the status the event moves its object to), the :class:`Lifecycle` of each object kind
(which status may follow which, which statuses are terminal), and the fold that merges the
protocol's deltas (``new_state``). :class:`~streamkit.Driver` takes a protocol; the
Assistants protocol (:data:`streamkit.protocols.assistants.ASSISTANTS`) is the default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ..events import Event

__all__ = ["EventSpec", "Lifecycle", "Protocol"]


@attrs.frozen
class EventSpec:
    """One row of a protocol's event table.

    ``name`` is the SSE event name, ``event_class`` the typed event it decodes to,
    ``model`` the payload's model class (None when the data is not JSON, e.g. ``done``),
    ``kind`` the kind of object the event is about ("run", "step", "message", "thread",
    "error", "done" ...), ``status`` the status a full-object event moves its object to
    (None: any status, e.g. ``created``), and ``delta`` whether the payload is a delta
    merged into the object rather than the whole object.
    """

    name: str
    event_class: type[Event]
    model: type[Any] | None
    kind: str
    status: str | None = None
    delta: bool = False


@attrs.frozen
class Lifecycle:
    """Which status an object of ``kind`` may move to from which (``moves``), and where
    its life ends (``terminal``). An object first seen may start in any status; from a
    status missing from ``moves`` (one the protocol does not know) no move is legal."""

    kind: str
    moves: Mapping[str, frozenset[str]]
    terminal: frozenset[str]

    def allows(self, old: str, new: str) -> bool:
        """Whether an object in status ``old`` may move to ``new``."""
        allowed = self.moves.get(old)
        return allowed is not None and new in allowed


@attrs.frozen
class Protocol:
    """An event format: its event table, lifecycles, decoder and fold.

    ``decode(sse, tolerant=...)`` turns one Server-Sent Event into a typed event;
    ``new_state(strict)`` makes the fold for one conversation; ``ending`` describes the
    rule for a proper end of stream (the fold counts endings as it meets them).
    """

    name: str
    events: Mapping[str, EventSpec]
    lifecycles: Mapping[str, Lifecycle]
    decode: Callable[..., Event]
    new_state: Callable[[bool], Any]
    ending: str

    def spec(self, name: str) -> EventSpec | None:
        """The table row of event ``name``, or None for an event outside the protocol."""
        return self.events.get(name)
