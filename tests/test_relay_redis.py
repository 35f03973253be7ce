"""The Redis Streams hub: the hub contract on both hubs, and two relay workers over real
sockets sharing one redis-server (started by the ``redis_url`` fixture on 127.0.0.1).

What a front end relies on: a resume from any id gives exactly the events after it, or a
fresh snapshot when the history (``MAXLEN``) no longer reaches back; viewers on another
worker than the producer's get the snapshot then the live tail; more than 1,000 random
disconnects, each viewer resuming on a random worker, lose and duplicate nothing; stop
sent to one worker cancels the run that another relays, upstream; a frozen viewer does not
delay the others; a run's keys expire.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

import streamkit
from streamkit import StreamkitError
from streamkit.emulator import create_app, serve_in_thread
from streamkit.relay import Hub, MemoryHub, RunNotFound, RunView, relay_routes
from streamkit.relay._hub import frame
from streamkit.relay._wire import snapshot_event
from test_relay_hub import TAIL, body, delta, drain, fold, head
from test_relay_live import KEY, Viewer, serve_with_small_send_buffers, text_of, words

redis = pytest.importorskip("redis", reason="the redis extra: pip install 'streamkit[redis]'")

from streamkit.relay import RedisHub  # noqa: E402  (after the importorskip)


def unique(name: str = "run") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}"


HubMaker = Callable[..., Hub]


@pytest.fixture(params=["memory", "redis"])
def make_hub(request: pytest.FixtureRequest) -> HubMaker:
    """A hub factory: ``make_hub(history=..., queue_size=...)``; each Redis hub gets its
    own key prefix (the runs of one test cannot meet another's)."""
    if request.param == "memory":
        return MemoryHub
    url = request.getfixturevalue("redis_url")
    prefix = f"test:{uuid.uuid4().hex[:8]}:"

    def redis_hub(**kw: Any) -> Hub:
        return RedisHub(url, prefix=prefix, **kw)

    return redis_hub


async def snapshot_of(hub: Hub, run_id: str) -> dict[str, Any]:
    if isinstance(hub, RedisHub):
        return await hub.snapshot(run_id)
    assert isinstance(hub, MemoryHub)
    return hub.snapshot(run_id)


async def closing(hub: Hub) -> None:
    if isinstance(hub, RedisHub):
        await hub.aclose()


# --- the hub contract, on both hubs ------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(0, 30), history=st.integers(1, 40), every=st.integers(1, 12), data=st.data())
def test_a_resume_gives_exactly_the_events_after_its_id(
    make_hub: HubMaker, n: int, history: int, every: int, data: st.DataObject
) -> None:
    """From any id: the frames after it (when the hub still holds them), else one fresh
    snapshot (with the events after it, on Redis); the fold equals the final state."""

    async def main() -> None:
        kw = {"snapshot_every": every} if make_hub is not MemoryHub else {}
        hub = make_hub(history=history, **kw)
        try:
            assert await hub.relay("r", streamkit.astream(body(n))) == "completed"
            final = await snapshot_of(hub, "r")
            last = data.draw(st.integers(0, final["id"] + 2), label="last_event_id")
            subscription = await hub.subscribe("r", last)
            frames = await drain(subscription)
            held = final["id"] - min(history, final["id"])  # the oldest id still resumable
            if last == final["id"]:
                assert frames == [] and subscription.over
            elif held <= last < final["id"]:
                assert [i for i, _ in frames] == list(range(last + 1, final["id"] + 1))
                assert not subscription.fresh
            else:
                assert subscription.fresh and frames[0][1]["fresh"] is True
                assert frames[-1][0] == final["id"]
                ids = [i for i, _ in frames]
                assert ids[1:] == list(range(ids[0] + 1, final["id"] + 1))
                assert fold(frames).state() == final["state"]
            new = await drain(await hub.subscribe("r"))  # a new viewer: the same state
            assert new[0][1]["fresh"] is False and fold(new).state() == final["state"]
        finally:
            await closing(hub)

    anyio.run(main)


def test_the_stored_snapshot_frame_is_the_memory_hubs_frame() -> None:
    from streamkit.relay._redis import snapshot_frame

    view = RunView("r")
    view.apply({"v": 1, "type": "text.delta", "message_id": "m", "index": 0, "text": 'a "q"'})
    for fresh in (False, True):
        state = orjson.dumps(view.state())
        assert snapshot_frame(7, state, fresh=fresh) == frame(7, snapshot_event(view, fresh=fresh))


def test_viewers_get_a_snapshot_then_the_live_tail(make_hub: HubMaker) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        for i in range(30):
            await anyio.sleep(0.005)
            yield delta(i)
        yield TAIL

    async def main() -> None:
        hub = make_hub(snapshot_every=4) if make_hub is not MemoryHub else make_hub()
        try:
            async with anyio.create_task_group() as group:
                await group.start(relay_started, hub, "r", streamkit.astream(source()))
                early = await hub.subscribe("r")
                await anyio.sleep(0.08)
                late = await hub.subscribe("r")
                a, b = await drain(early), await drain(late)
            final = await snapshot_of(hub, "r")
            assert a[0][1]["type"] == b[0][1]["type"] == "snapshot"
            assert a[0][0] < b[0][0]  # the late snapshot is further on
            for frames in (a, b):
                ids = [i for i, _ in frames]
                assert ids[1:] == list(range(ids[0] + 1, ids[-1] + 1))
                assert ids[-1] == final["id"] and frames[-1][1]["type"] == "end"
                assert fold(frames).state() == final["state"]
        finally:
            await closing(hub)

    anyio.run(main)


async def relay_started(
    hub: Hub, run_id: str, stream: Any, *, task_status: Any = anyio.TASK_STATUS_IGNORED
) -> None:
    await hub.relay(run_id, stream, _started=task_status)


def test_a_viewer_that_falls_behind_is_dropped_and_resumes(make_hub: HubMaker) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        for i in range(40):
            await anyio.sleep(0.003)  # a Redis tail may read a burst at once: pace it
            yield delta(i)
        yield TAIL

    async def main() -> None:
        hub = make_hub(queue_size=4)
        try:
            await hub.publish("r", [])
            slow = await hub.subscribe("r")
            fast = await hub.subscribe("r")
            got: list[bytes] = []

            async def keep_up() -> None:
                async for data in fast:
                    got.append(data)

            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    group.start_soon(keep_up)
                    await hub.relay("r", streamkit.astream(source()))
            final = await snapshot_of(hub, "r")
            assert slow.dropped and not fast.dropped
            frames = await drain(slow)  # what it held, then the end of its stream
            assert 1 < len(frames) <= 1 + 4 and frames[-1][1]["type"] != "end"
            resumed = await drain(await hub.subscribe("r", frames[-1][0]))
            assert [i for i, _ in resumed] == list(range(frames[-1][0] + 1, final["id"] + 1))
            assert fold(frames + resumed).state() == final["state"]
            assert b"".join(got).count(b"id: ") == 1 + final["id"] - fold_start(got)
        finally:
            await closing(hub)

    anyio.run(main)


def fold_start(got: list[bytes]) -> int:
    """The id of the snapshot a viewer began with."""
    return int(b"".join(got).split(b"\n", 1)[0].removeprefix(b"id: "))


def test_ends_publishing_after_the_end_and_unknown_runs(make_hub: HubMaker) -> None:
    async def main() -> None:
        hub = make_hub()
        try:
            assert not await hub.knows("r")
            with pytest.raises(RunNotFound, match="'r'"):
                await hub.subscribe("r")
            assert await hub.relay("r", streamkit.astream(body(2))) == "completed"
            assert await hub.knows("r")
            with pytest.raises(StreamkitError, match="has ended"):
                await hub._append("r", [{"v": 1, "type": "error", "code": None, "message": ""}])
            assert not await hub.stop("r")  # nothing relays it now
            # a new relay of an ended run id starts afresh, numbered from 1
            assert await hub.relay("r", streamkit.astream(body(0))) == "completed"
            frames = await drain(await hub.subscribe("r", 0))
            assert frames[0][0] == 1 and frames[-1][1]["type"] == "end"
        finally:
            await closing(hub)

    anyio.run(main)


def test_stop_without_a_client_ends_the_run_stopped(make_hub: HubMaker) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        await anyio.sleep(30)  # never comes: stop ends the wait
        yield TAIL

    async def main() -> None:
        hub = make_hub()
        try:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    await group.start(relay_started, hub, "r", streamkit.astream(source()))
                    assert hub.relaying("r")
                    await anyio.sleep(0.1)  # the head is read
                    assert await hub.stop("r")
            state = (await snapshot_of(hub, "r"))["state"]
            assert state["end"] == {"reason": "stopped", "status": "in_progress"}
        finally:
            await closing(hub)

    anyio.run(main)


# --- Redis only: across workers, expiry, trimming ---------------------------------------


def test_two_workers_share_runs_stops_and_knows(redis_url: str) -> None:
    """Worker A relays; worker B knows the run, serves its viewers, and stops it."""

    async def source() -> AsyncIterator[bytes]:
        yield head()
        for i in range(5):
            yield delta(i)
        await anyio.sleep(30)  # until the stop
        yield TAIL

    async def main() -> None:
        prefix = f"test:{uuid.uuid4().hex[:8]}:"
        async with RedisHub(redis_url, prefix=prefix) as a, RedisHub(redis_url, prefix=prefix) as b:
            with anyio.fail_after(10):
                await a.start("r", streamkit.astream(source()))
                assert await b.knows("r") and not b.relaying("r") and a.relaying("r")
                with pytest.raises(StreamkitError, match="being relayed"):
                    await b.publish("r", [])  # one producer per run
                viewer = await b.subscribe("r")
                await anyio.sleep(0.05)
                assert await b.stop("r")
                frames = await drain(viewer)
            assert frames[-1][1] == {
                "v": 1,
                "type": "end",
                "reason": "stopped",
                "status": "in_progress",
            }
            assert not a.relaying("r")
            assert text_of(fold(frames).state()) == " w0 w1 w2 w3 w4"

    anyio.run(main)


def test_a_run_expires_ttl_seconds_after_its_last_event(redis_url: str) -> None:
    async def main() -> None:
        hub = RedisHub(redis_url, prefix=f"test:{uuid.uuid4().hex[:8]}:", ttl=0.3)
        try:
            await hub.relay("r", streamkit.astream(body(3)))
            assert await hub.knows("r")
            with anyio.fail_after(5):
                while await hub.knows("r"):
                    await anyio.sleep(0.05)
            with pytest.raises(RunNotFound):
                await hub.subscribe("r", 2)
            keys = await hub.redis.keys(f"{hub.prefix}*:r")
            assert keys == []  # the stream expired with the snapshot
        finally:
            await hub.aclose()

    anyio.run(main)


def test_the_stream_is_trimmed_to_the_history(redis_url: str) -> None:
    async def main() -> None:
        hub = RedisHub(redis_url, prefix=f"test:{uuid.uuid4().hex[:8]}:", history=7)
        try:
            await hub.relay("r", streamkit.astream(body(40)))
            assert await hub.redis.xlen(f"{hub.prefix}events:r") == 7
            final = await hub.snapshot("r")
            kept = await drain(await hub.subscribe("r", final["id"] - 7))
            assert [i for i, _ in kept] == list(range(final["id"] - 6, final["id"] + 1))
            old = await hub.subscribe("r", final["id"] - 8)
            frames = await drain(old)
            assert old.fresh and frames[0][1]["fresh"] and fold(frames).state() == final["state"]
        finally:
            await hub.aclose()

    anyio.run(main)


def test_bad_settings_are_named(redis_url: str) -> None:
    with pytest.raises(ValueError, match="history"):
        RedisHub(redis_url, history=0)
    with pytest.raises(ValueError, match="ttl"):
        RedisHub(redis_url, ttl=0)
    with pytest.raises(ValueError, match="decode_responses"):
        RedisHub(redis.asyncio.Redis.from_url(redis_url, decode_responses=True))


def test_a_redis_that_cannot_be_reached_is_a_streamkit_error_naming_the_run() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"

    async def main() -> None:
        hub = RedisHub(url)
        try:
            refused = "while looking up run 'r': Connection"
            with anyio.fail_after(20), pytest.raises(StreamkitError, match=refused):
                await hub.knows("r")
            with pytest.raises(StreamkitError, match="while subscribing to run 'r'"):
                await hub.subscribe("r", 3)
            with pytest.raises(StreamkitError, match="while opening run 'r'"):
                await hub.relay("r", streamkit.astream(body(1)))
            assert not hub.relaying("r")
        finally:
            await hub.aclose()

    anyio.run(main)


def test_a_write_that_fails_fails_its_run_only_and_names_it(redis_url: str) -> None:
    """A command refused inside the group commit (here: the run's stream key was made a
    string) fails that run's relay with a StreamkitError naming it; another run written in
    the same transaction goes on."""

    async def main() -> None:
        hub = RedisHub(redis_url, prefix=f"test:{uuid.uuid4().hex[:8]}:")
        try:
            await hub.publish("bad", [])
            await hub.redis.set(f"{hub.prefix}events:bad", b"not a stream")
            async with anyio.create_task_group() as group:
                group.start_soon(hub.relay, "good", streamkit.astream(body(30)))
                with pytest.raises(StreamkitError, match="writing run 'bad': ResponseError"):
                    await hub.relay("bad", streamkit.astream(body(30)))
            assert (await hub.snapshot("good"))["state"]["end"]["reason"] == "completed"
            assert not hub.relaying("bad")
            await hub.redis.delete(f"{hub.prefix}events:bad")  # repaired: relay it afresh
            assert await hub.relay("bad", streamkit.astream(body(1))) == "completed"
            frames = await drain(await hub.subscribe("bad", 0))
            assert frames[0][0] == 1 and frames[-1][1]["type"] == "end"
        finally:
            await hub.aclose()

    anyio.run(main)


def test_importing_the_relay_does_not_import_redis() -> None:
    code = (
        "import sys, streamkit, streamkit.relay\n"
        "assert 'redis' not in sys.modules\n"
        "streamkit.relay.RedisHub\n"
        "assert 'redis' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- two relay workers over real sockets --------------------------------------------------


class Worker:
    """One worker process of a chat backend, as a user would write it: POST /chat starts a
    run and relays it; its RedisHubs share one Redis with the other workers."""

    def __init__(self, emulator_url: str, redis_url: str, prefix: str) -> None:
        self.emulator_url = emulator_url
        self.hubs = {
            "main": RedisHub(redis_url, prefix=prefix, snapshot_every=20),
            "small": RedisHub(redis_url, prefix=prefix + "small:", history=5),
            "tight": RedisHub(redis_url, prefix=prefix + "tight:", queue_size=16),
            # no viewer on any worker for 1.5 s: the run is stopped
            "watched": RedisHub(
                redis_url, prefix=prefix + "watched:", block_ms=200, stop_unwatched=1.5
            ),
        }

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with (
                streamkit.AsyncClient(base_url=self.emulator_url, api_key=KEY) as client,
                self.hubs["main"],
                self.hubs["small"],
                self.hubs["tight"],
                self.hubs["watched"],
            ):
                app.state.client = client
                app.state.assistant = await client.assistants.create(model="gpt-4o")
                yield

        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            client: streamkit.AsyncClient = request.app.state.client
            stream = client.threads.create_and_run_stream(
                assistant_id=request.app.state.assistant.id,
                thread={"messages": [{"role": "user", "content": body["text"]}]},
                extra_headers={"X-Emulator-Tokens-Per-Second": str(body.get("tps", 0))},
            )
            run_id = unique("chat")
            await self.hubs[body.get("hub", "main")].start(run_id, stream, client=client)
            return JSONResponse({"run_id": run_id})

        routes: list[Any] = [Route("/chat", chat, methods=["POST"])]
        for name, hub in self.hubs.items():
            routes.append(
                Mount(f"/{name}", routes=relay_routes(hub, heartbeat=0.2, send_timeout=1.0))
            )
        return Starlette(routes=routes, lifespan=lifespan)


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=KEY)) as url:
        yield url


@pytest.fixture(scope="module")
def workers(emulator_url: str, redis_url: str) -> Iterator[tuple[str, str]]:
    prefix = f"live:{uuid.uuid4().hex[:8]}:"
    with (
        serve_in_thread(Worker(emulator_url, redis_url, prefix).app(), lifespan="on") as a,
        serve_in_thread(Worker(emulator_url, redis_url, prefix).app(), lifespan="on") as b,
    ):
        yield a, b


def start_chat(url: str, text: str, *, tps: int = 0, hub: str = "main") -> str:
    answer = httpx.post(f"{url}/chat", json={"text": text, "tps": tps, "hub": hub}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["run_id"])


def at(viewer: Viewer, url: str, run_id: str, hub: str = "main") -> Viewer:
    """Point ``viewer`` at a worker (its next connection goes there)."""
    viewer.url = f"{url}/{hub}/runs/{run_id}/events"
    return viewer


async def final_snapshot(url: str, run_id: str, hub: str = "main") -> dict[str, Any]:
    viewer = Viewer(url, run_id, hub)
    async with httpx.AsyncClient(timeout=10) as http:
        await viewer.read(http)
    assert len(viewer.snapshots) == 1 and viewer.ended, viewer.faults
    return viewer.state()


def test_a_late_joiner_on_the_other_worker_gets_the_snapshot_then_the_tail(
    workers: tuple[str, str],
) -> None:
    a, b = workers
    text = words(300)
    run_id = start_chat(a, f"echo: {text}", tps=600)  # about half a second

    async def main() -> tuple[list[Viewer], Viewer]:
        viewers = [Viewer(url, run_id) for url in (a, b, a, b)]
        late = Viewer(b, run_id)
        async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as group:
            for viewer in viewers:
                group.start_soon(lambda v=viewer: v.read(http))

            async def join_late() -> None:
                await anyio.sleep(0.25)
                await late.read(http)

            group.start_soon(join_late)
        return viewers, late

    viewers, late = anyio.run(main)
    final = anyio.run(final_snapshot, b, run_id)
    assert text_of(final) == text and final["end"]["reason"] == "completed"
    assert anyio.run(final_snapshot, a, run_id) == final
    for viewer in [*viewers, late]:
        assert viewer.faults == [] and viewer.ended and viewer.state() == final
    # it came in mid-run: a stored snapshot (at most 20 events old), the events after it,
    # then the live tail; not the run from its start
    snapshot = late.snapshots[0]
    assert 0 < snapshot["id"] < late.last  # type: ignore[operator]
    assert 0 < len(text_of(snapshot["state"])) < len(text)
    assert late.events < viewers[0].events


def test_resume_on_random_workers_after_a_thousand_random_disconnects(
    workers: tuple[str, str],
) -> None:
    """Viewers disconnect at random points (after a random number of events, or at a
    random moment, possibly inside a frame) and resume with Last-Event-ID on a random
    worker; runs (started on a random worker) follow one another until 1,000 disconnects
    are done (at most 8 runs, 45 s)."""
    rng = random.Random(4321)
    disconnects = 0
    switches = 0
    runs = 0
    deadline = time.monotonic() + 45

    async def watch(viewer: Viewer, run_id: str, http: httpx.AsyncClient) -> None:
        nonlocal disconnects, switches
        while not viewer.ended and time.monotonic() < deadline:
            url = rng.choice(workers)
            switches += not viewer.url.startswith(url)
            at(viewer, url, run_id)
            if rng.random() < 0.5:
                await viewer.read(http, max_events=rng.randint(1, 10))
            else:
                with anyio.move_on_after(rng.uniform(0.001, 0.03)):
                    await viewer.read(http)
            if not viewer.ended:
                disconnects += 1

    async def one_run() -> None:
        text = words(400)
        run_id = start_chat(rng.choice(workers), f"echo: {text}", tps=1500)
        viewers = [Viewer(workers[0], run_id) for _ in range(8)]
        limits = httpx.Limits(max_connections=100)
        async with (
            httpx.AsyncClient(timeout=10, limits=limits) as http,
            anyio.create_task_group() as group,
        ):
            for viewer in viewers:
                group.start_soon(watch, viewer, run_id, http)
        final = await final_snapshot(rng.choice(workers), run_id)
        assert text_of(final) == text
        for viewer in viewers:
            assert viewer.faults == [], viewer.faults[:5]
            assert viewer.ended and viewer.state() == final
            assert len(viewer.snapshots) == 1  # the stream held every missed event

    while disconnects < 1000 and runs < 8 and time.monotonic() < deadline:
        anyio.run(one_run)
        runs += 1
    print(f"{disconnects} disconnects ({switches} to the other worker) over {runs} runs")
    assert disconnects >= 1000, (disconnects, runs)
    assert switches >= 300


def test_a_resume_older_than_the_history_gets_a_fresh_snapshot_on_the_other_worker(
    workers: tuple[str, str],
) -> None:
    """Worker A relays with a history of 5 events; on worker B, a resume within the last 5
    gets exactly the events after it, an older one a fresh snapshot, one at the end 204."""
    a, b = workers
    text = words(40)
    run_id = start_chat(a, f"echo: {text}", tps=400, hub="small")
    final = anyio.run(final_snapshot, a, run_id, "small")  # once it ended
    last = final_id = 0

    async def resume(after: int) -> Viewer:
        nonlocal last
        viewer = Viewer(b, run_id, "small")
        viewer.view, viewer.last = RunView(run_id), after  # (its state: not checked here)
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http)
        last = viewer.last or 0
        return viewer

    fresh = anyio.run(resume, 1)
    final_id = last
    assert fresh.faults == [] and [s["fresh"] for s in fresh.snapshots] == [True]
    assert fresh.snapshots[0]["id"] == final_id and fresh.state() == final
    assert text_of(final) == text
    kept = anyio.run(resume, final_id - 5)
    assert kept.faults == [] and kept.snapshots == [] and kept.events == 5
    older = anyio.run(resume, final_id - 6)
    assert [s["fresh"] for s in older.snapshots] == [True]
    url = f"{b}/small/runs/{run_id}/events"
    assert httpx.get(url, headers={"Last-Event-ID": str(final_id)}).status_code == 204


def test_stop_sent_to_one_worker_cancels_the_run_another_relays(
    workers: tuple[str, str], emulator_url: str
) -> None:
    a, b = workers
    run_id = start_chat(a, f"echo: {words(200)}", tps=40)  # five seconds

    async def main() -> Viewer:
        viewer = Viewer(b, run_id)
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http, max_events=8)
            answer = await http.post(f"{b}/main/runs/{run_id}/stop")
            assert answer.json() == {"run_id": run_id, "stopped": True}
            with anyio.fail_after(5):
                await viewer.read(http)
        return viewer

    viewer = anyio.run(main)
    state = viewer.state()
    assert viewer.faults == [] and state["end"] == {"reason": "cancelled", "status": "cancelled"}
    run = state["run"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        got = client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"])
        assert got.status == "cancelled"
    for url in (a, b):
        assert httpx.post(f"{url}/main/runs/{run_id}/stop").json()["stopped"] is False
        assert httpx.post(f"{url}/main/runs/nope/stop").status_code == 404


def test_viewers_on_another_worker_keep_a_run_going_and_their_leaving_stops_it(
    workers: tuple[str, str], emulator_url: str
) -> None:
    """``stop_unwatched`` counts the viewers of every worker: a run relayed by A and
    watched only on B goes on past the grace time; once B's viewer has left for longer
    than it, A stops the run and cancels it upstream."""
    a, b = workers
    run_id = start_chat(a, f"echo: {words(200)}", tps=40, hub="watched")  # five seconds

    async def main() -> dict[str, Any]:
        viewer = Viewer(b, run_id, "watched")
        async with httpx.AsyncClient(timeout=10) as http:
            with anyio.move_on_after(2.5):  # watched on B for longer than the grace time
                await viewer.read(http)
            assert viewer.faults == [] and not viewer.ended, "stopped while watched on B"
        run = viewer.state()["run"]
        async with streamkit.AsyncClient(base_url=emulator_url, api_key=KEY) as client:
            with anyio.fail_after(10):  # the viewer left: A stops the run
                while True:
                    got = await client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"])
                    if got.status not in ("in_progress", "cancelling"):
                        break
                    await anyio.sleep(0.1)
        assert got.status == "cancelled"
        return await final_snapshot(b, run_id, "watched")

    state = anyio.run(main)
    assert state["end"] == {"reason": "cancelled", "status": "cancelled"}


def test_a_frozen_viewer_does_not_delay_the_others(
    emulator_url: str, redis_url: str, workers: tuple[str, str]
) -> None:
    """A viewer on worker A that never reads (tiny buffers) is dropped; viewers on worker B
    and on A get the whole run at its pace."""
    prefix = f"live:{uuid.uuid4().hex[:8]}:"
    other = Worker(emulator_url, redis_url, prefix)
    with (
        serve_with_small_send_buffers(Worker(emulator_url, redis_url, prefix).app()) as a,
        serve_in_thread(other.app(), lifespan="on") as b,
    ):
        text = words(400, width=400)  # 160 kB: far more than the frozen one's buffers
        run_id = start_chat(b, f"echo: {text}", tps=800, hub="tight")  # about half a second
        host, port = a.removeprefix("http://").split(":")
        frozen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        frozen.connect((host, int(port)))
        frozen.sendall(f"GET /tight/runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())

        async def main() -> tuple[list[Viewer], float]:
            viewers = [Viewer(url, run_id, "tight") for url in (a, b, a, b, a)]
            begun = time.monotonic()
            async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as group:
                for viewer in viewers:
                    group.start_soon(lambda v=viewer: v.read(http))
            return viewers, time.monotonic() - begun

        try:
            viewers, took = anyio.run(main)
            final = anyio.run(final_snapshot, a, run_id, "tight")
            for viewer in viewers:
                assert viewer.faults == [] and viewer.state() == final
            assert took < 5, took  # the run takes about half a second
            frozen.settimeout(10)
            received = b""
            while chunk := frozen.recv(65536):
                received += chunk
                if received.endswith(b"0\r\n\r\n"):  # dropped: the chunked body's end
                    break
            assert b'"type":"end"' not in received
        finally:
            frozen.close()
