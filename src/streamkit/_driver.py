"""The driver: one sans-IO object that runs parse -> decode -> fold for one stream.

Every edge drives a :class:`Driver`, the way every HTTP integration of h11 drives its
``Connection``: :func:`~streamkit.stream` and :func:`~streamkit.astream` pull bytes from
a source, the CLI reads files, and the client, relay and emulator will do the same. The
driver alone decides whether the input ended properly: :meth:`Driver.close` says so, and
reports a cut stream as a ``"truncated"`` :class:`~streamkit.fold.Problem` that it records
in the fold's problem list. It imports no I/O library.

Two ways to drive it:

- ``for event, changes in driver.feed(data)``: each event the bytes complete, folded,
  with the Changes it caused; then ``driver.close()`` at the end of input.
- Step by step, for an edge that must act between decoding and folding (a handler's
  ``on_event`` sees each event before it is folded): ``for sse in driver.receive(data)``,
  ``event = driver.decode(sse)``, ``changes = driver.apply(event)``; then ``close()``.

An error (a malformed event in strict mode, a lifecycle violation, an over-long line)
raises from the step that met it; everything folded before it stays in
:attr:`Driver.state`, readable.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import orjson

from ._changes import Change, Problem
from .sse import ServerSentEvent, SSEParser, python_feed

if TYPE_CHECKING:
    from .events import Event
    from .protocols import Protocol

__all__ = ["DEFAULT_LIMITS", "Driver", "protocol_named", "protocol_of"]

#: The default limits: the longest line and the largest event, in bytes. Data lines of
#: more than 1 MiB are rare but legal (a large tool output): raise ``max_line_bytes``.
DEFAULT_LIMITS = {"max_line_bytes": 1 << 20, "max_event_bytes": 16 << 20}


class Driver:
    """Parse, decode and fold one stream; say at its end whether it ended properly.

    ``protocol`` is the event format (default: the Assistants protocol), a
    :class:`~streamkit.protocols.Protocol` or a name: ``"assistants"``, ``"responses"``,
    or ``"auto"`` (told from the first event: see :func:`protocol_of`). ``state``
    continues an earlier stream's fold (e.g. after submitting tool outputs); otherwise a
    new one is made, ``strict`` or lenient. ``tolerant`` decoding turns a malformed event
    into a Problem instead of an error. ``max_line_bytes`` / ``max_event_bytes`` bound
    what the parser holds (an ``SSEError`` past them); ``diagnostics`` keeps the parser's
    notes on legal but suspicious input (``driver.parser.diagnostics``).
    ``speedups=False`` runs the pure-Python reference even where the optional C speedups
    are active (the differential tests compare the two; see ``docs/speedups.md``).
    """

    def __init__(
        self,
        *,
        protocol: Protocol | str | None = None,
        state: Any = None,
        strict: bool = True,
        tolerant: bool = False,
        max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
        max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
        diagnostics: bool = False,
        speedups: bool = True,
    ) -> None:
        self._speedups = speedups
        self._auto = protocol == "auto" and state is None
        if isinstance(protocol, str) or protocol is None:
            protocol = protocol_named(protocol or "assistants", state)
        #: The event format being read.
        self.protocol = protocol
        #: The fold: every snapshot of this stream.
        self.state = state if state is not None else protocol.new_state(strict)
        self.state.begin_stream()
        if not speedups:
            self.state.use_speedups(False)
        #: The Server-Sent Events parser.
        self.parser = SSEParser(
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
            diagnostics=diagnostics,
        )
        #: Fold one decoded event; return its Changes (the fold's own ``apply``).
        self.apply = self.state.apply
        #: Bytes received, and events decoded, so far.
        self.bytes = 0
        self.events = 0
        #: The last event decoded (None before the first).
        self.last_event: Event | None = None
        #: Set by :meth:`close`: the input ended before the protocol's proper end.
        self.truncated = False
        self.closed = False
        self._tolerant = tolerant
        self._strict = strict
        self._decode = self._decoder(protocol)
        self._limits = (max_line_bytes, max_event_bytes, diagnostics)
        self._step_type = _step_type() if speedups else None

    def _decoder(self, protocol: Protocol) -> Callable[..., Event]:
        if self._speedups:
            return protocol.decode
        from .events import decode, python_decode

        return python_decode if protocol.decode is decode else protocol.decode

    @property
    def speedups(self) -> bool:
        """Whether this driver may use the C speedups (``speedups=False``: pure Python)."""
        return self._speedups

    # -- step by step

    def receive(self, data: bytes) -> list[ServerSentEvent]:
        """Take the next bytes; return the Server-Sent Events they complete (to decode)."""
        self.bytes += len(data)
        found = self.parser.feed(data) if self._speedups else python_feed(self.parser, data)
        if self._auto and found:
            self._detect(found[0])
        return found

    def _detect(self, sse: ServerSentEvent) -> None:
        """``protocol="auto"``: take the protocol the first event is of."""
        self._auto = False
        protocol = protocol_of(sse)
        if protocol is self.protocol:
            return
        self.protocol = protocol
        self.state = protocol.new_state(self._strict)
        self.state.begin_stream()
        if not self._speedups:
            self.state.use_speedups(False)
        self.apply = self.state.apply
        self._decode = self._decoder(protocol)

    def decode(self, sse: ServerSentEvent) -> Event:
        """Decode one Server-Sent Event (tolerantly, if the driver is tolerant)."""
        event = self._decode(sse, tolerant=self._tolerant)
        self.events += 1
        self.last_event = event
        return event

    def event_step(
        self,
        on_event: Callable[[Event], object] | None = None,
        dispatch: dict[type, Callable[[Any], object]] | None = None,
        sinks: list[Any] | None = None,
    ) -> EventStep | None:
        """One compiled call per event for a sync edge, or None when the C speedups are
        not active here (``speedups=False``, a pure-Python build): loop in Python then.

        ``step(sse)`` does what a loop over :meth:`decode` and :meth:`apply` does, in this
        order, with no Python frame between: decode (counted, ``last_event`` set),
        ``on_event(event)``, fold, then each Change to ``dispatch.get(type(change))`` when
        there is one (sync callables: what they return is dropped), then
        ``sink.push(event, changes)`` for each object in the live list ``sinks``; it
        returns the event. An error raises from the step that met it; the event was
        decoded when ``driver.last_event.sse is sse``. ``step.run(sses)`` steps a list
        of events in one call (the events dropped); on an error, ``step.at`` is the index
        of the one that raised. Take a new step after :meth:`receive` when :attr:`apply`
        changed (``"auto"``: the first event set the protocol)."""
        if not self._speedups or self._step_type is None:
            return None
        return self._step_type(  # type: ignore[no-any-return]
            self,
            self._decode,
            self.apply,
            self._tolerant,
            on_event,
            {} if dispatch is None else dispatch,
            [] if sinks is None else sinks,
        )

    def next_input(self) -> None:
        """The bytes that follow are a new answer of the same conversation (the
        continuation after tool outputs, events rebuilt after a drop): the parser starts
        afresh (the last answer may have ended inside an event, which is dropped), events
        may follow the last answer's ``done``, and :meth:`close` judges the new answer's
        end on its own. Counts and snapshots carry on."""
        max_line, max_event, diagnostics = self._limits
        self.parser = SSEParser(
            max_line_bytes=max_line, max_event_bytes=max_event, diagnostics=diagnostics
        )
        self.state.begin_stream()

    # -- all at once

    def feed(self, data: bytes) -> Iterator[tuple[Event, list[Change]]]:
        """Each event the bytes complete, folded, with the Changes it caused (lazily: an
        error raises when its event is reached, after the events before it)."""
        found = self.receive(data)
        decode, apply = self.decode, self.apply
        for sse in found:
            event = decode(sse)
            yield event, apply(event)

    @property
    def ended(self) -> bool:
        """Whether the stream has met its proper end (``done``, a final run status ...)."""
        return bool(self.state.answer_ended)

    def close(self) -> list[Change]:
        """The input has ended. Returns ``[Problem("truncated")]`` when it ended before the
        protocol's proper end (recorded in the fold's problems too), else ``[]``.

        A stream with no event and no half-received one is empty, not cut short. Calling
        it again returns ``[]``.
        """
        if self.closed:
            return []
        self.closed = True
        pending = self.parser.pending
        self.parser.close()
        if self.ended or (self.events == 0 and not pending):
            return []
        self.truncated = True
        last = self.last_event
        if last is None:
            after = "inside its first event"
        else:
            sse = last.sse
            line = f" (SSE line {sse.line})" if sse is not None and sse.line is not None else ""
            after = f"after {self.events} event(s), the last {last.event!r}{line}"
        message = (
            f"the stream ended {after}, {self.bytes} bytes in, without a proper end "
            f"({self.protocol.ending}): it was cut short"
        )
        problem = Problem(last, "truncated", message)  # type: ignore[arg-type]
        self.state.record(problem)
        return [problem]


class EventStep(typing.Protocol):
    """What :meth:`Driver.event_step` returns (a compiled object)."""

    def __call__(self, sse: ServerSentEvent, /) -> Event:
        """Decode, count, fold and deliver one event; return it."""

    def run(self, sses: list[ServerSentEvent], /) -> None:
        """Step each event of the list in order."""

    @property
    def at(self) -> int:
        """In :meth:`run`: the index of the event being stepped (that raised)."""


def _step_type() -> Any:
    """The compiled per-event step (``_speedups.EventStep``), or None without speedups."""
    from .sse import __compiled__

    if not __compiled__:
        return None
    from . import _speedups

    return getattr(_speedups, "EventStep", None)


def protocol_named(name: str, state: Any = None) -> Protocol:
    """The protocol called ``name`` ("assistants", "responses"; "auto": the protocol of
    ``state`` when one is given, else the Assistants protocol until an event says)."""
    from .protocols.assistants import ASSISTANTS, State

    if name == "assistants" or (name == "auto" and (state is None or isinstance(state, State))):
        return ASSISTANTS  # the Responses package is imported only when needed
    if name not in ("auto", "responses"):
        raise ValueError(f"protocol must be 'auto', 'assistants' or 'responses', not {name!r}")
    from .protocols.responses import RESPONSES, ResponsesState

    if name == "auto" and not isinstance(state, ResponsesState):
        return ASSISTANTS
    return RESPONSES


def protocol_of(sse: ServerSentEvent) -> Protocol:
    """The protocol a stream is of, told from its first event: the Responses protocol for
    a ``response.*`` event, or a frame whose JSON has a ``response.*`` type or a
    ``sequence_number`` (an unnamed frame, ``error``, ``keepalive``); else Assistants."""
    from .protocols.assistants import ASSISTANTS

    name = sse.event
    responses = name.startswith("response.") or name == "keepalive"
    if not responses and name in ("message", "error"):
        try:
            payload = orjson.loads(sse.data)
        except orjson.JSONDecodeError:
            return ASSISTANTS
        if payload.__class__ is dict:
            tag = payload.get("type")
            responses = "sequence_number" in payload or (
                tag.__class__ is str and tag.startswith("response.")
            )
    if not responses:
        return ASSISTANTS
    from .protocols.responses import RESPONSES

    return RESPONSES
