"""Faults, served recordings and pacing, as a client sees them over a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import streamkit
from streamkit import events
from streamkit.emulator import parse_faults
from streamkit.emulator.pytest_plugin import EmulatorFixture
from streamkit.record import Chunk, Recording

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "openai-dotnet"


@pytest.fixture
def api(emulator: EmulatorFixture) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers, timeout=10) as client:
        yield client


def start(api: httpx.Client, text: str = "hello", **headers: str) -> httpx.Response:
    asst = api.post("/assistants", json={"model": "gpt-4o"}).json()["id"]
    body = {
        "assistant_id": asst,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": text}]},
    }
    return api.post("/threads/runs", json=body, headers=headers)


def names(body: bytes) -> list[str]:
    return [sse.event for sse in streamkit.SSEParser().feed(body)]


def run_of(body: bytes) -> tuple[str, str]:
    for sse in streamkit.SSEParser().feed(body):
        if sse.event == "thread.run.created":
            data = sse.json()
            return data["thread_id"], data["id"]
    raise AssertionError("no thread.run.created")


def test_drop_cuts_the_stream_and_the_run_still_ends(api: httpx.Client) -> None:
    response = start(api, **{"X-Emulator-Fault": "drop:9"})
    assert response.status_code == 200
    assert names(response.content)[-3:] == [
        "thread.message.created",
        "thread.message.in_progress",
        "thread.message.delta",
    ]
    s = streamkit.stream(response.content)
    with pytest.raises(streamkit.StreamTruncated) as caught:
        s.until_done()
    assert caught.value.events == 9
    message = s.current_message_snapshot  # what arrived stays readable
    assert message is not None and message.content[0].text.value == "Hello!"  # type: ignore[union-attr]
    thread_id, run_id = run_of(response.content)
    assert api.get(f"/threads/{thread_id}/runs/{run_id}").json()["status"] == "completed"


def test_malformed_names_the_event(api: httpx.Client) -> None:
    response = start(api, **{"X-Emulator-Fault": "malformed:3"})
    s = streamkit.stream(response.content)
    with pytest.raises(streamkit.MalformedEventError) as caught:
        s.until_done()
    assert "thread.run.queued" in str(caught.value) and "line 7" in str(caught.value)
    assert s.current_run is not None and s.current_run.status == "queued"


def test_error_event_fails_the_run(api: httpx.Client) -> None:
    response = start(api, **{"X-Emulator-Fault": "error:8"})
    got = names(response.content)
    assert len(got) == 8 and got[-1] == "error"
    s = streamkit.stream(response.content)
    received = [event for event in s if isinstance(event, events.ErrorEvent)]
    assert received[0].data.code == "server_error" and "event 8" in received[0].data.message
    assert not s.truncated
    thread_id, run_id = run_of(response.content)
    run = api.get(f"/threads/{thread_id}/runs/{run_id}").json()
    assert run["status"] == "failed" and run["last_error"]["code"] == "server_error"
    steps = api.get(f"/threads/{thread_id}/runs/{run_id}/steps").json()["data"]
    assert [step["status"] for step in steps] == ["failed"]
    message = api.get(f"/threads/{thread_id}/messages", params={"run_id": run_id}).json()
    assert message["data"][0]["status"] == "incomplete"


def test_stall_is_a_read_timeout_mid_stream(api: httpx.Client) -> None:
    asst = api.post("/assistants", json={"model": "gpt-4o"}).json()["id"]
    body = {"assistant_id": asst, "stream": True, "thread": {"messages": []}}
    headers = {"X-Emulator-Fault": "stall:1@2"}
    with api.stream(
        "POST", "/threads/runs", json=body, headers=headers, timeout=httpx.Timeout(10, read=0.3)
    ) as response:
        assert response.status_code == 200
        s = streamkit.stream(response)
        with pytest.raises(httpx.ReadTimeout):
            s.until_done()
        assert s.current_run is not None  # the events before the stall were read
    began = time.monotonic()
    response = start(api, **{"X-Emulator-Fault": "stall:0.3"})
    assert time.monotonic() - began >= 0.3
    assert names(response.content)[-1] == "done"


def test_status_answers_before_anything(api: httpx.Client, emulator: EmulatorFixture) -> None:
    response = start(api, **{"X-Emulator-Fault": "status:503"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "injected_fault"
    response = start(api, **{"X-Emulator-Fault": "status:429"})
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    assert len(emulator.emulator.store.threads) == 0  # nothing was created
    response = api.get("/assistants", headers={"X-Emulator-Fault": "status:500"})
    assert response.status_code == 500 and "x-request-id" in response.headers


def test_slow_and_combined(api: httpx.Client) -> None:
    began = time.monotonic()
    response = start(api, **{"X-Emulator-Fault": "slow:20, drop:10"})
    assert len(names(response.content)) == 10
    assert time.monotonic() - began >= 10 * 0.02


@pytest.mark.parametrize(
    "bad", ["drop", "drop:x", "explode:1", "drop:1,drop:2", "status:200", "slow:5@2", "error:0"]
)
def test_a_bad_fault_header_is_a_400(api: httpx.Client, bad: str) -> None:
    response = start(api, **{"X-Emulator-Fault": bad})
    error = response.json()["error"]
    assert response.status_code == 400 and error["param"] == "X-Emulator-Fault"
    assert bad in error["message"]


def test_parse_faults() -> None:
    faults = parse_faults("slow:15, stall:2.5@3 ,Malformed:4")
    assert (faults.slow, faults.stall, faults.stall_after, faults.malformed) == (0.015, 2.5, 3, 4)
    assert not parse_faults("").any and parse_faults("drop:0").drop == 0


def test_injected_faults_for_clients_without_headers(
    api: httpx.Client, emulator: EmulatorFixture
) -> None:
    emulator.inject_fault("drop:4")
    emulator.inject_fault("status:502")
    assert api.get("/assistants").status_code == 502  # a status fault fits any request
    assert api.get("/assistants").status_code == 200
    assert len(names(start(api).content)) == 4  # the next streaming request is cut
    assert names(start(api).content)[-1] == "done"  # once


# --- recordings -------------------------------------------------------------------------

BODY = (
    b'event: thread.run.created\ndata: {"id":"run_r","object":"thread.run","status":"queued"}\n\n'
    b"event: thread.run.completed\n"
    b'data: {"id":"run_r","object":"thread.run","status":"completed"}\n\n'
    b"event: done\ndata: [DONE]\n\n"
)


def _recording() -> Recording:
    return Recording(
        header=None,
        chunks=[Chunk(0.0, BODY[:30]), Chunk(0.05, BODY[30:100]), Chunk(0.4, BODY[100:])],
        complete=True,
    )


@pytest.mark.emulator(recordings={"tiny": _recording()})
def test_a_recording_is_served_byte_for_byte(api: httpx.Client) -> None:
    response = start(api, **{"X-Emulator-Recording": "tiny"})
    assert response.content == BODY
    began = time.monotonic()
    response = start(api, **{"X-Emulator-Recording": "tiny", "X-Emulator-Recording-Speed": "2"})
    assert response.content == BODY and time.monotonic() - began >= 0.2
    response = start(api, **{"X-Emulator-Recording": "tiny", "X-Emulator-Fault": "drop:1"})
    assert names(response.content) == ["thread.run.created"]
    error = start(api, **{"X-Emulator-Recording": "other"}).json()["error"]
    assert error["param"] == "X-Emulator-Recording" and "tiny" in error["message"]


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="recordings absent")
def test_real_recordings_as_a_front_end_sees_them(
    api: httpx.Client, emulator: EmulatorFixture
) -> None:
    emulator.emulator.add_recording("calls", RECORDINGS / "StreamingToolCall_0.sse")
    emulator.emulator.add_recording("after", RECORDINGS / "StreamingToolCall_1.sse")
    emulator.serve_recording("calls")
    first = start(api)
    assert first.content == (RECORDINGS / "StreamingToolCall_0.sse").read_bytes()
    s = streamkit.stream(first.content)
    run = s.get_final_run()
    assert run is not None and run.status == "requires_action"
    emulator.serve_recording("after")
    call_id = run.required_action.submit_tool_outputs.tool_calls[0].id  # type: ignore[union-attr]
    path = f"/threads/{run.thread_id}/runs/{run.id}/submit_tool_outputs"
    body = {"stream": True, "tool_outputs": [{"tool_call_id": call_id, "output": "warm"}]}
    second = api.post(path, json=body)
    after = streamkit.stream(second.content, state=s.state)
    assert after.get_final_run().status == "completed"  # type: ignore[union-attr]
    assert "sunny" in after.get_final_text()


# --- pacing -----------------------------------------------------------------------------


@pytest.mark.emulator(tokens_per_second=50)
def test_tokens_are_paced(api: httpx.Client) -> None:
    asst = api.post("/assistants", json={"model": "gpt-4o"}).json()["id"]
    body = {
        "assistant_id": asst,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "echo: one two three four five six"}]},
    }
    arrivals = []
    with api.stream("POST", "/threads/runs", json=body) as response:
        for event in streamkit.stream(response):
            if event.event == "thread.message.delta":
                arrivals.append(time.monotonic())
    assert len(arrivals) == 6
    assert arrivals[-1] - arrivals[0] >= 5 / 50 * 0.9
    began = time.monotonic()
    response = api.post("/threads/runs", json=body, headers={"X-Emulator-Tokens-Per-Second": "0"})
    assert streamkit.stream(response.content).get_final_text() == "one two three four five six"
    assert response.status_code == 200 and time.monotonic() - began < 5
