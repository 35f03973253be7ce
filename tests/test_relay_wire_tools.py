"""The wire's tool results, hosted-tool progress and reasoning (additive to version 1).

What a front end relies on: a code interpreter's logs and images, a file search's files
and scores, a hosted tool's status and a Responses reasoning item's summary and text reach
the viewer's fold as the stream's own snapshots have them (real recordings, every
emulator tool in both protocols, and built streams for what neither has: reasoning text,
partial images, web search progress); a snapshot at any cut, continued with the rest,
is the whole fold (for any of those streams); an old client that ignores the new event
types folds everything else exactly as before; and the JavaScript client folds all of it
as the Python view does (node, when installed).
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import _responses_streams as built_streams
import streamkit
from _responses_streams import item_events, number, response, sse, whole
from streamkit.emulator import create_app, serve_in_thread
from streamkit.relay import Encoder, RunView, js_client_path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "recordings"
KEY = "sk-relay-wire-tools"
#: The event types added to version 1 by this work; an old client ignores them.
NEW_TYPES = {
    "tool_call.outputs",
    "tool_call.results",
    "tool_call.status",
    "reasoning.created",
    "reasoning.delta",
    "reasoning.done",
}


def events_of(body: bytes, **kwargs: Any) -> tuple[list[dict[str, Any]], streamkit.Stream]:
    stream = streamkit.stream(body, **kwargs)
    encoder = Encoder()
    events: list[dict[str, Any]] = []
    for change in stream.changes():
        events.extend(encoder.encode(change))
    return events, stream


def fold(events: list[dict[str, Any]]) -> dict[str, Any]:
    view = RunView("r")
    for event in events:
        view.apply(event)
    return view.state()


def get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def expected_call(call: Any) -> dict[str, Any]:
    """What the stream's final call object says about its outputs and results, read
    straight from the API objects (Assistants or Responses)."""
    ci = getattr(call, "code_interpreter", None)
    outputs = (ci.outputs if ci is not None else getattr(call, "outputs", None)) or []
    fs = getattr(call, "file_search", None)
    results = (fs.results if fs is not None else getattr(call, "results", None)) or []
    logs = [get(o, "logs") for o in outputs if get(o, "type") == "logs"]
    images = [
        get(get(o, "image"), "file_id") or get(o, "url")
        for o in outputs
        if get(o, "type") == "image"
    ]
    if isinstance(getattr(call, "result", None), str):
        images.append(call.result)
    files = [
        (get(r, "file_id"), get(r, "file_name") or get(r, "filename"), get(r, "score"))
        for r in results
    ]
    return {"logs": logs, "images": images, "files": files}


def folded_call(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "logs": [o["logs"] for o in call["outputs"] if o["type"] == "logs"],
        "images": [
            o["file_id"] or o["url"] or o["b64"] for o in call["outputs"] if o["type"] == "image"
        ],
        "files": [(r["file_id"], r["file_name"], r["score"]) for r in call["results"]],
    }


def calls_of(stream: Any) -> list[Any]:
    state = stream.state
    if state.steps:  # Assistants: the calls of the tool_calls steps
        return [
            call
            for step in state.steps.values()
            if step.step_details is not None and step.step_details.type == "tool_calls"
            for call in step.step_details.tool_calls or ()
        ]
    items = state.current_run.output if state.current_run is not None else []
    return [item for item in items or () if item.type not in ("message", "reasoning")]


def assert_tools_and_reasoning(state: dict[str, Any], stream: Any) -> None:
    """The folded calls' outputs and results, and the reasoning items, are the stream's."""
    calls = calls_of(stream)
    assert [c["kind"] for c in state["tool_calls"]] == [c.type for c in calls]
    for folded, call in zip(state["tool_calls"], calls, strict=True):
        assert folded_call(folded) == expected_call(call)
        if getattr(call, "status", None) and folded["status"] is not None:
            assert folded["status"] == call.status  # a hosted tool's last status
    items = stream.state.current_run.output if stream.state.steps == {} else []
    reasoning = [item for item in items or () if item.type == "reasoning"]
    assert [r["id"] for r in state["reasoning"]] == [r.id for r in reasoning]
    for folded, item in zip(state["reasoning"], reasoning, strict=True):
        assert folded["done"] is True and folded["status"] == item.status
        assert folded["summary"] == [p.text for p in item.summary or ()]
        assert folded["text"] == [p.text for p in item.content or ()]


# -- the streams: recordings, the emulator in both protocols, built ones ------------------


def recorded() -> dict[str, bytes]:
    return {
        f"{path.parent.name}/{path.name}": path.read_bytes()
        for path in sorted(SHARED.glob("*/*.sse"))
    }


def emulated() -> dict[str, bytes]:
    """Every tool of the emulator's scripts, as an Assistants and as a Responses stream."""
    bodies: dict[str, bytes] = {}
    headers = {"Authorization": f"Bearer {KEY}"}
    asks = [
        ("code_interpreter", "please compute 6*7", [{"type": "code_interpreter"}]),
        ("file_search", "search the files", [{"type": "file_search"}]),
        ("echo", "echo: one two three", []),
    ]
    with serve_in_thread(create_app(api_key=KEY)) as url, httpx.Client(headers=headers) as http:
        for name, text, tools in asks:
            assistant = http.post(f"{url}/assistants", json={"model": "gpt-4o", "tools": tools})
            body = {
                "assistant_id": assistant.json()["id"],
                "stream": True,
                "thread": {"messages": [{"role": "user", "content": text}]},
            }
            bodies[f"assistants/{name}"] = http.post(f"{url}/threads/runs", json=body).content
            if name == "file_search":
                tools = [{"type": "file_search", "vector_store_ids": ["vs_1"]}]
            body = {"model": "gpt-5", "input": text, "stream": True, "tools": tools}
            bodies[f"responses/{name}"] = http.post(f"{url}/responses", json=body).content
    return bodies


_STEP_DELTA = (
    b'event: thread.run.step.delta\ndata: {"id":"step_1","object":"thread.run.step.delta",'
    b'"delta":{"step_details":{"type":"tool_calls","tool_calls":[{"index":0,'
    b'"type":"code_interpreter","code_interpreter":{"outputs":[%s]}}]}}}\n\n'
)
_STEP = (
    b'{"id":"step_1","object":"thread.run.step","run_id":"run_1","type":"tool_calls",'
    b'"status":"%s","step_details":{"type":"tool_calls","tool_calls":[%s]}}'
)
_RUN = b'{"id":"run_1","object":"thread.run","thread_id":"t","status":"%s"}'
#: An Assistants code interpreter whose logs grow, then an image output, then done.
GROWING = (
    b"event: thread.run.created\ndata: " + _RUN % b"in_progress" + b"\n\n"
    b"event: thread.run.step.created\ndata: "
    + _STEP % (b"in_progress", b"")
    + b"\n\n"
    + _STEP_DELTA % b'{"index":0,"type":"logs","logs":"one "}'
    + _STEP_DELTA % b'{"index":0,"type":"logs","logs":"two"}'
    + _STEP_DELTA % b'{"index":1,"type":"image","image":{"file_id":"file-img"}}'
    + b"event: thread.run.step.completed\ndata: "
    + _STEP
    % (
        b"completed",
        b'{"id":"call_1","type":"code_interpreter","code_interpreter":{"input":"",'
        b'"outputs":[{"type":"logs","logs":"one two"},'
        b'{"type":"image","image":{"file_id":"file-img"}}]}}',
    )
    + b"\n\nevent: thread.run.completed\ndata: "
    + _RUN % b"completed"
    + b"\n\n"
    b"event: done\ndata: [DONE]\n\n"
)


def built() -> dict[str, bytes]:
    """Responses streams with what neither the recordings nor the emulator have."""
    reasoning = {
        "id": "rs_1",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Plan: look it up."}],
        "content": [{"type": "reasoning_text", "text": "The user wants a picture."}],
    }
    search = {"id": "ws_1", "type": "web_search_call", "status": "completed"}
    image = {"id": "ig_1", "type": "image_generation_call", "status": "completed"}
    image_final = {**image, "result": "RklOQUw="}
    ci = {
        "id": "ci_1",
        "type": "code_interpreter_call",
        "status": "completed",
        "code": "plot()",
        "container_id": "cntr_1",
        "outputs": [
            {"type": "logs", "logs": "plotted\n"},
            {"type": "image", "url": "https://example.invalid/plot.png"},
        ],
    }
    where = {"item_id": "rs_1", "output_index": 0}
    body = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**reasoning, "summary": [], "content": []},
        },
        {
            "type": "response.reasoning_summary_part.added",
            **where,
            "summary_index": 0,
            "part": {"type": "summary_text", "text": ""},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            **where,
            "summary_index": 0,
            "delta": "Plan: ",
        },
        {
            "type": "response.reasoning_text.delta",
            **where,
            "content_index": 0,
            "delta": "The user ",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            **where,
            "summary_index": 0,
            "delta": "look it up.",
        },
        {
            "type": "response.reasoning_text.delta",
            **where,
            "content_index": 0,
            "delta": "wants a picture.",
        },
        {
            "type": "response.reasoning_summary_part.done",
            **where,
            "summary_index": 0,
            "part": reasoning["summary"][0],
        },
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**search, "status": "in_progress"},
        },
        {"type": "response.web_search_call.in_progress", "item_id": "ws_1", "output_index": 1},
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 1},
        {"type": "response.web_search_call.completed", "item_id": "ws_1", "output_index": 1},
        {"type": "response.output_item.done", "output_index": 1, "item": search},
        {
            "type": "response.output_item.added",
            "output_index": 2,
            "item": {**image, "status": "in_progress"},
        },
        {
            "type": "response.image_generation_call.in_progress",
            "item_id": "ig_1",
            "output_index": 2,
        },
        {"type": "response.image_generation_call.generating", "item_id": "ig_1", "output_index": 2},
        *(
            {
                "type": "response.image_generation_call.partial_image",
                "item_id": "ig_1",
                "output_index": 2,
                "partial_image_index": n,
                "partial_image_b64": f"UEFSVElBTA{n}=",
            }
            for n in range(2)
        ),
        {"type": "response.image_generation_call.completed", "item_id": "ig_1", "output_index": 2},
        {"type": "response.output_item.done", "output_index": 2, "item": image_final},
        # a code interpreter item that arrives whole (outputs: logs and an image by URL)
        {"type": "response.output_item.done", "output_index": 3, "item": ci},
    ]
    events = number(
        [
            {"type": "response.created", "response": response("in_progress")},
            *body,
            {
                "type": "response.completed",
                "response": response("completed", [reasoning, search, image_final, ci]),
            },
        ]
    )
    return {"built/reasoning_and_hosted_tools": sse(events), "built/growing_outputs": GROWING}


@pytest.fixture(scope="module")
def streams() -> dict[str, bytes]:
    return {**recorded(), **emulated(), **built()}


def test_every_stream_relays_its_tools_and_reasoning(streams: dict[str, bytes]) -> None:
    for name, body in streams.items():
        events, stream = events_of(body)
        state = fold(events)
        try:
            assert_tools_and_reasoning(state, stream)
        except AssertionError as error:  # name the stream
            raise AssertionError(f"{name}: {error}") from error


def kinds(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["kind"]: c for c in state["tool_calls"]}


def test_the_emulators_code_interpreter_and_file_search_reach_the_viewer(
    streams: dict[str, bytes],
) -> None:
    for protocol, ci, fs in (
        ("assistants", "code_interpreter", "file_search"),
        ("responses", "code_interpreter_call", "file_search_call"),
    ):
        state = fold(events_of(streams[f"{protocol}/code_interpreter"])[0])
        logs = kinds(state)[ci]["outputs"]
        assert [o["type"] for o in logs] == ["logs"] and "42" in logs[0]["logs"]
        state = fold(events_of(streams[f"{protocol}/file_search"])[0])
        (result,) = kinds(state)[fs]["results"]
        assert result["file_id"].startswith("file-") and result["file_name"].endswith(".txt")
        assert 0 < result["score"] <= 1 and result["text"]
    hosted = kinds(fold(events_of(streams["responses/file_search"])[0]))["file_search_call"]
    assert hosted["status"] == "completed"


def test_reasoning_partial_images_and_hosted_status_are_relayed(
    streams: dict[str, bytes],
) -> None:
    events, _ = events_of(streams["built/reasoning_and_hosted_tools"])
    state = fold(events)
    (reasoning,) = state["reasoning"]
    assert reasoning["summary"] == ["Plan: look it up."]
    assert reasoning["text"] == ["The user wants a picture."]
    assert state["messages"] == []  # reasoning is never shown as the answer
    statuses = [e["status"] for e in events if e["type"] == "tool_call.status"]
    assert statuses == ["in_progress", "searching", "completed"] * 1 + [
        "in_progress",
        "generating",
        "completed",
    ]
    partials = [e for e in events if e["type"] == "tool_call.outputs" and e["key"].endswith("/2")]
    assert [(e["index"], e["outputs"][0]["partial"]) for e in partials] == [
        (0, 0),
        (0, 1),
        (0, None),
    ]
    calls = kinds(state)
    assert calls["image_generation_call"]["outputs"] == [
        {"type": "image", "file_id": None, "url": None, "b64": "RklOQUw=", "partial": None}
    ]
    assert calls["code_interpreter_call"]["outputs"] == [
        {"type": "logs", "logs": "plotted\n"},
        {
            "type": "image",
            "file_id": None,
            "url": "https://example.invalid/plot.png",
            "b64": None,
            "partial": None,
        },
    ]
    assert calls["code_interpreter_call"]["arguments"] == "plot()"


def test_a_growing_output_is_sent_from_the_first_entry_that_changed() -> None:
    """Code interpreter logs streamed in two deltas: the second event replaces entry 0
    only; an image output after them is sent alone, at its index; the completed step
    changes nothing more."""
    wire = events_of(GROWING)[0]
    events = [e for e in wire if e["type"] == "tool_call.outputs"]
    assert [(e["index"], e["outputs"]) for e in events] == [
        (0, [{"type": "logs", "logs": "one "}]),
        (0, [{"type": "logs", "logs": "one two"}]),
        (1, [{"type": "image", "file_id": "file-img", "url": None, "b64": None, "partial": None}]),
    ]
    assert [o.get("logs") for o in fold(wire)["tool_calls"][0]["outputs"]] == ["one two", None]


# -- resume equivalence and the old client -----------------------------------------------


def all_events(streams: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    end = {"v": 1, "type": "end", "reason": "completed", "status": "completed"}
    return {name: [*events_of(body)[0], end] for name, body in streams.items()}


@pytest.fixture(scope="module")
def wire(streams: dict[str, bytes]) -> dict[str, list[dict[str, Any]]]:
    return all_events(streams)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_snapshot_at_any_cut_continued_is_the_whole_fold(
    wire: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Any stream, any cut: snapshot state (through JSON) + the events after it == all."""
    events = wire[data.draw(st.sampled_from(sorted(wire)))]
    cut = data.draw(st.integers(0, len(events)))
    head = RunView("r")
    for event in events[:cut]:
        head.apply(event)
    resumed = RunView.from_state(json.loads(json.dumps(head.state())))
    for event in events[cut:]:
        resumed.apply(event)
    assert resumed.state() == fold(events)


def without_new_fields(state: dict[str, Any]) -> dict[str, Any]:
    calls = [
        {k: v for k, v in call.items() if k not in ("status", "outputs", "results")}
        for call in state["tool_calls"]
    ]
    return {**{k: v for k, v in state.items() if k != "reasoning"}, "tool_calls": calls}


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_an_old_client_ignoring_the_new_events_folds_the_rest_the_same(
    wire: dict[str, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Dropping every new event type (what a client of before ignores) changes nothing but
    the new fields, at any point of any stream; and a snapshot of a server of before (no
    new fields) continues."""
    events = wire[data.draw(st.sampled_from(sorted(wire)))]
    cut = data.draw(st.integers(0, len(events)))
    old = [e for e in events[:cut] if e["type"] not in NEW_TYPES]
    assert without_new_fields(fold(old)) == without_new_fields(fold(events[:cut]))
    resumed = RunView.from_state(without_new_fields(fold(old)))
    for event in events[cut:]:
        resumed.apply(event)
    assert without_new_fields(resumed.state()) == without_new_fields(fold(events))


def test_the_new_events_are_ignored_by_name_not_by_luck(wire: dict[str, Any]) -> None:
    """The streams do use every new event type (the properties above test something)."""
    used = {e["type"] for events in wire.values() for e in events}
    assert used >= NEW_TYPES


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_javascript_client_folds_every_stream_as_the_python_view(
    wire: dict[str, list[dict[str, Any]]],
) -> None:
    """streamkit-relay.js on every stream: all events; a snapshot at a third and at two
    thirds continued with the rest; and a snapshot of a server of before continued."""
    cases = []
    for name, events in sorted(wire.items()):
        for cut in (len(events) // 3, 2 * len(events) // 3):
            cases.append(
                {"name": name, "events": events, "head": fold(events[:cut]), "rest": events[cut:]}
            )
        old = without_new_fields(fold([e for e in events[:cut] if e["type"] not in NEW_TYPES]))
        cases.append({"name": name + " (old)", "events": events, "head": old, "rest": events[cut:]})
    script = (
        f"const R = require({json.dumps(str(js_client_path()))});\n"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        "const out = cases.map((c) => {\n"
        "  let all = R.emptyState('r');\n"
        "  for (const e of c.events) all = R.fold(all, e);\n"
        "  let resumed = R.fold(null, {v: 1, type: 'snapshot', fresh: false, state: c.head});\n"
        "  for (const e of c.rest) resumed = R.fold(resumed, e);\n"
        "  return {all, resumed};\n"
        "});\n"
        "process.stdout.write(JSON.stringify(out));\n"
    )
    done = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for case, out in zip(cases, json.loads(done.stdout), strict=True):
        whole = fold(case["events"])
        assert out["all"] == whole, case["name"]
        resumed = RunView.from_state(case["head"])
        for event in case["rest"]:
            resumed.apply(event)
        assert out["resumed"] == resumed.state(), case["name"]
        if not case["name"].endswith("(old)"):
            assert out["resumed"] == whole, case["name"]


# -- generated Responses streams ----------------------------------------------------------

TEXT = st.text("abc xyz.\n", min_size=1, max_size=12)


def split(text: str, cuts: list[int]) -> list[str]:
    """``text`` in pieces at ``cuts`` (positions taken modulo its length)."""
    at = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(at) if b > a]


@st.composite
def hosted_items(draw: st.DrawFn) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Output items (reasoning, hosted tools, messages, function calls) with their events:
    each item's final object and the events that stream it, texts in random pieces."""
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for n in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["reasoning", "web", "code", "files", "message", "call"]))
        item_id = f"{kind[:2]}_{n}"
        where = {"item_id": item_id, "output_index": n}
        cuts = draw(st.lists(st.integers(0, 12), max_size=3))
        events: list[dict[str, Any]] = []
        added = {"type": "response.output_item.added", "output_index": n}
        if kind == "reasoning":
            summary = draw(st.lists(TEXT, max_size=3))
            thoughts = draw(st.lists(TEXT, max_size=2))
            item = {
                "id": item_id,
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": t} for t in summary],
                "content": [{"type": "reasoning_text", "text": t} for t in thoughts],
            }
            if draw(st.booleans()):  # else: the item arrives whole
                events.append({**added, "item": {**item, "summary": [], "content": []}})
                for i, text in enumerate(summary):
                    part = {"type": "summary_text", "text": text}
                    events.append(
                        {
                            "type": "response.reasoning_summary_part.added",
                            **where,
                            "summary_index": i,
                            "part": {**part, "text": ""},
                        }
                    )
                    events += [
                        {
                            "type": "response.reasoning_summary_text.delta",
                            **where,
                            "summary_index": i,
                            "delta": piece,
                        }
                        for piece in split(text, cuts)
                    ]
                    events.append(
                        {
                            "type": "response.reasoning_summary_part.done",
                            **where,
                            "summary_index": i,
                            "part": part,
                        }
                    )
                for i, text in enumerate(thoughts):
                    events += [
                        {
                            "type": "response.reasoning_text.delta",
                            **where,
                            "content_index": i,
                            "delta": piece,
                        }
                        for piece in split(text, cuts)
                    ]
                    events.append(
                        {
                            "type": "response.reasoning_text.done",
                            **where,
                            "content_index": i,
                            "text": text,
                        }
                    )
        elif kind in ("web", "code", "files"):
            name = {"web": "web_search", "code": "code_interpreter", "files": "file_search"}[kind]
            item = {"id": item_id, "type": f"{name}_call", "status": "completed"}
            if kind == "code":
                code = draw(TEXT)
                item.update(
                    code=code, container_id="cntr_1", outputs=[{"type": "logs", "logs": draw(TEXT)}]
                )
            if kind == "files":
                item.update(
                    queries=["q"],
                    results=[
                        {
                            "file_id": f"file-{i}",
                            "filename": f"f{i}.txt",
                            "score": i / 10,
                            "text": draw(TEXT),
                        }
                        for i in range(draw(st.integers(0, 3)))
                    ],
                )
            start = {**item, "status": "in_progress"}
            if kind == "code":
                start.update(code="", outputs=None)
            if kind == "files":
                start.update(results=None)
            events.append({**added, "item": start})
            events.append({"type": f"response.{name}_call.in_progress", **where})
            if kind == "code":
                events += [
                    {"type": "response.code_interpreter_call_code.delta", **where, "delta": p}
                    for p in split(item["code"], cuts)
                ]
                events.append(
                    {
                        "type": "response.code_interpreter_call_code.done",
                        **where,
                        "code": item["code"],
                    }
                )
            step = {"web": "searching", "code": "interpreting", "files": "searching"}[kind]
            events.append({"type": f"response.{name}_call.{step}", **where})
            events.append({"type": f"response.{name}_call.completed", **where})
        elif kind == "message":
            text = draw(TEXT)
            item = built_streams.message(item_id, text)
            events += item_events(n, item, split(text, cuts))[:-1]
        else:
            arguments = draw(TEXT)
            item = built_streams.call(item_id, arguments)
            events += item_events(n, item, split(arguments, cuts))[:-1]
        events.append({"type": "response.output_item.done", "output_index": n, "item": item})
        out.append((item, events))
    return out


@settings(max_examples=150, deadline=None)
@given(hosted_items(), st.data())
def test_any_responses_stream_relays_and_resumes(
    plan: list[tuple[dict[str, Any], list[dict[str, Any]]]], data: st.DataObject
) -> None:
    """A generated Responses stream (reasoning whole or streamed, hosted tools with their
    progress, messages, function calls): the fold is the stream's snapshot; a snapshot at
    any cut continued with the rest is the whole fold; an old client folds the rest alike."""
    items = [item for item, _ in plan]
    body = sse(whole(items, [event for _, events in plan for event in events]))
    events, stream = events_of(body)
    state = fold(events)
    assert_tools_and_reasoning(state, stream)
    assert [p["text"] for m in state["messages"] for p in m["parts"]] == [
        item["content"][0]["text"] for item in items if item["type"] == "message"
    ]
    hosted = [c["status"] for c in state["tool_calls"] if c["kind"].endswith("search_call")]
    assert hosted == ["completed"] * len(hosted)
    cut = data.draw(st.integers(0, len(events)))
    head = RunView("r")
    for event in events[:cut]:
        head.apply(event)
    resumed = RunView.from_state(json.loads(json.dumps(head.state())))
    for event in events[cut:]:
        resumed.apply(event)
    assert resumed.state() == state
    old = [e for e in events if e["type"] not in NEW_TYPES]
    assert without_new_fields(fold(old)) == without_new_fields(state)
