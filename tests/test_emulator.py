"""The emulator over real sockets: every endpoint, the scripts folded strictly, auth,
validation, cancellation, a client that goes away, the prefix and the command.

Each test gets its own emulator on a free 127.0.0.1 port from the ``emulator`` fixture
(the pytest plugin this package installs), and talks to it with httpx.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import streamkit
from streamkit import models
from streamkit.emulator import create_app, serve_in_thread
from streamkit.emulator.pytest_plugin import EmulatorFixture

pytest.importorskip("starlette")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}


@pytest.fixture
def api(emulator: EmulatorFixture) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers, timeout=10) as client:
        yield client


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def assistant(api: httpx.Client, **fields: Any) -> str:
    body = {"model": "gpt-4o", **fields}
    return str(ok(api.post("/assistants", json=body))["id"])


def run_stream(
    api: httpx.Client, path: str, body: dict[str, Any], state: streamkit.State | None = None
) -> streamkit.Stream:
    """POST with stream: true, read the whole body, fold it strictly."""
    response = api.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content.endswith(b"event: done\ndata: [DONE]\n\n")
    s = streamkit.stream(response.content, strict=True, state=state)
    s.until_done()
    return s


def ask(api: httpx.Client, text: str, **run: Any) -> streamkit.Stream:
    tools = run.pop("tools", [])
    asst = assistant(api, tools=tools)
    body = {"assistant_id": asst, "thread": {"messages": [{"role": "user", "content": text}]}}
    return run_stream(api, "/threads/runs", {**body, **run})


# --- assistants, threads, messages ------------------------------------------------------


def test_assistants_crud(api: httpx.Client) -> None:
    created = ok(api.post("/assistants", json={"model": "gpt-4o", "name": "A", "tools": []}))
    assert created["object"] == "assistant" and created["id"].startswith("asst_")
    models.Assistant.from_dict(created)
    assert ok(api.get(f"/assistants/{created['id']}")) == created
    modified = ok(
        api.post(f"/assistants/{created['id']}", json={"name": "B", "metadata": {"k": "v"}})
    )
    assert modified["name"] == "B" and modified["metadata"] == {"k": "v"}
    assert modified["model"] == "gpt-4o"
    listed = ok(api.get("/assistants"))
    assert [a["id"] for a in listed["data"]] == [created["id"]]
    deleted = ok(api.delete(f"/assistants/{created['id']}"))
    assert deleted == {"id": created["id"], "object": "assistant.deleted", "deleted": True}
    assert error_of(api.get(f"/assistants/{created['id']}"), 404)["code"] == "not_found"


def test_threads_and_messages_crud(api: httpx.Client) -> None:
    thread = ok(
        api.post(
            "/threads",
            json={
                "messages": [
                    {"role": "user", "content": "one"},
                    {"role": "user", "content": [{"type": "text", "text": "two"}]},
                ],
                "metadata": {"a": "1"},
            },
        )
    )
    models.Thread.from_dict(thread)
    tid = thread["id"]
    assert ok(api.get(f"/threads/{tid}")) == thread
    assert ok(api.post(f"/threads/{tid}", json={"metadata": {"b": "2"}}))["metadata"] == {"b": "2"}
    listed = ok(api.get(f"/threads/{tid}/messages", params={"order": "asc"}))
    texts = [m["content"][0]["text"]["value"] for m in listed["data"]]
    assert texts == ["one", "two"]
    message = ok(api.post(f"/threads/{tid}/messages", json={"role": "user", "content": "three"}))
    models.Message.from_dict(message)
    assert message["status"] == "completed" and message["thread_id"] == tid
    mid = message["id"]
    assert ok(api.get(f"/threads/{tid}/messages/{mid}")) == message
    modified = ok(api.post(f"/threads/{tid}/messages/{mid}", json={"metadata": {"x": "y"}}))
    assert modified["metadata"] == {"x": "y"}
    assert ok(api.delete(f"/threads/{tid}/messages/{mid}")) == {
        "id": mid,
        "object": "thread.message.deleted",
        "deleted": True,
    }
    error_of(api.get(f"/threads/{tid}/messages/{mid}"), 404)
    assert ok(api.delete(f"/threads/{tid}"))["deleted"] is True
    error_of(api.get(f"/threads/{tid}"), 404)
    error_of(api.get(f"/threads/{tid}/messages"), 404)


def test_unknown_path_and_method_get_the_error_shape(api: httpx.Client) -> None:
    assert "Invalid URL" in error_of(api.get("/nothing/here"), 404)["message"]
    error_of(api.put("/assistants"), 405)


# --- runs and the scripts, folded strictly ---------------------------------------------


def test_plain_text_answer(api: httpx.Client) -> None:
    s = ask(api, "Hello there")
    run = s.get_final_run()
    assert run is not None and run.status == "completed"
    steps = s.get_final_run_steps()
    assert [(step.type, step.status) for step in steps] == [("message_creation", "completed")]
    messages = s.get_final_messages()
    assert len(messages) == 1 and messages[0].role == "assistant"
    assert messages[0].status == "completed"
    assert s.get_final_text() == streamkit.emulator._script.PLAIN_TEXT  # type: ignore[attr-defined]
    assert run.usage is not None and run.usage.completion_tokens > 1
    # The REST view agrees with the stream.
    retrieved = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}"))
    assert retrieved["status"] == "completed" and retrieved["expires_at"] is None
    rest_steps = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}/steps"))["data"]
    assert [step["id"] for step in rest_steps] == [steps[0].id]
    step = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}/steps/{steps[0].id}"))
    assert step["status"] == "completed"
    message = ok(api.get(f"/threads/{run.thread_id}/messages/{messages[0].id}"))
    assert message["content"][0]["text"]["value"] == s.get_final_text()


def test_echo(api: httpx.Client) -> None:
    assert ask(api, "echo: the quick brown fox").get_final_text() == "the quick brown fox"
    s = ask(api, "anything [script:echo] here")
    assert s.get_final_text() == "anything here"


def test_script_marker_in_instructions(api: httpx.Client) -> None:
    asst = assistant(api, instructions="Be brief. [script:refusal]")
    thread = ok(api.post("/threads", json={"messages": [{"role": "user", "content": "hi"}]}))
    s = run_stream(api, f"/threads/{thread['id']}/runs", {"assistant_id": asst})
    (message,) = s.get_final_messages()
    assert isinstance(message.content[0], models.RefusalContentBlock)
    thread2 = ok(api.post("/threads", json={"messages": [{"role": "user", "content": "hi"}]}))
    error = error_of(
        api.post(
            f"/threads/{thread2['id']}/runs",
            json={"assistant_id": asst, "additional_instructions": "[script:nope]"},
        ),
        400,
    )
    assert "nope" in error["message"] and error["code"] == "unknown_script"


def test_refusal(api: httpx.Client) -> None:
    s = ask(api, "Please refuse this")
    (message,) = s.get_final_messages()
    (part,) = message.content
    assert isinstance(part, models.RefusalContentBlock)
    assert part.refusal == "I'm sorry, but I can't help with that request."
    assert s.get_final_run().status == "completed"  # type: ignore[union-attr]


def test_weather_parallel_calls_then_continuation(api: httpx.Client) -> None:
    s = ask(
        api,
        "What is the weather like in San Francisco, Tokyo and Paris?",
        tools=[WEATHER_TOOL],
    )
    run = s.get_final_run()
    assert run is not None and run.status == "requires_action"
    calls = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
    arguments = [json.loads(call.function.arguments) for call in calls]
    assert arguments == [
        {"location": "San Francisco"},
        {"location": "Tokyo"},
        {"location": "Paris"},
    ]
    (step,) = s.get_final_run_steps()
    assert step.type == "tool_calls" and step.status == "in_progress"
    streamed = [call.function.arguments for call in step.step_details.tool_calls]  # type: ignore[union-attr]
    assert streamed == [call.function.arguments for call in calls]
    outputs = [
        {"tool_call_id": call.id, "output": f"{20 + i} C and sunny"} for i, call in enumerate(calls)
    ]
    path = f"/threads/{run.thread_id}/runs/{run.id}/submit_tool_outputs"
    after = run_stream(api, path, {"tool_outputs": outputs}, state=s.state)
    final = after.get_final_run()
    assert final is not None and final.status == "completed" and final.required_action is None
    assert after.get_final_text() == (
        "Here is the current weather:\n- San Francisco: 20 C and sunny\n"
        "- Tokyo: 21 C and sunny\n- Paris: 22 C and sunny"
    )
    tool_step = after.state.steps[step.id]
    assert tool_step.status == "completed"
    assert [c.function.output for c in tool_step.step_details.tool_calls] == [  # type: ignore[union-attr]
        o["output"] for o in outputs
    ]
    # Usage covers both stretches of the run.
    assert final.usage is not None and final.usage.completion_tokens > 0


def test_weather_one_call_without_streaming(api: httpx.Client) -> None:
    asst = assistant(api, tools=[WEATHER_TOOL])
    created = ok(
        api.post(
            "/threads/runs",
            json={
                "assistant_id": asst,
                "thread": {
                    "messages": [{"role": "user", "content": "Weather in Oslo in celsius?"}]
                },
            },
        )
    )
    assert created["status"] == "queued"
    tid, rid = created["thread_id"], created["id"]
    run = ok(api.get(f"/threads/{tid}/runs/{rid}"))
    assert run["status"] == "requires_action"
    (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"location": "Oslo", "unit": "celsius"}
    path = f"/threads/{tid}/runs/{rid}/submit_tool_outputs"
    # Outputs are checked: a missing one, an unknown id.
    error = error_of(api.post(path, json={"tool_outputs": []}), 400)
    assert error["param"] == "tool_outputs" and call["id"] in error["message"]
    error = error_of(
        api.post(path, json={"tool_outputs": [{"tool_call_id": "call_x", "output": "1"}]}), 400
    )
    assert error["param"] == "tool_outputs[0].tool_call_id"
    # A second run cannot start while this one waits.
    error = error_of(api.post(f"/threads/{tid}/runs", json={"assistant_id": asst}), 400)
    assert rid in error["message"]
    submitted = ok(
        api.post(path, json={"tool_outputs": [{"tool_call_id": call["id"], "output": "5 C"}]})
    )
    assert submitted["status"] == "queued"
    assert ok(api.get(f"/threads/{tid}/runs/{rid}"))["status"] == "completed"
    messages = ok(api.get(f"/threads/{tid}/messages", params={"run_id": rid}))["data"]
    assert messages[0]["content"][0]["text"]["value"] == "The weather in Oslo: 5 C."
    error_of(api.post(path, json={"tool_outputs": []}), 400)  # no longer waiting


def test_code_interpreter(api: httpx.Client) -> None:
    s = ask(api, "Please calculate (2 + 3) * 4", tools=[{"type": "code_interpreter"}])
    code_step, message_step = s.get_final_run_steps()
    (call,) = code_step.step_details.tool_calls  # type: ignore[union-attr]
    assert isinstance(call, models.CodeInterpreterToolCall)
    assert call.code_interpreter.input == "print((2 + 3) * 4)"  # type: ignore[union-attr]
    (logs,) = call.code_interpreter.outputs  # type: ignore[union-attr]
    assert isinstance(logs, models.CodeInterpreterToolCallLogs) and logs.logs == "20\n"
    assert s.get_final_text() == "The result is 20."
    assert message_step.type == "message_creation"
    failing = ask(api, "compute 1/0", tools=[{"type": "code_interpreter"}])
    assert failing.get_final_text() == "The calculation failed: division by zero."


def test_file_search_with_citation(api: httpx.Client) -> None:
    s = ask(api, "Search my files for the storage", tools=[{"type": "file_search"}])
    search_step, _ = s.get_final_run_steps()
    (call,) = search_step.step_details.tool_calls  # type: ignore[union-attr]
    assert isinstance(call, models.FileSearchToolCall)
    assert call.file_search.results[0].file_name == "emulator_notes.txt"  # type: ignore[union-attr,index]
    (message,) = s.get_final_messages()
    text = message.content[0].text  # type: ignore[union-attr]
    (annotation,) = text.annotations
    assert isinstance(annotation, models.FileCitationAnnotation)
    assert text.value[annotation.start_index : annotation.end_index] == annotation.text
    assert annotation.text == "【4:0†emulator_notes.txt】"


def test_keywords_need_their_tool(api: httpx.Client) -> None:
    """Without the matching tool, a keyword gets the plain answer."""
    plain = streamkit.emulator._script.PLAIN_TEXT  # type: ignore[attr-defined]
    assert ask(api, "What is the weather in Rome?").get_final_text() == plain
    assert ask(api, "calculate 1+1").get_final_text() == plain


# --- cancellation and a client that goes away ------------------------------------------


def test_cancel_a_run_that_requires_action(api: httpx.Client) -> None:
    s = ask(api, "weather in Lima", tools=[WEATHER_TOOL])
    run = s.get_final_run()
    assert run is not None
    cancelled = ok(api.post(f"/threads/{run.thread_id}/runs/{run.id}/cancel"))
    assert cancelled["status"] == "cancelling"
    after = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}"))
    assert after["status"] == "cancelled" and after["cancelled_at"] is not None
    (step,) = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}/steps"))["data"]
    assert step["status"] == "cancelled"
    error = error_of(api.post(f"/threads/{run.thread_id}/runs/{run.id}/cancel"), 400)
    assert "cancelled" in error["message"]


@pytest.mark.emulator(tokens_per_second=200)
def test_cancel_while_streaming(emulator: EmulatorFixture, api: httpx.Client) -> None:
    asst = assistant(api)
    body = {
        "assistant_id": asst,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "hello"}]},
    }
    with api.stream("POST", "/threads/runs", json=body) as response:
        s = streamkit.stream(response)
        for event in s:
            if event.event == "thread.message.delta":
                run = s.current_run
                assert run is not None
                cancel = ok(api.post(f"/threads/{run.thread_id}/runs/{run.id}/cancel"))
                assert cancel["status"] == "cancelling"
                break
        s.until_done()
    final = s.get_final_run()
    assert final is not None and final.status == "cancelled"
    (message,) = s.get_final_messages()
    assert message.status == "incomplete"
    assert message.incomplete_details.reason == "run_cancelled"  # type: ignore[union-attr]
    assert [step.status for step in s.get_final_run_steps()] == ["cancelled"]
    rest = ok(api.get(f"/threads/{final.thread_id}/runs/{final.id}"))
    assert rest["status"] == "cancelled"


@pytest.mark.emulator(tokens_per_second=100)
def test_run_goes_on_when_the_client_leaves(api: httpx.Client) -> None:
    asst = assistant(api)
    body = {
        "assistant_id": asst,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "hello"}]},
    }
    with api.stream("POST", "/threads/runs", json=body) as response:
        s = streamkit.stream(response)
        for event in s:
            if event.event == "thread.message.delta":
                break
        run = s.current_run
        assert run is not None
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        status = ok(api.get(f"/threads/{run.thread_id}/runs/{run.id}"))["status"]
        if status == "completed":
            break
        time.sleep(0.02)
    assert status == "completed"
    (message,) = ok(api.get(f"/threads/{run.thread_id}/messages", params={"run_id": run.id}))[
        "data"
    ]
    assert message["status"] == "completed"
    assert message["content"][0]["text"]["value"].startswith("Hello! I'm the streamkit")


# --- auth -------------------------------------------------------------------------------


def test_auth(emulator: EmulatorFixture) -> None:
    base = emulator.base_url
    error = error_of(httpx.get(f"{base}/assistants"), 401)
    assert "API key" in error["message"]
    error = error_of(
        httpx.get(f"{base}/assistants", headers={"Authorization": "Bearer sk-wrong-key-123"}), 401
    )
    assert error["code"] == "invalid_api_key" and "sk-wrong-key-123" not in error["message"]
    error_of(httpx.get(f"{base}/assistants", headers={"api-key": "nope"}), 401)
    assert emulator.api_key == "sk-emulator"
    azure = httpx.get(
        f"{base}/assistants",
        params={"api-version": "2025-05-01"},
        headers={"api-key": emulator.api_key},
    )
    assert ok(azure)["object"] == "list"
    bearer = httpx.get(f"{base}/assistants", headers=emulator.headers)
    assert ok(bearer)["data"] == []
    assert bearer.headers["x-request-id"].startswith("req_")


@pytest.mark.emulator(api_key=None)
def test_no_key_configured_accepts_any_request(emulator: EmulatorFixture) -> None:
    assert emulator.headers == {}
    assert ok(httpx.get(f"{emulator.base_url}/assistants"))["data"] == []


# --- validation -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_api() -> Iterator[httpx.Client]:
    """One emulator for the tests that only read errors (each test's own costs ~0.2 s)."""
    with (
        serve_in_thread(create_app(api_key="k")) as base_url,
        httpx.Client(base_url=base_url, headers={"api-key": "k"}, timeout=10) as client,
    ):
        yield client


@pytest.mark.parametrize(
    ("path", "body", "param", "words"),
    [
        ("/assistants", {}, "model", "Missing required parameter"),
        ("/assistants", {"model": 4}, "model", "expected a string, but got an integer"),
        ("/assistants", {"model": "m", "tools": [{"type": "web"}]}, "tools[0].type", "'web'"),
        (
            "/assistants",
            {"model": "m", "tools": [{"type": "function", "function": {}}]},
            "tools[0].function.name",
            "Missing",
        ),
        ("/assistants", {"model": "m", "temperature": "hot"}, "temperature", "a number"),
        ("/assistants", {"model": "m", "metadata": {"k": 1}}, "metadata.k", "a string"),
        ("/threads", {"messages": {}}, "messages", "an array"),
        ("/threads", {"messages": [{"content": "x"}]}, "messages[0].role", "Missing"),
        ("/threads", {"messages": [{"role": "bot", "content": "x"}]}, "messages[0].role", "bot"),
        (
            "/threads",
            {"messages": [{"role": "user", "content": 5}]},
            "messages[0].content",
            "a string or an array",
        ),
        ("/threads/runs", {}, "assistant_id", "Missing"),
        ("/threads/runs", {"assistant_id": "a", "stream": "yes"}, "stream", "a boolean"),
        (
            "/threads/runs",
            {"assistant_id": "a", "thread": {"messages": [{"role": "user", "content": [{}]}]}},
            "thread.messages[0].content[0].type",
            "Missing",
        ),
        (
            "/threads/runs",
            {"assistant_id": "a", "parallel_tool_calls": 1},
            "parallel_tool_calls",
            "boolean",
        ),
        (
            "/threads/runs",
            {"assistant_id": "a", "max_prompt_tokens": True},
            "max_prompt_tokens",
            "integer",
        ),
    ],
)
def test_validation_names_the_field(
    shared_api: httpx.Client, path: str, body: dict[str, Any], param: str, words: str
) -> None:
    error = error_of(shared_api.post(path, json=body), 400)
    assert error["param"] == param
    assert words in error["message"]
    assert error["type"] == "invalid_request_error"


def test_bodies_that_are_not_json_objects(api: httpx.Client) -> None:
    error = error_of(api.post("/assistants", content=b"{nope"), 400)
    assert "JSON" in error["message"]
    error = error_of(api.post("/assistants", json=[1, 2]), 400)
    assert "an array" in error["message"]
    thread = ok(api.post("/threads"))  # an empty body is an empty object
    asst = assistant(api)
    path = f"/threads/{thread['id']}/runs"
    error_of(api.post(path, json={"assistant_id": asst, "additional_messages": "x"}), 400)
    error = error_of(api.post(f"{path}/run_nope/submit_tool_outputs", json={}), 400)
    assert error["param"] == "tool_outputs"
    error = error_of(
        api.post(f"{path}/run_nope/submit_tool_outputs", json={"tool_outputs": [{"output": "x"}]}),
        400,
    )
    assert error["param"] == "tool_outputs[0].tool_call_id"
    error_of(api.post(f"{path}/run_nope/submit_tool_outputs", json={"tool_outputs": []}), 404)
    error = error_of(api.post(path, json={"assistant_id": "asst_missing"}), 404)
    assert "asst_missing" in error["message"]


# --- pagination -------------------------------------------------------------------------


def test_pagination_edges(api: httpx.Client) -> None:
    ids = [assistant(api, name=str(i)) for i in range(5)]
    empty_thread = ok(api.post("/threads"))
    empty = ok(api.get(f"/threads/{empty_thread['id']}/messages"))
    assert empty == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": False,
    }
    page = ok(api.get("/assistants", params={"limit": 2}))  # desc by default
    assert [a["id"] for a in page["data"]] == ids[::-1][:2]
    assert page["has_more"] and page["first_id"] == ids[4] and page["last_id"] == ids[3]
    page = ok(api.get("/assistants", params={"limit": 2, "order": "asc", "after": ids[2]}))
    assert [a["id"] for a in page["data"]] == ids[3:5] and not page["has_more"]
    page = ok(api.get("/assistants", params={"limit": 2, "order": "asc", "before": ids[3]}))
    assert [a["id"] for a in page["data"]] == ids[1:3] and page["has_more"]
    page = ok(api.get("/assistants", params={"order": "asc", "after": ids[0], "before": ids[3]}))
    assert [a["id"] for a in page["data"]] == ids[1:3]
    page = ok(api.get("/assistants", params={"order": "asc", "after": ids[4]}))
    assert page["data"] == [] and page["first_id"] is None and not page["has_more"]
    page = ok(api.get("/assistants", params={"limit": 100}))
    assert len(page["data"]) == 5
    for params, param in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"order": "up"}, "order"),
        ({"after": "asst_nope"}, "after"),
        ({"before": "asst_nope"}, "before"),
    ]:
        assert error_of(api.get("/assistants", params=params), 400)["param"] == param


# --- prefix, serve_in_thread, the command ----------------------------------------------


@pytest.mark.parametrize("prefix", ["/openai/v1", ""])
def test_prefix(prefix: str) -> None:
    app = create_app(prefix=prefix, api_key="k")
    with serve_in_thread(app) as base_url:
        assert base_url.endswith(prefix) and base_url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{base_url}/assistants", headers={"api-key": "k"})
        assert ok(response)["object"] == "list"
        if prefix:
            root = base_url[: -len(prefix)]
            assert httpx.get(f"{root}/assistants", headers={"api-key": "k"}).status_code == 404
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/assistants")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command(tmp_path: Any) -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamkit", "emulator", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--api-key", "k1", "--tokens-per-second", "1000"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/assistants", headers={"api-key": "k1"}
                )
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the emulator command did not start"
                time.sleep(0.05)
        assert ok(response)["data"] == []
    finally:
        process.terminate()
        process.wait(10)
    bad = subprocess.run(
        [*command, "--recording", str(tmp_path / "missing.sse")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert bad.returncode == 2 and "missing.sse" in bad.stderr


@pytest.mark.parametrize(
    ("question", "locations"),
    [
        (
            "Weather in Paris, Tokyo, Rome, Lima and Oslo?",
            ["Paris", "Tokyo", "Rome", "Lima", "Oslo"],
        ),
        ("What is the weather in San Francisco, CA and Paris?", ["San Francisco, CA", "Paris"]),
        ("What is the weather in Boston; Denver?", ["Boston", "Denver"]),
    ],
)
def test_weather_calls_one_function_per_place_listed(
    api: httpx.Client, question: str, locations: list[str]
) -> None:
    run = ask(api, question, tools=[WEATHER_TOOL]).get_final_run()
    assert run is not None and run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert [json.loads(call.function.arguments)["location"] for call in calls] == locations
