"""A Responses API run relays like an Assistants run: a chat backend streams a response
from the emulator with ``client.responses.stream`` (the tool loop and an upstream drop
resumed with ``starting_after`` included) and relays it through a ``MemoryHub``; viewers
that disconnect at random points and resume with Last-Event-ID lose and duplicate
nothing, and each viewer's fold equals the hub's final snapshot and the response's text.
The viewers are those of ``test_relay_live`` (they fold as the JavaScript client does)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

import streamkit
from streamkit.emulator import create_app, serve_in_thread
from streamkit.relay import MemoryHub, relay_routes
from test_relay_live import Viewer, final_snapshot, text_of, words

KEY = "sk-relay-responses"
WEATHER = {
    "type": "function",
    "name": "get_current_weather",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
}


def backend_app(emulator_url: str, finals: dict[str, Any]) -> Starlette:
    """POST /chat streams a response and relays it; ``finals`` gets each stream's state."""
    hub = MemoryHub()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with (
            streamkit.AsyncClient(
                base_url=emulator_url, api_key=KEY, reconnect="poll", backoff=0.01
            ) as client,
            hub,
        ):
            app.state.client = client
            yield

    async def get_current_weather(location: str) -> str:
        await anyio.sleep(0)
        return f"mild in {location}"

    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        client: streamkit.AsyncClient = request.app.state.client
        headers = {"X-Emulator-Tokens-Per-Second": str(body.get("tps", 0))}
        if body.get("fault"):
            headers["X-Emulator-Fault"] = body["fault"]
        stream = client.responses.stream(
            model="gpt-5",
            input=body["text"],
            tools=[WEATHER],
            background=bool(body.get("background")),
            extra_headers=headers,
        ).run_tools({"get_current_weather": get_current_weather})
        run_id = f"resp-{uuid.uuid4().hex[:8]}"
        finals[run_id] = stream
        await hub.start(run_id, stream, client=client)  # the client: a stop cancels upstream
        return JSONResponse({"run_id": run_id})

    return Starlette(
        routes=[Route("/chat", chat, methods=["POST"]), Mount("/main", routes=relay_routes(hub))],
        lifespan=lifespan,
    )


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=KEY)) as url:
        yield url


@pytest.fixture(scope="module")
def backend(emulator_url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    finals: dict[str, Any] = {}
    with serve_in_thread(backend_app(emulator_url, finals), lifespan="on") as url:
        yield url, finals


def start_chat(url: str, text: str, **options: Any) -> str:
    answer = httpx.post(f"{url}/chat", json={"text": text, **options}, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["run_id"])


def server_text(stream: Any) -> str:
    """The text of the messages of the last response, as the client folded it."""
    return "".join(
        part.text
        for item in stream.state.current_run.output
        if item.type == "message"
        for part in item.content
    )


def test_a_response_resumes_after_random_disconnects_like_a_run(
    backend: tuple[str, dict[str, Any]],
) -> None:
    """Viewers disconnect at random points and resume with Last-Event-ID, over paced
    responses, until 300 disconnects are done (at most 6 runs, 60 s)."""
    url, finals = backend
    rng = random.Random(14)
    disconnects = 0
    runs = 0
    deadline = time.monotonic() + 60

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
        text = words(600)
        run_id = start_chat(url, f"echo: {text}", tps=1200)  # about half a second
        viewers = [Viewer(url, run_id) for _ in range(6)]
        async with (
            httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=50)) as http,
            anyio.create_task_group() as group,
        ):
            for viewer in viewers:
                group.start_soon(watch, viewer, http)
        final = await final_snapshot(url, run_id)
        assert text_of(final) == text == server_text(finals[run_id])
        assert final["run"]["status"] == "completed" and final["end"]["reason"] == "completed"
        assert final["run"]["id"] == finals[run_id].response_id
        for viewer in viewers:
            assert viewer.faults == [], viewer.faults[:5]
            assert viewer.ended and viewer.state() == final
            assert len(viewer.snapshots) == 1

    while disconnects < 300 and runs < 6 and time.monotonic() < deadline:
        anyio.run(one_run)
        runs += 1
    assert disconnects >= 300, (disconnects, runs)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("What is the weather in Paris and Rome?", {}),  # the tool loop: two responses
        (f"echo: {words(200)}", {"background": True, "fault": "drop:25"}),  # resumed upstream
    ],
    ids=["tool-loop", "upstream-drops"],
)
def test_tool_rounds_and_upstream_resumes_relay_whole(
    backend: tuple[str, dict[str, Any]], text: str, options: dict[str, Any]
) -> None:
    url, finals = backend
    run_id = start_chat(url, text, **options)

    async def main() -> tuple[Viewer, dict[str, Any]]:
        viewer = Viewer(url, run_id)
        async with httpx.AsyncClient(timeout=10) as http:
            with anyio.fail_after(20):
                while not viewer.ended:
                    await viewer.read(http, max_events=7)
        return viewer, await final_snapshot(url, run_id)

    viewer, final = anyio.run(main)
    stream = finals[run_id]
    assert viewer.faults == [] and viewer.state() == final
    assert final["end"]["reason"] == "completed" and not stream.state.problems
    assert text_of(final) == "".join(
        part.text
        for response in stream.state.responses.values()
        for item in response.output
        if item.type == "message"
        for part in item.content
    )
    if "weather" in text:
        assert len(stream.state.responses) == 2
        calls = [call for call in final["tool_calls"] if call["kind"] == "function_call"]
        assert [call["name"] for call in calls] == ["get_current_weather"] * 2
        assert [call["arguments"] for call in calls] == [
            '{"location": "Paris"}',
            '{"location": "Rome"}',
        ]
        assert "Paris: mild in Paris" in text_of(final)
    else:
        assert text_of(final) == text.removeprefix("echo: ")


def test_stop_ends_a_response_stopped_at_once(
    backend: tuple[str, dict[str, Any]], emulator_url: str
) -> None:
    """Stop on a streamed (not background) response: the service refuses to cancel it
    (only background responses can be), so the relay stops reading at once (which, on the
    real service, ends the generation) and the viewers see the run end ``stopped``."""
    url, finals = backend
    run_id = start_chat(url, f"echo: {words(200)}", tps=40)  # five seconds

    async def main() -> Viewer:
        viewer = Viewer(url, run_id)
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http, max_events=8)
            answer = await http.post(f"{url}/main/runs/{run_id}/stop")
            assert answer.json() == {"run_id": run_id, "stopped": True}
            with anyio.fail_after(2):  # not the five seconds of the whole answer
                await viewer.read(http)
        return viewer

    viewer = anyio.run(main)
    state = viewer.state()
    assert viewer.faults == [] and state["end"]["reason"] == "stopped"
    assert state["run"]["id"] == finals[run_id].response_id
    assert len(text_of(state)) < len(words(200))


def test_stop_cancels_a_background_response_upstream(
    backend: tuple[str, dict[str, Any]], emulator_url: str
) -> None:
    """Stop on a background response: the relay cancels it through the client, reads the
    stream to the service's end, and the viewers see it end ``cancelled``."""
    url, _ = backend
    run_id = start_chat(url, f"echo: {words(200)}", tps=40, background=True)  # five seconds

    async def main() -> Viewer:
        viewer = Viewer(url, run_id)
        async with httpx.AsyncClient(timeout=10) as http:
            await viewer.read(http, max_events=8)
            answer = await http.post(f"{url}/main/runs/{run_id}/stop")
            assert answer.json() == {"run_id": run_id, "stopped": True}
            with anyio.fail_after(3):
                await viewer.read(http)
        return viewer

    viewer = anyio.run(main)
    state = viewer.state()
    assert viewer.faults == [] and state["end"] == {"reason": "cancelled", "status": "cancelled"}
    response_id = state["run"]["id"]
    with streamkit.Client(base_url=emulator_url, api_key=KEY) as client:
        assert client.responses.retrieve(response_id).status == "cancelled"
