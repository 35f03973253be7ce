"""Models and event decoding: exact round trips, forward compatibility, shape errors.

Reads the API reference's example responses and the recorded streams from ``../shared``
(skipped when absent), and generates payloads for every model with hypothesis.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from streamkit import events, models
from streamkit._errors import MalformedEventError
from streamkit._model import Model, ShapeError, Union, UnknownVariant, many
from streamkit.events import (
    EVENT_TYPES,
    DoneEvent,
    Event,
    MalformedEvent,
    RecoveredEventWarning,
    UnknownEvent,
    decode,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"
REFERENCE = SHARED / "seed" / "000_610aa6d5ea4566f7.txt"
RECORDINGS = SHARED / "recordings" / "openai-dotnet"

needs_reference = pytest.mark.skipif(not REFERENCE.is_file(), reason="API reference absent")


# ---------------------------------------------------------------------------------------
# Helpers: a Server-Sent Events reader and exact comparison


@dataclass(frozen=True)
class SSE:
    """What ``decode`` reads: event name, data, id and where the event began."""

    event: str
    data: str
    id: str | None = None
    offset: int | None = None
    line: int | None = None


def read_sse(text: str, first_line: int = 1) -> list[SSE]:
    """The events of an SSE body; ``line`` counts from ``first_line`` (the body's line 1).

    Uses ``streamkit.sse.SSEParser`` when it exists, else a minimal reader (LF line ends).
    """
    try:
        from streamkit.sse import SSEParser
    except ImportError:
        return _read_sse_minimal(text, first_line)
    parser = SSEParser()
    events = parser.feed(text.encode())
    parser.close()
    return [SSE(e.event, e.data, e.id, None, first_line + (e.line or 1) - 1) for e in events]


def _read_sse_minimal(text: str, first_line: int) -> list[SSE]:
    out: list[SSE] = []
    name: str = ""
    data: list[str] = []
    start: int | None = None
    for number, line in enumerate(text.split("\n"), first_line):
        if not line:
            if data:
                out.append(SSE(name or "message", "\n".join(data), None, None, start))
            name, data, start = "", [], None
            continue
        start = number if start is None else start
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return out


def sorted_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def assert_exact(got: Any, expected: Any) -> None:
    """Equal as dicts and as canonical JSON (which tells 1 from 1.0 and from true)."""
    assert got == expected
    assert sorted_json(got) == sorted_json(expected)


def data_model(event_name: str) -> type[Model]:
    """The model of an event's ``data``, read from its event class's annotation."""
    annotation = EVENT_TYPES[event_name].__annotations__["data"]
    cls = getattr(models, annotation) if isinstance(annotation, str) else annotation
    assert isinstance(cls, type) and issubclass(cls, Model)
    return cls


def page_of(item: type[Model]) -> type[Model]:
    """A model of ``CursorPage<item>`` (the list endpoints of the Assistants API)."""

    @attrs.define(slots=True, kw_only=True)
    class CursorPage(Model):
        object: str | None = None
        data: list[Any] | None = many(item)
        first_id: str | None = None
        last_id: str | None = None
        has_more: bool | None = None

    CursorPage.__qualname__ = f"CursorPage[{item.__name__}]"
    return CursorPage


# ---------------------------------------------------------------------------------------
# The reference's example responses


@dataclass(frozen=True)
class Example:
    """One ```json block after a "#### Response" heading."""

    section: str  # the endpoint's "## " title
    returns: str  # the return type in the endpoint's signature
    ordinal: int  # 1 for the section's first example, 2 for the second...
    line: int  # line number (1-based) of the block's first content line
    text: str

    @property
    def is_stream(self) -> bool:
        return self.text.startswith("event:")

    @property
    def id(self) -> str:
        return f"{self.section} #{self.ordinal} (line {self.line})"


@functools.cache
def reference_examples() -> tuple[Example, ...]:
    lines = REFERENCE.read_text(encoding="utf-8").split("\n")
    out: list[Example] = []
    section = returns = ""
    counts: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("## "):
            section, returns = line[3:], ""
        elif line.startswith("`client.") and "): " in line:
            returns = line.rsplit("): ", 1)[1].rstrip("`")
        elif line.startswith("#### Response"):
            start = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            end = lines.index("```", start + 1)
            counts[section] = counts.get(section, 0) + 1
            text = "\n".join(lines[start + 1 : end])
            out.append(Example(section, returns, counts[section], start + 2, text))
            i = end
        i += 1
    return tuple(out)


def example_params(stream: bool) -> list[Any]:
    if not REFERENCE.is_file():
        return [pytest.param(None, marks=needs_reference)]
    return [pytest.param(e, id=e.id) for e in reference_examples() if e.is_stream == stream]


#: List pages of the ChatKit API, by the return type in the endpoint's signature.
CHATKIT_PAGES = {
    "ConversationCursorPage<ChatKitThread>": models.ChatKitThreadList,
    "ConversationCursorPage<ChatKitThreadUserMessageItem": models.ChatKitThreadItemList,
}
#: Return types whose model has another name.
RENAMED = {"ThreadDeleteResponse": models.ChatKitThreadDeleted}


def model_for(returns: str) -> type[Model]:
    """The model of the JSON an endpoint returns, from its signature's return type."""
    for prefix, page in CHATKIT_PAGES.items():
        if returns.startswith(prefix):
            return page
    name = returns.split(" | ")[0]  # "Run | Stream<AssistantStreamEvent>"
    if name.startswith("CursorPage<"):
        return page_of(getattr(models, name.removeprefix("CursorPage<").removesuffix(">")))
    cls = RENAMED.get(name) or getattr(models, name)
    assert issubclass(cls, Model)
    return cls


#: Examples that cannot decode, keyed by (section, ordinal), with ``str(ShapeError)``.
#: (None now: the one ChatKit session example without an ``id`` decodes, ``id`` being
#: optional on ``ChatSession`` for that reason.)
PLACEHOLDERS: dict[tuple[str, int], str] = {}


@needs_reference
def test_reference_examples_are_all_found() -> None:
    examples = reference_examples()
    assert len(examples) == 64
    assert sum(e.is_stream for e in examples) == 5
    assert {(e.section, e.ordinal) for e in examples} >= set(PLACEHOLDERS)


@pytest.mark.external
@pytest.mark.parametrize("example", example_params(stream=False))
def test_reference_json_example_round_trips(example: Example) -> None:
    payload = orjson.loads(example.text)
    cls = model_for(example.returns)
    expected_error = PLACEHOLDERS.get((example.section, example.ordinal))
    if expected_error is not None:
        with pytest.raises(ShapeError) as info:
            cls.from_dict(payload)
        assert str(info.value) == expected_error
        return
    decoded = cls.from_dict(payload)
    assert_exact(decoded.to_dict(), payload)
    assert_exact(decoded.clone().to_dict(), payload)


def json_value_and_junk(data: str) -> tuple[Any, str]:
    """The JSON value at the start of ``data`` and what follows it."""
    value, end = json.JSONDecoder().raw_decode(data)
    return value, data[end:]


@pytest.mark.external
@pytest.mark.parametrize("example", example_params(stream=True))
def test_reference_stream_example_round_trips(example: Example) -> None:
    events = read_sse(example.text, example.line)
    assert events
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecoveredEventWarning)
        decoded = [decode(sse, tolerant=True) for sse in events]
    for sse, event in zip(events, decoded, strict=True):
        if sse.event == "done":
            assert isinstance(event, DoneEvent)
            continue
        assert type(event) is EVENT_TYPES[sse.event], event
        value, junk = json_value_and_junk(sse.data)
        assert junk in ("", "}")
        assert (event.warning is not None) == (junk == "}")
        assert_exact(event.data.to_dict(), value)


def recording_params() -> list[Any]:
    files = sorted(RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else []
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason="recordings absent"))]
    return [pytest.param(path, id=path.name) for path in files]


@pytest.mark.external
@pytest.mark.parametrize("path", recording_params())
def test_recording_round_trips(path: Path) -> None:
    events = read_sse(path.read_text(encoding="utf-8"))
    assert events[-1].event == "done"
    for sse in events:
        event = decode(sse)
        if isinstance(event, DoneEvent):
            continue
        assert type(event) is EVENT_TYPES[sse.event]
        assert event.warning is None
        assert_exact(event.data.to_dict(), orjson.loads(sse.data))


@pytest.mark.external
@pytest.mark.parametrize("speedups", [True, False])
@pytest.mark.parametrize("path", recording_params())
def test_events_and_snapshots_pickle_and_deepcopy(path: Path, speedups: bool) -> None:
    """A decoded model (its record of absent keys still the input dict, ``_extra`` unset)
    and the snapshots built from them survive pickle and ``copy.deepcopy``, on either
    path: equal, of the same class, sharing nothing with the original."""
    import copy
    import pickle

    from streamkit import Driver

    driver = Driver(strict=False, speedups=speedups)
    found = [event for event, _ in driver.feed(path.read_bytes())]
    snapshots = [*driver.state.runs.values(), *driver.state.steps.values()]
    snapshots += list(driver.state.messages.values())
    for value in [*(e.data for e in found if isinstance(e.data, Model)), *snapshots]:
        for back in (pickle.loads(pickle.dumps(value)), copy.deepcopy(value)):
            assert type(back) is type(value) and back is not value
            assert back == value and back.absent == value.absent and back.extra == value.extra
    event = found[-2]
    back_event = pickle.loads(pickle.dumps(event))
    assert back_event.data == event.data and back_event.sse == event.sse


@needs_reference
@pytest.mark.external
def test_stray_brace_events_are_recovered_in_tolerant_mode_only() -> None:
    streams = [e for e in reference_examples() if e.is_stream]
    events = [sse for e in streams for sse in read_sse(e.text, e.line)]
    stray = [sse for sse in events if sse.data.endswith("}}") and not _is_json(sse.data)]
    assert len(stray) == 15

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoded = [decode(sse, tolerant=True) for sse in events]
    recovered = [event for event in decoded if event.warning is not None]
    assert [event.sse for event in recovered] == stray
    assert not any(isinstance(event, MalformedEvent) for event in decoded)
    assert all("junk ('}' at column" in str(event.warning) for event in recovered)
    brace_warnings = [w for w in caught if issubclass(w.category, RecoveredEventWarning)]
    assert len(brace_warnings) == 15
    assert [str(w.message) for w in brace_warnings] == [e.warning for e in recovered]

    first = stray[0]
    assert (first.event, first.line) == ("thread.run.created", 21516)
    with pytest.raises(MalformedEventError) as info:
        for sse in events:
            decode(sse)
    error = info.value
    assert (error.event, error.line) == ("thread.run.created", 21516)
    assert error.data == first.data
    assert "'thread.run.created'" in str(error) and "line 21516" in str(error)


def _is_json(data: str) -> bool:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return False
    return True


# ---------------------------------------------------------------------------------------
# Forward compatibility: unknown fields, types and events are kept


def message_delta(*content: Any) -> dict[str, Any]:
    return {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": list(content)}}


def step_delta(details: Any) -> dict[str, Any]:
    return {"id": "step_1", "object": "thread.run.step.delta", "delta": {"step_details": details}}


def decode_json(event: str, payload: Any, *, tolerant: bool = False) -> Event:
    return decode(SSE(event, orjson.dumps(payload).decode(), "7", 120, 9), tolerant=tolerant)


FORWARD_CASES: list[Any] = [
    pytest.param(
        "thread.message.delta",
        message_delta({"index": 0, "type": "audio", "audio": {"data": "AAAA"}}),
        lambda d: d.delta.content[0],
        models.UnknownContentBlock,
        id="new content block type",
    ),
    pytest.param(
        "thread.message.delta",
        message_delta(
            {
                "index": 0,
                "type": "text",
                "text": {"value": "x", "annotations": [{"index": 0, "type": "url_citation"}]},
            }
        ),
        lambda d: d.delta.content[0].text.annotations[0],
        models.UnknownAnnotation,
        id="new annotation type",
    ),
    pytest.param(
        "thread.run.step.delta",
        step_delta({"type": "tool_calls", "tool_calls": [{"index": 0, "type": "web_search"}]}),
        lambda d: d.delta.step_details.tool_calls[0],
        models.UnknownToolCall,
        id="new tool call type",
    ),
    pytest.param(
        "thread.run.step.delta",
        step_delta({"type": "reasoning", "reasoning": {"summary": [1, 2.5, True, None]}}),
        lambda d: d.delta.step_details,
        models.UnknownStepDetails,
        id="new step details type",
    ),
    pytest.param(
        "thread.run.step.created",
        {"id": "step_1", "step_details": {"type": "handoff", "to": "asst_2"}},
        lambda d: d.step_details,
        models.UnknownStepDetails,
        id="new step details type in a step",
    ),
    pytest.param(
        "thread.message.completed",
        {"id": "msg_1", "content": [{"type": "text", "text": {"value": "v"}}, {"x": 1}]},
        lambda d: d.content[1],
        models.UnknownContentBlock,
        id="content block without a type",
    ),
    pytest.param(
        "thread.run.created",
        {"id": "run_1", "tools": [{"type": "computer_use", "display": {"w": 1024}}]},
        lambda d: d.tools[0],
        models.UnknownTool,
        id="new tool type",
    ),
]


@pytest.mark.parametrize(("event", "payload", "pick", "cls"), FORWARD_CASES)
def test_unknown_discriminators_are_kept(
    event: str, payload: Any, pick: Callable[[Any], Any], cls: type[UnknownVariant]
) -> None:
    decoded = decode_json(event, payload)
    part = pick(decoded.data)
    assert type(part) is cls
    assert part.type == (part.raw.get("type") if isinstance(part.raw.get("type"), str) else None)
    assert_exact(decoded.data.to_dict(), payload)
    assert_exact(decoded.data.clone().to_dict(), payload)


@pytest.mark.parametrize("tag", [{"kind": "new"}, ["text"]], ids=["object", "array"])
def test_unhashable_tag_is_an_unknown_variant(tag: Any) -> None:
    payload = message_delta({"index": 0, "type": tag, "text": {"value": "x"}})
    data = decode_json("thread.message.delta", payload).data
    assert type(data.delta.content[0]) is models.UnknownContentBlock
    assert_exact(data.to_dict(), payload)


def test_unknown_fields_are_kept_at_every_level() -> None:
    payload = message_delta(
        {
            "index": 0,
            "type": "text",
            "text": {"value": "Hi", "annotations": [], "logprobs": [{"t": "Hi", "p": -0.1}]},
            "channel": "final",
        }
    )
    payload["delta"]["role"] = None  # present as null: stays null
    payload["delta"]["phase"] = {"n": 1}
    payload["sequence"] = 12
    data = decode_json("thread.message.delta", payload).data
    assert data.extra == {"sequence": 12}
    assert data.delta.extra == {"phase": {"n": 1}}
    block = data.delta.content[0]
    assert block.extra == {"channel": "final"}
    assert block.text.extra == {"logprobs": [{"t": "Hi", "p": -0.1}]}
    assert block.text.value == "Hi"
    assert data.delta.role is None and "role" not in data.delta.absent
    assert data.absent == frozenset() and block.text.absent == frozenset()
    assert_exact(data.to_dict(), payload)


def test_absent_fields_stay_absent() -> None:
    payload = {"id": "run_1", "status": "queued", "usage": None}
    run = models.Run.from_dict(payload)
    assert run.model is None and "model" in run.absent
    assert run.usage is None and "usage" not in run.absent
    assert_exact(run.to_dict(), payload)


def test_unknown_event_name_is_kept() -> None:
    payload = {"id": "resp_1", "delta": {"text": "x"}, "n": [1, 2.0, False]}
    event = decode_json("thread.run.step.reasoning.delta", payload)
    assert isinstance(event, UnknownEvent)
    assert event.event == event.name == "thread.run.step.reasoning.delta"
    assert_exact(event.data, payload)
    assert orjson.loads(event.raw) == payload
    not_json = decode(SSE("ping", "keep-alive"))
    assert isinstance(not_json, UnknownEvent)
    assert (not_json.raw, not_json.data) == ("keep-alive", None)


CHATKIT_FORWARD: list[Any] = [
    pytest.param(
        models.ChatKitThreadItemList,
        {"data": [{"id": "cti_1", "type": "chatkit.image_generation", "image": {"b64": "AA"}}]},
        lambda d: d.data[0],
        models.UnknownChatKitThreadItem,
        id="new thread item type",
    ),
    pytest.param(
        models.ChatKitThread,
        {"id": "cthr_1", "status": {"type": "archived", "until": 1712345678}},
        lambda d: d.status,
        models.UnknownChatKitThreadStatus,
        id="new thread status",
    ),
    pytest.param(
        models.ChatKitResponseOutputText,
        {"type": "output_text", "text": "t", "annotations": [{"type": "widget", "w": 1}]},
        lambda d: d.annotations[0],
        models.UnknownChatKitAnnotation,
        id="new chatkit annotation type",
    ),
    pytest.param(
        models.ChatKitThreadUserMessageItem,
        {"id": "cti_2", "content": [{"type": "input_image", "url": "u"}]},
        lambda d: d.content[0],
        models.UnknownChatKitUserMessageContent,
        id="new user message content type",
    ),
]


@pytest.mark.parametrize(("cls", "payload", "pick", "unknown"), CHATKIT_FORWARD)
def test_chatkit_unknown_discriminators_are_kept(
    cls: type[Model], payload: Any, pick: Callable[[Any], Any], unknown: type[UnknownVariant]
) -> None:
    decoded = cls.from_dict(payload)
    assert type(pick(decoded)) is unknown
    assert_exact(decoded.to_dict(), payload)


def test_chatkit_known_variants_decode_typed() -> None:
    items = models.ChatKitThreadItemList.from_dict(
        {
            "data": [
                {
                    "id": "cti_1",
                    "type": "chatkit.user_message",
                    "content": [{"type": "quoted_text", "text": "q"}],
                    "attachments": [{"id": "att_1", "type": "image", "preview_url": None}],
                    "inference_options": {"model": None, "tool_choice": {"id": "t1"}},
                },
                {
                    "id": "cti_2",
                    "type": "chatkit.assistant_message",
                    "content": [
                        {
                            "type": "output_text",
                            "text": "see",
                            "annotations": [
                                {"type": "url", "source": {"type": "url", "url": "https://x"}}
                            ],
                        }
                    ],
                },
                {"id": "cti_3", "type": "chatkit.task_group", "tasks": [{"type": "thought"}]},
                {"id": "cti_4", "type": "chatkit.client_tool_call", "status": "completed"},
            ],
            "has_more": False,
        }
    )
    user, assistant, group, call = items.data or []
    assert isinstance(user, models.ChatKitThreadUserMessageItem)
    assert isinstance(
        user.content and user.content[0], models.ChatKitThreadUserMessageItemContentQuotedText
    )
    assert user.inference_options and user.inference_options.tool_choice
    assert user.inference_options.tool_choice.id == "t1"
    assert isinstance(assistant, models.ChatKitThreadAssistantMessageItem)
    segment = (assistant.content or [])[0]
    annotation = (segment.annotations or [])[0]
    assert isinstance(annotation, models.ChatKitResponseOutputTextAnnotationURL)
    assert annotation.source and annotation.source.url == "https://x"
    assert isinstance(group, models.ChatKitTaskGroup) and group.tasks
    assert isinstance(call, models.ChatKitClientToolCall) and call.status == "completed"


# ---------------------------------------------------------------------------------------
# Shape errors name the path

SHAPE_CASES: list[Any] = [
    pytest.param(
        "thread.message.delta",
        message_delta({"index": 0, "type": "text", "text": "oops"}),
        "delta.content[0].text",
        "expected an object, got string",
        id="text is a string",
    ),
    pytest.param(
        "thread.message.delta",
        {"id": "m", "delta": {"content": {"index": 0}}},
        "delta.content",
        "expected an array, got object",
        id="content is an object",
    ),
    pytest.param(
        "thread.message.delta",
        message_delta({"type": "text"}, {"type": "text", "text": {"value": "v"}}),
        "delta.content[0]",
        "missing required field 'index'",
        id="delta block without index",
    ),
    pytest.param(
        "thread.message.delta",
        message_delta(
            {
                "index": 0,
                "type": "text",
                "text": {"annotations": [{"index": 0, "type": "file_path"}, 5]},
            }
        ),
        "delta.content[0].text.annotations[1]",
        "expected an object, got number",
        id="annotation is a number",
    ),
    pytest.param(
        "thread.message.delta",
        {"id": "m"},
        "(top level)",
        "missing required field 'delta'",
        id="no delta",
    ),
    pytest.param(
        "thread.run.step.delta",
        step_delta({"type": "tool_calls", "tool_calls": [{"index": 0, "type": "x"}, "call"]}),
        "delta.step_details.tool_calls[1]",
        "expected an object, got string",
        id="tool call is a string",
    ),
    pytest.param(
        "thread.run.step.delta",
        step_delta(
            {"type": "tool_calls", "tool_calls": [{"index": 1, "type": "function", "function": []}]}
        ),
        "delta.step_details.tool_calls[0].function",
        "expected an object, got array",
        id="function is an array",
    ),
    pytest.param(
        "thread.run.requires_action",
        {"id": "run_1", "required_action": {"submit_tool_outputs": {"tool_calls": "call_1"}}},
        "required_action.submit_tool_outputs.tool_calls",
        "expected an array, got string",
        id="tool_calls is a string",
    ),
    pytest.param(
        "thread.run.created", [1, 2], "(top level)", "expected an object, got array", id="array"
    ),
    pytest.param("error", "boom", "(top level)", "expected an object, got string", id="string"),
]


@pytest.mark.parametrize(("event", "payload", "path", "reason"), SHAPE_CASES)
def test_shape_errors_name_the_path(event: str, payload: Any, path: str, reason: str) -> None:
    with pytest.raises(MalformedEventError) as info:
        decode_json(event, payload)
    error = info.value
    assert (error.event, error.path, error.reason) == (event, path, reason)
    assert (error.id, error.offset, error.line) == ("7", 120, 9)
    assert error.data == orjson.dumps(payload).decode()
    message = str(error)
    assert f"{event!r}" in message and f"(at {path})" in message and "line 9" in message

    tolerant = decode_json(event, payload, tolerant=True)
    assert isinstance(tolerant, MalformedEvent)
    assert (tolerant.name, tolerant.error.path, tolerant.error.reason) == (event, path, reason)


def test_model_shape_error_has_a_path_tuple() -> None:
    payload = {
        "data": [
            {"id": "a", "type": "chatkit.widget"},
            {
                "id": "b",
                "type": "chatkit.assistant_message",
                "content": [
                    {"type": "output_text", "annotations": [{"type": "file", "source": 1}]}
                ],
            },
        ]
    }
    with pytest.raises(ShapeError) as info:
        models.ChatKitThreadItemList.from_dict(payload)
    assert info.value.path == ("data", 1, "content", 0, "annotations", 0, "source")
    assert (
        str(info.value)
        == "data[1].content[0].annotations[0].source: expected an object, got number"
    )


def test_not_json_is_malformed() -> None:
    with pytest.raises(MalformedEventError, match="not valid JSON"):
        decode(SSE("thread.run.created", "{'id': 1}"))
    event = decode(SSE("thread.run.created", ""), tolerant=True)
    assert isinstance(event, MalformedEvent) and "empty" in event.error.reason


# ---------------------------------------------------------------------------------------
# Generated payloads: every model, every event type

_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
_INTS = st.integers(min_value=-(2**53), max_value=2**53)
_FLOATS = st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    st.none() | st.booleans() | _INTS | _FLOATS | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def scalar_values(annotation: Any) -> SearchStrategy[Any]:
    """Values for a plain field, from its annotation (a string: annotations are lazy)."""
    text = str(annotation)
    if text in ("str", "int"):  # required identity fields: id, index
        return _TEXT if text == "str" else st.integers(min_value=0, max_value=2**31 - 1)
    options: list[SearchStrategy[Any]] = [st.none()]
    if re.search(r"\bstr\b", text):
        options.append(_TEXT)
    if re.search(r"\bint\b", text):
        options.append(_INTS)
    if re.search(r"\bfloat\b", text):
        options += [_FLOATS, _INTS]
    if re.search(r"\bbool\b", text):
        options.append(st.booleans())
    if len(options) == 1:  # dict[...], Metadata, Any: free-form JSON
        options.append(JSON)
    return st.one_of(options)


def field_specs(cls: type[Model]) -> Iterator[tuple[str, str, Any, Any, bool]]:
    """(json key, kind, argument, annotation, required) of every field of ``cls``."""
    for a in attrs.fields(cls):
        if a.name in ("_extra", "_absent"):
            continue
        kind, arg, key = a.metadata.get("streamkit", ("plain", None, None))
        yield key or a.alias or a.name, kind, arg, a.type, a.default is attrs.NOTHING


@functools.cache
def payloads(cls: type[Model]) -> SearchStrategy[dict[str, Any]]:
    """Valid JSON objects for ``cls``: optional fields randomly left out, unknown keys added."""
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    for key, kind, arg, annotation, is_required in field_specs(cls):
        values = field_values(kind, arg, annotation, is_required)
        (required if is_required else optional)[key] = values
    known = {*required, *optional}
    extra = st.dictionaries(_TEXT.filter(lambda k: k not in known), JSON, max_size=2)
    objects = st.fixed_dictionaries(required, optional=optional)
    return st.builds(lambda base, more: {**more, **base}, objects, extra)


def field_values(kind: str, arg: Any, annotation: Any, required: bool) -> SearchStrategy[Any]:
    if kind == "plain":
        return scalar_values(annotation)
    if kind == "grow":
        return st.none() | _TEXT
    if kind == "one":
        return payloads(arg) if required else st.none() | payloads(arg)
    if kind == "many":
        return st.none() | st.lists(payloads(arg), max_size=2)
    if kind == "union":
        return st.none() | union_members(arg)
    assert kind == "union_list", kind
    return st.none() | st.lists(union_members(arg), max_size=2)


@functools.cache
def union_members(u: Union) -> SearchStrategy[Any]:
    """Members of a union: each known variant with its tag, unknown tags, and scalars."""
    known = [
        payloads(cls).map(functools.partial(_tagged, u.tag, tag)) for tag, cls in u.variants.items()
    ]
    new_tag = (_TEXT | _INTS | st.booleans()).filter(lambda t: t not in u.variants)
    unknown = st.builds(
        lambda raw, tag: {**raw, u.tag: tag} if tag is not None else raw,
        st.dictionaries(_TEXT.filter(lambda k: k != u.tag), JSON, max_size=3),
        st.none() | new_tag,
    )
    members = st.one_of(*known, unknown)
    if u.scalars:
        members |= st.sampled_from(["auto", "none", "required"])
    return members


def _tagged(key: str, tag: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, key: tag}


GENERATED = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def all_models() -> list[type[Model]]:
    found = {
        obj
        for obj in vars(models).values()
        if isinstance(obj, type) and issubclass(obj, Model) and obj is not Model
    }
    return sorted(
        (cls for cls in found if not issubclass(cls, UnknownVariant)), key=lambda c: c.__name__
    )


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
@GENERATED
@given(data=st.data())
def test_generated_events_round_trip(name: str, data: st.DataObject) -> None:
    payload = data.draw(payloads(data_model(name)), label="payload")
    event = decode(SSE(name, orjson.dumps(payload).decode()))
    assert type(event) is EVENT_TYPES[name]
    assert event.event == name and event.warning is None
    assert_exact(event.data.to_dict(), payload)


@settings(max_examples=60, deadline=None)
@given(name=_TEXT.filter(lambda n: n not in EVENT_TYPES and n != "done"), payload=JSON)
def test_generated_unknown_events_keep_their_data(name: str, payload: Any) -> None:
    event = decode(SSE(name, orjson.dumps(payload).decode()))
    assert isinstance(event, UnknownEvent) and event.name == name
    assert_exact(event.data, payload)


@pytest.mark.parametrize("cls", all_models(), ids=lambda c: c.__name__)
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_generated_models_round_trip(cls: type[Model], data: st.DataObject) -> None:
    payload = data.draw(payloads(cls), label="payload")
    decoded = cls.from_dict(payload)
    assert_exact(decoded.to_dict(), payload)
    assert decoded.absent == {key for key, *_ in field_specs(cls)} - set(payload)


def test_every_model_and_event_is_documented() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "models.md").read_text("utf-8")
    names = [*models.__all__, *(n for n in events.__all__ if n != "EVENT_TYPES")]
    assert [name for name in names if f"`{name}`" not in page] == []


# ---------------------------------------------------------------------------------------
# Hostile input (issue 11): every finding is a MalformedEventError with a true reason in
# strict mode, the same error inside a MalformedEvent in tolerant mode.


def text_delta(value: str) -> str:
    """The data of a text delta whose ``value`` is the JSON text ``value``."""
    head = '{"id": "msg_1", "delta": {"content": [{"index": 0, "type": "text", "text": {"value": '
    return head + value + "}}]}}"


def assert_malformed(sse: SSE, reason: str, path: str | None) -> MalformedEventError:
    """Strict raises, tolerant returns: both with ``reason`` (a substring), ``path``, the
    event's line and byte offset and the whole raw data."""
    with pytest.raises(MalformedEventError) as info:
        decode(sse)
    error = info.value
    assert reason in error.reason, error.reason
    assert error.path == path
    assert (error.event, error.data, error.line, error.offset) == (
        sse.event,
        sse.data,
        sse.line,
        sse.offset,
    )
    tolerant = decode(sse, tolerant=True)
    assert isinstance(tolerant, MalformedEvent)
    assert (tolerant.name, tolerant.raw) == (sse.event, sse.data)
    assert (tolerant.error.reason, tolerant.error.path) == (error.reason, error.path)
    return error


HOSTILE = [
    # (event, data, reason, path)
    ("thread.message.delta", '{"id": "m", "delta": null}', "expected an object, got null", "delta"),
    (
        "thread.run.step.delta",
        '{"id": "s", "delta": null}',
        "expected an object, got null",
        "delta",
    ),
    ("thread.message.delta", '{"id": ["m"], "delta": {}}', "expected a string, got array", "id"),
    ("thread.run.created", '{"id": {"a": 1}}', "expected a string, got object", "id"),
    ("thread.run.created", '{"id": "r", "status": ["x"]}', "a string or null, got array", "status"),
    (
        "thread.message.created",
        '{"id": "m", "status": {"s": 1}}',
        "a string or null, got object",
        "status",
    ),
    (
        "thread.message.delta",
        text_delta("5"),
        "a string or null, got number",
        "delta.content[0].text.value",
    ),
    (
        "thread.message.delta",
        text_delta('{"v": 1}'),
        "a string or null, got object",
        "delta.content[0].text.value",
    ),
    (
        "thread.run.step.delta",
        '{"id": "s", "delta": {"step_details": {"type": "tool_calls", "tool_calls": '
        '[{"index": 0, "type": "function", "function": {"arguments": 12}}]}}}',
        "a string or null, got number",
        "delta.step_details.tool_calls[0].function.arguments",
    ),
    (
        "thread.run.step.delta",
        '{"id": "s", "delta": {"step_details": {"type": "tool_calls", "tool_calls": '
        '[{"index": 0, "type": "code_interpreter", "code_interpreter": {"input": 7}}]}}}',
        "a string or null, got number",
        "delta.step_details.tool_calls[0].code_interpreter.input",
    ),
    (
        "thread.run.step.delta",
        '{"id": "s", "delta": {"step_details": {"type": "tool_calls", "tool_calls": '
        '[{"index": 0, "type": "code_interpreter", "code_interpreter": '
        '{"outputs": [{"index": 0, "type": "logs", "logs": 3}]}}]}}}',
        "a string or null, got number",
        "delta.step_details.tool_calls[0].code_interpreter.outputs[0].logs",
    ),
    (
        "thread.message.delta",
        '{"id": "m", "delta": {"content": [{"index": 1e30, "type": "text"}]}}',
        "expected an integer index, got number",
        "delta.content[0].index",
    ),
    (
        "thread.message.delta",
        '{"id": "m", "delta": {"content": [{"index": 1000000000000000000000000000000, '
        '"type": "text"}]}}',
        "integer beyond 64 bits: 10000000000000000000...",
        None,
    ),
    (
        "thread.message.delta",
        '{"id": "m", "delta": {"content": [{"index": -1, "type": "text"}]}}',
        "index -1 is out of range",
        "delta.content[0].index",
    ),
    (
        "thread.message.delta",
        '{"id": "m", "delta": {"content": [{"index": true, "type": "text"}]}}',
        "expected an integer index, got boolean",
        "delta.content[0].index",
    ),
    (
        "thread.run.created",
        '{"id": "r", "x": %s}' % ("[" * 500 + "]" * 500),
        "nested more than 64",
        "x",
    ),
    ("thread.run.created", "[" * 100_000, "nested too deeply", None),
    ("thread.run.created", '{"id": "r", "n": %s}' % ("7" * 5000), "integer of 5000 digits", None),
    ("thread.run.created", '{"id": "r", "n": NaN}', "NaN is not a JSON number", None),
    ("thread.run.created", '{"id": "r", "n": -Infinity}', "-Infinity is not a JSON number", None),
    ("thread.run.created", '{"id": "r", "n": 1e400}', "too large for a double: 1e400", None),
]


@pytest.mark.parametrize(("event", "data", "reason", "path"), HOSTILE, ids=lambda v: str(v)[:40])
def test_hostile_input_is_malformed_with_a_true_reason(
    event: str, data: str, reason: str, path: str | None
) -> None:
    error = assert_malformed(SSE(event, data, "7", 1234, 56), reason, path)
    assert "junk" not in error.reason


def test_integers_beyond_64_bits_are_malformed_and_64_bit_ones_exact() -> None:
    for number in (2**64, -(2**63) - 1, 10**30, -(10**100)):
        for where in ('"created_at": %d', '"metadata": {"n": [%d]}', '"new": %d'):
            data = '{"id": "r", %s}' % (where % number)
            error = assert_malformed(SSE("thread.run.created", data), "beyond 64 bits", None)
            assert str(number)[:20] in error.reason
    for number in (2**64 - 1, -(2**63), 2**63):
        data = '{"id": "r", "created_at": %d, "metadata": {"n": [%d]}, "new": %d}' % ((number,) * 3)  # noqa: UP031
        event = decode(SSE("thread.run.created", data))
        assert event.data.created_at == number and type(event.data.created_at) is int
        assert_exact(event.to_dict(), json.loads(data))
        assert_exact(event.data.clone().to_dict(), json.loads(data))
    # A float is kept as a float, however large.
    event = decode(SSE("thread.run.created", '{"id": "r", "temperature": 1e300, "x": [-1e19]}'))
    assert event.data.temperature == 1e300 and event.data.extra == {"x": [-1e19]}


def test_deep_nesting_within_the_limit_decodes_and_clones() -> None:
    deep = "[" * 64 + "]" * 64  # MAX_DEPTH levels below the field that holds it
    data = '{"id": "r", "metadata": {"k": %s}, "other": %s}' % (deep[1:-1], deep)  # noqa: UP031
    event = decode(SSE("thread.run.created", data))
    assert_exact(event.data.clone().to_dict(), json.loads(data))
    assert len(orjson.dumps(event.to_dict())) == len(data.replace(" ", ""))


def test_unknown_event_with_unreadable_json_keeps_its_raw_text() -> None:
    for data in ("[" * 2000 + "]" * 2000, '{"n": NaN}', '{"n": %s}' % ("1" * 5000)):
        event = decode(SSE("thread.run.step.reasoning.delta", data))
        assert isinstance(event, UnknownEvent) and event.data is None and event.raw == data
    big = decode(SSE("new.event", '{"n": 100000000000000000000, "m": 18446744073709551615}'))
    assert isinstance(big, UnknownEvent) and big.data is None
    exact = decode(SSE("new.event", '{"m": 18446744073709551615, "f": 1e19}'))
    assert isinstance(exact, UnknownEvent) and exact.data == {"m": 2**64 - 1, "f": 1e19}


def test_split_surrogate_pair_is_joined_and_a_lone_one_replaced() -> None:
    from streamkit import State

    state = State()
    state.apply(
        decode(
            SSE(
                "thread.message.created",
                '{"id": "msg_1", "object": "thread.message", "status": "in_progress",'
                ' "content": []}',
            )
        )
    )
    deltas = [
        decode(SSE("thread.message.delta", text_delta(v)))
        for v in (r'"x\ud83d"', r'"\ude00y"', r'"\ud83d"')
    ]
    # Each delta decodes (strictly), keeps its raw string and reads valid text.
    assert [d.to_dict()["delta"]["content"][0]["text"]["value"] for d in deltas] == [
        "x\ud83d",
        "\ude00y",
        "\ud83d",
    ]
    assert [d.data.delta.content[0].text.value for d in deltas] == ["x\ufffd", "\ufffdy", "\ufffd"]
    for delta in deltas:
        state.apply(delta)
    text = state.messages["msg_1"].content[0].text
    assert text.value == "x\U0001f600y\ufffd"
    assert text.value.encode("utf-8")
    assert state.messages["msg_1"].to_dict()["content"][0]["text"]["value"] == text.value
    assert state.messages["msg_1"].clone().content[0].text.value == text.value


def test_error_event_decodes_both_shapes_and_round_trips() -> None:
    inner = {
        "message": "The server had an error",
        "type": "server_error",
        "code": "e1",
        "param": None,
    }
    for payload, nested in (({"error": inner}, True), (inner, False)):
        data = orjson.dumps(payload).decode()
        for tolerant in (False, True):
            event = decode(SSE("error", data), tolerant=tolerant)
            assert isinstance(event, events.ErrorEvent) and event.nested is nested
            assert (event.data.message, event.data.type, event.data.code, event.data.param) == (
                "The server had an error",
                "server_error",
                "e1",
                None,
            )
            assert event.data.extra == {}
            assert_exact(event.to_dict(), payload)
    # Other envelope keys are kept; a wrong shape inside is malformed, at its path.
    event = decode(SSE("error", '{"error": {"message": "m"}, "sequence_number": 3}'))
    assert event.nested and event.to_dict() == {"error": {"message": "m"}, "sequence_number": 3}
    assert_malformed(
        SSE("error", '{"error": {"message": ["m"]}}'),
        "a string or null, got array",
        "error.message",
    )


def test_chatkit_models_have_their_own_module() -> None:
    from streamkit.models import chatkit

    assert chatkit.__all__ and all(
        getattr(models, name) is getattr(chatkit, name) for name in chatkit.__all__
    )
    assert models.ChatKitThread.__module__ == "streamkit.models.chatkit"


def test_tracebacks_through_generated_decoders_show_their_source() -> None:
    import traceback

    try:
        models.MessageDeltaEvent.from_dict({"id": "m", "delta": {"role": 5}})
    except ShapeError as error:
        text = "".join(traceback.format_exception(error))
    else:
        raise AssertionError("no error")
    assert '"<streamkit codec streamkit.models._messages.MessageDeltaEvent>"' in text
    assert "raise e.at('delta') from None" in text  # the generated line, shown
