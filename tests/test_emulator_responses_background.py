"""Background responses generated live by the emulator, over real sockets on 127.0.0.1:
readers that reattach mid-generation with ``starting_after``, several readers at once,
retrieve and cancel while it is generated, pacing, faults per reader, and a clean
shutdown with a response in flight."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit
from streamkit.emulator import create_app, serve_in_thread
from streamkit.sse import SSEParser

WORDS = " ".join(f"w{i}" for i in range(40))
WEATHER = {"type": "function", "name": "get_current_weather", "parameters": {}}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=None)) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def events_of(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The events of a streamed answer as they arrive, each ``{"type": ...}``."""
    parser = SSEParser()
    for chunk in response.iter_raw():
        for sse in parser.feed(chunk):
            data = json.loads(sse.data)
            yield data if sse.event != "error" else {"type": "error", **data}


def read(response: httpx.Response, limit: int | None = None) -> list[dict[str, Any]]:
    """The events of a streamed answer (the first ``limit``, or all)."""
    return list(islice(events_of(response), limit))


def create(api: httpx.Client, tps: int, **body: Any) -> dict[str, Any]:
    headers = {"X-Emulator-Tokens-Per-Second": str(tps)}
    answer = api.post(
        "/responses",
        json={"model": "gpt-4o", "input": f"echo: {WORDS}", "background": True, **body},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    created: dict[str, Any] = answer.json()
    return created


def whole(api: httpx.Client, response_id: str) -> list[dict[str, Any]]:
    """The whole response, read once it has ended."""
    with api.stream("GET", f"/responses/{response_id}", params={"stream": "true"}) as r:
        return read(r)


def numbers(events: list[dict[str, Any]]) -> list[int]:
    return [e["sequence_number"] for e in events]


@settings(max_examples=12, deadline=None)
@given(cut=st.integers(1, 47))  # the response has 48 events: the last read cuts before it
def test_a_reader_reattaches_mid_generation_and_loses_nothing(base_url: str, cut: int) -> None:
    body = {"model": "gpt-4o", "input": f"echo: {WORDS}", "background": True, "stream": True}
    headers = {"X-Emulator-Tokens-Per-Second": "200"}  # 40 tokens: 0.2 s
    with httpx.Client(base_url=base_url, timeout=10) as api:
        with api.stream("POST", "/responses", json=body, headers=headers) as first:
            seen = read(first, limit=cut)  # then the connection is dropped
        response_id = seen[0]["response"]["id"]
        params = {"stream": "true", "starting_after": seen[-1]["sequence_number"]}
        with api.stream("GET", f"/responses/{response_id}", params=params) as again:
            rest = read(again)
        assert rest[-1]["type"] == "response.completed"  # to the end
        everything = whole(api, response_id)
    assert seen + rest == everything  # nothing lost, nothing read twice
    assert numbers(everything) == list(range(len(everything)))
    text = "".join(e["delta"] for e in everything if e["type"] == "response.output_text.delta")
    assert text == WORDS


def test_a_reader_reattaches_while_the_response_is_generated(api: httpx.Client) -> None:
    created = create(api, tps=50)  # 0.8 s
    url = f"/responses/{created['id']}"
    with api.stream("GET", url, params={"stream": "true"}) as first:
        seen = read(first, limit=6)
    assert api.get(url).json()["status"] == "in_progress"  # reattached mid-generation
    params = {"stream": "true", "starting_after": seen[-1]["sequence_number"]}
    with api.stream("GET", url, params=params) as again:
        live = events_of(again)
        rest = [next(live)]
        assert api.get(url).json()["status"] == "in_progress"  # the tail is live
        rest.extend(live)
    assert seen + rest == whole(api, created["id"])


def test_two_readers_at_once_see_the_same_events(api: httpx.Client, base_url: str) -> None:
    created = create(api, tps=100)
    assert created["status"] == "queued"
    url = f"{base_url}/responses/{created['id']}"

    async def reader(after: int) -> list[dict[str, Any]]:
        async with (
            httpx.AsyncClient(timeout=10) as http,
            http.stream("GET", url, params={"stream": "true", "starting_after": after}) as r,
        ):
            parser, out = SSEParser(), []
            async for chunk in r.aiter_raw():
                out.extend(json.loads(sse.data) for sse in parser.feed(chunk))
            return out

    async def main() -> list[list[dict[str, Any]]]:
        results: list[list[dict[str, Any]]] = [[], [], []]

        async def run(index: int, after: int) -> None:
            results[index] = await reader(after)

        async with anyio.create_task_group() as group:
            for index, after in enumerate([-1, -1, 3]):
                group.start_soon(run, index, after)
            await anyio.sleep(0.05)
            status = api.get(f"/responses/{created['id']}").json()["status"]
            assert status == "in_progress"  # the readers follow a response being generated
        return results

    one, two, late = anyio.run(main)
    assert one == two == whole(api, created["id"])
    assert late == one[4:]


def test_retrieve_shows_the_response_as_it_is_generated(api: httpx.Client) -> None:
    started = time.monotonic()
    created = create(api, tps=50)  # 40 tokens: 0.8 s
    assert time.monotonic() - started < 0.5  # the answer does not wait for the response
    assert created["status"] == "queued" and created["output"] == []
    statuses, texts = [], []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = api.get(f"/responses/{created['id']}").json()
        statuses.append(now["status"])
        if now["output"]:
            texts.append(now["output"][0]["content"][0]["text"])
        if now["status"] == "completed":
            break
        time.sleep(0.05)
    assert "in_progress" in statuses and statuses[-1] == "completed"
    assert any(0 < len(text) < len(WORDS) for text in texts)  # seen part-way
    assert texts[-1] == WORDS


def test_cancel_mid_way_stops_the_response_and_ends_its_readers(api: httpx.Client) -> None:
    created = create(api, tps=40)  # one second
    params = {"stream": "true"}
    with api.stream("GET", f"/responses/{created['id']}", params=params) as reader:
        live = events_of(reader)
        head = list(islice(live, 8))
        cancelled = api.post(f"/responses/{created['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        tail = list(live)  # the reader ends (it does not wait for the rest)
    events = head + tail
    assert numbers(events) == list(range(len(events)))
    last = events[-1]
    assert last["type"] == "response.cancelled" and last["response"]["status"] == "cancelled"
    assert [e for e in events if e["type"] == "response.completed"] == []
    [message] = last["response"]["output"]
    assert message["status"] == "incomplete" and len(message["content"][0]["text"]) < len(WORDS)
    time.sleep(0.2)  # generation has stopped: nothing is added after the cancel
    assert api.get(f"/responses/{created['id']}").json() == last["response"]
    assert whole(api, created["id"]) == events
    again = api.post(f"/responses/{created['id']}/cancel")  # idempotent
    assert again.status_code == 200 and again.json() == last["response"]


def test_deleting_a_response_being_generated_stops_it_and_ends_its_readers(
    api: httpx.Client,
) -> None:
    created = create(api, tps=20)  # two seconds
    url = f"/responses/{created['id']}"
    started = time.monotonic()
    with api.stream("GET", url, params={"stream": "true"}) as reader:
        live = events_of(reader)
        head = list(islice(live, 5))
        assert api.delete(url).json()["deleted"] is True
        tail = list(live)  # ends without the rest (and without a terminal event)
    assert time.monotonic() - started < 1.5
    events = head + tail
    assert numbers(events) == list(range(len(events))) and len(events) < 20
    assert all(e["type"] != "response.completed" for e in events)
    assert api.get(url).status_code == 404


def test_pacing_applies_to_a_background_response(api: httpx.Client) -> None:
    tps, words = 25, 10
    body = {"input": "echo: " + " ".join(["x"] * words), "stream": True}
    started = time.monotonic()
    with api.stream(
        "POST",
        "/responses",
        json={"model": "gpt-4o", "background": True, **body},
        headers={"X-Emulator-Tokens-Per-Second": str(tps)},
    ) as r:
        created_at = time.monotonic() - started
        events = read(r)
    elapsed = time.monotonic() - started
    assert created_at < 0.3  # the stream opens at once
    assert sum(e["type"] == "response.output_text.delta" for e in events) == words
    assert elapsed >= 0.8 * words / tps  # one token every 1/tps seconds


@pytest.mark.parametrize(
    ("fault", "count", "last"),
    [
        ("drop:12", 12, "response.output_text.delta"),
        ("error:9", 9, "error"),
        ("malformed:6", None, "response.completed"),
        ("slow:5, drop:20", 20, "response.output_text.delta"),
        ("stall:0.2@4", None, "response.completed"),
    ],
)
def test_faults_apply_to_each_live_reader(
    api: httpx.Client, fault: str, count: int | None, last: str
) -> None:
    created = create(api, tps=100)
    with api.stream(
        "GET",
        f"/responses/{created['id']}",
        params={"stream": "true"},
        headers={"X-Emulator-Fault": fault},
    ) as r:
        raw = b"".join(r.iter_raw())
    blocks = SSEParser().feed(raw)
    if count is not None:
        assert len(blocks) == count
    assert blocks[-1].event == last
    if fault.startswith("malformed"):
        with pytest.raises(json.JSONDecodeError):
            json.loads(blocks[5].data)
    everything = whole(api, created["id"])  # the response itself is undisturbed
    assert everything[-1]["type"] == "response.completed"
    good = [json.loads(b.data) for b in blocks if b.event != "error" and b is not blocks[5]]
    assert all(e == everything[e["sequence_number"]] for e in good)


def test_the_client_resumes_and_runs_tools_on_a_live_background_response(base_url: str) -> None:
    with streamkit.Client(base_url=base_url, api_key="any", backoff=0.01, timeout=10) as client:
        stream = client.responses.stream(
            model="gpt-5",
            input=f"echo: {WORDS}",
            background=True,
            reconnect="poll",
            extra_headers={"X-Emulator-Fault": "drop:7", "X-Emulator-Tokens-Per-Second": "200"},
        )
        assert stream.get_final_text() == WORDS and not stream.state.problems
        tools = client.responses.stream(
            model="gpt-5",
            input="What is the weather in Oslo and Lima?",
            tools=[WEATHER],
            background=True,
            reconnect="poll",
            extra_headers={"X-Emulator-Fault": "drop:4", "X-Emulator-Tokens-Per-Second": "200"},
        ).run_tools({"get_current_weather": lambda location: f"cold in {location}"})
        text = tools.get_final_text()
        assert "Oslo: cold in Oslo" in text and "Lima: cold in Lima" in text


def test_the_client_reads_a_cancelled_background_response_to_its_end(base_url: str) -> None:
    """``response.cancelled`` is a proper end: the fold finishes the response ``cancelled``
    (no truncation, no resume attempts), and its text is what was written before."""
    with streamkit.Client(base_url=base_url, api_key="any", timeout=10) as client:
        stream = client.responses.stream(
            model="gpt-5",
            input=f"echo: {WORDS}",
            background=True,
            reconnect="poll",
            extra_headers={"X-Emulator-Tokens-Per-Second": "40"},
        )
        kinds = []
        for n, change in enumerate(stream.changes()):
            kinds.append(type(change).__name__)
            if n == 10:
                assert stream.response_id is not None
                assert client.responses.cancel(stream.response_id).status == "cancelled"
        final = stream.get_final_response()
        assert final is not None and final.status == "cancelled"
        assert "RunFinished" in kinds
        # the item being written is left open by the cancel, and said so; nothing else
        assert [p.kind for p in stream.state.problems] == ["left_open"]
        assert 0 < len(stream.get_final_text()) < len(WORDS)


class Errors(logging.Handler):
    """The ERROR records of uvicorn's loggers (which do not reach the root) and asyncio's."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())

    def attach(self) -> None:
        """Listen (once the server runs: uvicorn's logging config drops handlers)."""
        for name in ("uvicorn", "uvicorn.error", "asyncio"):
            logging.getLogger(name).addHandler(self)

    def detach(self) -> None:
        for name in ("uvicorn", "uvicorn.error", "asyncio"):
            logging.getLogger(name).removeHandler(self)


def test_the_emulator_stops_cleanly_with_a_response_in_flight() -> None:
    app = create_app(api_key=None)
    started = time.monotonic()
    errors = Errors()
    try:
        with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=10) as api:
            errors.attach()
            created = create(api, tps=5)  # eight seconds
            time.sleep(0.3)
            assert api.get(f"/responses/{created['id']}").json()["status"] == "in_progress"
        gc.collect()  # a task dropped while pending would be reported now
    finally:
        errors.detach()
    assert time.monotonic() - started < 3  # not the eight seconds of the response
    record = app.state.emulator.responses[created["id"]]
    assert record.task is not None and record.task.cancelled()  # its generation stopped
    assert record.done and record.response["status"] == "in_progress"
    assert errors.records == []


def test_a_reader_attached_at_shutdown_is_let_go() -> None:
    # uvicorn waits one second (serve_in_thread's graceful timeout) for open responses,
    # then cancels them, as it does for a foreground stream.
    app = create_app(api_key=None)
    ended: list[str] = []
    started = time.monotonic()
    with serve_in_thread(app) as url:
        with httpx.Client(base_url=url, timeout=10) as api:
            created = create(api, tps=5)

        def follow() -> None:
            try:
                with (
                    httpx.Client(timeout=10) as own,
                    own.stream(
                        "GET", f"{url}/responses/{created['id']}", params={"stream": "true"}
                    ) as r,
                ):
                    read(r)
                ended.append("end")
            except httpx.HTTPError as error:
                ended.append(type(error).__name__)

        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        time.sleep(0.3)
        assert ended == []  # still reading when the server stops
    reader.join(5)
    assert not reader.is_alive() and len(ended) == 1
    assert time.monotonic() - started < 5
    record = app.state.emulator.responses[created["id"]]
    assert record.task is not None and record.task.done() and record.done
