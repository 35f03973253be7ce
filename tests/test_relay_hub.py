"""The memory hub in one process, on asyncio and trio: numbering, snapshots, exact
resumes from every id, fresh snapshots for ids it no longer holds, dropping a viewer that
falls behind, and how relays end (stopped, failed, shut down)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit
from streamkit import StreamkitError
from streamkit.relay import MemoryHub, RunView, Subscription
from streamkit.sse import SSEParser

pytestmark = pytest.mark.parametrize("backend", ["asyncio", "trio"])


def run(backend: str, main: Any, *args: Any) -> Any:
    return anyio.run(main, *args, backend=backend)


def head() -> bytes:
    return (
        b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run",'
        b'"thread_id":"t","status":"queued"}\n\n'
        b'event: thread.run.in_progress\ndata: {"id":"run_1","object":"thread.run",'
        b'"thread_id":"t","status":"in_progress"}\n\n'
        b'event: thread.message.created\ndata: {"id":"m1","object":"thread.message",'
        b'"role":"assistant","status":"in_progress","content":[]}\n\n'
    )


def delta(n: int) -> bytes:
    return (
        b'event: thread.message.delta\ndata: {"id":"m1","delta":{"content":[{"index":0,'
        b'"type":"text","text":{"value":" w%d"}}]}}\n\n' % n
    )


TAIL = (
    b'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"t","status":"completed"}\n\nevent: done\ndata: [DONE]\n\n'
)


def body(n: int) -> bytes:
    return head() + b"".join(delta(i) for i in range(n)) + TAIL


async def drain(subscription: Subscription) -> list[tuple[int, dict[str, Any]]]:
    parser = SSEParser()
    out = []
    async for data in subscription:
        out.extend((int(e.id or -1), orjson.loads(e.data)) for e in parser.feed(data))
    return out


def fold(frames: list[tuple[int, dict[str, Any]]], view: RunView | None = None) -> RunView:
    for _, event in frames:
        if event["type"] == "snapshot":
            view = RunView.from_state(event["state"])
        else:
            assert view is not None
            view.apply(event)
    assert view is not None
    return view


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 30), history=st.integers(1, 40), data=st.data())
def test_a_resume_gives_exactly_the_events_after_its_id(
    backend: str, n: int, history: int, data: st.DataObject
) -> None:
    """From any id: the frames after it, numbered on (when the hub holds them), else a
    fresh snapshot; either way the fold equals the hub's final state."""

    async def main() -> None:
        hub = MemoryHub(history=history)
        assert await hub.relay("r", streamkit.astream(body(n))) == "completed"
        final = hub.snapshot("r")
        last = data.draw(st.integers(0, final["id"] + 2), label="last_event_id")
        frames = await drain(await hub.subscribe("r", last))
        held = final["id"] - min(history, final["id"])  # the oldest id still resumable
        if last == final["id"]:
            assert frames == []
            assert (await hub.subscribe("r", last)).over  # the endpoint answers 204
        elif held <= last < final["id"]:
            assert [i for i, _ in frames] == list(range(last + 1, final["id"] + 1))
            partial = await drain(await hub.subscribe("r", None))  # a full snapshot now
            assert fold(partial).state() == final["state"]
            before = RunView("r")  # the prefix: fold the first `last` events of a replay
            replay = MemoryHub()
            await replay.relay("r", streamkit.astream(body(n)))
            every = await drain(await replay.subscribe("r", 0))
            fold([f for f in every if f[0] <= last], before)
            assert fold(frames, before).state() == final["state"]
        else:
            assert len(frames) == 1 and frames[0][1]["fresh"] is True
            assert frames[0][0] == final["id"]
            assert fold(frames).state() == final["state"]

    run(backend, main)


def test_viewers_get_a_snapshot_then_the_live_tail(backend: str) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        for i in range(5):
            await anyio.sleep(0.01)
            yield delta(i)
        yield TAIL

    async def main() -> None:
        hub = MemoryHub()
        async with anyio.create_task_group() as group:
            await group.start(_relay_started, hub, "r", streamkit.astream(source()))
            early = await hub.subscribe("r")
            await anyio.sleep(0.03)
            late = await hub.subscribe("r")
            a, b = await drain(early), await drain(late)
        assert a[0][1]["type"] == b[0][1]["type"] == "snapshot"
        assert a[0][0] < b[0][0]  # the late snapshot is further on
        for frames in (a, b):
            ids = [i for i, _ in frames]
            assert ids[1:] == list(range(ids[0] + 1, ids[-1] + 1))
            assert fold(frames).state() == hub.snapshot("r")["state"]
        assert hub.viewers("r") == 0

    run(backend, main)


async def _relay_started(
    hub: MemoryHub, run_id: str, stream: Any, *, task_status: Any = anyio.TASK_STATUS_IGNORED
) -> None:
    await hub.relay(run_id, stream, _started=task_status)


def test_a_viewer_that_falls_behind_is_dropped_and_resumes(backend: str) -> None:
    async def main() -> None:
        hub = MemoryHub(queue_size=4)
        await hub.publish("r", [])
        slow = await hub.subscribe("r")
        fast = await hub.subscribe("r")
        got: list[bytes] = []

        async def keep_up() -> None:
            async for data in fast:
                got.append(data)

        async with anyio.create_task_group() as group:
            group.start_soon(keep_up)
            await hub.relay("r", streamkit.astream(body(10)))
        assert slow.dropped and not fast.dropped
        frames = await drain(slow)  # what it held, then the end of its stream
        assert len(frames) == 1 + 4
        resumed = await drain(await hub.subscribe("r", frames[-1][0]))
        assert [i for i, _ in resumed] == list(range(frames[-1][0] + 1, resumed[-1][0] + 1))
        assert fold(frames + resumed).state() == hub.snapshot("r")["state"]
        assert len(got) == 1 + hub.snapshot("r")["id"]

    run(backend, main)


def test_stop_without_a_client_ends_the_run_stopped(backend: str) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        await anyio.sleep(30)  # never comes: stop ends the wait
        yield TAIL

    async def main() -> None:
        hub = MemoryHub()
        reasons: list[str] = []

        async def relay() -> None:
            reasons.append(await hub.relay("r", streamkit.astream(source())))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(relay)
                await anyio.sleep(0.05)
                assert hub.relaying("r")
                assert await hub.stop("r")
        assert reasons == ["stopped"] and not hub.relaying("r")
        state = hub.snapshot("r")["state"]
        assert state["end"] == {"reason": "stopped", "status": "in_progress"}
        assert not await hub.stop("r")

    run(backend, main)


def test_stop_all_ends_every_relay_stopped(backend: str) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        await anyio.sleep(30)  # never comes: the stop ends the wait
        yield TAIL

    async def main() -> None:
        hub = MemoryHub()
        reasons: list[str] = []

        async def relay(run_id: str) -> None:
            reasons.append(await hub.relay(run_id, streamkit.astream(source())))

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                for run_id in ("a", "b", "c"):
                    group.start_soon(relay, run_id)
                await anyio.sleep(0.05)
                assert all(hub.relaying(r) for r in "abc")
                await hub.stop_all()
                assert not any(hub.relaying(r) for r in "abc")
        assert reasons == ["stopped"] * 3
        assert all(hub.snapshot(r)["state"]["end"]["reason"] == "stopped" for r in "abc")

    run(backend, main)


def test_a_failing_stream_ends_the_run_failed_after_an_error(backend: str) -> None:
    async def main() -> None:
        hub = MemoryHub()
        broken = head() + b'event: thread.message.delta\ndata: {"id": "m1", "del\n\n'
        assert await hub.relay("r", streamkit.astream(broken)) == "failed"
        state = hub.snapshot("r")["state"]
        assert state["end"]["reason"] == "failed"
        assert state["errors"][0]["code"] == "relay_error"
        assert "MalformedEventError" in state["errors"][0]["message"]
        with pytest.raises(StreamkitError, match="has ended"):
            await hub._append("r", [{"v": 1, "type": "error", "code": None, "message": None}])

    run(backend, main)


def test_leaving_the_hub_stops_its_relays_and_start_needs_it(backend: str) -> None:
    async def source() -> AsyncIterator[bytes]:
        yield head()
        await anyio.sleep(30)
        yield TAIL

    async def main() -> None:
        hub = MemoryHub()
        with pytest.raises(RuntimeError, match="async with hub"):
            await hub.start("r", streamkit.astream(source()))
        with anyio.fail_after(5):
            async with hub:
                await hub.start("r", streamkit.astream(source()))
                with pytest.raises(StreamkitError, match="already being relayed"):
                    await hub.start("r", streamkit.astream(source()))
                await anyio.sleep(0.05)
        assert hub.snapshot("r")["state"]["end"]["reason"] == "stopped"
        with pytest.raises(streamkit.relay.RunNotFound, match="'other'"):
            await hub.subscribe("other")

    run(backend, main)


def test_a_relay_cancelled_from_outside_ends_stopped(backend: str) -> None:
    """A shutdown that cancels the relay's task (not through the hub) still tells the
    viewers: the run ends ``stopped`` and the cancellation goes on."""

    async def source() -> AsyncIterator[bytes]:
        yield head()
        await anyio.sleep(30)
        yield TAIL

    async def main() -> None:
        hub = MemoryHub()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(hub.relay, "r", streamkit.astream(source()))
                await anyio.sleep(0.05)
                viewer = await hub.subscribe("r")
                group.cancel_scope.cancel()
            frames = await drain(viewer)
        end = {"v": 1, "type": "end", "reason": "stopped", "status": "in_progress"}
        assert frames[-1][1] == end
        assert not hub.relaying("r")

    run(backend, main)


def test_a_bug_in_one_relay_does_not_take_the_hub_down(
    backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception ends that run ``failed`` with an error, is logged, and the
    hub's other relays go on."""

    class Broken:
        def changes(self) -> AsyncIterator[Any]:
            return self._changes()

        async def _changes(self) -> AsyncIterator[Any]:
            raise RuntimeError("a bug")
            yield

        async def aclose(self) -> None:
            pass

    async def main() -> None:
        hub = MemoryHub()
        with anyio.fail_after(5):
            async with hub:
                await hub.start("bad", Broken())  # type: ignore[arg-type]
                await hub.start("good", streamkit.astream(body(3)))
                while hub.relaying("bad") or hub.relaying("good"):
                    await anyio.sleep(0.01)
        bad, good = hub.snapshot("bad")["state"], hub.snapshot("good")["state"]
        assert bad["end"]["reason"] == "failed" and "RuntimeError: a bug" in str(bad["errors"])
        assert good["end"]["reason"] == "completed"

    run(backend, main)
    assert "relaying run 'bad' failed" in caplog.text
