"""The generic fold: what every protocol's fold is made of, knowing no protocol's names.

- :class:`Indexed`: the items of a list that deltas address by ``index`` (content parts,
  tool calls, annotations, outputs), kept sorted by index, with the indices already done.
- :func:`adopt`: an upsert that keeps a snapshot's identity, so a snapshot someone holds
  stays the live one across full-object events.
- :class:`FoldCore`: strict / lenient violations against a
  :class:`~streamkit.protocols.Lifecycle`, the problem list, the count of proper endings
  (read by :class:`~streamkit.Driver` to tell a finished stream from a cut one), and the
  done bookkeeping of whole objects (:meth:`FoldCore.finish_once`).

A protocol's fold subclasses :class:`FoldCore` and adds its merge rules; it emits the
Changes of :mod:`streamkit.fold` and nothing else changes a snapshot.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .._changes import Problem
from .._errors import ProtocolError
from .._model import Model, UnknownVariant

if TYPE_CHECKING:
    from .._changes import Change
    from ..events import Event
    from ..protocols import EventSpec, Lifecycle

__all__ = ["FoldCore", "Indexed", "adopt", "index_of"]

_M = TypeVar("_M", bound=Model)


@attrs.define(slots=True)
class Indexed:
    """The items of an indexed list, by index, with the list kept sorted by index.

    ``done`` holds the indices whose item is done; ``known`` every index that ever held an
    item, also one a server's final object left out (a delta for it is not a new item).
    """

    items: list[Any]
    indices: list[int]
    by_index: dict[int, Any]
    done: set[int] = attrs.field(factory=set)
    known: set[int] = attrs.field(factory=set)

    @classmethod
    def of(cls, items: list[Any]) -> Indexed:
        """Track ``items`` (a snapshot's list, shared, not copied) at indices 0, 1, ..."""
        indices = list(range(len(items)))
        return cls(items, indices, dict(enumerate(items)), set(), set(indices))

    def put(self, index: int, item: Any) -> None:
        """Insert ``item`` at ``index``, keeping the list sorted by index."""
        at = bisect_left(self.indices, index)
        self.indices.insert(at, index)
        self.items.insert(at, item)
        self.by_index[index] = item
        self.known.add(index)

    def carry_over(self, old: Indexed | None) -> tuple[set[int], dict[int, Any], bool]:
        """Continue ``old`` (the same object's items before a full-object event): take over
        what was done; return the indices it ever had, the items it had that this lacks,
        and whether this list was re-keyed.

        A full object lists its items densely (at 0, 1, 2 ...), while deltas may have
        addressed them by sparse indices (0 and 2). Then the object's items are matched to
        the indices the deltas used, in order, so each item keeps its identity (created
        and done once); items beyond them continue after the last index.
        """
        if old is None:
            return set(), {}, False
        self.done = old.done
        rekeyed = False
        count, old_indices = len(self.items), old.indices
        if (
            old_indices
            and old_indices[-1] != len(old_indices) - 1
            and self.indices == list(range(count))
        ):
            last = old_indices[-1]
            self.indices = [
                old_indices[p] if p < len(old_indices) else last + 1 + p - len(old_indices)
                for p in range(count)
            ]
            self.by_index = dict(zip(self.indices, self.items, strict=True))
            rekeyed = True
        seen = old.known
        self.known = seen | set(self.indices)
        left = {i: item for i, item in old.by_index.items() if i not in self.by_index}
        return seen, left, rekeyed

    def restart(self, items: list[Any]) -> Indexed:
        """A new list for the same object (its items were replaced): what was known and
        done stays known and done, so no index is created twice."""
        fresh = Indexed.of(items)
        fresh.known |= self.known
        fresh.done = self.done
        return fresh

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
        """Put ``item`` in place of the item at ``index`` (which exists)."""
        self.items[bisect_left(self.indices, index)] = item
        self.by_index[index] = item


def adopt(old: _M | None, new: _M) -> _M:
    """Make ``old`` (when there is one) the snapshot ``new`` describes, keeping its identity:
    whoever holds a snapshot keeps seeing it live across full-object events."""
    if old is None or type(old) is not type(new):
        return new
    for field in attrs.fields(type(old)):
        # A decoded model leaves ``_extra`` unset until it is materialized.
        setattr(old, field.name, getattr(new, field.name, None))
    return old


def index_of(delta: Any, items: Indexed) -> int:
    """A delta item's ``index`` (for an unknown variant, from its raw object).

    An item without an integer index is taken to be a new item after the last one.
    """
    index = delta.raw.get("index") if isinstance(delta, UnknownVariant) else delta.index
    if isinstance(index, int) and not isinstance(index, bool):
        return index
    return items.indices[-1] + 1 if items.indices else 0


class FoldCore:
    """Violations, problems, endings and done bookkeeping shared by every protocol's fold.

    ``strict``: a lifecycle violation raises :class:`~streamkit.ProtocolError` before
    anything changes; lenient (``strict=False``): it becomes a ``Problem`` change, recorded
    in :attr:`problems`, and the event is applied anyway. :attr:`endings` counts the events
    after which a stream may properly end (the protocol's rule, applied by its fold).
    """

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        #: Every Problem recorded so far, in order.
        self.problems: list[Problem] = []
        #: How many proper endings (``done``, a final status...) the fold has met.
        self.endings = 0
        #: ``endings`` when the current answer (one HTTP response's stream) began: the
        #: answer has ended properly once ``endings`` is past it.
        self.answer_start = 0
        #: Object ids whose "done" has fired, by kind (each fires exactly once).
        self.finished: dict[str, set[str]] = {}

    def use_speedups(self, enabled: bool) -> None:
        """Use the compiled fast path, if this fold has one (see ``docs/speedups.md``), or
        not (the pure-Python reference). A fold without one ignores this."""

    def begin_stream(self) -> None:
        """A new answer (one response's stream) starts feeding this fold (the Driver
        calls this); its end is judged on its own."""
        self.answer_start = self.endings

    @property
    def answer_ended(self) -> bool:
        """Whether the current answer has met its proper end."""
        return self.endings > self.answer_start

    def record(self, problem: Problem) -> Problem:
        """Add ``problem`` to :attr:`problems` and return it."""
        self.problems.append(problem)
        return problem

    def note(self, event: Event | None, kind: str, message: str, detail: Any = None) -> Problem:
        """Record a Problem that never raises, in either mode: something the server really
        sent that the snapshot can live with (a status that disagrees with the event name,
        children its run left open, a final object that differs from the deltas)."""
        return self.record(Problem(event, kind, message, detail))  # type: ignore[arg-type]

    def violation(
        self,
        kind: str,
        message: str,
        *,
        what: str,
        object_id: str | None,
        status: str | None,
        event: Event,
    ) -> Problem:
        """Raise :class:`~streamkit.ProtocolError` (strict), or record and return a Problem."""
        if self.strict:
            raise ProtocolError(
                message, kind=what, object_id=object_id, status=status, event=event.event, raw=event
            )
        return self.record(Problem(event, kind, message))

    def check_move(
        self,
        lifecycle: Lifecycle,
        spec: EventSpec,
        object_id: str,
        old: str | None,
        new: str | None,
        event: Event,
        out: list[Change],
    ) -> None:
        """Check that a full-object event may move ``object_id`` from ``old`` to ``new``.

        The payload's status is what the server says, and it wins: an event whose name
        says another status (``thread.run.completed`` carrying ``"incomplete"``) is noted
        as a ``status_mismatch`` Problem in either mode, never raised. A second ``created``
        for an object (Azure sends some twice) is noted as ``created_again``. A move the
        lifecycle forbids (``completed`` back to ``in_progress``) is a violation.
        """
        what = lifecycle.kind
        if spec.status is not None and new != spec.status:
            out.append(
                self.note(
                    event,
                    "status_mismatch",
                    f"{event.event} carries {what} {object_id} with status {new!r}, not "
                    f"{spec.status!r}: the payload's status is kept",
                )
            )
        if old is None or new is None:
            return
        if spec.status is None:
            out.append(
                self.note(
                    event,
                    "created_again",
                    f"{what} {object_id} in status {old!r} was created again by {event.event}: "
                    "what was folded so far is kept",
                )
            )
        if not lifecycle.allows(old, new):
            out.append(
                self.violation(
                    "illegal_transition",
                    f"{what} {object_id} in status {old!r} cannot move to {new!r} on {event.event}",
                    what=what,
                    object_id=object_id,
                    status=old,
                    event=event,
                )
            )

    def finish_once(self, kind: str, object_id: str) -> bool:
        """Mark ``object_id`` of ``kind`` done; True the first time only."""
        done = self.finished.get(kind)
        if done is None:
            done = self.finished[kind] = set()
        if object_id in done:
            return False
        done.add(object_id)
        return True

    def is_finished(self, kind: str, object_id: str) -> bool:
        """Whether ``object_id``'s "done" has fired."""
        done = self.finished.get(kind)
        return done is not None and object_id in done
