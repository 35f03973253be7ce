"""The Redis Streams hub: any worker process (or machine) relays a run, any serves its viewers.

How it works. Each run is two keys: ``{prefix}events:{run_id}``, a Redis Stream whose
entry ``N-0`` holds relay event N already encoded as its SSE frame (so the SSE id is the
entry id), trimmed to the last ``history`` entries (``MAXLEN``); and
``{prefix}run:{run_id}``, a hash with ``ended`` and a snapshot: ``snap`` (an id) and
``state`` (the :class:`~._wire.RunView` state JSON at that id). Both expire ``ttl`` seconds
after the run's last write (give or take ``ttl / 8``: the expiry is set at most that often).

The producing worker (the one running :meth:`Hub.relay` or :meth:`Hub.publish`) numbers the
events and folds them into its own ``RunView`` at once; a writer task of the hub writes what
all its runs published meanwhile in one ``MULTI``/``EXEC`` (a group commit): per run, the
``XADD``\\s with explicit ids and, every ``snapshot_every`` events and at the end, the
snapshot of the fold, which is then exactly at the last id written. A stored snapshot thus
names the id it includes, and the events after it are still in the stream
(``snapshot_every`` is at most ``history``). A publisher waits for the write only at the
run's end, or when its run has ``history // 2`` (at most 1,000) events not yet written.

A viewer, on any worker, reads in one transaction the snapshot and the entries after it (a
new viewer), or the entries after its ``Last-Event-ID`` (a resume; when the stream no
longer reaches back that far, or the id was never the run's, a snapshot flagged
``fresh``). The live tail comes from one reader task per hub: one ``XREAD BLOCK`` names
every run this worker's viewers follow (and a wake stream of the hub's own, written when a
run joins), and each frame goes to those viewers' bounded queues without waiting: a viewer
whose queue is full is dropped, exactly as in :class:`~._hub.MemoryHub`. A viewer joins its
run's tail *before* its transaction, and what the reader hands on meanwhile is held and then
given only past the transaction's last id, so nothing falls between the two and nothing
comes twice.

Stop from any worker: while it relays a run, the relaying hub is subscribed to
``{prefix}stop:{run_id}`` (one pub/sub connection per hub). :meth:`RedisHub.stop` elsewhere
publishes there (the number of receivers tells whether anyone relays the run); the
relaying hub runs the local stop (the upstream run is cancelled through the client) and the
caller waits for the run's end. So a hub holds at most a reader, a pub/sub connection, and
the connections of the commands under way. Asyncio only (redis-py's asyncio client); one
hub per event loop.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import Any

import anyio
import anyio.abc
import orjson
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError, WatchError

from .._errors import StreamkitError
from ._hub import Hub, RunNotFound, Subscription, frame
from ._wire import VERSION, RunView

__all__ = ["RedisHub"]

_log = logging.getLogger("streamkit.relay")


@contextmanager
def _redis_errors(doing: str, run_id: str) -> Iterator[None]:
    """A Redis failure as a :class:`StreamkitError` naming what the hub was doing."""
    try:
        yield
    except RedisError as exc:
        raise StreamkitError(
            f"the relay's Redis failed while {doing} run {run_id!r}: {type(exc).__name__}: {exc}"
        ) from exc


def _write_error(run_id: str, exc: BaseException) -> StreamkitError:
    return StreamkitError(
        f"the relay's Redis failed while writing run {run_id!r}: {type(exc).__name__}: {exc}"
    )


def snapshot_frame(event_id: int, state_json: bytes, *, fresh: bool) -> bytes:
    """The SSE frame of a ``snapshot`` event from a state already encoded as JSON (the same
    bytes as ``frame(event_id, snapshot_event(view, fresh=fresh))``)."""
    head = b'{"v":%d,"type":"snapshot","fresh":%s,"state":' % (
        VERSION,
        b"true" if fresh else b"false",
    )
    return b"id: %d\ndata: %s%s}\n\n" % (event_id, head, state_json)


def _entry_id(raw: bytes | str) -> int:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return int(text.partition("-")[0])


class _Producer:
    """A run this worker produces: its numbering, its fold, and what is not yet written."""

    __slots__ = (
        "ended",
        "error",
        "opened_at",
        "outbox",
        "progress",
        "refreshed",
        "run_id",
        "seq",
        "snap_id",
        "view",
        "written",
    )

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.view = RunView(run_id)
        self.seq = 0
        self.snap_id = 0
        self.outbox: list[tuple[int, dict[str, bytes]]] = []  # (id, fields) to XADD
        self.ended = False
        self.written = 0  # the last id written to Redis
        self.error: BaseException | None = None  # a write that failed
        self.progress = asyncio.Event()  # set (and replaced) after each write
        self.refreshed = -math.inf  # when the keys' expiry was last set (monotonic)
        self.opened_at = time.time()  # wall clock, as the presence sets


class _Viewer:
    __slots__ = ("after", "held", "send")

    def __init__(self, send: Any) -> None:
        self.send = send
        #: Frames with a higher id go to the queue (set once the viewer's first read is
        #: done; meanwhile the tail holds what it reads in ``held``).
        self.after = 0
        self.held: list[tuple[int, bytes]] = []


class _Tail:
    """One run's live tail on this worker: a reader task and this worker's viewers."""

    def __init__(self) -> None:
        self.last: int | None = None  # the last id handed on; None before the reader starts
        self.viewers: dict[Subscription, _Viewer] = {}
        self.pending: list[_Viewer] = []  # viewers whose first read is under way
        self.over = False  # the reader is done (the run ended, broke off or expired)
        self.ended = False  # the reader handed on the run's end


class RedisHub(Hub):
    """A hub on Redis Streams, shared by every worker that uses the same Redis (see the
    module doc). Asyncio only.

    ``redis``: a ``redis.asyncio.Redis`` (with ``decode_responses=False``, the default) or a
    URL; ``prefix``: of every key; ``history``: the events per run kept for resumes
    (``MAXLEN``); ``snapshot_every``: events between two stored snapshots (at most
    ``history``); ``ttl``: seconds a run's keys live after its last event; ``queue_size``:
    the frames a viewer may lag behind before it is dropped; ``block_ms``: how long the
    tail reader waits in one ``XREAD``; ``max_connections``: of the client the hub makes
    from a URL (a request waits for a free one); ``stop_timeout``: see :meth:`Hub.stop`;
    ``stop_unwatched``: as for :class:`~._hub.MemoryHub`, counting the viewers of every
    worker (each worker renews its viewers' presence about every ``block_ms``: keep the
    grace time several times that, and the workers' clocks in step to well within it).
    """

    def __init__(
        self,
        redis: Redis | str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "streamkit:relay:",
        history: int = 10_000,
        snapshot_every: int = 100,
        ttl: float = 3600.0,
        queue_size: int = 1_000,
        block_ms: int = 1000,
        max_connections: int = 50,
        stop_timeout: float = 10.0,
        stop_unwatched: float | None = None,
    ) -> None:
        super().__init__(stop_timeout=stop_timeout, stop_unwatched=stop_unwatched)
        if history < 1 or queue_size < 1 or snapshot_every < 1 or block_ms < 1:
            raise ValueError(
                "RedisHub: history, queue_size, snapshot_every and block_ms must be at least 1"
            )
        if ttl <= 0:
            raise ValueError(f"RedisHub: ttl must be positive, got {ttl!r}")
        if isinstance(redis, str):
            pool = BlockingConnectionPool.from_url(redis, max_connections=max_connections)
            self.redis: Redis = Redis(connection_pool=pool)
            self._owns_client = True
        else:
            if redis.connection_pool.connection_kwargs.get("decode_responses"):
                raise ValueError("RedisHub needs a Redis client with decode_responses=False")
            self.redis = redis
            self._owns_client = False
        # redis-py's annotations differ between its versions: the calls go through Any
        self._db: Any = self.redis
        self.prefix = prefix
        self.history = history
        self.snapshot_every = min(snapshot_every, history)
        self.ttl = ttl
        self.queue_size = queue_size
        self.block_ms = block_ms
        self._producers: dict[str, _Producer] = {}
        self._tails: dict[str, _Tail] = {}
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._dirty: dict[str, _Producer] = {}  # runs with events not yet written
        self._max_outbox = max(1, min(1000, history // 2))  # then a publisher waits
        self._wake = f"{prefix}wake:{uuid.uuid4().hex}"  # wakes this hub's reader
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._stop_channels: dict[bytes, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._id = uuid.uuid4().hex  # this hub, in the runs' presence sets
        self._presence_renewed = -math.inf  # monotonic

    # -- keys

    def _meta(self, run_id: str) -> str:
        return f"{self.prefix}run:{run_id}"

    def _events(self, run_id: str) -> str:
        return f"{self.prefix}events:{run_id}"

    def _stop_channel(self, run_id: str) -> str:
        return f"{self.prefix}stop:{run_id}"

    def _watch(self, run_id: str) -> str:
        return f"{self.prefix}watch:{run_id}"

    # -- presence: who watches a run, across workers (what ``stop_unwatched`` reads)

    async def _present(self, run_ids: list[str], *, leaving: bool = False) -> None:
        """Record in each run's presence set (a sorted set: hub id -> wall-clock ms) that
        this hub has viewers of it until a lease from now, or, ``leaving``, that its last
        viewer left now."""
        now = int(time.time() * 1000)
        until = now if leaving else now + 3 * self.block_ms + 1000
        async with self._db.pipeline(transaction=False) as pipe:
            for run_id in run_ids:
                pipe.zadd(self._watch(run_id), {self._id: until})
                pipe.pexpire(self._watch(run_id), int(self.ttl * 1000))
            await pipe.execute()

    def _left(self, run_id: str) -> None:
        """This worker's last viewer of ``run_id`` left: say so (in a task: a viewer
        leaves from a synchronous callback)."""

        async def say() -> None:
            with suppress(Exception):
                await self._present([run_id], leaving=True)

        task = asyncio.get_running_loop().create_task(say())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def unwatched_for(self, run_id: str) -> float:
        tail = self._tails.get(run_id)
        if tail is not None and tail.viewers:
            return 0.0
        with _redis_errors("reading the viewers of", run_id):
            latest = await self._db.zrange(self._watch(run_id), -1, -1, withscores=True)
        now = time.time()
        if latest:
            return max(0.0, now - float(latest[0][1]) / 1000)
        producer = self._producers.get(run_id)
        return now - producer.opened_at if producer is not None else 0.0

    # -- producing

    async def _open(self, run_id: str, *, force: bool = False) -> _Producer:
        """Start ``run_id`` afresh here (a new run, or a new relay of an ended one, or with
        ``force`` of one this hub produced)."""
        meta, events = self._meta(run_id), self._events(run_id)
        producer = _Producer(run_id)
        state = orjson.dumps(producer.view.state())
        ttl_ms = int(self.ttl * 1000)
        async with self._db.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(meta)
                    ended = await pipe.hget(meta, "ended")
                    if ended is not None and ended != b"1" and not force:
                        raise StreamkitError(
                            f"run {run_id!r} is being relayed (by another worker): "
                            "one producer per run"
                        )
                    pipe.multi()
                    pipe.delete(meta, events)
                    pipe.hset(meta, mapping={"snap": 0, "state": state, "ended": 0})
                    pipe.pexpire(meta, ttl_ms)
                    await pipe.execute()
                    break
                except WatchError:  # another worker opened it meanwhile: look again
                    continue
        self._producers[run_id] = producer
        return producer

    async def _append(self, run_id: str, events: list[dict[str, Any]]) -> int:
        with _redis_errors("publishing to", run_id):
            return await self._store(run_id, events)

    async def _store(self, run_id: str, events: list[dict[str, Any]]) -> int:
        producer = self._producers.get(run_id)
        if producer is None:
            if events:
                ended = await self._db.hget(self._meta(run_id), "ended")
                if ended == b"1":
                    raise StreamkitError(
                        f"run {run_id!r} has ended: nothing is published after its end"
                    )
            producer = await self._open(run_id)
        if producer.error is not None:  # a write failed: the run is broken (a relay reopens it)
            raise producer.error
        if not events:
            return producer.seq
        for event in events:
            producer.seq += 1
            producer.view.apply(event)
            fields = {"f": frame(producer.seq, event)}
            if event["type"] == "end":
                fields["end"] = b"1"
                producer.ended = True
                del self._producers[run_id]
            producer.outbox.append((producer.seq, fields))
            if producer.ended:
                break
        self._dirty[run_id] = producer
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        if producer.ended or len(producer.outbox) >= self._max_outbox:
            await self._written(producer, producer.seq)
        return producer.seq

    async def _written(self, producer: _Producer, event_id: int) -> None:
        """Wait until ``event_id`` of the run is in Redis (raise what failed instead)."""
        while producer.written < event_id and producer.error is None:
            await producer.progress.wait()
        if producer.error is not None:
            raise producer.error

    async def _write(self) -> None:
        """The writer: what every run of this hub published since its last write goes to
        Redis in one ``MULTI``/``EXEC`` (a group commit), until nothing is left."""
        ttl_ms = int(self.ttl * 1000)
        while self._dirty:
            batch, self._dirty = self._dirty, {}
            wrote: list[tuple[str, _Producer, int, int]] = []  # run, producer, last id, commands
            try:
                async with self._db.pipeline(transaction=True) as pipe:
                    for run_id, producer in batch.items():
                        outbox, producer.outbox = producer.outbox, []
                        if not outbox:
                            continue
                        meta, key = self._meta(run_id), self._events(run_id)
                        for n, fields in outbox:
                            pipe.xadd(
                                key, fields, id=f"{n}-0", maxlen=self.history, approximate=False
                            )
                        commands = len(outbox)
                        last = outbox[-1][0]
                        # the fold is at `last` now: the snapshot names the id it includes
                        if producer.ended or last - producer.snap_id >= self.snapshot_every:
                            producer.snap_id = last
                            state = orjson.dumps(producer.view.state())
                            update = {"snap": last, "state": state, "ended": int(producer.ended)}
                            pipe.hset(meta, mapping=update)
                            commands += 1
                        now = time.monotonic()
                        if producer.ended or now - producer.refreshed > self.ttl / 8:
                            producer.refreshed = now  # (not on every write: it costs)
                            pipe.pexpire(meta, ttl_ms)
                            pipe.pexpire(key, ttl_ms)
                            commands += 2
                        wrote.append((run_id, producer, last, commands))
                    results = await pipe.execute(raise_on_error=False)
            except BaseException as exc:  # the transaction as a whole: every run failed
                for run_id, producer, _, _ in wrote:
                    producer.error = _write_error(run_id, exc)
                    self._wake_writers(producer)
                if not isinstance(exc, Exception):
                    raise
                continue
            at = 0
            for run_id, producer, last, commands in wrote:
                # a command that failed inside the transaction fails its run only
                failed = [r for r in results[at : at + commands] if isinstance(r, Exception)]
                at += commands
                if failed:
                    producer.error = _write_error(run_id, failed[0])
                else:
                    producer.written = last
                self._wake_writers(producer)

    @staticmethod
    def _wake_writers(producer: _Producer) -> None:
        progress, producer.progress = producer.progress, asyncio.Event()
        progress.set()

    # -- viewing

    async def knows(self, run_id: str) -> bool:
        with _redis_errors("looking up", run_id):
            return bool(await self._db.exists(self._meta(run_id)))

    async def snapshot(self, run_id: str) -> dict[str, Any]:
        """The run's latest stored snapshot and the events after it, folded:
        ``{"id": N, "state": {...}}`` (as :meth:`MemoryHub.snapshot`, read from Redis)."""
        with _redis_errors("reading", run_id):
            _, state, last, after, _ = await self._read_snapshot(run_id)
        view = RunView.from_state(orjson.loads(state))
        for data in after:
            view.apply(orjson.loads(data[data.index(b"data: ") + 6 : -2]))
        return {"id": last, "state": view.state()}

    async def _read_snapshot(self, run_id: str) -> tuple[int, bytes, int, list[bytes], bool]:
        """In one transaction: the stored snapshot and every entry after it, as ``(snapshot
        id, state JSON, last id, the frames after the snapshot, ended)``. The entries after
        a snapshot are fewer than ``snapshot_every``: reading that many from the end is
        enough, and needs no second round trip."""
        async with self._db.pipeline(transaction=True) as pipe:
            pipe.hmget(self._meta(run_id), ["snap", "state", "ended"])
            pipe.xrevrange(self._events(run_id), count=self.snapshot_every)
            (snap, state, ended), entries = await pipe.execute()
        if snap is None:
            raise RunNotFound(run_id)
        snap_id = int(snap)
        after = [f[b"f"] for i, f in reversed(entries) if _entry_id(i) > snap_id]
        return snap_id, state, snap_id + len(after), after, ended == b"1"

    async def _range(self, run_id: str, first: int, last: int) -> list[bytes] | None:
        """The frames ``first..last`` (None when the stream no longer holds them all)."""
        entries = await self._db.xrange(self._events(run_id), f"{first}-0", f"{last}-0")
        if len(entries) != last - first + 1 or (entries and _entry_id(entries[0][0]) != first):
            return None
        return [f[b"f"] for _, f in entries]

    async def subscribe(self, run_id: str, last_event_id: int | None = None) -> Subscription:
        tail = self._tails.get(run_id)
        if tail is None or tail.over:
            tail = self._tails[run_id] = _Tail()
        send, receive = anyio.create_memory_object_stream[bytes](self.queue_size)
        viewer = _Viewer(send)
        tail.pending.append(viewer)  # from now on, what the tail reads is held for it
        try:
            with _redis_errors("subscribing to", run_id):
                first, last, ended, fresh = await self._first_frames(run_id, last_event_id)
                if not ended and tail.last is not None and tail.last > last:
                    # the tail had read further than this read: the frames in between
                    more = await self._range(run_id, last + 1, tail.last)
                    if more is None:  # trimmed meanwhile: resume (a fresh snapshot)
                        ended = True
                    else:
                        first += more
                        last += len(more)
        except BaseException:
            tail.pending.remove(viewer)
            if tail.last is None and not tail.pending and self._tails.get(run_id) is tail:
                del self._tails[run_id]
            send.close()
            raise
        tail.pending.remove(viewer)
        first += [data for n, data in viewer.held if n > last]
        viewer.after = max([last, *(n for n, _ in viewer.held)])
        viewer.held = []
        if ended or tail.over:
            if tail.last is None and not tail.pending and self._tails.get(run_id) is tail:
                del self._tails[run_id]
            send.close()
            await receive.aclose()
            subscription = Subscription(first, None, fresh=fresh)
            # a tail that broke off (or a resume that fell behind): reconnect and resume
            subscription.dropped = not ended and not tail.ended
            return subscription

        def forget(subscription: Subscription) -> None:
            gone = tail.viewers.pop(subscription, None)
            if gone is not None:
                gone.send.close()
                if not tail.viewers and self.stop_unwatched is not None:
                    self._left(run_id)

        subscription = Subscription(first, receive, forget, fresh=fresh)
        tail.viewers[subscription] = viewer
        if len(tail.viewers) == 1 and self.stop_unwatched is not None:
            with _redis_errors("subscribing to", run_id):
                await self._present([run_id])
        if tail.last is None:  # the first read of this tail: it starts where it ended
            tail.last = last
            try:
                with _redis_errors("subscribing to", run_id):
                    await self._follow()
            except BaseException:
                await subscription.aclose()
                raise
        return subscription

    async def _first_frames(
        self, run_id: str, last_event_id: int | None
    ) -> tuple[list[bytes], int, bool, bool]:
        """What a viewer gets before the live tail: ``(frames, id of the last one, ended,
        fresh)``."""
        fresh = False
        if last_event_id is not None:
            async with self._db.pipeline(transaction=True) as pipe:
                pipe.hmget(self._meta(run_id), ["snap", "ended"])
                pipe.xrevrange(self._events(run_id), count=1)
                pipe.xrange(self._events(run_id), min=f"{last_event_id + 1}-0")
                (snap, ended_raw), newest, entries = await pipe.execute()
            if snap is None:
                raise RunNotFound(run_id)
            # the last id: the newest entry (the stream holds at least the events after the
            # snapshot, so it is empty only when there are none)
            last = _entry_id(newest[0][0]) if newest else int(snap)
            ended = ended_raw == b"1"
            if last_event_id == last:
                return [], last, ended, False
            if last_event_id < last and entries and _entry_id(entries[0][0]) == last_event_id + 1:
                return [f[b"f"] for _, f in entries], last, ended, False
            fresh = True  # older than the stream holds, or an id this run never had
        snap_id, state, last, after, ended = await self._read_snapshot(run_id)
        return [snapshot_frame(snap_id, state, fresh=fresh), *after], last, ended, fresh

    async def _follow(self) -> None:
        """Have the reader follow every started tail: start it, or wake it (its ``XREAD``
        names the streams it followed when it began)."""
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
            return
        async with self._db.pipeline(transaction=False) as pipe:
            pipe.xadd(self._wake, {"w": b"1"}, maxlen=1)
            pipe.pexpire(self._wake, int(self.ttl * 1000))
            await pipe.execute()

    async def _read(self) -> None:
        """The reader: one ``XREAD BLOCK`` for the streams of every run this worker's
        viewers follow (and this hub's wake stream), each from the last id it handed on;
        until no viewer is left. A run that ends, breaks off or expires ends its tail."""
        wake_last = b"0-0"
        tails = self._tails
        try:
            while True:
                started = {run: t for run, t in tails.items() if t.last is not None}
                for run_id, tail in list(started.items()):
                    if not tail.viewers and not tail.pending:
                        self._finish(run_id, tail)
                        del started[run_id]
                if not started:
                    return
                if self.stop_unwatched is not None:
                    await self._renew_presence(started)
                streams: dict[str, Any] = {self._wake: wake_last}
                keys: dict[bytes, tuple[str, _Tail]] = {}
                for run_id, tail in started.items():
                    key = self._events(run_id)
                    streams[key] = f"{tail.last}-0"
                    keys[key.encode()] = (run_id, tail)
                answer = await self._db.xread(streams, count=1000, block=self.block_ms)
                if not answer:  # a quiet while: forget the runs that expired
                    runs = list(started.items())
                    async with self._db.pipeline(transaction=False) as pipe:
                        for run_id, _ in runs:
                            pipe.exists(self._meta(run_id))
                        alive = await pipe.execute()
                    for (run_id, tail), exists in zip(runs, alive, strict=True):
                        if not exists:
                            self._finish(run_id, tail)
                    continue
                for key, entries in answer.items() if isinstance(answer, dict) else answer:
                    if key == self._wake.encode():
                        wake_last = entries[-1][0]
                        continue
                    run_id, tail = keys[key]
                    if tail.over:
                        continue
                    for raw_id, fields in entries:
                        n = _entry_id(raw_id)
                        assert tail.last is not None
                        if n <= tail.last:
                            continue
                        if n != tail.last + 1:  # trimmed before it was read: all resume
                            self._finish(run_id, tail)
                            break
                        tail.last = n
                        self._hand_on(tail, n, fields[b"f"])
                        if b"end" in fields:
                            tail.ended = True
                            self._finish(run_id, tail)
                            break
        except Exception:  # Redis went away: the viewers' streams end, they resume later
            _log.exception("the relay's Redis reader failed")
        finally:
            for run_id, tail in list(tails.items()):
                if tail.last is not None:
                    self._finish(run_id, tail)

    async def _renew_presence(self, tails: dict[str, _Tail]) -> None:
        """Renew this worker's presence for the runs its viewers watch, about every
        ``block_ms`` (the reader comes by at least that often)."""
        now = time.monotonic()
        if now - self._presence_renewed < self.block_ms / 2000:
            return
        self._presence_renewed = now
        watched = [run_id for run_id, tail in tails.items() if tail.viewers]
        if watched:
            await self._present(watched)

    def _finish(self, run_id: str, tail: _Tail) -> None:
        """End a tail: its viewers' streams end (dropped, unless the run ended)."""
        tail.over = True
        if self._tails.get(run_id) is tail:
            del self._tails[run_id]
        for subscription, viewer in tail.viewers.items():
            subscription.dropped = not tail.ended
            viewer.send.close()
        tail.viewers.clear()

    @staticmethod
    def _hand_on(tail: _Tail, n: int, data: bytes) -> None:
        for pending in tail.pending:
            pending.held.append((n, data))
        for subscription, viewer in list(tail.viewers.items()):
            if n <= viewer.after:
                continue
            try:
                viewer.send.send_nowait(data)
            except anyio.WouldBlock:
                subscription.dropped = True
                del tail.viewers[subscription]
                viewer.send.close()  # it reads what it holds, then its response ends

    # -- stopping across workers

    async def relay(
        self,
        run_id: str,
        stream: Any,
        *,
        client: Any = None,
        _started: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> str:
        """As :meth:`Hub.relay`; while it runs, a :meth:`stop` from any worker reaches it."""
        if self.relaying(run_id):
            raise StreamkitError(f"run {run_id!r} is already being relayed")
        try:
            with _redis_errors("opening", run_id):
                await self._listen(run_id)
                producer = self._producers.get(run_id)
                if producer is None or producer.error is not None:
                    # (a run opened by publish() goes on; one whose write failed here starts
                    # afresh)
                    await self._open(run_id, force=producer is not None)
            return await super().relay(run_id, stream, client=client, _started=_started)
        finally:
            with anyio.CancelScope(shield=True):
                await self._unlisten(run_id)

    async def _listen(self, run_id: str) -> None:
        """Subscribe to the run's stop channel (one pub/sub connection per hub)."""
        if self._pubsub is None:
            self._pubsub = self._db.pubsub()
        channel = self._stop_channel(run_id)
        self._stop_channels[channel.encode()] = run_id
        await self._pubsub.subscribe(channel)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._watch_stops())

    async def _unlisten(self, run_id: str) -> None:
        channel = self._stop_channel(run_id)
        self._stop_channels.pop(channel.encode(), None)
        if self._pubsub is not None:
            with suppress(Exception):  # the connection is gone: so is the subscription
                await self._pubsub.unsubscribe(channel)

    async def _watch_stops(self) -> None:
        """Run the local stop of each run whose stop channel speaks, while any is relayed."""
        pubsub = self._pubsub
        try:
            while self._stop_channels:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is None or message.get("type") != "message":
                    continue
                run_id = self._stop_channels.get(message["channel"])
                if run_id is not None:
                    task = asyncio.get_running_loop().create_task(self._local_stop(run_id))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        except Exception:
            _log.exception("the relay's Redis stop listener failed")

    async def _local_stop(self, run_id: str) -> bool:
        return await super().stop(run_id)

    async def stop(self, run_id: str) -> bool:
        """Stop ``run_id`` wherever it is relayed (see the module doc): True once it ended,
        False when no worker relays it."""
        if self.relaying(run_id):
            return await super().stop(run_id)
        with _redis_errors("stopping", run_id):
            if not await self._db.publish(self._stop_channel(run_id), b"stop"):
                return False
            deadline = time.monotonic() + 2 * self.stop_timeout + 5
            meta = self._meta(run_id)
            while time.monotonic() < deadline:
                ended = await self._db.hget(meta, "ended")
                if ended is None or ended == b"1":
                    return bool(ended == b"1")
                await anyio.sleep(0.02)
        return False

    # -- closing

    async def aclose(self) -> None:
        """Stop this worker's reader (its viewers' streams end) and stop listener, and close
        the Redis client if the hub made it (from a URL)."""
        if self._writer is not None:  # what was published is written first
            with suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), self.stop_timeout)
        tasks = [t for t in (self._reader, self._listener, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._reader = self._listener = self._writer = None
        if self._pubsub is not None:
            with suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        with suppress(Exception):
            await self._db.delete(self._wake)
        if self._owns_client:
            await self._db.aclose()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        """Leaving stops this worker's relays (as every hub) and :meth:`aclose`\\s."""
        try:
            return await super().__aexit__(exc_type, exc, tb)
        finally:
            with anyio.CancelScope(shield=True):
                await self.aclose()
