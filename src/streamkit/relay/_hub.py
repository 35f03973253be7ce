"""Hubs: where a run's relay events are numbered, kept, and fanned out to viewers.

How it works. :class:`Hub` is the interface the endpoint and the producers use, and holds
what does not depend on where events are kept: the per-run :class:`~._wire.Encoder`
(Changes to wire events, on the producing side), :meth:`Hub.relay` (feed a run from a
streamkit stream) and the stops. A subclass keeps the events: :class:`MemoryHub` in this
process, :class:`~._redis.RedisHub` across processes, behind the same three methods (``_append``,
``subscribe``, ``knows``).

:class:`MemoryHub` numbers each run's events from 1, folds them into a
:class:`~._wire.RunView` (the snapshot for new viewers), keeps the last ``history``
frames for resumes, and hands each frame, encoded once as SSE bytes, to every viewer's
bounded queue without waiting (``send_nowait``). A viewer whose queue is full is dropped:
its queue is closed, it reads what it holds and its response ends, and its browser
reconnects with ``Last-Event-ID`` and resumes; no producer or other viewer ever waits
for it. Subscribing takes the snapshot or the resume frames and registers the queue in
one step with no ``await`` in between, so no event falls between them.

All of it runs on anyio (asyncio or trio), in one event loop.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import anyio.abc
import anyio.lowlevel
import orjson
from anyio.abc import TaskGroup

from .._errors import StreamkitError
from ._wire import (
    Encoder,
    RunView,
    end_event,
    end_reason,
    error_event,
    run_status_event,
    snapshot_event,
)

if TYPE_CHECKING:
    from .._changes import Change
    from .._stream import AsyncStream

__all__ = ["Hub", "MemoryHub", "RunNotFound", "Subscription", "frame"]

_log = logging.getLogger("streamkit.relay")

#: Upstream statuses that settle a run after a stop (a terminal one, or on its way).
_SETTLED = frozenset({"cancelled", "cancelling", "completed", "failed", "expired", "incomplete"})


class RunNotFound(StreamkitError, LookupError):
    """The hub holds no run of this id."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"the relay hub holds no run {run_id!r}")


def frame(event_id: int, event: dict[str, Any]) -> bytes:
    """One SSE frame: ``id: N`` and the event as one ``data:`` line of JSON."""
    return b"id: %d\ndata: %s\n\n" % (event_id, orjson.dumps(event))


class Subscription:
    """One viewer of one run: the frames to send, in order (see :meth:`next`).

    ``first`` are the frames decided when subscribing (a snapshot, or the frames after
    ``Last-Event-ID``); then the live tail from the viewer's bounded queue. ``dropped``
    is set when the hub dropped the viewer (its queue was full).
    """

    def __init__(
        self,
        first: list[bytes],
        receive: Any | None,
        on_close: Any | None = None,
        *,
        fresh: bool = False,
    ) -> None:
        self._first = deque(first)
        self._receive = receive  # an anyio receive stream, or None when nothing follows
        self._on_close = on_close
        self.dropped = False
        #: True when a resume asked for an id older than the hub holds: the first frame
        #: is a snapshot flagged ``fresh``.
        self.fresh = fresh

    @property
    def over(self) -> bool:
        """True when nothing is left to send (a resume after the run's ``end``)."""
        return not self._first and self._receive is None

    async def next(self) -> bytes | None:
        """The next frame; None when the run ended or the viewer was dropped.
        Cancellation-safe: a frame is never lost to a cancelled wait."""
        if self._first:
            return self._first.popleft()
        if self._receive is None:
            return None
        try:
            return bytes(await self._receive.receive())
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._receive = None
            return None

    async def next_chunk(self, max_bytes: int = 65_536) -> bytes | None:
        """The next frame joined with every frame that is ready after it (up to about
        ``max_bytes``): one write for a backlog; None as :meth:`next`."""
        data = await self.next()
        if data is None or (not self._first and self._receive is None):
            return data
        parts = [data]
        size = len(data)
        while size < max_bytes:
            if self._first:
                item = self._first.popleft()
            elif self._receive is not None:
                try:
                    item = self._receive.receive_nowait()
                except anyio.WouldBlock:
                    break
                except (anyio.EndOfStream, anyio.ClosedResourceError):
                    self._receive = None
                    break
            else:
                break
            parts.append(item)
            size += len(item)
        return b"".join(parts) if len(parts) > 1 else data

    async def aclose(self) -> None:
        """Stop receiving (the hub forgets this viewer)."""
        if self._on_close is not None:
            self._on_close(self)
            self._on_close = None
        if self._receive is not None:
            await self._receive.aclose()
            self._receive = None

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with anyio.CancelScope(shield=True):
            await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[bytes]:
        while (item := await self.next()) is not None:
            yield item


class _Relay:
    """A running :meth:`Hub.relay`: how to stop it."""

    def __init__(self, stream: Any, client: Any | None) -> None:
        self.stream = stream
        self.client = client
        self.scope = anyio.CancelScope()
        self.stopped = False
        self.cancelled_upstream = False  # a cancel was sent (once)
        self.cancel_taken = False  # ... and the service took it
        self.done = anyio.Event()

    async def upstream_status(self, timeout: float) -> tuple[tuple[str, str | None] | None, Any]:
        """The upstream run's ids and status now (None when it cannot be read)."""
        ids = _upstream_ids(self.stream)
        if self.client is None or ids is None:
            return ids, None
        with anyio.move_on_after(timeout), suppress(StreamkitError):
            run_id, thread_id = ids
            if thread_id is None:  # a Responses API response
                run = await self.client.responses.retrieve(run_id)
            else:
                run = await self.client.threads.runs.retrieve(run_id, thread_id=thread_id)
            return ids, run.status
        return ids, None

    async def cancel_upstream(self, timeout: float) -> bool:
        """Cancel the upstream run (or response) through the client, once; True when the
        service took the cancel. False when there is no client, the stream does not know
        its run yet, or the service refused (a run already over, a response that is not
        a background one): then the relay stops reading at once."""
        ids = _upstream_ids(self.stream)
        if self.client is None or ids is None or self.cancelled_upstream:
            return False
        self.cancelled_upstream = True
        run, thread = ids
        with anyio.move_on_after(timeout), suppress(StreamkitError):
            if thread is None:
                await self.client.responses.cancel(run)
            else:
                await self.client.threads.runs.cancel(run, thread_id=thread)
            self.cancel_taken = True
        return self.cancel_taken


class Hub:
    """Where relay events are published and subscribed (abstract; see :class:`MemoryHub`).

    Producers: :meth:`publish` a run's Changes, or :meth:`relay` a whole stream (and
    :meth:`start` it in the hub's task group: ``async with hub:``). Viewers:
    :meth:`subscribe`. :meth:`stop` ends a relay on purpose; a viewer leaving never does.
    """

    def __init__(self, *, stop_timeout: float = 10.0, stop_unwatched: float | None = None) -> None:
        if stop_unwatched is not None and not stop_unwatched > 0:
            raise ValueError("stop_unwatched: a number of seconds above 0, or None")
        self.stop_timeout = stop_timeout
        self.stop_unwatched = stop_unwatched
        self._encoders: dict[str, Encoder] = {}
        self._relays: dict[str, _Relay] = {}
        self._group: TaskGroup | None = None

    # -- what a subclass provides

    async def _append(self, run_id: str, events: list[dict[str, Any]]) -> int:
        """Number, keep and fan out ``events``; the id of the last one."""
        raise NotImplementedError

    async def knows(self, run_id: str) -> bool:
        """True when the hub holds ``run_id`` (being relayed, or ended and still kept)."""
        raise NotImplementedError

    async def subscribe(self, run_id: str, last_event_id: int | None = None) -> Subscription:
        """A viewer of ``run_id``: a snapshot then the live tail, or, with
        ``last_event_id``, exactly the frames after it (a ``fresh`` snapshot when the hub
        no longer holds them). :class:`RunNotFound` for an unknown run."""
        raise NotImplementedError

    async def unwatched_for(self, run_id: str) -> float:
        """Seconds since ``run_id`` last had a viewer, wherever viewers connect (0 while
        it has one; counted from the run's start when it never had one). What
        ``stop_unwatched`` measures."""
        raise NotImplementedError

    # -- producing

    async def publish(self, run_id: str, changes: Iterable[Change]) -> int:
        """Publish ``changes`` of ``run_id`` as numbered relay events; the last event id
        (the id before them when they made no event). The run is opened if new."""
        encoder = self._encoders.get(run_id)
        if encoder is None:
            encoder = self._encoders[run_id] = Encoder()
        events: list[dict[str, Any]] = []
        for change in changes:
            events.extend(encoder.encode(change))
        return await self._append(run_id, events)

    async def end(self, run_id: str, reason: str, *, error: str | None = None) -> int:
        """Publish the run's ``end`` (after an ``error`` event when ``error`` is given);
        nothing is published to the run after it."""
        encoder = self._encoders.pop(run_id, None)
        status = encoder.status if encoder is not None else None
        events = [error_event("relay_error", error)] if error else []
        events.append(end_event(reason, status))
        return await self._append(run_id, events)

    async def relay(
        self,
        run_id: str,
        stream: AsyncStream,
        *,
        client: Any = None,
        _started: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> str:
        """Publish every Change of ``stream`` (an :class:`~streamkit.AsyncStream`: a live
        client stream, a replay, ``astream(...)``) to ``run_id``, then its ``end``; the
        end reason. ``client`` (an :class:`~streamkit.AsyncClient`) lets :meth:`stop`
        cancel the upstream run. A stream that fails ends the run ``failed`` after an
        ``error`` event; the exception is not raised (the viewers were told)."""
        if run_id in self._relays:
            raise StreamkitError(f"run {run_id!r} is already being relayed")
        if self.stop_unwatched is not None and self._group is None:
            raise RuntimeError(
                "a hub with stop_unwatched watches its runs in its task group: enter "
                "`async with hub:` first (in your app's lifespan)"
            )
        control = self._relays[run_id] = _Relay(stream, client)
        await self._append(run_id, [])  # open the run: viewers may subscribe now
        if self.stop_unwatched is not None and self._group is not None:
            self._group.start_soon(self._stop_when_unwatched, run_id, control, self.stop_unwatched)
        _started.started()
        error: str | None = None
        reason: str | None = None
        try:
            with control.scope:
                last = -1
                async for change in stream.changes():
                    if (last_now := await self.publish(run_id, (change,))) != last:
                        last = last_now
                        # a chunk may hold many events: let the viewers take each one
                        await anyio.lowlevel.checkpoint()
            if control.scope.cancelled_caught:
                reason = "stopped"
        except StreamkitError as exc:
            error, reason = f"{type(exc).__name__}: {exc}", "failed"
        except BaseException as exc:  # cancelled from outside (a shutdown), or a bug
            if isinstance(exc, anyio.get_cancelled_exc_class()):
                reason = "stopped"
            else:
                error, reason = f"{type(exc).__name__}: {exc}", "failed"
            raise
        finally:
            with anyio.CancelScope(shield=True):
                if reason == "stopped":
                    with suppress(Exception):
                        await stream.aclose()
                    if control.stopped and not control.cancelled_upstream:
                        await control.cancel_upstream(self.stop_timeout)
                encoder = self._encoders.get(run_id)
                if control.cancel_taken and reason in ("failed", "stopped"):
                    # the stream broke off because of the stop (outputs that can no longer
                    # be submitted, reading cut): what the upstream run became is the end
                    ids, status = await control.upstream_status(self.stop_timeout)
                    if ids is not None and status in _SETTLED:
                        event = run_status_event(ids[0], ids[1], status)
                        await self._append(run_id, [event])
                        if encoder is not None:
                            encoder.status = status
                        error, reason = None, None
                if reason is None:
                    reason = end_reason(encoder.status if encoder is not None else None)
                del self._relays[run_id]
                await self.end(run_id, reason, error=error)
                control.done.set()
        assert reason is not None
        return reason

    async def start(self, run_id: str, stream: AsyncStream, *, client: Any = None) -> None:
        """Run :meth:`relay` in the hub's task group (open it with ``async with hub:``, in
        the app's lifespan); returns once the run is open (viewers may subscribe)."""
        if self._group is None:
            raise RuntimeError(
                "Hub.start() needs the hub's task group: enter `async with hub:` first "
                "(in your app's lifespan), or await hub.relay(...) in a task of your own"
            )
        if run_id in self._relays:
            raise StreamkitError(f"run {run_id!r} is already being relayed")
        await self._group.start(self._relay_quietly, run_id, stream, client)

    async def _relay_quietly(
        self,
        run_id: str,
        stream: AsyncStream,
        client: Any,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            await self.relay(run_id, stream, client=client, _started=task_status)
        except Exception:  # a bug: the viewers were told (error, end); the hub goes on
            _log.exception("relaying run %r failed", run_id)

    async def stop(self, run_id: str) -> bool:
        """Stop relaying ``run_id`` on purpose; False when it is not being relayed (here;
        a hub shared by several processes stops it where it is relayed).

        With a ``client``, the upstream run is cancelled through it and the relay reads
        the stream to its end (the viewers see it end ``cancelled``), for at most
        ``stop_timeout`` seconds; without one (or past that), reading stops at once and
        the run ends ``stopped`` (a run whose id became known meanwhile is cancelled
        upstream then).
        """
        control = self._relays.get(run_id)
        if control is None:
            return False
        control.stopped = True
        if await control.cancel_upstream(self.stop_timeout):
            with anyio.move_on_after(self.stop_timeout):
                await control.done.wait()
        control.scope.cancel()
        await control.done.wait()
        return True

    async def _stop_when_unwatched(self, run_id: str, control: _Relay, grace: float) -> None:
        """Stop ``run_id`` once it has had no viewer for ``grace`` seconds (counted from
        its start, so a browser that never comes counts too)."""
        poll = min(grace / 4, 1.0)
        while not control.done.is_set():
            with anyio.move_on_after(poll):
                await control.done.wait()
                return
            if await self.unwatched_for(run_id) >= grace:
                _log.info("run %r had no viewer for %.1f s: stopping it", run_id, grace)
                await self.stop(run_id)
                return

    async def stop_all(self) -> None:
        """Stop every relay running in this process, together (each as :meth:`stop`
        does). For a server's shutdown: uvicorn waits for open connections before the
        lifespan ends, so call this first (a ``uvicorn.Server.shutdown`` override, or your
        framework's pre-shutdown hook) and the viewers' streams end with the runs."""
        async with anyio.create_task_group() as group:
            for run_id in list(self._relays):
                group.start_soon(self.stop, run_id)

    def relaying(self, run_id: str) -> bool:
        """True while :meth:`relay` feeds ``run_id`` in this process."""
        return run_id in self._relays

    # -- the task group

    async def __aenter__(self) -> Hub:
        self._cm = anyio.create_task_group()
        self._group = await self._cm.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Leaving stops every relay still running (a shutdown is a stop)."""
        group, self._group = self._group, None
        assert group is not None
        with anyio.CancelScope(shield=True):
            for control in list(self._relays.values()):
                control.scope.cancel()
        return await self._cm.__aexit__(exc_type, exc, tb)


def _upstream_ids(stream: Any) -> tuple[str, str | None] | None:
    """The upstream run and thread ids of a stream (a client stream knows them; any
    stream's fold knows its current run). A Responses API response has no thread: None."""
    run = getattr(stream, "run_id", None) or getattr(stream, "response_id", None)
    thread = getattr(stream, "thread_id", None)
    if run is None:
        current = getattr(getattr(stream, "state", None), "current_run", None)
        if current is None:
            return None
        run, thread = current.id, getattr(current, "thread_id", None)
    if not isinstance(run, str) or not isinstance(thread, str | None):
        return None
    return run, thread


class _Run:
    __slots__ = ("ended", "ended_at", "history", "seq", "view", "viewers", "watched_at")

    def __init__(self, run_id: str, history: int) -> None:
        self.view = RunView(run_id)
        self.seq = 0
        self.history: deque[tuple[int, bytes]] = deque(maxlen=history)
        self.viewers: dict[Subscription, Any] = {}  # subscription -> its send stream
        self.ended = False
        self.ended_at = 0.0
        self.watched_at = time.monotonic()  # the last time a viewer left (or the start)


class MemoryHub(Hub):
    """The in-process hub (see the module doc).

    ``history``: the frames per run kept for resumes (older ids get a fresh snapshot);
    ``queue_size``: the frames a viewer may lag behind before it is dropped;
    ``keep_ended``: seconds an ended run stays (late resumes still get its end);
    ``stop_timeout``: see :meth:`Hub.stop`;
    ``stop_unwatched``: seconds a run may go without any viewer before the hub stops it
    (as :meth:`Hub.stop` does, upstream included); None, the default: a run goes on with
    no one watching, and a disconnect is never a stop.
    """

    def __init__(
        self,
        *,
        history: int = 10_000,
        queue_size: int = 1_000,
        keep_ended: float = 600.0,
        stop_timeout: float = 10.0,
        stop_unwatched: float | None = None,
    ) -> None:
        super().__init__(stop_timeout=stop_timeout, stop_unwatched=stop_unwatched)
        if history < 1 or queue_size < 1:
            raise ValueError("MemoryHub: history and queue_size must be at least 1")
        self.history = history
        self.queue_size = queue_size
        self.keep_ended = keep_ended
        self._runs: dict[str, _Run] = {}

    async def knows(self, run_id: str) -> bool:
        return run_id in self._runs

    def snapshot(self, run_id: str) -> dict[str, Any]:
        """The run's state now (what a new viewer's ``snapshot`` carries) and its last id,
        as ``{"id": N, "state": {...}}``."""
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFound(run_id)
        return {"id": run.seq, "state": run.view.state()}

    def viewers(self, run_id: str) -> int:
        """How many viewers ``run_id`` has now."""
        run = self._runs.get(run_id)
        return len(run.viewers) if run is not None else 0

    async def unwatched_for(self, run_id: str) -> float:
        run = self._runs.get(run_id)
        if run is None or run.viewers:
            return 0.0
        return time.monotonic() - run.watched_at

    def forget(self, run_id: str) -> None:
        """Drop an ended run now (its viewers' streams end)."""
        run = self._runs.pop(run_id, None)
        if run is not None:
            for send in run.viewers.values():
                send.close()

    def _purge(self) -> None:
        if not math.isfinite(self.keep_ended):
            return
        limit = time.monotonic() - self.keep_ended
        for run_id in [k for k, r in self._runs.items() if r.ended and r.ended_at < limit]:
            self.forget(run_id)

    async def _append(self, run_id: str, events: list[dict[str, Any]]) -> int:
        run = self._runs.get(run_id)
        if run is None or (run.ended and not events):
            if run is None:
                self._purge()
            else:
                self._runs.pop(run_id)  # a new relay of an ended run id starts afresh
            run = self._runs[run_id] = _Run(run_id, self.history)
        elif run.ended:
            raise StreamkitError(f"run {run_id!r} has ended: nothing is published after its end")
        viewers = run.viewers
        for event in events:
            run.seq += 1
            run.view.apply(event)
            data = frame(run.seq, event)
            run.history.append((run.seq, data))
            for subscription, send in list(viewers.items()):
                try:
                    send.send_nowait(data)
                except anyio.WouldBlock:
                    subscription.dropped = True
                    del viewers[subscription]
                    run.watched_at = time.monotonic()
                    send.close()  # it reads what it holds, then its response ends
            if event["type"] == "end":
                run.ended = True
                run.ended_at = time.monotonic()
                for send in viewers.values():
                    send.close()
                viewers.clear()
                break
        return run.seq

    async def subscribe(self, run_id: str, last_event_id: int | None = None) -> Subscription:
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFound(run_id)
        first: list[bytes]
        fresh = False
        history = run.history
        oldest = history[0][0] if history else run.seq + 1
        if last_event_id is None:
            first = [frame(run.seq, snapshot_event(run.view))]
        elif last_event_id == run.seq:
            first = []
        elif oldest - 1 <= last_event_id < run.seq:
            skip = last_event_id - oldest + 1
            first = [data for _, data in list(history)[skip:]]
        else:  # older than the hub holds, or an id this run never had
            fresh = True
            first = [frame(run.seq, snapshot_event(run.view, fresh=True))]
        if run.ended:
            return Subscription(first, None, fresh=fresh)
        send, receive = anyio.create_memory_object_stream[bytes](self.queue_size)

        def forget(subscription: Subscription) -> None:
            viewer = run.viewers.pop(subscription, None)
            if viewer is not None:
                run.watched_at = time.monotonic()
                viewer.close()

        subscription = Subscription(first, receive, forget, fresh=fresh)
        run.viewers[subscription] = send
        return subscription
