"""The relay wire format: Changes to events, and the fold of events back into a run's state.

What a front end relies on: folding the events of a run gives the same messages, texts,
tool calls and status as streamkit's own snapshots (real recordings and every emulator
script); a snapshot taken at any point, continued with the events after it, gives the
same state as folding them all (that is what a resume is); the JavaScript client folds
exactly as the Python view (checked with node when it is installed).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit
from streamkit.emulator import create_app, serve_in_thread
from streamkit.relay import Encoder, MemoryHub, RunView, js_client_path
from test_relay_wire_tools import assert_tools_and_reasoning

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "openai-dotnet"
KEY = "sk-relay-wire"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


def events_of(source: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], streamkit.Stream]:
    stream = streamkit.stream(source, **kwargs)
    encoder = Encoder()
    events: list[dict[str, Any]] = []
    for change in stream.changes():
        events.extend(encoder.encode(change))
    return events, stream


def fold(events: list[dict[str, Any]], run_id: str = "r") -> dict[str, Any]:
    view = RunView(run_id)
    for event in events:
        view.apply(event)
    return view.state()


def part_text(part: Any) -> str:
    if part.type == "text":
        return str(part.text.value)
    if part.type == "refusal":
        return str(part.refusal)
    return ""


def call_text(call: Any) -> str:
    if call.type == "function":
        return str(call.function.arguments)
    if call.type == "code_interpreter":
        return str(call.code_interpreter.input)
    return ""


def assert_matches(state: dict[str, Any], stream: Any) -> None:
    """The folded wire state says what the stream's final snapshots say."""
    run = stream.state.current_run
    if run is not None:
        assert state["run"] == {"id": run.id, "thread_id": run.thread_id, "status": run.status}
    messages = stream.state.messages
    assert [m["id"] for m in state["messages"]] == list(messages)
    for folded, message in zip(state["messages"], messages.values(), strict=True):
        assert folded["role"] == message.role
        assert folded["status"] == message.status
        assert [p["kind"] for p in folded["parts"]] == [p.type for p in message.content]
        assert [p["text"] for p in folded["parts"]] == [part_text(p) for p in message.content]
    calls = [
        (step.id, index, call)
        for step in stream.state.steps.values()
        if step.step_details is not None and step.step_details.type == "tool_calls"
        for index, call in enumerate(step.step_details.tool_calls or ())
    ]
    assert [(c["step_id"], c["kind"]) for c in state["tool_calls"]] == [
        (step_id, call.type) for step_id, _, call in calls
    ]
    for folded, (_, _, call) in zip(state["tool_calls"], calls, strict=True):
        assert folded["id"] == call.id
        assert folded["arguments"] == call_text(call)


recorded = pytest.mark.skipif(not RECORDINGS.is_dir(), reason="recordings absent")


@recorded
@pytest.mark.external
@pytest.mark.parametrize("name", sorted(p.name for p in RECORDINGS.glob("*.sse")) or ["none"])
def test_real_recordings_fold_to_the_streams_snapshots(name: str) -> None:
    events, stream = events_of(RECORDINGS / name)
    assert all(e["v"] == 1 for e in events)
    assert_matches(fold(events), stream)
    assert sum(e["type"] == "text.delta" for e in events) > 0 or any(
        e["type"] == "requires_action" for e in events
    )


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=KEY)) as url:
        yield url


SCRIPTS = [
    ("echo: one two three", []),
    ("What is the weather in Paris, Tokyo and Rome?", [WEATHER]),
    ("please compute 6*7", [{"type": "code_interpreter"}]),
    ("search the files", [{"type": "file_search"}]),
    ("this is forbidden", []),
    ("hello", []),
]


@pytest.mark.parametrize(("text", "tools"), SCRIPTS)
def test_emulator_runs_through_a_hub_fold_to_the_streams_snapshots(
    base_url: str, text: str, tools: list[Any]
) -> None:
    """Every script, over HTTP, through the hub: its view is the stream's final state,
    and the events are numbered 1, 2, 3 ... with the end last."""

    async def main() -> tuple[dict[str, Any], Any, str]:
        hub = MemoryHub()
        async with streamkit.AsyncClient(base_url=base_url, api_key=KEY) as client:
            assistant = await client.assistants.create(model="gpt-4o", tools=tools)
            stream = client.threads.create_and_run_stream(
                assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": text}]}
            ).run_tools({"get_current_weather": lambda location: f"mild in {location}"})
            reason = await hub.relay("chat-1", stream, client=client)
            return hub.snapshot("chat-1"), stream, reason

    snap, stream, reason = anyio.run(main)
    state = snap["state"]
    assert reason == "completed" and state["end"] == {"reason": "completed", "status": "completed"}
    assert_matches(state, stream)
    assert_tools_and_reasoning(state, stream)  # code interpreter logs, file search results
    if tools and tools[0] is WEATHER:
        assert [c["name"] for c in state["tool_calls"]] == ["get_current_weather"] * 3
        assert [c["output"] for c in state["tool_calls"]] == [
            "mild in Paris",
            "mild in Tokyo",
            "mild in Rome",
        ]
        assert "Tokyo: mild in Tokyo" in state["messages"][-1]["parts"][0]["text"]


def test_a_part_that_arrives_whole_is_sent_when_done() -> None:
    """A message first seen complete (no deltas) still reaches the viewers' fold; a final
    text that differs from the deltas replaces them."""
    body = (
        b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run",'
        b'"thread_id":"t","status":"in_progress"}\n\n'
        b'event: thread.message.created\ndata: {"id":"m1","object":"thread.message",'
        b'"role":"assistant","status":"in_progress","content":[]}\n\n'
        b'event: thread.message.delta\ndata: {"id":"m1","delta":{"content":[{"index":0,'
        b'"type":"text","text":{"value":"Hello wrld"}}]}}\n\n'
        b'event: thread.message.completed\ndata: {"id":"m1","object":"thread.message",'
        b'"role":"assistant","status":"completed","content":[{"type":"text","text":'
        b'{"value":"Hello world","annotations":[]}}]}\n\n'
        b'event: thread.message.completed\ndata: {"id":"m2","object":"thread.message",'
        b'"role":"assistant","status":"completed","content":[{"type":"text","text":'
        b'{"value":"Whole","annotations":[]}}]}\n\n'
        b'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run",'
        b'"thread_id":"t","status":"completed"}\n\n'
        b"event: done\ndata: [DONE]\n\n"
    )
    events, stream = events_of(body, strict=False)
    state = fold(events)
    assert [p["text"] for m in state["messages"] for p in m["parts"]] == ["Hello world", "Whole"]
    assert {"replace": True, "text": "Hello world"}.items() <= next(
        e for e in events if e.get("replace")
    ).items()
    assert_matches(state, stream)


EVENTS: list[dict[str, Any]] | None = None


def weather_events() -> list[dict[str, Any]]:
    """The events of a tool-call recording (or of a built body when it is absent)."""
    global EVENTS
    if EVENTS is None:
        path = RECORDINGS / "StreamingToolCall_0.sse"
        source: Any = path if path.is_file() else ECHO
        EVENTS = events_of(source)[0] + [{"v": 1, "type": "end", "reason": "x", "status": None}]
    return EVENTS


ECHO = (
    b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"t","status":"in_progress"}\n\n'
    + b"".join(
        b'event: thread.message.delta\ndata: {"id":"m1","delta":{"content":[{"index":0,'
        b'"type":"text","text":{"value":" w%d"}}]}}\n\n' % n
        for n in range(20)
    )
    + b'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"t","status":"completed"}\n\ndata: [DONE]\n\n'
)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_snapshot_continued_with_the_rest_is_the_whole_fold(data: st.DataObject) -> None:
    """Any split point: snapshot state (through JSON) + the events after it == all events."""
    events = weather_events()
    cut = data.draw(st.integers(0, len(events)))
    head = RunView("r")
    for event in events[:cut]:
        head.apply(event)
    resumed = RunView.from_state(json.loads(json.dumps(head.state())))
    for event in events[cut:]:
        resumed.apply(event)
    assert resumed.state() == fold(events)


def test_an_unknown_event_type_is_ignored_by_the_fold() -> None:
    events = [*weather_events()[:3], {"v": 2, "type": "future.thing", "x": 1}]
    assert fold(events) == fold(events[:3])


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_client_folds_as_the_python_view() -> None:
    """streamkit-relay.js's fold, run by node on the same events (and on a snapshot
    continued with the rest), gives the state the Python view gives."""
    events = weather_events()
    cut = len(events) // 2
    head = fold(events[:cut])
    script = (
        f"const R = require({json.dumps(str(js_client_path()))});\n"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "let all = R.emptyState('r');\n"
        "for (const e of input.events) all = R.fold(all, e);\n"
        "let resumed = R.fold(null, {v: 1, type: 'snapshot', fresh: false, state: input.head});\n"
        "for (const e of input.rest) resumed = R.fold(resumed, e);\n"
        "process.stdout.write(JSON.stringify({all, resumed}));\n"
    )
    payload = json.dumps({"events": events, "head": head, "rest": events[cut:]})
    done = subprocess.run(
        ["node", "-e", script], input=payload, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["all"] == fold(events)
    assert out["resumed"] == fold(events)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_client_connects_resumes_and_closes_at_the_end() -> None:
    """connect() under node with a stand-in EventSource: it folds each message, reports a
    fresh snapshot, passes a kept id as ``last_event_id``, and closes at ``end`` (so the
    browser does not reconnect)."""
    events = weather_events()
    cut = len(events) // 2
    script = (
        f"const R = require({json.dumps(str(js_client_path()))});\n"
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const made = [];\n"
        "global.EventSource = class { constructor(url) { this.url = url; this.closed = false;\n"
        "  this.readyState = 1; made.push(this); } close() { this.closed = true;\n"
        "  this.readyState = 2; } };\n"
        "global.EventSource.CLOSED = 2;\n"
        "const log = {fresh: 0, states: 0, ended: null, closedAt: null};\n"
        "const watch = R.connect('/relay/runs/r/events', {lastEventId: 7,\n"
        "  onFresh: () => log.fresh++, onState: () => log.states++,\n"
        "  onEnd: (s) => { log.ended = s.end.reason; }});\n"
        "const es = made[0];\n"
        "let id = 41;\n"
        "const send = (e) => { if (es.closed) { log.closedAt = log.closedAt ?? e.type; return; }\n"
        "  es.onmessage({data: JSON.stringify(e), lastEventId: String(id++)}); };\n"
        "send({v: 1, type: 'snapshot', fresh: true, state: input.head});\n"
        "for (const e of input.rest) send(e);\n"
        "send({v: 1, type: 'text.delta', message_id: 'late', index: 0, text: 'after the end'});\n"
        "process.stdout.write(JSON.stringify({url: es.url, closed: es.closed, log,\n"
        "  state: watch.state(), last: watch.lastEventId()}));\n"
    )
    payload = json.dumps({"head": fold(events[:cut]), "rest": events[cut:]})
    done = subprocess.run(
        ["node", "-e", script], input=payload, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["url"] == "/relay/runs/r/events?last_event_id=7"
    assert out["closed"] is True and out["log"]["ended"] == "x"
    assert out["log"]["fresh"] == 1 and out["log"]["states"] == 1 + len(events) - cut
    assert out["log"]["closedAt"] == "text.delta"  # nothing is folded after the end
    assert out["state"] == fold(events)
    assert out["last"] == str(41 + len(events) - cut)
