"""The HTTP client against the emulator over real sockets: every endpoint, pagination,
auth and validation errors, retries before the first byte and never after, recording."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import streamkit
from streamkit import models
from streamkit.client import APIConnectionError, AsyncPage, Page, RunStream
from streamkit.emulator import Emulator, create_app, serve_in_thread
from streamkit.record import load_recording

KEY = "sk-client-test"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Emulator]]:
    emulator = Emulator(api_key=KEY)
    with serve_in_thread(create_app(emulator)) as base_url:
        yield base_url, emulator


@pytest.fixture
def base_url(served: tuple[str, Emulator]) -> str:
    return served[0]


@pytest.fixture
def emulator(served: tuple[str, Emulator]) -> Iterator[Emulator]:
    yield served[1]
    served[1]._injected.clear()  # a failed test leaves no fault behind


@pytest.fixture
def client(base_url: str) -> Iterator[streamkit.Client]:
    with streamkit.Client(base_url=base_url, api_key=KEY, backoff=0.01, timeout=10) as c:
        yield c


def question(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


# --- configuration ------------------------------------------------------------------------


def test_import_streamkit_loads_no_client() -> None:
    import subprocess
    import sys

    code = "import sys, streamkit; assert 'streamkit.client' not in sys.modules; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
    assert streamkit.Client is streamkit.client.Client


def test_base_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STREAMKIT_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="no base_url"):
        streamkit.Client()
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")
    assert streamkit.Client().base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("STREAMKIT_BASE_URL", "http://127.0.0.1:8/v1")
    assert streamkit.Client().base_url == "http://127.0.0.1:8/v1"  # streamkit's first
    with pytest.raises(ValueError, match="http"):
        streamkit.Client(base_url="localhost:8000")


def test_azure_style_key_header_and_query(base_url: str) -> None:
    seen: list[httpx.Request] = []
    inner = httpx.HTTPTransport()

    class Spy(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    with streamkit.Client(
        base_url=base_url,
        api_key=KEY,
        auth="api-key",
        default_query={"api-version": "2025-05-01"},
        default_headers={"X-Team": "blue"},
        transport=Spy(),
    ) as client:
        assistant = client.assistants.create(model="gpt-4o", name="azure")
        client.assistants.retrieve(assistant.id, extra_query={"trace": "1"})
    first, second = seen
    assert first.headers["api-key"] == KEY and "authorization" not in first.headers
    assert first.headers["x-team"] == "blue"
    assert first.url.params["api-version"] == "2025-05-01"
    assert dict(second.url.params) == {"api-version": "2025-05-01", "trace": "1"}


# --- every endpoint -----------------------------------------------------------------------


def test_assistants_crud(client: streamkit.Client) -> None:
    created = client.assistants.create(model="gpt-4o", name="crud", tools=[WEATHER])
    assert isinstance(created, models.Assistant) and created.name == "crud"
    assert client.assistants.retrieve(created.id) == created
    updated = client.assistants.update(created.id, name="renamed")
    assert updated.name == "renamed"
    assert created.id in [a.id for a in client.assistants.list()]
    deleted = client.assistants.delete(created.id)
    assert isinstance(deleted, models.AssistantDeleted) and deleted.deleted
    with pytest.raises(streamkit.ResponseError) as caught:
        client.assistants.retrieve(created.id)
    assert caught.value.status_code == 404 and caught.value.request_id


def test_threads_messages_runs_steps(client: streamkit.Client) -> None:
    assistant = client.assistants.create(model="gpt-4o")
    thread = client.threads.create(metadata={"k": "v"})
    assert isinstance(thread, models.Thread) and client.threads.retrieve(thread.id) == thread
    assert client.threads.update(thread.id, metadata={"k": "w"}).metadata == {"k": "w"}
    message = client.threads.messages.create(thread.id, role="user", content="echo: a b")
    assert isinstance(message, models.Message) and message.role == "user"
    assert client.threads.messages.retrieve(message.id, thread_id=thread.id) == message
    assert client.threads.messages.update(message.id, thread_id=thread.id, metadata={"x": "1"})
    run = client.threads.runs.create(thread.id, assistant_id=assistant.id)
    assert isinstance(run, models.Run) and run.status == "queued"
    run = client.threads.runs.retrieve(run.id, thread_id=thread.id)
    assert run.status == "completed"
    assert client.threads.runs.update(run.id, thread_id=thread.id, metadata={"a": "b"})
    assert [r.id for r in client.threads.runs.list(thread.id)] == [run.id]
    steps = client.threads.runs.steps.list(run.id, thread_id=thread.id)
    assert isinstance(steps, Page) and [s.type for s in steps.data] == ["message_creation"]
    step = client.threads.runs.steps.retrieve(steps.data[0].id, thread_id=thread.id, run_id=run.id)
    assert isinstance(step, models.RunStep) and step.status == "completed"
    replies = client.threads.messages.list(thread.id, run_id=run.id)
    assert [m.role for m in replies] == ["assistant"]
    assert replies.data[0].content[0].text.value == "a b"  # type: ignore[union-attr,index]
    with pytest.raises(streamkit.ResponseError, match="run_not_active"):
        client.threads.runs.cancel(run.id, thread_id=thread.id)
    deleted = client.threads.messages.delete(message.id, thread_id=thread.id)
    assert isinstance(deleted, models.MessageDeleted) and deleted.deleted
    assert client.threads.delete(thread.id).deleted


def test_create_and_run_and_submit_tool_outputs_plain(client: streamkit.Client) -> None:
    assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
    run = client.threads.create_and_run(
        assistant_id=assistant.id, thread=question("weather in Oslo")
    )
    assert run.thread_id is not None
    run = client.threads.runs.retrieve(run.id, thread_id=run.thread_id)
    assert run.status == "requires_action" and run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
    outputs = [{"tool_call_id": call.id, "output": "3 C"} for call in calls or []]
    client.threads.runs.submit_tool_outputs(run.id, thread_id=run.thread_id, tool_outputs=outputs)
    run = client.threads.runs.retrieve(run.id, thread_id=run.thread_id)
    assert run.status == "completed"
    text = client.threads.messages.list(run.thread_id, run_id=run.id).data[0]
    assert text.content[0].text.value == "The weather in Oslo: 3 C."  # type: ignore[union-attr,index]


def test_cancel_a_run_that_requires_action(client: streamkit.Client) -> None:
    assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
    run = client.threads.create_and_run(assistant_id=assistant.id, thread=question("weather"))
    assert run.thread_id is not None
    cancelling = client.threads.runs.cancel(run.id, thread_id=run.thread_id)
    assert cancelling.status == "cancelling"
    assert client.threads.runs.retrieve(run.id, thread_id=run.thread_id).status == "cancelled"


def test_the_streaming_methods(client: streamkit.Client) -> None:
    assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
    beta = client.beta.threads  # openai-python's spelling works too
    with beta.create_and_run_stream(
        assistant_id=assistant.id, thread=question("weather in Lima")
    ) as first:
        assert isinstance(first, RunStream) and isinstance(first, streamkit.Stream)
        run = first.get_final_run()
    assert run is not None and run.status == "requires_action"
    assert (first.thread_id, first.run_id) == (run.thread_id, run.id)
    calls = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
    outputs = [{"tool_call_id": call.id, "output": "25 C"} for call in calls or []]
    second = client.threads.runs.submit_tool_outputs_stream(
        tool_outputs=outputs, run_id=run.id, thread_id=run.thread_id, state=first.state
    )
    assert second.get_final_text() == "The weather in Lima: 25 C."
    assert [s.status for s in second.get_final_run_steps()] == ["completed", "completed"]

    class Texts(streamkit.EventHandler):
        def __init__(self) -> None:
            self.pieces: list[str] = []

        def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.pieces.append(delta.value)

    texts = Texts()
    assert run.thread_id is not None
    third = client.threads.runs.stream(
        thread_id=run.thread_id,
        assistant_id=assistant.id,
        event_handler=texts,  # openai-python's name for the handler
        additional_messages=[{"role": "user", "content": "echo: one two"}],
    )
    third.until_done()
    assert "".join(texts.pieces) == "one two" and third.get_final_run().status == "completed"  # type: ignore[union-attr]
    with pytest.raises(TypeError, match="not both"):
        client.threads.runs.stream(
            thread_id="t", assistant_id="a", handler=texts, event_handler=texts
        )


def test_nothing_is_sent_before_the_stream_is_read(
    client: streamkit.Client, emulator: Emulator
) -> None:
    assistant = client.assistants.create(model="gpt-4o")
    before = len(emulator.store.threads.ids())
    s = client.threads.create_and_run_stream(assistant_id=assistant.id, thread=question("hi"))
    assert len(emulator.store.threads.ids()) == before
    s.until_done()
    assert len(emulator.store.threads.ids()) == before + 1


# --- pagination ---------------------------------------------------------------------------


def test_pagination_follows_the_cursor(client: streamkit.Client) -> None:
    thread = client.threads.create()
    ids = [
        client.threads.messages.create(thread.id, role="user", content=f"m{i}").id for i in range(7)
    ]
    page = client.threads.messages.list(thread.id, limit=3, order="asc")
    assert [m.id for m in page.data] == ids[:3]
    assert page.has_more and page.first_id == ids[0] and page.last_id == ids[2]
    assert [len(p.data) for p in page.iter_pages()] == [3, 3, 1]
    assert [m.id for m in page] == ids  # every page, in order
    last = page.next_page().next_page()
    assert not last.has_next_page() and [m.id for m in last.data] == ids[6:]
    with pytest.raises(RuntimeError, match="last page"):
        last.next_page()
    backwards = client.threads.messages.list(thread.id, limit=2, order="desc")
    assert [m.id for m in backwards] == ids[::-1]
    empty = client.threads.runs.list(thread.id)
    assert empty.data == [] and not empty.has_more and list(empty) == []


@pytest.mark.anyio
async def test_async_client_endpoints_and_pages(base_url: str) -> None:
    async with streamkit.AsyncClient(base_url=base_url, api_key=KEY, timeout=10) as client:
        assistant = await client.assistants.create(model="gpt-4o")
        thread = await client.threads.create()
        for i in range(5):
            await client.threads.messages.create(thread.id, role="user", content=f"n{i}")
        page = await client.threads.messages.list(thread.id, limit=2, order="asc")
        assert isinstance(page, AsyncPage) and len(page.data) == 2
        texts = [m.content[0].text.value async for m in page]  # type: ignore[union-attr,index]
        assert texts == [f"n{i}" for i in range(5)]
        run = await client.threads.runs.create(thread.id, assistant_id=assistant.id)
        run = await client.threads.runs.retrieve(run.id, thread_id=thread.id)
        assert run.status == "completed"
        steps = await client.beta.threads.runs.steps.list(run.id, thread_id=thread.id)
        assert len(steps.data) == 1
        s = client.threads.runs.stream(
            thread_id=thread.id,
            assistant_id=assistant.id,
            additional_messages=[{"role": "user", "content": "echo: async"}],
        )
        assert isinstance(s, streamkit.AsyncStream)
        assert await s.get_final_text() == "async"
        assert (await client.assistants.delete(assistant.id)).deleted
        with pytest.raises(streamkit.ResponseError) as caught:
            await client.threads.runs.retrieve("run_x", thread_id=thread.id)
        assert caught.value.status_code == 404


# --- errors -------------------------------------------------------------------------------


def test_auth_errors(base_url: str) -> None:
    wrong = streamkit.Client(base_url=base_url, api_key="sk-wrong-key-123")
    with wrong, pytest.raises(streamkit.ResponseError) as caught:
        wrong.assistants.list()
    error = caught.value
    assert error.status_code == 401 and error.error is not None
    assert error.error["code"] == "invalid_api_key"
    assert "401" in str(error) and "invalid_api_key" in str(error) and error.request_id
    assert "sk-wrong-key-123" not in str(error)
    with streamkit.Client(base_url=base_url, api_key="") as client:
        s = client.threads.create_and_run_stream(assistant_id="asst_x", thread=question("hi"))
        with pytest.raises(streamkit.ResponseError) as caught:
            s.until_done()
    assert caught.value.status_code == 401 and caught.value.error["code"] == "missing_api_key"  # type: ignore[index]
    assert s.finished


def test_validation_errors_name_the_field(client: streamkit.Client) -> None:
    with pytest.raises(streamkit.ResponseError) as caught:
        client.assistants.create(model=42)  # type: ignore[arg-type]
    assert caught.value.status_code == 400 and caught.value.error["param"] == "model"  # type: ignore[index]
    assistant = client.assistants.create(model="gpt-4o")
    s = client.threads.create_and_run_stream(
        assistant_id=assistant.id, thread={"messages": [{"role": "user"}]}
    )
    with pytest.raises(streamkit.ResponseError) as caught:
        s.get_final_run()
    assert caught.value.error["param"] == "thread.messages[0].content"  # type: ignore[index]


def test_a_body_that_is_not_the_object_is_a_response_error(base_url: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/threads/thread_1"):
            return httpx.Response(200, json=[{"id": "thread_1"}])
        return httpx.Response(200, text="<html>proxy</html>")

    with streamkit.Client(base_url=base_url, transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(streamkit.ResponseError, match="not JSON"):
            client.assistants.list()
        with pytest.raises(streamkit.ResponseError, match="not a Thread"):
            client.threads.retrieve("thread_1")
        with pytest.raises(streamkit.ResponseError, match="not an event stream"):
            client.threads.create_and_run_stream(assistant_id="a").until_done()


# --- retries ------------------------------------------------------------------------------


class Counting(httpx.BaseTransport):
    """A real transport that counts requests and can cut a streamed answer mid-way."""

    def __init__(self, cut_after: int | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.requests: list[httpx.Request] = []
        self.cut_after = cut_after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = self.inner.handle_request(request)
        if self.cut_after is None or "text/event-stream" not in response.headers.get(
            "content-type", ""
        ):
            return response
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=Cut(response.stream, self.cut_after),  # type: ignore[arg-type]
        )


class Cut(httpx.SyncByteStream):
    """The first ``after`` bytes of a stream, then a dropped connection."""

    def __init__(self, inner: httpx.SyncByteStream, after: int) -> None:
        self.inner, self.after = inner, after

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in self.inner:
            if sent + len(chunk) >= self.after:
                yield chunk[: self.after - sent]
                raise httpx.RemoteProtocolError("peer closed connection mid-body")
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


def test_5xx_and_429_are_retried_before_the_first_byte(base_url: str, emulator: Emulator) -> None:
    counting = Counting()
    with streamkit.Client(
        base_url=base_url, api_key=KEY, backoff=0.01, transport=counting
    ) as client:
        assistant = client.assistants.create(model="gpt-4o")
        emulator.inject_fault("status:503", times=2)
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id, thread=question("echo: retried")
        )
        assert s.get_final_text() == "retried"
        assert len(counting.requests) == 1 + 3  # create, then two 503s and the stream
        emulator.inject_fault("status:429")
        started = time.monotonic()
        assert client.assistants.retrieve(assistant.id).id == assistant.id
        assert time.monotonic() - started >= 0.9  # the emulator's Retry-After: 1
        emulator.inject_fault("status:500", times=3)
        with pytest.raises(streamkit.ResponseError) as caught:
            client.assistants.retrieve(assistant.id)
        assert caught.value.status_code == 500  # max_retries=2: three tries, then the error
    with streamkit.Client(base_url=base_url, api_key=KEY, max_retries=0) as client:
        emulator.inject_fault("status:503")
        with pytest.raises(streamkit.ResponseError):
            client.assistants.list()


def test_connect_errors_are_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    counting = Counting()
    with streamkit.Client(
        base_url=f"http://127.0.0.1:{port}/v1", max_retries=3, backoff=0.01, transport=counting
    ) as client:
        with pytest.raises(APIConnectionError, match="ConnectError") as caught:
            client.assistants.list()
        assert isinstance(caught.value, streamkit.StreamkitError)
        assert len(counting.requests) == 4
        s = client.threads.create_and_run_stream(assistant_id="a")
        with pytest.raises(APIConnectionError):
            s.until_done()
        assert len(counting.requests) == 8


def test_a_dropped_stream_is_not_retried(base_url: str, emulator: Emulator) -> None:
    counting = Counting()
    with streamkit.Client(base_url=base_url, api_key=KEY, transport=counting) as client:
        assistant = client.assistants.create(model="gpt-4o")
        threads = len(emulator.store.threads.ids())
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id,
            thread=question("echo: never twice"),
            extra_headers={"X-Emulator-Fault": "drop:9"},
        )
        seen: list[str] = []
        with pytest.raises(streamkit.StreamTruncated) as caught:
            seen.extend(event.event for event in s)
        assert caught.value.events == 9 == len(seen)
        assert len(counting.requests) == 2  # one stream request: no retry after bytes
        assert len(emulator.store.threads.ids()) == threads + 1  # one run, not two
        assert s.current_message_snapshot.content[0].text.value == "never"  # type: ignore[union-attr,index]


def test_a_stream_cut_mid_event_raises_a_connection_error_once(
    base_url: str, emulator: Emulator
) -> None:
    counting = Counting(cut_after=1500)
    with streamkit.Client(base_url=base_url, api_key=KEY, transport=counting) as client:
        assistant = client.assistants.create(model="gpt-4o")
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id, thread=question("echo: cut me")
        )
        with pytest.raises(APIConnectionError, match="RemoteProtocolError") as caught:
            s.until_done()
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert len(counting.requests) == 2 and s.current_run is not None


# --- recording ----------------------------------------------------------------------------


def test_every_stream_is_recorded_redacted(base_url: str, tmp_path: Path) -> None:
    with streamkit.Client(base_url=base_url, api_key=KEY, record_to=tmp_path) as client:
        assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id, thread=question("weather in Bern and Graz")
        ).run_tools({"get_current_weather": lambda location: "7 C"})
        text = s.get_final_text()
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2  # the first answer and the continuation
    bodies = [load_recording(path) for path in files]
    assert all(r.complete and r.header.status == 200 for r in bodies)
    assert bodies[0].header.path == "/v1/threads/runs"
    assert bodies[1].header.path.endswith("/submit_tool_outputs")  # type: ignore[union-attr]
    replayed = streamkit.stream(bodies[0].body + bodies[1].body)
    assert replayed.get_final_text() == text
    assert all(KEY not in path.read_text() for path in files)


def test_record_to_a_function(base_url: str, tmp_path: Path) -> None:
    names: list[str] = []

    def target(response: httpx.Response) -> Path:
        names.append(response.request.url.path)
        return tmp_path / f"{len(names)}.jsonl"

    with streamkit.Client(base_url=base_url, api_key=KEY, record_to=target) as client:
        assistant = client.assistants.create(model="gpt-4o")
        client.threads.create_and_run_stream(
            assistant_id=assistant.id, thread=question("echo: kept")
        ).until_done()
    assert names == ["/v1/threads/runs"]
    assert streamkit.stream(tmp_path / "1.jsonl").get_final_text() == "kept"
