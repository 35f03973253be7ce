"""The relay over real sockets: a chat backend (Starlette, uvicorn on 127.0.0.1) relays
emulator runs to viewers that read its SSE endpoint with httpx.

What a front end relies on: viewers of one run stay in sync and a late joiner gets a
snapshot then the tail; resuming with Last-Event-ID after random disconnects (more than
1,000 in one test) loses and duplicates nothing, and each viewer's fold equals the
server's snapshot; a resume older than the hub holds gets a fresh snapshot, flagged; a
frozen viewer does not delay the others; heartbeats arrive on an idle stream; stop
cancels the upstream run; a disconnect does not stop it, unless the hub was told to stop
runs that nobody watches.
"""

from __future__ import annotations

import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

import streamkit
from streamkit.emulator import create_app, serve_in_thread
from streamkit.relay import MemoryHub, RunView, relay_routes
from streamkit.sse import SSEParser

KEY = "sk-relay-live"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}
HEARTBEAT = 0.2
UNWATCHED = 0.6


class Backend:
    """A chat backend as a user would write one: POST /chat starts a run and relays it."""

    def __init__(self, emulator_url: str) -> None:
        self.emulator_url = emulator_url
        self.hubs = {
            "main": MemoryHub(),
            "small": MemoryHub(history=5),  # resumes older than 5 events: a fresh snapshot
            "tight": MemoryHub(queue_size=16),  # a viewer 16 frames behind is dropped
            "watched": MemoryHub(stop_unwatched=UNWATCHED),  # no viewer for 0.6 s: stop
        }
        self.tool_delay = 0.0

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
                app.state.assistant = await client.assistants.create(
                    model="gpt-4o", tools=[WEATHER]
                )
                yield

        async def get_current_weather(location: str) -> str:
            await anyio.sleep(self.tool_delay)
            return f"mild in {location}"

        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            client: streamkit.AsyncClient = request.app.state.client
            stream = client.threads.create_and_run_stream(
                assistant_id=request.app.state.assistant.id,
                thread={"messages": [{"role": "user", "content": body["text"]}]},
                extra_headers={"X-Emulator-Tokens-Per-Second": str(body.get("tps", 0))},
            ).run_tools({"get_current_weather": get_current_weather})
            run_id = f"chat-{uuid.uuid4().hex[:8]}"
            await self.hubs[body.get("hub", "main")].start(run_id, stream, client=client)
            return JSONResponse({"run_id": run_id})

        routes: list[Any] = [Route("/chat", chat, methods=["POST"])]
        for name, hub in self.hubs.items():
            routes.append(
                Mount(f"/{name}", routes=relay_routes(hub, heartbeat=HEARTBEAT, send_timeout=1.0))
            )
        return Starlette(routes=routes, lifespan=lifespan)


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=KEY)) as url:
        yield url


@contextmanager
def serve_with_small_send_buffers(app: Starlette) -> Iterator[str]:
    """Serve ``app`` like serve_in_thread, with 8 kB kernel send buffers (accepted sockets
    inherit the listening socket's), so that a viewer that does not read makes the
    server's writes wait after about 80 kB instead of several megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="critical", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        assert server.started
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def backend(emulator_url: str) -> Iterator[tuple[Backend, str]]:
    backend = Backend(emulator_url)
    with serve_in_thread(backend.app(), lifespan="on") as url:
        yield backend, url


def start_chat(url: str, text: str, *, tps: int = 0, hub: str = "main") -> str:
    answer = httpx.post(f"{url}/chat", json={"text": text, "tps": tps, "hub": hub}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["run_id"])


def words(n: int, width: int = 1) -> str:
    return " ".join(f"w{i}" + "x" * (width - 1) for i in range(n))


class Viewer:
    """A viewer as the JavaScript client is one: folds what it gets, resumes after the last
    id it folded. Every broken promise is recorded in ``faults``."""

    def __init__(self, url: str, run_id: str, hub: str = "main") -> None:
        self.url = f"{url}/{hub}/runs/{run_id}/events"
        self.view: RunView | None = None
        self.last: int | None = None
        self.snapshots: list[dict[str, Any]] = []  # each snapshot event, with its id
        self.faults: list[str] = []
        self.ended = False
        self.events = 0
        self.connects = 0

    async def read(
        self, http: httpx.AsyncClient, *, max_events: int | None = None, **kw: Any
    ) -> None:
        """One connection: read until the end, ``max_events`` events, or the server ends."""
        headers = {"Last-Event-ID": str(self.last)} if self.last is not None else {}
        self.connects += 1
        async with http.stream("GET", self.url, headers=headers, **kw) as response:
            if response.status_code == 204:
                if not self.ended:
                    self.faults.append(f"204 before the end (after id {self.last})")
                self.ended = True
                return
            assert response.status_code == 200, response.status_code
            parser = SSEParser()
            seen = 0
            async for chunk in response.aiter_bytes():
                for sse in parser.feed(chunk):
                    self.take(int(sse.id or -1), orjson.loads(sse.data))
                    seen += 1
                    if self.ended or (max_events is not None and seen >= max_events):
                        return

    def take(self, event_id: int, event: dict[str, Any]) -> None:
        self.events += 1
        if event["type"] == "snapshot":
            self.snapshots.append({"id": event_id, **event})
            if self.last is not None and not event["fresh"]:
                self.faults.append(f"an unflagged snapshot on a resume after {self.last}")
            self.view = RunView.from_state(event["state"])
        elif self.view is None or self.last is None:
            self.faults.append(f"{event['type']} #{event_id} before a snapshot")
            return
        else:
            if event_id != self.last + 1:
                self.faults.append(f"#{event_id} after #{self.last}")
            self.view.apply(event)
        self.last = event_id
        self.ended = self.view.end is not None

    def state(self) -> dict[str, Any]:
        assert self.view is not None
        return self.view.state()


async def final_snapshot(url: str, run_id: str, hub: str = "main") -> dict[str, Any]:
    """What a new viewer gets once the run ended: the snapshot (with its end), then EOF."""
    viewer = Viewer(url, run_id, hub)
    async with httpx.AsyncClient(timeout=10) as http:
        await viewer.read(http)
    assert len(viewer.snapshots) == 1 and viewer.events == 1 and viewer.ended
    return viewer.state()


def text_of(state: dict[str, Any]) -> str:
    return "".join(p["text"] for m in state["messages"] for p in m["parts"])


def test_viewers_stay_in_sync_and_a_late_joiner_gets_the_snapshot_then_the_tail(
    backend: tuple[Backend, str],
) -> None:
    _, url = backend
    text = words(300)
    run_id = start_chat(url, f"echo: {text}", tps=600)  # about half a second

    async def main() -> tuple[list[Viewer], Viewer, dict[str, Any]]:
        viewers = [Viewer(url, run_id) for _ in range(10)]
        late = Viewer(url, run_id)
        async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as group:
            for viewer in viewers:
                group.start_soon(lambda v=viewer: v.read(http))

            async def join_late() -> None:
                await anyio.sleep(0.25)
                await late.read(http)

            group.start_soon(join_late)
        return viewers, late, await final_snapshot(url, run_id)

    viewers, late, final = anyio.run(main)
    assert text_of(final) == text and final["end"]["reason"] == "completed"
    for viewer in [*viewers, late]:
        assert viewer.faults == [] and viewer.ended
        assert viewer.state() == final
        assert len(viewer.snapshots) == 1
    # the late joiner came in mid-run: its snapshot had part of the text, the tail the rest
    snapshot = late.snapshots[0]
    assert 0 < snapshot["id"] < late.last  # type: ignore[operator]
    assert 0 < len(text_of(snapshot["state"])) < len(text)


def test_resume_after_a_thousand_random_disconnects_loses_and_duplicates_nothing(
    backend: tuple[Backend, str],
) -> None:
    """Viewers disconnect at random points (after a random number of events, or at a
    random moment, possibly inside a frame) and resume with Last-Event-ID; runs follow one
    another until 1,000 disconnects are done (at most 8 runs, 90 s)."""
    _, url = backend
    rng = random.Random(1234)
    disconnects = 0
    runs = 0
    deadline = time.monotonic() + 90

    async def watch(viewer: Viewer, http: httpx.AsyncClient) -> None:
        nonlocal disconnects
        while not viewer.ended and time.monotonic() < deadline:
            if rng.random() < 0.5:
                await viewer.read(http, max_events=rng.randint(1, 10))
            else:
                with anyio.move_on_after(rng.uniform(0.001, 0.03)):
                    await viewer.read(http)
            if not viewer.ended:
                disconnects += 1

    async def one_run() -> None:
        text = words(1500)
        run_id = start_chat(url, f"echo: {text}", tps=1500)  # about a second
        viewers = [Viewer(url, run_id) for _ in range(8)]
        limits = httpx.Limits(max_connections=100)
        async with (
            httpx.AsyncClient(timeout=10, limits=limits) as http,
            anyio.create_task_group() as group,
        ):
            for viewer in viewers:
                group.start_soon(watch, viewer, http)
        final = await final_snapshot(url, run_id)
        assert text_of(final) == text
        for viewer in viewers:
            assert viewer.faults == [], viewer.faults[:5]
            assert viewer.ended and viewer.state() == final
            assert len(viewer.snapshots) == 1  # the hub held every missed event

    while disconnects < 1000 and runs < 8 and time.monotonic() < deadline:
        anyio.run(one_run)
        runs += 1
    print(f"{disconnects} disconnects over {runs} runs")
    assert disconnects >= 1000, (disconnects, runs)


def test_a_resume_older_than_the_hub_holds_gets_a_fresh_snapshot(
    backend: tuple[Backend, str],
) -> None:
    _, url = backend
    text = words(40)
    run_id = start_chat(url, f"echo: {text}", tps=400, hub="small")

    async def main() -> tuple[Viewer, dict[str, Any]]:
        viewer = Viewer(url, run_id, "small")
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http, max_events=2)  # the snapshot and one event
            left_at = viewer.last
            await Viewer(url, run_id, "small").read(http)  # another viewer, to the end
            await viewer.read(http)  # 40 words later: the hub holds only the last 5
            assert left_at is not None and viewer.snapshots[-1]["id"] > left_at + 5
            # after the end there is nothing more: 204 (EventSource stops reconnecting)
            answer = await http.get(viewer.url, headers={"Last-Event-ID": str(viewer.last)})
            assert answer.status_code == 204
        return viewer, await final_snapshot(url, run_id, "small")

    viewer, final = anyio.run(main)
    assert viewer.faults == []
    assert [s["fresh"] for s in viewer.snapshots] == [False, True]
    assert viewer.state() == final and text_of(final) == text


def test_bad_requests_are_named(backend: tuple[Backend, str]) -> None:
    _, url = backend
    run_id = start_chat(url, "echo: hi")
    answer = httpx.get(f"{url}/main/runs/nope/events")
    assert answer.status_code == 404 and "'nope'" in answer.json()["error"]["message"]
    answer = httpx.get(f"{url}/main/runs/{run_id}/events", headers={"Last-Event-ID": "x1"})
    assert answer.status_code == 400 and "'x1'" in answer.json()["error"]["message"]
    assert httpx.post(f"{url}/main/runs/nope/stop").status_code == 404


def test_headers_and_heartbeats(backend: tuple[Backend, str]) -> None:
    """While a tool call runs (0.8 s) no event comes: heartbeat comments do."""
    back, url = backend
    back.tool_delay = 0.8
    try:
        run_id = start_chat(url, "What is the weather in Paris?")
        body = b""
        with httpx.stream("GET", f"{url}/main/runs/{run_id}/events", timeout=10) as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-store"
            assert response.headers["x-accel-buffering"] == "no"
            for chunk in response.iter_bytes():
                body += chunk
    finally:
        back.tool_delay = 0.0
    assert body.startswith(b"retry: 1000\n\n")
    assert body.count(b": heartbeat\n\n") >= 2
    assert b'"type":"end","reason":"completed"' in body


def test_a_frozen_viewer_does_not_delay_the_others(emulator_url: str) -> None:
    """A viewer that never reads (a tiny receive window) is dropped; the others get the
    whole run at its pace, while it is still connected and still not reading."""
    with serve_with_small_send_buffers(Backend(emulator_url).app()) as url:
        frozen_viewer(url)


def frozen_viewer(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    text = words(400, width=400)  # 160 kB of text: far more than the frozen one's buffers
    run_id = start_chat(url, f"echo: {text}", tps=800, hub="tight")  # about half a second

    frozen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    frozen.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    frozen.connect((host, int(port)))
    frozen.sendall(f"GET /tight/runs/{run_id}/events HTTP/1.1\r\nHost: x\r\n\r\n".encode())

    async def main() -> tuple[list[Viewer], float]:
        viewers = [Viewer(url, run_id, "tight") for _ in range(5)]
        begun = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as http, anyio.create_task_group() as group:
            for viewer in viewers:
                group.start_soon(lambda v=viewer: v.read(http))
        return viewers, time.monotonic() - begun

    try:
        viewers, took = anyio.run(main)
        final = anyio.run(final_snapshot, url, run_id, "tight")
        for viewer in viewers:
            assert viewer.faults == [] and viewer.state() == final
        assert took < 5, took  # the run takes about half a second
        # Now read the frozen one: its response ended without the end event (dropped).
        frozen.settimeout(10)
        received = b""
        while chunk := frozen.recv(65536):
            received += chunk
            if received.endswith(b"0\r\n\r\n"):  # the chunked body's end
                break
        assert b'"type":"end"' not in received
        assert received.count(b"\nid: ") + received.count(b"\r\nid: ") >= 1
    finally:
        frozen.close()


def test_stop_cancels_the_upstream_run(backend: tuple[Backend, str], emulator_url: str) -> None:
    _, url = backend
    run_id = start_chat(url, f"echo: {words(200)}", tps=40)  # five seconds

    async def main() -> Viewer:
        viewer = Viewer(url, run_id)
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http, max_events=8)
            answer = await http.post(f"{url}/main/runs/{run_id}/stop")
            assert answer.json() == {"run_id": run_id, "stopped": True}
            with anyio.fail_after(5):
                await viewer.read(http)
        return viewer

    viewer = anyio.run(main)
    state = viewer.state()
    assert viewer.faults == [] and state["end"] == {"reason": "cancelled", "status": "cancelled"}
    run = state["run"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        assert client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"]).status == (
            "cancelled"
        )
    assert httpx.post(f"{url}/main/runs/{run_id}/stop").json()["stopped"] is False


def test_a_disconnect_is_not_a_stop(backend: tuple[Backend, str], emulator_url: str) -> None:
    _, url = backend
    text = words(60)
    run_id = start_chat(url, f"echo: {text}", tps=200)

    async def main() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(5):  # every viewer leaves early
                await Viewer(url, run_id).read(http, max_events=2)
            with anyio.fail_after(10):
                await Viewer(url, run_id).read(http)  # the run goes on to its end
        return await final_snapshot(url, run_id)

    state = anyio.run(main)
    assert state["end"] == {"reason": "completed", "status": "completed"}
    assert text_of(state) == text
    run = state["run"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        assert client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"]).status == (
            "completed"
        )


def test_stop_while_the_tools_run_ends_cancelled(
    backend: tuple[Backend, str], emulator_url: str
) -> None:
    """Stop pressed while the backend runs the tool calls: the run is cancelled upstream,
    the outputs can no longer be submitted, and the viewers see it end ``cancelled``."""
    back, url = backend
    back.tool_delay = 0.5
    try:
        run_id = start_chat(url, "What is the weather in Paris?")

        async def main() -> Viewer:
            viewer = Viewer(url, run_id)
            async with httpx.AsyncClient(timeout=10) as http:
                with anyio.fail_after(5):
                    while viewer.view is None or viewer.view.requires_action is None:
                        await viewer.read(http, max_events=1)
                answer = await http.post(f"{url}/main/runs/{run_id}/stop")
                assert answer.json()["stopped"] is True
                with anyio.fail_after(5):
                    await viewer.read(http)
            return viewer

        viewer = anyio.run(main)
    finally:
        back.tool_delay = 0.0
    state = viewer.state()
    assert viewer.faults == [] and state["end"] == {"reason": "cancelled", "status": "cancelled"}
    run = state["run"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        assert client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"]).status == (
            "cancelled"
        )


def test_stop_unwatched_stops_a_run_nobody_watches(
    backend: tuple[Backend, str], emulator_url: str
) -> None:
    """``stop_unwatched``: a viewer reloading (gone for less than the grace time) keeps the
    run going; once the last viewer has been gone for longer, the run is cancelled
    upstream and ends ``cancelled``."""
    back, url = backend
    hub = back.hubs["watched"]
    run_id = start_chat(url, f"echo: {words(200)}", tps=40, hub="watched")  # five seconds

    async def main() -> dict[str, Any]:
        viewer = Viewer(url, run_id, "watched")
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(4):  # reloads: away for a fraction of the grace time each
                await viewer.read(http, max_events=3)
                await anyio.sleep(UNWATCHED / 4)
            assert hub.relaying(run_id), "a reloading viewer stopped the run"
            with anyio.fail_after(10):  # then the viewer leaves for good
                while hub.relaying(run_id):
                    await anyio.sleep(0.05)
        assert viewer.faults == []
        return await final_snapshot(url, run_id, "watched")

    state = anyio.run(main)
    assert state["end"] == {"reason": "cancelled", "status": "cancelled"}
    run = state["run"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        assert client.threads.runs.retrieve(run["id"], thread_id=run["thread_id"]).status == (
            "cancelled"
        )


def test_a_watched_run_goes_on_to_its_end(backend: tuple[Backend, str]) -> None:
    _, url = backend
    text = words(40)
    run_id = start_chat(url, f"echo: {text}", tps=40, hub="watched")  # one second

    async def main() -> Viewer:
        viewer = Viewer(url, run_id, "watched")
        async with httpx.AsyncClient(timeout=10) as http:
            with anyio.fail_after(10):
                await viewer.read(http)
        return viewer

    viewer = anyio.run(main)
    assert viewer.faults == [] and viewer.state()["end"]["reason"] == "completed"
    assert text_of(viewer.state()) == text
