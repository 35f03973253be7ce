"""streamkit.chatkit: snapshots mapped to the reference's ChatKit thread items and pages.

Real recorded streams and the emulator's scripted runs are folded and mapped, at the end
and at every prefix; every item is checked against the reference's schema (its exact
fields and their types) and decoded back with the models; pagination is checked by
property against the emulator's list rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streamkit
from streamkit import chatkit
from streamkit.emulator import create_app, serve_in_thread
from streamkit.emulator._store import paginate
from streamkit.fold import State
from streamkit.models import Message
from streamkit.models.chatkit import (
    ChatKitClientToolCall,
    ChatKitTask,
    ChatKitTaskGroup,
    ChatKitThread,
    ChatKitThreadAssistantMessageItem,
    ChatKitThreadItem,
    ChatKitThreadItemList,
    ChatKitThreadUserMessageItem,
)
from streamkit.protocols.responses import RESPONSES, ResponsesState

SHARED = Path(__file__).resolve().parents[2] / "shared" / "recordings"
DOTNET = SHARED / "openai-dotnet"
RESPONSES_DIR = SHARED / "responses"
needs_dotnet = pytest.mark.skipif(not DOTNET.is_dir(), reason="no openai-dotnet recordings")
needs_responses = pytest.mark.skipif(not RESPONSES_DIR.is_dir(), reason="no Responses recordings")


# --- the reference's schemas ----------------------------------------------------------

STR, INT, NULL_STR = (str,), (int,), (str, type(None))
ITEM_BASE = {"id": STR, "created_at": INT, "object": STR, "thread_id": STR, "type": STR}
#: Every field of each thread item type in the reference (all of them are required).
ITEM_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "chatkit.user_message": {
        **ITEM_BASE,
        "attachments": (list,),
        "content": (list,),
        "inference_options": (dict, type(None)),
    },
    "chatkit.assistant_message": {**ITEM_BASE, "content": (list,)},
    "chatkit.client_tool_call": {
        **ITEM_BASE,
        "arguments": STR,
        "call_id": STR,
        "name": STR,
        "output": NULL_STR,
        "status": STR,
    },
    "chatkit.task": {**ITEM_BASE, "heading": NULL_STR, "summary": NULL_STR, "task_type": STR},
    "chatkit.task_group": {**ITEM_BASE, "tasks": (list,)},
}


def exact(obj: Any, fields: dict[str, tuple[type, ...]], where: str) -> None:
    assert isinstance(obj, dict), where
    assert set(obj) == set(fields), f"{where}: fields {sorted(obj)} != {sorted(fields)}"
    for key, types in fields.items():
        value = obj[key]
        assert isinstance(value, types) and not isinstance(value, bool), f"{where}.{key}"


def conforms(item: dict[str, Any]) -> None:
    """Assert that ``item`` is a thread item exactly as the reference's schema has it."""
    kind = item.get("type")
    assert kind in ITEM_FIELDS, kind
    where = f"{kind} {item.get('id')}"
    exact(item, ITEM_FIELDS[kind], where)
    assert item["object"] == "chatkit.thread_item"
    if kind == "chatkit.user_message":
        for part in item["content"]:
            exact(part, {"text": STR, "type": STR}, where)
            assert part["type"] in ("input_text", "quoted_text")
        for attached in item["attachments"]:
            exact(
                attached,
                {"id": STR, "mime_type": STR, "name": STR, "preview_url": NULL_STR, "type": STR},
                where,
            )
            assert attached["type"] in ("image", "file")
    elif kind == "chatkit.assistant_message":
        for part in item["content"]:
            exact(part, {"annotations": (list,), "text": STR, "type": STR}, where)
            assert part["type"] == "output_text"
            for note in part["annotations"]:
                exact(note, {"source": (dict,), "type": STR}, where)
                if note["type"] == "file":
                    exact(note["source"], {"filename": STR, "type": STR}, where)
                else:
                    assert note["type"] == "url"
                    exact(note["source"], {"type": STR, "url": STR}, where)
                assert note["source"]["type"] == note["type"]
    elif kind == "chatkit.client_tool_call":
        assert item["status"] in ("in_progress", "completed")
    elif kind == "chatkit.task":
        assert item["task_type"] in ("custom", "thought")
    else:
        for task in item["tasks"]:
            exact(task, {"heading": NULL_STR, "summary": NULL_STR, "type": STR}, where)
            assert task["type"] in ("custom", "thought")


def check(items: list[ChatKitThreadItem]) -> list[dict[str, Any]]:
    """Every item conforms, survives JSON, and decodes back to the same model."""
    dicts = [item.to_dict() for item in items]
    for d in dicts:
        conforms(d)
    wire = json.loads(json.dumps(dicts))
    assert wire == dicts
    decoded = ChatKitThreadItemList.from_dict({"object": "list", "data": wire}).data or []
    assert [type(x) for x in decoded] == [type(x) for x in items]
    assert [x.to_dict() for x in decoded] == dicts
    return dicts


def conforms_thread(found: ChatKitThread) -> None:
    d = found.to_dict()
    exact(
        d,
        {
            "id": STR,
            "created_at": INT,
            "object": STR,
            "status": (dict,),
            "title": NULL_STR,
            "user": STR,
        },
        "thread",
    )
    assert d["object"] == "chatkit.thread"
    if d["status"]["type"] == "active":
        assert d["status"] == {"type": "active"}
    else:
        exact(d["status"], {"type": STR, "reason": NULL_STR}, "thread.status")
    assert ChatKitThread.from_dict(json.loads(json.dumps(d))).to_dict() == d


# --- streams --------------------------------------------------------------------------


def events_of(bodies: list[bytes], responses: bool = False) -> list[list[Any]]:
    decode = RESPONSES.decode if responses else streamkit.decode
    out = []
    for body in bodies:
        parser = streamkit.SSEParser()
        out.append([decode(sse) for sse in [*parser.feed(body), *parser.close()]])
    return out


def fold(bodies: list[bytes], responses: bool = False) -> State | ResponsesState:
    state: State | ResponsesState = ResponsesState() if responses else State()
    for number, events in enumerate(events_of(bodies, responses)):
        if number:
            state.begin_stream()
        for event in events:
            state.apply(event)
    return state


def read(*names: str) -> list[bytes]:
    return [(DOTNET / f"{name}.sse").read_bytes() for name in names]


EMULATOR_TOOLS = [
    {"type": "code_interpreter"},
    {"type": "file_search"},
    {
        "type": "function",
        "function": {"name": "get_weather", "parameters": {"type": "object"}},
    },
]


class Conversation:
    """An emulator conversation: the stream bodies of its run and the thread's messages."""

    def __init__(self, bodies: list[bytes], history: list[Message]) -> None:
        self.bodies = bodies
        self.history = history


@pytest.fixture(scope="module")
def conversations() -> Iterator[dict[str, Conversation]]:
    """The scripted assistant's runs: weather (and its continuation), code, files, refusal."""
    found: dict[str, Conversation] = {}
    with serve_in_thread(create_app(api_key="sk-test")) as base_url:
        api = httpx.Client(
            base_url=base_url, headers={"Authorization": "Bearer sk-test"}, timeout=30
        )
        assistant = api.post("/assistants", json={"model": "gpt-4o", "tools": EMULATOR_TOOLS})
        questions = {
            "code": "Please compute 6*7",
            "files": "Search the files for the notes",
            "refusal": "[script:refusal] tell me",
            "weather": "What is the weather in Paris and Rome?",
        }
        for name, question in questions.items():
            response = api.post(
                "/threads/runs",
                json={
                    "assistant_id": assistant.json()["id"],
                    "thread": {"messages": [{"role": "user", "content": question}]},
                    "stream": True,
                },
            )
            bodies = [response.content]
            state = fold(bodies)
            assert isinstance(state, State)
            run = state.current_run
            assert run is not None and run.thread_id is not None
            if run.status == "requires_action":
                assert run.required_action and run.required_action.submit_tool_outputs
                calls = run.required_action.submit_tool_outputs.tool_calls or []
                outputs = [{"tool_call_id": c.id, "output": "18 C, clear"} for c in calls]
                response = api.post(
                    f"/threads/{run.thread_id}/runs/{run.id}/submit_tool_outputs",
                    json={"tool_outputs": outputs, "stream": True},
                )
                bodies.append(response.content)
            listed = api.get(f"/threads/{run.thread_id}/messages", params={"order": "asc"})
            history = [Message.from_dict(m) for m in listed.json()["data"]]
            found[name] = Conversation(bodies, history)
        api.close()
    yield found


# --- mapping: real recordings ---------------------------------------------------------


@needs_dotnet
def test_file_search_recording() -> None:
    state = fold(read("FileSearchStreamingWorks_0"))
    items = chatkit.thread_items(state)
    check(items)
    task, answer = items
    assert isinstance(task, ChatKitTask) and task.id == "call_Ijw9WuTSpuhrnIInrcUzLRsL"
    assert task.heading == "Searched files" and task.task_type == "custom"
    assert task.summary == "favorite_foods.txt (score 0.68)"
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    assert answer.id == "msg_QKguDb0ERalCwX44IuQhxGAy"
    assert answer.thread_id == "thread_JBW8iwCBHFQ5uPCfxzR9TlUf"
    assert answer.created_at == 1761861641
    [segment] = answer.content or []
    assert segment.text == "Filip's favorite food is cake【4:0†favorite_foods.txt】."
    [note] = [n.to_dict() for n in segment.annotations or []]
    assert note == {"type": "file", "source": {"type": "file", "filename": "favorite_foods.txt"}}
    stripped = chatkit.thread_items(state, citation_markers=False)[1]
    assert isinstance(stripped, ChatKitThreadAssistantMessageItem)
    assert (stripped.content or [])[0].text == "Filip's favorite food is cake."
    found = chatkit.thread(state, user="u1")
    conforms_thread(found)
    assert found.id == "thread_JBW8iwCBHFQ5uPCfxzR9TlUf" and found.user == "u1"
    assert found.to_dict()["status"] == {"type": "active"}


@needs_dotnet
def test_tool_call_recordings_pending_then_completed() -> None:
    first = fold(read("StreamingToolCall_0"))
    [call] = chatkit.thread_items(first)
    assert isinstance(call, ChatKitClientToolCall)
    assert call.status == "in_progress" and call.output is None
    assert call.name == "get_current_weather" and call.call_id == call.id
    assert json.loads(call.arguments or "") == {}
    locked = chatkit.thread(first, user="u").to_dict()["status"]
    assert locked["type"] == "locked" and "requires_action" in locked["reason"]
    # The output the client submits is known before the continuation brings it.
    [answered] = chatkit.thread_items(first, outputs={call.id: "sunny"})
    assert isinstance(answered, ChatKitClientToolCall)
    assert answered.status == "completed" and answered.output == "sunny"

    both = fold(read("StreamingToolCall_0", "StreamingToolCall_1"))
    items = chatkit.thread_items(both)
    check(items)
    assert [type(x) for x in items] == [ChatKitClientToolCall, ChatKitThreadAssistantMessageItem]
    done = items[0]
    assert isinstance(done, ChatKitClientToolCall) and done.id == call.id
    assert done.status == "completed" and done.output is not None
    assert chatkit.thread(both, user="u").to_dict()["status"] == {"type": "active"}
    # The continuation alone (it starts with the step of the stream before) maps too.
    alone = chatkit.thread_items(fold(read("StreamingToolCall_1")))
    assert [x.id for x in alone] == [x.id for x in items]


@needs_dotnet
@pytest.mark.parametrize("name", ["StreamingRunWorks_0", "StreamingRunWorksAsync_0"])
def test_text_recording(name: str) -> None:
    state = fold(read(name))
    [answer] = chatkit.thread_items(state)
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    message = next(iter(state.messages.values()))
    assert answer.id == message.id
    assert [part.text for part in answer.content or []] == [message.content[0].text.value]
    check([answer])


@needs_responses
def test_responses_recordings() -> None:
    files = sorted(RESPONSES_DIR.glob("*.sse"))
    assert files
    for path in files:
        state = fold([path.read_bytes()], responses=True)
        items = chatkit.thread_items(state)
        check(items)
        assert isinstance(state, ResponsesState)
        assert [x.id for x in items] == [
            getattr(x, "id", None) or k for k, x in state.items.items()
        ]
        conforms_thread(chatkit.thread(state, user="u"))
        kinds = {type(x) for x in items}
        if path.stem == "parallel_function_calls":
            assert kinds == {ChatKitClientToolCall}
            assert all(x.status == "in_progress" for x in items)
            calls = chatkit.thread_items(state, outputs={x.call_id: "blue" for x in items})
            assert all(x.status == "completed" and x.output == "blue" for x in calls)
        if path.stem == "reasoning_summary":
            thought, answer = items
            assert isinstance(thought, ChatKitTask) and thought.task_type == "thought"
            assert thought.heading == "Thought" and thought.summary
            assert isinstance(answer, ChatKitThreadAssistantMessageItem)


# --- mapping: the emulator's scripted runs --------------------------------------------


def test_emulator_weather(conversations: dict[str, Conversation]) -> None:
    talk = conversations["weather"]
    first = fold(talk.bodies[:1])
    asked = [m for m in talk.history if m.role == "user"]  # listed before the answer
    pending = chatkit.thread_items(first, history=asked)
    check(pending)
    # The answer, when listed too, belongs to the snapshot's run: after its calls.
    listed = chatkit.thread_items(first, history=talk.history)
    assert [x.id for x in listed] == [*(x.id for x in pending), talk.history[-1].id]
    question = pending[0]
    assert isinstance(question, ChatKitThreadUserMessageItem)
    assert question.to_dict()["content"] == [
        {"type": "input_text", "text": "What is the weather in Paris and Rome?"}
    ]
    calls = pending[1:]
    assert [json.loads(c.arguments) for c in calls] == [
        {"location": "Paris"},
        {"location": "Rome"},
    ]
    assert all(isinstance(c, ChatKitClientToolCall) and c.status == "in_progress" for c in calls)

    after = fold(talk.bodies)
    items = chatkit.thread_items(after, history=talk.history)
    check(items)
    assert [x.id for x in items[: len(pending)]] == [x.id for x in pending]
    for call in items[1:3]:
        assert isinstance(call, ChatKitClientToolCall)
        assert call.status == "completed" and call.output == "18 C, clear"
    answer = items[3]
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    assert "Paris: 18 C, clear" in (answer.content or [])[0].text
    assert len(items) == 4  # the listed answer is the snapshot's, not a second copy
    assert chatkit.thread(after, user="u").to_dict()["status"] == {"type": "active"}


def test_emulator_code_interpreter(conversations: dict[str, Conversation]) -> None:
    state = fold(conversations["code"].bodies)
    question, task, answer = chatkit.thread_items(state, history=conversations["code"].history)
    assert isinstance(question, ChatKitThreadUserMessageItem)
    assert isinstance(task, ChatKitTask)
    assert task.heading == "Ran code" and task.summary == "print(6*7)\n\n42\n"
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    assert (answer.content or [])[0].text == "The result is 42."
    [step_id] = [s.id for s in state.steps.values() if s.type == "tool_calls"]
    [group] = [x for x in chatkit.thread_items(state, group_tasks=True) if x.id == step_id]
    assert isinstance(group, ChatKitTaskGroup)
    assert [t.to_dict() for t in group.tasks or []] == [
        {"heading": "Ran code", "summary": "print(6*7)\n\n42\n", "type": "custom"}
    ]
    check([group])


def test_emulator_file_search(conversations: dict[str, Conversation]) -> None:
    state = fold(conversations["files"].bodies)
    items = chatkit.thread_items(state, history=conversations["files"].history)
    check(items)
    _, task, answer = items
    assert isinstance(task, ChatKitTask) and task.heading == "Searched files"
    assert "emulator_notes.txt" in (task.summary or "")
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    [segment] = answer.content or []
    assert [n.to_dict() for n in segment.annotations or []] == [
        {"type": "file", "source": {"type": "file", "filename": "emulator_notes.txt"}}
    ]


def test_emulator_refusal(conversations: dict[str, Conversation]) -> None:
    state = fold(conversations["refusal"].bodies)
    [answer] = chatkit.thread_items(state)
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    message = next(iter(state.messages.values()))
    assert (answer.content or [])[0].text == message.content[0].refusal


def test_no_thread_id_is_a_clear_error() -> None:
    state = State()
    assert chatkit.thread_items(state) == []
    state.apply(
        streamkit.decode(
            streamkit.ServerSentEvent(
                event="thread.message.created",
                data='{"id":"msg_1","object":"thread.message","role":"assistant","content":[]}',
            )
        )
    )
    with pytest.raises(chatkit.ChatKitMappingError, match="thread_id="):
        chatkit.thread_items(state)
    [item] = chatkit.thread_items(state, thread_id="thr_given")
    assert item.to_dict()["thread_id"] == "thr_given"
    assert isinstance(chatkit.ChatKitMappingError("x"), streamkit.StreamkitError)


# --- every prefix of every stream -----------------------------------------------------


def all_streams(conversations: dict[str, Conversation]) -> list[tuple[str, list[bytes], bool]]:
    found = [(f"emulator:{k}", c.bodies, False) for k, c in sorted(conversations.items())]
    if DOTNET.is_dir():
        for path in sorted(DOTNET.glob("*.sse")):
            found.append((path.stem, [path.read_bytes()], False))
        found.append(("tool call, both", read("StreamingToolCall_0", "StreamingToolCall_1"), False))
    if RESPONSES_DIR.is_dir():
        for path in sorted(RESPONSES_DIR.glob("*.sse")):
            found.append((path.stem, [path.read_bytes()], True))
    return found


def test_every_prefix_grows_in_place(conversations: dict[str, Conversation]) -> None:
    """At every prefix: the mapping works, items conform, ids are stable, earlier items
    keep their place (the list of ids only grows at the end, for these streams), an
    item keeps its type, and an assistant message's text only grows until it is done."""
    for name, bodies, responses in all_streams(conversations):
        state: State | ResponsesState = ResponsesState() if responses else State()
        before: list[dict[str, Any]] = []
        seen = 0
        for number, events in enumerate(events_of(bodies, responses)):
            if number:
                state.begin_stream()
            for event in events:
                state.apply(event)
                now = check(chatkit.thread_items(state))
                again = [x.to_dict() for x in chatkit.thread_items(state)]
                assert again == now, name  # the same snapshot maps the same
                ids = [d["id"] for d in now]
                assert ids[: len(before)] == [d["id"] for d in before], (name, event)
                for old, new in zip(before, now, strict=False):
                    assert old["type"] == new["type"], name
                    if new["type"] == "chatkit.assistant_message":
                        old_text = "".join(p["text"] for p in old["content"])
                        new_text = "".join(p["text"] for p in new["content"])
                        assert new_text.startswith(old_text), name
                before = now
                seen += 1
        assert before, name
        assert seen > 3, name


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mangled_streams_still_map(conversations: dict[str, Conversation], data: Any) -> None:
    """A lenient fold of a stream with events dropped, repeated or moved maps without an
    error, to items that conform to the reference."""
    streams = all_streams(conversations)
    _, bodies, responses = data.draw(st.sampled_from(streams), label="stream")
    events = [e for body_events in events_of(bodies, responses) for e in body_events]
    picks = data.draw(
        st.lists(st.integers(0, len(events) - 1), max_size=len(events) + 5), label="events"
    )
    state: State | ResponsesState = (
        ResponsesState(strict=False) if responses else State(strict=False)
    )
    for index in picks:
        try:
            state.apply(events[index])
        except streamkit.StreamkitError:
            continue
        check(chatkit.thread_items(state, thread_id="thr_x", group_tasks=bool(index % 2)))
    conforms_thread(chatkit.thread(state, user="u", thread_id="thr_x"))


# --- pages ----------------------------------------------------------------------------


def numbered(n: int) -> list[ChatKitThreadItem]:
    return [
        ChatKitThreadUserMessageItem(
            id=f"cthi_{k:03d}",
            object="chatkit.thread_item",
            created_at=k,
            thread_id="thr",
            content=[],
            attachments=[],
            inference_options=None,
        )
        for k in range(n)
    ]


LIMITS = st.one_of(st.integers(1, 5), st.integers(1, 100))


def consistent(found: ChatKitThreadItemList) -> list[str]:
    ids = [chatkit.item_id(x) for x in found.data or []]
    assert found.object == "list"
    assert found.first_id == (ids[0] if ids else None)
    assert found.last_id == (ids[-1] if ids else None)
    d = found.to_dict()
    assert set(d) == {"object", "data", "first_id", "last_id", "has_more"}
    assert ChatKitThreadItemList.from_dict(json.loads(json.dumps(d))).to_dict() == d
    return ids


@settings(max_examples=150, deadline=None)
@given(n=st.integers(0, 60), limit=LIMITS, order=st.sampled_from(["asc", "desc"]))
def test_walking_after_visits_every_item_once_in_order(n: int, limit: int, order: str) -> None:
    items = numbered(n)
    expected = [x.id for x in (items if order == "asc" else items[::-1])]
    walked: list[str] = []
    after = None
    for _ in range(n + 2):
        found = chatkit.page(items, limit=limit, after=after, order=order)
        ids = consistent(found)
        assert len(ids) <= limit
        walked += ids
        if not found.has_more:
            break
        assert len(ids) == limit
        after = found.last_id
    assert walked == expected


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 60), limit=LIMITS, order=st.sampled_from(["asc", "desc"]))
def test_walking_before_visits_every_item_once_in_order(n: int, limit: int, order: str) -> None:
    items = numbered(n)
    expected = [x.id for x in (items if order == "asc" else items[::-1])]
    walked = [expected[-1]]
    before = expected[-1]
    for _ in range(n + 2):
        found = chatkit.page(items, limit=limit, before=before, order=order)
        ids = consistent(found)
        walked = ids + walked
        if not found.has_more:
            break
        assert len(ids) == limit
        before = found.first_id
    assert walked == expected


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 30),
    limit=LIMITS,
    order=st.sampled_from(["asc", "desc"]),
    cursors=st.tuples(st.none() | st.integers(0, 29), st.none() | st.integers(0, 29)),
)
def test_pages_follow_the_emulators_rule(
    n: int, limit: int, order: str, cursors: tuple[int | None, int | None]
) -> None:
    """The same page as the emulator's list endpoints give, for any cursors."""
    items = numbered(n)
    after, before = (f"cthi_{c:03d}" if c is not None and c < n else None for c in cursors)
    found = chatkit.page(items, limit=limit, after=after, before=before, order=order)
    expected = paginate(
        [x.to_dict() for x in items], after=after, before=before, limit=limit, order=order
    )
    assert found.to_dict() == expected
    consistent(found)


def test_page_errors_name_the_parameter() -> None:
    items = numbered(3)
    with pytest.raises(chatkit.PageError, match="cthi_999") as caught:
        chatkit.page(items, after="cthi_999")
    assert caught.value.param == "after" and caught.value.value == "cthi_999"
    with pytest.raises(chatkit.PageError) as caught:
        chatkit.page(items, before="nope")
    assert caught.value.param == "before"
    for bad in (0, 101, True):
        with pytest.raises(chatkit.PageError) as caught:
            chatkit.page(items, limit=bad)
        assert caught.value.param == "limit"
    with pytest.raises(chatkit.PageError) as caught:
        chatkit.page(items, order="up")
    assert caught.value.param == "order"
    assert isinstance(caught.value, streamkit.StreamkitError)


def test_page_defaults_newest_first() -> None:
    found = chatkit.page(numbered(25))
    assert found.first_id == "cthi_024" and found.last_id == "cthi_005" and found.has_more
    assert len(found.data or []) == 20


# --- the other shapes -----------------------------------------------------------------


def apply_all(state: State, *events: tuple[str, dict[str, Any]]) -> None:
    for name, payload in events:
        state.apply(
            streamkit.decode(streamkit.ServerSentEvent(event=name, data=json.dumps(payload)))
        )


def test_user_content_failures_unknown_tools_and_file_paths() -> None:
    state = State()
    run = {"object": "thread.run", "thread_id": "thr_1", "created_at": 5}
    step = {"object": "thread.run.step", "run_id": "run_1", "thread_id": "thr_1"}
    apply_all(
        state,
        ("thread.run.created", {"id": "run_1", "status": "queued", **run}),
        (
            "thread.message.created",
            {
                "id": "msg_user",
                "object": "thread.message",
                "role": "user",
                "status": "completed",
                "thread_id": "thr_1",
                "created_at": 4,
                "content": [
                    {"type": "text", "text": {"value": "What is in it?", "annotations": []}},
                    {"type": "image_file", "image_file": {"file_id": "file_img"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                ],
                "attachments": [{"file_id": "file_doc", "tools": []}],
            },
        ),
        (
            "thread.run.step.created",
            {
                "id": "step_1",
                "type": "tool_calls",
                "status": "in_progress",
                "created_at": 6,
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "id": "call_ci",
                            "type": "code_interpreter",
                            "code_interpreter": {"input": "1/0", "outputs": []},
                        },
                        {"id": "call_web", "type": "web_browser", "web_browser": {}},
                    ],
                },
                **step,
            },
        ),
    )
    items = chatkit.thread_items(state)
    check(items)
    user, code, web = items
    assert user.to_dict()["content"] == [{"type": "input_text", "text": "What is in it?"}]
    assert user.to_dict()["attachments"] == [
        {
            "id": "file_img",
            "mime_type": "image/*",
            "name": "file_img",
            "preview_url": None,
            "type": "image",
        },
        {
            "id": "https://x.test/a.png",
            "mime_type": "image/*",
            "name": "https://x.test/a.png",
            "preview_url": "https://x.test/a.png",
            "type": "image",
        },
        {
            "id": "file_doc",
            "mime_type": "application/octet-stream",
            "name": "file_doc",
            "preview_url": None,
            "type": "file",
        },
    ]
    assert isinstance(code, ChatKitTask) and code.heading == "Running code"
    assert isinstance(web, ChatKitTask) and web.heading == "Using web_browser"
    [grouped] = [x for x in chatkit.thread_items(state, group_tasks=True) if x.id == "step_1"]
    assert isinstance(grouped, ChatKitTaskGroup)
    assert [t.heading for t in grouped.tasks or []] == ["Running code", "Using web_browser"]

    apply_all(
        state,
        (
            "thread.run.step.failed",
            {
                "id": "step_1",
                "type": "tool_calls",
                "status": "failed",
                "created_at": 6,
                "last_error": {"code": "server_error", "message": "The tool broke."},
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "id": "call_ci",
                            "type": "code_interpreter",
                            "code_interpreter": {"input": "1/0", "outputs": []},
                        },
                        {"id": "call_web", "type": "web_browser", "web_browser": {}},
                    ],
                },
                **step,
            },
        ),
        (
            "thread.run.step.created",
            {
                "id": "step_2",
                "type": "message_creation",
                "status": "in_progress",
                "created_at": 7,
                "step_details": {
                    "type": "message_creation",
                    "message_creation": {"message_id": "msg_2"},
                },
                **step,
            },
        ),
        (
            "thread.message.created",
            {
                "id": "msg_2",
                "object": "thread.message",
                "role": "assistant",
                "status": "in_progress",
                "thread_id": "thr_1",
                "run_id": "run_1",
                "created_at": 7,
                "content": [],
            },
        ),
        (
            "thread.message.delta",
            {
                "id": "msg_2",
                "delta": {
                    "content": [
                        {
                            "index": 0,
                            "type": "text",
                            "text": {
                                "value": "Here: sandbox:/mnt/data/out.csv",
                                "annotations": [
                                    {
                                        "index": 0,
                                        "type": "file_path",
                                        "text": "sandbox:/mnt/data/out.csv",
                                        "file_path": {"file_id": "file_out"},
                                        "start_index": 6,
                                        "end_index": 31,
                                    }
                                ],
                            },
                        }
                    ]
                },
            },
        ),
        (
            "thread.message.delta",
            {
                "id": "msg_2",
                "delta": {"content": [{"index": 1, "type": "refusal", "refusal": "Not more."}]},
            },
        ),
        ("thread.run.failed", {"id": "run_1", "status": "failed", **run}),
    )
    items = chatkit.thread_items(state)
    check(items)
    assert [x.id for x in items] == ["msg_user", "call_ci", "call_web", "msg_2"]
    code, web, answer = items[1:]
    assert isinstance(code, ChatKitTask) and code.heading == "Running code failed"
    assert code.summary == "1/0\n\nThe tool broke."
    assert isinstance(web, ChatKitTask) and web.heading == "Using web_browser failed"
    assert isinstance(answer, ChatKitThreadAssistantMessageItem)
    assert answer.to_dict()["content"] == [
        {
            "type": "output_text",
            "text": "Here: sandbox:/mnt/data/out.csv",
            "annotations": [{"type": "file", "source": {"type": "file", "filename": "out.csv"}}],
        },
        {"type": "output_text", "text": "Not more.", "annotations": []},
    ]
    assert chatkit.thread(state, user="u").to_dict()["status"] == {"type": "active"}
    assert chatkit.thread(state, user="u").created_at == 5


def test_ended_step_completes_a_call_without_output() -> None:
    """A call whose step ended without an output (the run was cancelled) is completed,
    so no spinner waits for ever; its output stays null."""
    state = State()
    step = {
        "id": "step_1",
        "object": "thread.run.step",
        "run_id": "run_1",
        "thread_id": "thr_1",
        "type": "tool_calls",
        "created_at": 1,
    }
    details = {
        "type": "tool_calls",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
    }
    apply_all(
        state,
        ("thread.run.step.created", {**step, "status": "in_progress", "step_details": details}),
    )
    [call] = chatkit.thread_items(state)
    assert isinstance(call, ChatKitClientToolCall) and call.status == "in_progress"
    apply_all(
        state,
        ("thread.run.step.cancelled", {**step, "status": "cancelled", "step_details": details}),
    )
    [call] = chatkit.thread_items(state)
    assert isinstance(call, ChatKitClientToolCall)
    assert call.status == "completed" and call.output is None
