"""The emulator's streams look like the real service's: the same event order and the same
fields per object as the real recordings (``shared/recordings/openai-dotnet``).

Each scripted stream is paired with the recording of the same kind of run; runs of
repeated deltas are collapsed before the event names are compared (a reply's length is
not its shape), and the key sets of every JSON object are compared per event name and
path (``thread.run.step.delta: delta.step_details.tool_calls[]``), wherever both sides
have that path. Skipped when the recordings are absent.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import httpx
import pytest

import streamkit
from streamkit.emulator.pytest_plugin import EmulatorFixture

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "openai-dotnet"

pytestmark = [
    pytest.mark.external,
    pytest.mark.skipif(not RECORDINGS.is_dir(), reason="recordings absent"),
]

# The tools as the recordings' runs had them (the service echoes a tool as it was given).
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Gets the user's current weather",
        "parameters": {"type": "object", "properties": {}},
        "strict": False,
    },
}
FILE_SEARCH = {
    "type": "file_search",
    "file_search": {
        "ranking_options": {
            "ranker": "default_2024_08_21",
            "score_threshold": 0.0,
            "hybrid_search": None,
        }
    },
}

Shapes = dict[tuple[str, str], set[str]]


def parse(body: bytes) -> list[tuple[str, Any]]:
    out = []
    for sse in streamkit.SSEParser().feed(body):
        out.append((sse.event, None if sse.data == "[DONE]" else sse.json()))
    return out


def sequence(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in groupby(name for name, _ in events)]


def shapes(events: list[tuple[str, Any]]) -> Shapes:
    found: Shapes = {}

    def walk(name: str, value: Any, path: str) -> None:
        if isinstance(value, dict):
            found.setdefault((name, path), set()).update(value)
            for key, item in value.items():
                walk(name, item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                walk(name, item, f"{path}[]")

    for name, data in events:
        walk(name, data, "")
    return found


def compare(mine: list[tuple[str, Any]], real: list[tuple[str, Any]]) -> None:
    assert sequence(mine) == sequence(real)
    ours, theirs = shapes(mine), shapes(real)
    common = ours.keys() & theirs.keys()
    for name in {name for name, _ in real if name != "done"}:
        assert (name, "") in common, f"{name}: no payload to compare"
    differences = {key: (ours[key], theirs[key]) for key in common if ours[key] != theirs[key]}
    assert not differences


def recording(name: str) -> list[tuple[str, Any]]:
    return parse((RECORDINGS / name).read_bytes())


@pytest.fixture
def api(emulator: EmulatorFixture) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers, timeout=10) as client:
        yield client


def streamed(api: httpx.Client, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    response = api.post(path, json={**body, "stream": True})
    assert response.status_code == 200, response.text
    return parse(response.content)


def test_text_run_matches_streaming_run_works(api: httpx.Client) -> None:
    asst = api.post("/assistants", json={"model": "gpt-4o"}).json()["id"]
    thread = api.post("/threads", json={"messages": [{"role": "user", "content": "Hi"}]}).json()
    mine = streamed(api, f"/threads/{thread['id']}/runs", {"assistant_id": asst})
    compare(mine, recording("StreamingRunWorks_0.sse"))


def test_function_call_and_continuation_match_streaming_tool_call(api: httpx.Client) -> None:
    asst = api.post("/assistants", json={"model": "gpt-4o", "tools": [WEATHER]}).json()["id"]
    body = {
        "assistant_id": asst,
        "thread": {"messages": [{"role": "user", "content": "What's the weather like?"}]},
    }
    first = streamed(api, "/threads/runs", body)
    compare(first, recording("StreamingToolCall_0.sse"))
    run = next(data for name, data in first if name == "thread.run.requires_action")
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    outputs = [{"tool_call_id": call["id"], "output": "warm and sunny"} for call in calls]
    path = f"/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
    second = streamed(api, path, {"tool_outputs": outputs})
    compare(second, recording("StreamingToolCall_1.sse"))


def test_file_search_matches_file_search_streaming_works(api: httpx.Client) -> None:
    asst = api.post("/assistants", json={"model": "gpt-4o", "tools": [FILE_SEARCH]}).json()["id"]
    body = {
        "assistant_id": asst,
        "thread": {"messages": [{"role": "user", "content": "Search the file for it"}]},
    }
    mine = streamed(api, "/threads/runs", body)
    assert mine[0][0] == "thread.created"
    # That recording's thread was created before the run: it has no thread.created.
    compare(mine[1:], recording("FileSearchStreamingWorks_0.sse"))
