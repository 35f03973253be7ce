"""Streams: pull a source, parse, decode, fold, call back; iterate what you need.

:func:`stream` (sync) and :func:`astream` (async, anyio: asyncio or trio) return a
:class:`Stream` / :class:`AsyncStream`. One pump does all the work, one event at a time:
it pulls a chunk from the source only when the events of the last one are used up, parses
it (:class:`~streamkit.sse.SSEParser`), decodes each event
(:func:`~streamkit.events.decode`), calls ``on_event``, folds the event
(:meth:`State.apply <streamkit.fold.State.apply>`) and calls the hooks the Changes name
(:func:`~streamkit._handler.dispatch_table`).

Iterators (``for event in s``, ``s.text_deltas``, ``s.changes()``, ``s.snapshots()``) are
views on that pump: each has its own small buffer of what it has not consumed yet and
drives the pump when the buffer is empty, so they are independent of one another and of
the handler, and nothing is read ahead of the slowest need. A view sees what the stream
produces after the view was created.
"""

from __future__ import annotations

import contextvars
import sys
import warnings
import weakref
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import suppress
from types import GeneratorType, TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, TypeVar, cast

from . import _changes as c
from ._driver import DEFAULT_LIMITS, Driver
from ._errors import StreamkitError
from ._handler import AsyncEventHandler, EventHandler, dispatch_table
from ._sources import AsyncSource, Source, as_bytes, open_async, open_sync
from .events import Event
from .fold import State
from .models import Message, Run, RunStep, TextContentBlock, Thread

if TYPE_CHECKING:
    import anyio

    from .protocols import Protocol

__all__ = [
    "AsyncStream",
    "Stream",
    "StreamTruncated",
    "StreamTruncatedWarning",
    "astream",
    "stream",
]

T = TypeVar("T")
OnTruncated: TypeAlias = Literal["raise", "warn", "ignore"]
#: The protocol of a stream by name: ``"auto"`` tells it from the first event.
ProtocolName: TypeAlias = Literal["auto", "assistants", "responses"]
Snapshot: TypeAlias = Run | RunStep | Message | Thread


def _is_timeout(exc: BaseException) -> bool:
    """A timeout of the source: Python's own, or httpx's (only if httpx is in use)."""
    if isinstance(exc, TimeoutError):
        return True
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, httpx.TimeoutException)


#: The async stream whose pump the current task is running, to refuse re-entry.
_PUMPING: contextvars.ContextVar[object] = contextvars.ContextVar("streamkit_pumping")
_REENTRY = "a stream cannot be advanced or closed from inside one of its own callbacks"


class StreamTruncated(StreamkitError):
    """The stream ended before ``done`` and before its run finished or required action.

    ``last_event`` is the last event decoded (None if there was none), ``events`` how
    many events were decoded and ``bytes_read`` how many bytes the source gave.
    """

    def __init__(self, message: str, *, last_event: Event | None, events: int, bytes_read: int):
        super().__init__(message)
        self.last_event = last_event
        self.events = events
        self.bytes_read = bytes_read


class StreamTruncatedWarning(UserWarning):
    """Issued for a truncated stream with ``on_truncated="warn"``."""


class _Stopped(Exception):
    """Raised inside a draining async pump when another task closes the stream."""


# --- what the views buffer ------------------------------------------------------------


class _Sink:
    """A view's buffer; the pump pushes each event and its changes to every live sink."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf: deque[Any] = deque()

    def push(self, event: Event | None, changes: list[c.Change]) -> None:
        raise NotImplementedError


class _EventSink(_Sink):
    __slots__ = ()

    def push(self, event: Event | None, changes: list[c.Change]) -> None:
        if event is not None:
            self.buf.append(event)


class _ChangeSink(_Sink):
    __slots__ = ()

    def push(self, event: Event | None, changes: list[c.Change]) -> None:
        self.buf.extend(changes)


class _TextSink(_Sink):
    __slots__ = ()

    def push(self, event: Event | None, changes: list[c.Change]) -> None:
        for change in changes:
            if change.__class__ is c.ContentPartDelta and change.kind == "text" and change.text:
                self.buf.append(change.text)


#: The snapshot attribute of each change type that touches one.
_TOUCHED: Final[dict[type, str]] = {
    c.ThreadStarted: "thread",
    c.RunCreated: "run",
    c.RunStatusChanged: "run",
    c.RunRequiresAction: "run",
    c.RunFinished: "run",
    c.StepCreated: "step",
    c.StepDeltaApplied: "step",
    c.StepDone: "step",
    c.ToolCallCreated: "step",
    c.ToolCallDelta: "step",
    c.ToolCallDone: "step",
    c.MessageCreated: "message",
    c.MessageDeltaApplied: "message",
    c.MessageDone: "message",
    c.ContentPartCreated: "message",
    c.ContentPartDelta: "message",
    c.ContentPartDone: "message",
}


class _SnapshotSink(_Sink):
    __slots__ = ()

    def push(self, event: Event | None, changes: list[c.Change]) -> None:
        touched: list[Any] = []
        for change in changes:
            attr = _TOUCHED.get(change.__class__)
            if attr is not None:
                obj = getattr(change, attr)
                if not any(obj is seen for seen in touched):
                    touched.append(obj)
        self.buf.extend(touched)


def _discard(sinks: list[_Sink], sink: _Sink) -> None:
    with suppress(ValueError):
        sinks.remove(sink)


class _View(Iterator[T]):
    """A sync view: drains its sink, driving the stream's pump when the sink is empty."""

    __slots__ = ("__weakref__", "_advance", "_buf")

    def __init__(self, stream: Stream, sink: _Sink) -> None:
        self._buf = sink.buf
        self._advance = stream._advance
        stream._sinks.append(sink)
        weakref.finalize(self, _discard, stream._sinks, sink)

    def __iter__(self) -> _View[T]:
        return self

    def __next__(self) -> T:
        buf = self._buf
        while not buf:
            if not self._advance():
                if buf:
                    break
                raise StopIteration
        return buf.popleft()  # type: ignore[no-any-return]


class _AsyncView(AsyncIterator[T]):
    """An async view: drains its sink, driving the stream's pump when the sink is empty."""

    __slots__ = ("__weakref__", "_advance", "_buf")

    def __init__(self, stream: AsyncStream, sink: _Sink) -> None:
        self._buf = sink.buf
        self._advance = stream._advance
        stream._sinks.append(sink)
        weakref.finalize(self, _discard, stream._sinks, sink)

    def __aiter__(self) -> _AsyncView[T]:
        return self

    async def __anext__(self) -> T:
        buf = self._buf
        while not buf:
            if not await self._advance(buf):
                if buf:
                    break
                raise StopAsyncIteration
        return buf.popleft()  # type: ignore[no-any-return]


# --- shared by Stream and AsyncStream ---------------------------------------------------


def _annotate(exc: BaseException, event: Event) -> None:
    """Attach the event being handled to ``exc``: ``exc.streamkit_event`` and a note."""
    with suppress(AttributeError):  # an exception type that refuses new attributes
        exc.streamkit_event = event  # type: ignore[attr-defined]
    sse = event.sse
    where = f" (SSE line {sse.line})" if sse is not None and sse.line is not None else ""
    exc.add_note(f"streamkit: raised while handling the {event.event!r} event{where}")


class _StreamBase:
    """State, snapshots, final getters and truncation, common to both streams."""

    def __init__(
        self,
        *,
        strict: bool,
        tolerant: bool,
        state: State | None,
        protocol: Protocol | ProtocolName,
        on_truncated: OnTruncated,
        max_line_bytes: int,
        max_event_bytes: int,
    ) -> None:
        if on_truncated not in ("raise", "warn", "ignore"):
            raise ValueError(
                f"on_truncated must be 'raise', 'warn' or 'ignore', not {on_truncated!r}"
            )
        #: The pipeline of this stream: parser, decoder and fold.
        self.driver = Driver(
            protocol=protocol,
            state=state,
            strict=strict,
            tolerant=tolerant,
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
        )
        self._on_truncated = on_truncated
        self._sinks: list[_Sink] = []
        self._finished = False  # the pump will produce nothing more
        self._source_closed = False
        self._draining = False  # until_done() runs: the pump need not stop after each event
        self._stopping = False  # aclose() was called: a draining pump stops after the event

    # -- live snapshots

    @property
    def state(self) -> State:
        """The fold: every snapshot of this stream (pass it to the next stream to continue).
        For a Responses stream it is a
        :class:`~streamkit.protocols.responses.ResponsesState`."""
        return cast(State, self.driver.state)

    @property
    def truncated(self) -> bool:
        """True when the stream ended before its proper end (``done``, a final run status,
        requires_action or an ``error`` event)."""
        return self.driver.truncated

    @property
    def current_event(self) -> Event | None:
        """The event being handled (inside a callback), else the last one handled."""
        return self.driver.last_event

    @property
    def current_run(self) -> Run | None:
        """The snapshot of the run the last run event was about."""
        return self.state.current_run

    @property
    def current_message_snapshot(self) -> Message | None:
        """The snapshot of the message the last message event was about."""
        return self.state.current_message

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        """The snapshot of the run step the last step event was about."""
        return self.state.current_step

    @property
    def finished(self) -> bool:
        """True once the stream has ended (read to the end, failed or closed)."""
        return self._finished

    def _bind(self, handler: EventHandler | AsyncEventHandler | None) -> None:
        if handler is None:
            return
        bound = handler._streamkit_stream
        if isinstance(bound, _StreamBase) and bound is not self and not bound._finished:
            raise RuntimeError(
                "this handler is in use by another stream that has not ended; "
                "use a new handler instance, or end the other stream first"
            )
        handler._streamkit_stream = self

    # -- results (no draining here; the public getters drain first)

    def _final_run(self) -> Run | None:
        return self.state.current_run

    def _final_steps(self) -> list[RunStep]:
        return list(self.state.steps.values())

    def _final_messages(self) -> list[Message]:
        return list(self.state.messages.values())

    def _final_text(self) -> str:
        texts = []
        for message in self.state.messages.values():
            parts = [text for part in message.content or () if (text := _text_of(part))]
            if parts:
                texts.append("".join(parts))
        return "\n\n".join(texts)

    # -- truncation

    def _truncation(self) -> c.Problem | None:
        """At the end of the source: ask the driver; raise, or return the Problem to
        report (``"warn"``), or None."""
        ending = self.driver.close()
        if not ending:
            return None
        problem: Any = ending[0]
        driver = self.driver
        if self._on_truncated == "raise":
            raise StreamTruncated(
                problem.message,
                last_event=driver.last_event,
                events=driver.events,
                bytes_read=driver.bytes,
            )
        if self._on_truncated == "ignore":
            return None
        warnings.warn(problem.message, StreamTruncatedWarning, stacklevel=4)
        return problem  # type: ignore[no-any-return]


def _text_of(part: Any) -> str | None:
    """The text of a text part of either protocol (Assistants: ``part.text.value``;
    Responses: an ``output_text`` part's ``part.text``), else None."""
    if isinstance(part, TextContentBlock):
        return part.text.value if part.text is not None else None
    if getattr(part, "type", None) == "output_text":
        return cast("str | None", part.text)
    return None


# --- the sync stream --------------------------------------------------------------------


class Stream(_StreamBase):
    """A sync stream; see :func:`stream`. Use it as a context manager, or call ``close()``."""

    def __init__(
        self,
        source: Source,
        *,
        handler: EventHandler | None = None,
        strict: bool = True,
        tolerant: bool = False,
        state: State | None = None,
        protocol: Protocol | ProtocolName = "auto",
        on_truncated: OnTruncated = "raise",
        max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
        max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
    ) -> None:
        if handler is not None and not isinstance(handler, EventHandler):
            raise TypeError(
                f"stream() needs a streamkit.EventHandler, got {type(handler).__name__}"
                + (" (use astream())" if isinstance(handler, AsyncEventHandler) else "")
            )
        super().__init__(
            strict=strict,
            tolerant=tolerant,
            state=state,
            protocol=protocol,
            on_truncated=on_truncated,
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
        )
        self._chunks, self._close_source = open_sync(source)
        self.handler = handler
        self._bind(handler)
        self._pump = cast("GeneratorType[Event, None, None]", self._run())

    # -- the pump

    def _run(self) -> Generator[Event, None, None]:
        handler = self.handler
        driver = self.driver
        table = dispatch_table(handler, speedups=driver.speedups) if handler is not None else {}
        on_event = _on_event(handler, EventHandler)
        get = table.get
        receive, decode, apply = driver.receive, driver.decode, driver.apply
        sinks = self._sinks
        step = driver.event_step(on_event, table, sinks)  # None: the loop below in Python
        handling: Event | None = None  # the event being handled, for errors
        try:
            for chunk in self._chunks:
                if chunk.__class__ is not bytes:
                    chunk = as_bytes(chunk)
                found = receive(chunk)
                if driver.apply is not apply:  # "auto": the first event set the protocol
                    apply = driver.apply
                    step = driver.event_step(on_event, table, sinks)
                if step is not None and self._draining and found:
                    try:  # the whole chunk's events in one compiled call
                        step.run(found)
                    except Exception:
                        sse = found[step.at]
                        last = driver.last_event  # set once the event was decoded
                        if last is not None and last.sse is sse:
                            handling = last
                        raise
                    continue
                if step is not None:
                    for sse in found:
                        try:  # decode, on_event, fold, hooks, views: one compiled call
                            event = step(sse)
                        except Exception:
                            last = driver.last_event  # set once the event was decoded
                            if last is not None and last.sse is sse:
                                handling = last
                            raise
                        if not self._draining:
                            yield event
                    continue
                for sse in found:
                    handling = event = decode(sse)
                    if on_event is not None:
                        on_event(event)
                    changes = apply(event)
                    for change in changes:
                        dispatch = get(change.__class__)
                        if dispatch is not None:
                            dispatch(change)
                    if sinks:
                        for sink in sinks:
                            sink.push(event, changes)
                    handling = None
                    if not self._draining:
                        yield event
            problem = self._truncation()
            if problem is not None:
                if (dispatch := get(c.Problem)) is not None:
                    dispatch(problem)
                for sink in sinks:
                    sink.push(None, [problem])
        except GeneratorExit:
            self._finish(None, None)
            raise
        except Exception as exc:
            self._finish(exc, handling)
            raise
        except BaseException:
            self._finished = True
            self._close()
            raise
        else:
            self._finish(None, None)

    def _close(self) -> None:
        if not self._source_closed:
            self._source_closed = True
            self._close_source()

    def _finish(self, exc: Exception | None, handling: Event | None) -> None:
        self._finished = True
        handler = self.handler
        try:
            if exc is not None and handling is not None:
                _annotate(exc, handling)
            self._close()
            if exc is not None and handler is not None:
                if _is_timeout(exc):
                    handler.on_timeout()
                handler.on_exception(exc)
        finally:
            if handler is not None:
                handler.on_end()

    def _advance(self) -> bool:
        """Run the pump for one event; False when the stream is over."""
        pump = self._pump
        if pump.gi_running:
            raise RuntimeError(_REENTRY)
        try:
            next(pump)
        except StopIteration:
            return False
        return True

    # -- consuming

    def until_done(self) -> None:
        """Read the stream to its end, calling the handler's hooks on the way."""
        pump = self._pump
        if pump.gi_running:
            raise RuntimeError(_REENTRY)
        self._draining = True
        try:
            for _event in pump:
                pass
        finally:
            self._draining = False

    def __iter__(self) -> Iterator[Event]:
        """A new iterator over the events (each a view of its own; see the module doc)."""
        return _View(self, _EventSink())

    def __next__(self) -> Event:
        """Advance the stream by one event and return it."""
        pump = self._pump
        if pump.gi_running:
            raise RuntimeError(_REENTRY)
        return next(pump)

    @property
    def text_deltas(self) -> Iterator[str]:
        """A new iterator over the text pieces of message deltas (empty pieces skipped)."""
        return _View(self, _TextSink())

    def changes(self) -> Iterator[c.Change]:
        """A new iterator over the fold's Changes, in order."""
        return _View(self, _ChangeSink())

    def snapshots(self) -> Iterator[Snapshot]:
        """A new iterator over the live snapshot (run, step, message or thread) each event
        updated: once per object per event, in the order of the event's Changes."""
        return _View(self, _SnapshotSink())

    # -- results

    def get_final_run(self) -> Run | None:
        """Read to the end; the snapshot of the last run seen, or None."""
        self.until_done()
        return self._final_run()

    def get_final_run_steps(self) -> list[RunStep]:
        """Read to the end; the snapshots of every run step, in order of appearance."""
        self.until_done()
        return self._final_steps()

    def get_final_messages(self) -> list[Message]:
        """Read to the end; the snapshots of every message, in order of appearance."""
        self.until_done()
        return self._final_messages()

    def get_final_text(self) -> str:
        """Read to the end; the text of every message (parts joined, messages separated
        by a blank line); "" when there is none."""
        self.until_done()
        return self._final_text()

    # -- closing

    def close(self) -> None:
        """Stop reading and close the source (``on_end`` fires if the stream had started)."""
        pump = self._pump
        if pump.gi_running:
            raise RuntimeError(_REENTRY)
        pump.close()
        self._finished = True
        self._close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _on_event(
    handler: EventHandler | AsyncEventHandler | None, base: type[EventHandler | AsyncEventHandler]
) -> Callable[[Event], Any] | None:
    """The handler's ``on_event``, or None when it is the base class's no-op."""
    if handler is None or type(handler).on_event is base.on_event:
        return None
    return handler.on_event


# --- the async stream -------------------------------------------------------------------


class AsyncStream(_StreamBase):
    """An async stream; see :func:`astream`. Use ``async with``, or ``await aclose()``."""

    def __init__(
        self,
        source: AsyncSource,
        *,
        handler: AsyncEventHandler | None = None,
        strict: bool = True,
        tolerant: bool = False,
        state: State | None = None,
        protocol: Protocol | ProtocolName = "auto",
        on_truncated: OnTruncated = "raise",
        max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
        max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
    ) -> None:
        if handler is not None and not isinstance(handler, AsyncEventHandler):
            raise TypeError(
                f"astream() needs a streamkit.AsyncEventHandler, got {type(handler).__name__}"
                + (" (use stream())" if isinstance(handler, EventHandler) else "")
            )
        super().__init__(
            strict=strict,
            tolerant=tolerant,
            state=state,
            protocol=protocol,
            on_truncated=on_truncated,
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
        )
        self._chunks, self._close_source = open_async(source)
        self.handler = handler
        self._bind(handler)
        self._pump = self._run()
        self._interrupted: str | None = None  # the pump died of this (a cancellation)
        self._busy = False  # a task is running the pump
        self._idle: anyio.Event | None = None  # set when the pump is free again, if awaited
        self._yielded: Event | None = None

    # -- the pump

    async def _run(self) -> AsyncGenerator[Event, None]:
        handler = self.handler
        driver = self.driver
        table = dispatch_table(handler, speedups=driver.speedups) if handler is not None else {}
        on_event = _on_event(handler, AsyncEventHandler)
        get = table.get
        receive, decode, apply = driver.receive, driver.decode, driver.apply
        sinks = self._sinks
        handling: Event | None = None  # the event being handled, for errors
        try:
            async for chunk in self._chunks:
                if chunk.__class__ is not bytes:
                    chunk = as_bytes(chunk)
                found = receive(chunk)
                apply = driver.apply  # "auto": the first event set the protocol
                for sse in found:
                    handling = event = decode(sse)
                    if on_event is not None and (result := on_event(event)) is not None:
                        await result
                    changes = apply(event)
                    for change in changes:
                        dispatch = get(change.__class__)
                        if dispatch is not None and (result := dispatch(change)) is not None:
                            await result
                    if sinks:
                        for sink in sinks:
                            sink.push(event, changes)
                    handling = None
                    if not self._draining:
                        yield event
                    elif self._stopping:
                        raise _Stopped
                    elif self._idle is not None:
                        self._wake()  # views waiting for a draining pump: see their items
            problem = self._truncation()
            if problem is not None:
                if (dispatch := get(c.Problem)) is not None and (
                    result := dispatch(problem)
                ) is not None:
                    await result
                for sink in sinks:
                    sink.push(None, [problem])
        except GeneratorExit:
            await self._finish(None, None)
            raise
        except _Stopped:
            await self._finish(None, None)
        except Exception as exc:
            await self._finish(exc, handling)
            raise
        except BaseException as exc:
            # Cancelled (or interrupted) while reading: the source is gone with it. Other
            # tasks reading this stream must hear of it, not see a quiet end.
            self._finished = True
            self._interrupted = type(exc).__name__
            await self._close()
            raise
        else:
            await self._finish(None, None)

    async def _close(self) -> None:
        if not self._source_closed:
            self._source_closed = True
            import anyio  # the async side alone needs it: imported when first used

            with anyio.CancelScope(shield=True):
                await self._close_source()

    async def _finish(self, exc: Exception | None, handling: Event | None) -> None:
        self._finished = True
        handler = self.handler
        try:
            if exc is not None and handling is not None:
                _annotate(exc, handling)
            await self._close()
            if exc is not None and handler is not None:
                if _is_timeout(exc):
                    await handler.on_timeout()
                await handler.on_exception(exc)
        finally:
            if handler is not None:
                await handler.on_end()

    async def _wait_idle(self, buf: deque[Any] | None = None) -> None:
        """Wait until no other task runs the pump, or until ``buf`` got items from it (a
        flag, not a lock: nothing to pay when uncontended)."""
        while self._busy and not buf:
            if self._idle is None:
                import anyio

                self._idle = anyio.Event()
            await self._idle.wait()

    def _wake(self) -> None:
        if self._idle is not None:
            self._idle.set()
            self._idle = None

    def _release(self) -> None:
        self._busy = False
        self._wake()

    async def _advance(self, buf: deque[Any] | None = None) -> bool:
        """Run the pump for one event, unless ``buf`` got items while waiting for the pump;
        False when the stream is over."""
        if _PUMPING.get(None) is self:
            raise RuntimeError(_REENTRY)
        if self._busy:
            await self._wait_idle(buf)
            if buf:
                return True
        if self._stopping:
            return False
        self._busy = True
        token = _PUMPING.set(self)
        try:
            self._yielded = await self._pump.__anext__()
        except StopAsyncIteration:
            self._check_interrupted()
            return False
        finally:
            _PUMPING.reset(token)
            self._release()
        return True

    def _check_interrupted(self) -> None:
        """The pump is over: if a cancellation in another task ended it before the stream's
        proper end, say so (as :class:`StreamTruncated`) instead of ending quietly."""
        if self._interrupted is None or self.driver.closed or self.driver.ended:
            return
        driver = self.driver
        driver.close()  # the verdict: cut short (recorded in state.problems)
        raise StreamTruncated(
            f"the stream was interrupted: the task reading it was cancelled "
            f"({self._interrupted}) after {driver.events} event(s), {driver.bytes} bytes in, "
            "before the stream's proper end; nothing more can be read from it (the "
            "snapshots folded so far stay readable)",
            last_event=driver.last_event,
            events=driver.events,
            bytes_read=driver.bytes,
        )

    # -- consuming

    async def until_done(self) -> None:
        """Read the stream to its end, awaiting the handler's hooks on the way."""
        if _PUMPING.get(None) is self:
            raise RuntimeError(_REENTRY)
        await self._wait_idle()
        self._busy = self._draining = True
        token = _PUMPING.set(self)
        try:
            async for _event in self._pump:
                pass
            self._check_interrupted()
        finally:
            _PUMPING.reset(token)
            self._draining = False
            self._release()

    def __aiter__(self) -> AsyncIterator[Event]:
        """A new async iterator over the events (a view of its own; see the module doc)."""
        return _AsyncView(self, _EventSink())

    async def __anext__(self) -> Event:
        """Advance the stream by one event and return it."""
        if not await self._advance():
            raise StopAsyncIteration
        return self._yielded  # type: ignore[return-value]

    @property
    def text_deltas(self) -> AsyncIterator[str]:
        """A new async iterator over the text pieces of message deltas."""
        return _AsyncView(self, _TextSink())

    def changes(self) -> AsyncIterator[c.Change]:
        """A new async iterator over the fold's Changes, in order."""
        return _AsyncView(self, _ChangeSink())

    def snapshots(self) -> AsyncIterator[Snapshot]:
        """A new async iterator over the live snapshot each event updated (see
        :meth:`Stream.snapshots`)."""
        return _AsyncView(self, _SnapshotSink())

    # -- results

    async def get_final_run(self) -> Run | None:
        """Read to the end; the snapshot of the last run seen, or None."""
        await self.until_done()
        return self._final_run()

    async def get_final_run_steps(self) -> list[RunStep]:
        """Read to the end; the snapshots of every run step, in order of appearance."""
        await self.until_done()
        return self._final_steps()

    async def get_final_messages(self) -> list[Message]:
        """Read to the end; the snapshots of every message, in order of appearance."""
        await self.until_done()
        return self._final_messages()

    async def get_final_text(self) -> str:
        """Read to the end; the text of every message (see :meth:`Stream.get_final_text`)."""
        await self.until_done()
        return self._final_text()

    # -- closing

    async def aclose(self) -> None:
        """Stop reading and close the source (``aclose()`` / ``close()``).

        From another task than the one reading: the reader stops after the event it is
        handling, and its ``until_done()`` or loop ends. Closing the source is shielded
        from cancellation, so that leaving ``async with`` always releases it.
        """
        if _PUMPING.get(None) is self:
            raise RuntimeError(_REENTRY)
        self._stopping = True
        await self._wait_idle()  # another task's pump step or drain ends after one event
        import anyio

        with anyio.CancelScope(shield=True):
            await self._wait_idle()
            self._busy = True
            try:
                await self._pump.aclose()
            finally:
                self._release()
            self._finished = True
            await self._close()

    close = aclose

    async def __aenter__(self) -> AsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# --- entry points -----------------------------------------------------------------------


def stream(
    source: Source,
    *,
    handler: EventHandler | None = None,
    strict: bool = True,
    tolerant: bool = False,
    state: State | None = None,
    protocol: Protocol | ProtocolName = "auto",
    on_truncated: OnTruncated = "raise",
    max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
    max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
) -> Stream:
    """Stream an SSE body (Assistants or Responses API) from ``source`` into live state.

    ``source``: bytes, an iterable of bytes, a binary file, a path (a ``.sse`` body or a
    streamkit recording), an ``httpx.Response`` or an ``httpx_sse.EventSource``.
    ``handler``: an :class:`~streamkit.EventHandler` whose hooks are called as the stream
    is read. ``strict`` goes to :class:`~streamkit.fold.State` (lifecycle violations raise),
    ``tolerant`` to :func:`~streamkit.events.decode` (bad payloads become problems);
    ``state`` continues an earlier stream's state (submitting tool outputs). ``protocol``
    is the event format: ``"auto"`` (the default) tells the Assistants API from OpenAI's
    Responses API by the first event; ``"assistants"`` or ``"responses"`` forces one
    (see ``docs/responses.md``). A stream that
    ends before ``done`` or a final run status raises :class:`StreamTruncated`
    (``on_truncated="raise"``), or reports a ``"truncated"`` Problem and a
    :class:`StreamTruncatedWarning` (``"warn"``), or is only marked ``truncated``
    (``"ignore"``); the problem is in ``state.problems`` in every case.
    ``max_line_bytes`` and ``max_event_bytes`` bound the longest line and the largest
    event the parser holds (an :class:`~streamkit.SSEError` past them). Nothing is read
    before the stream is consumed.
    """
    return Stream(
        source,
        handler=handler,
        strict=strict,
        tolerant=tolerant,
        state=state,
        protocol=protocol,
        on_truncated=on_truncated,
        max_line_bytes=max_line_bytes,
        max_event_bytes=max_event_bytes,
    )


def astream(
    source: AsyncSource,
    *,
    handler: AsyncEventHandler | None = None,
    strict: bool = True,
    tolerant: bool = False,
    state: State | None = None,
    protocol: Protocol | ProtocolName = "auto",
    on_truncated: OnTruncated = "raise",
    max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
    max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
) -> AsyncStream:
    """The async twin of :func:`stream` (anyio: asyncio or trio); ``source`` may also be an
    async iterable of bytes, and ``handler`` is an :class:`~streamkit.AsyncEventHandler`."""
    return AsyncStream(
        source,
        handler=handler,
        strict=strict,
        tolerant=tolerant,
        state=state,
        protocol=protocol,
        on_truncated=on_truncated,
        max_line_bytes=max_line_bytes,
        max_event_bytes=max_event_bytes,
    )
