"""The Responses fold: real recordings fold to their completed response; any split of
deltas, any interleaving of items and any chunking fold to the same snapshots; sequence
numbers, missing announcements, mismatches, hosted tools, errors and ends."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _responses_streams import call, item_events, message, number, response, sse, whole
from streamkit import Driver, ProtocolError
from streamkit.fold import (
    ContentPartDelta,
    ContentPartDone,
    ErrorReceived,
    MessageDone,
    Problem,
    RunFinished,
    ToolCallCreated,
    ToolCallDelta,
    ToolCallDone,
)
from streamkit.models.responses import FunctionCall, OutputMessage, Response
from streamkit.protocols.responses import RESPONSES, ResponsesState, ToolCallProgress

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "responses"
FILES = sorted(RECORDINGS.glob("*.sse"))


def fold(body: bytes, *, strict: bool = True, chunk: int | None = None) -> tuple[Driver, list[Any]]:
    driver = Driver(protocol=RESPONSES, strict=strict)
    changes: list[Any] = []
    pieces = [body] if chunk is None else [body[i : i + chunk] for i in range(0, len(body), chunk)]
    for piece in pieces:
        for _, found in driver.feed(piece):
            changes.extend(found)
    changes.extend(driver.close())
    return driver, changes


def final_response(body: bytes) -> dict[str, Any]:
    last = [line for line in body.decode().splitlines() if line.startswith("data: {")][-1]
    return json.loads(last[6:])["response"]  # type: ignore[no-any-return]


@pytest.mark.external
@pytest.mark.skipif(not FILES, reason="no Responses recordings")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_recordings_fold_to_their_completed_response(path: Path) -> None:
    body = path.read_bytes()
    driver, changes = fold(body)
    state = driver.state
    assert isinstance(state, ResponsesState)
    assert not driver.truncated and state.problems == []
    assert state.current_run is not None
    assert state.current_run.to_dict() == final_response(body)
    assert [type(ch) for ch in changes if isinstance(ch, RunFinished)] == [RunFinished]
    # every item created is done exactly once, and the text deltas spell the final text
    done = [ch for ch in changes if isinstance(ch, (MessageDone, ToolCallDone))]
    assert len(done) == len(state.current_run.output or [])
    for item in state.current_run.output or []:
        if isinstance(item, OutputMessage):
            text = "".join(
                ch.text for ch in changes if isinstance(ch, ContentPartDelta) and ch.message is item
            )
            assert text == "".join(getattr(p, "text", "") or "" for p in item.content or [])
        if isinstance(item, FunctionCall):
            args = "".join(
                ch.text for ch in changes if isinstance(ch, ToolCallDelta) and ch.tool_call is item
            )
            assert args == item.arguments


@pytest.mark.external
@pytest.mark.skipif(not FILES, reason="no Responses recordings")
def test_recordings_fold_alike_in_any_chunking() -> None:
    body = max(FILES, key=lambda p: p.stat().st_size).read_bytes()
    whole_driver, whole_changes = fold(body)
    for size in (1, 7, 4096):
        driver, changes = fold(body, chunk=size)
        assert driver.state.current_run.to_dict() == whole_driver.state.current_run.to_dict()
        assert [(type(a), getattr(a, "text", None)) for a in changes] == [
            (type(b), getattr(b, "text", None)) for b in whole_changes
        ]


# -- any split, any interleaving, any chunking ------------------------------------------------

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


def split(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A response with up to 4 items (messages and function calls), each item's text split
    anyhow, the items' events interleaved anyhow (each item's own events in order)."""
    count = draw(st.integers(1, 4))
    items: list[dict[str, Any]] = []
    queues: list[list[dict[str, Any]]] = []
    for index in range(count):
        text = draw(texts)
        if draw(st.booleans()):
            item = message(f"msg_{index}", text)
        else:
            item = call(f"fc_{index}", json.dumps({"q": text}))
            text = item["arguments"]
        items.append(item)
        queues.append(item_events(index, item, split(draw, text), announce=draw(st.booleans())))
    body: list[dict[str, Any]] = []
    while any(queues):
        open_ = [q for q in queues if q]
        body.append(open_[draw(st.integers(0, len(open_) - 1))].pop(0))
    return items, whole(items, body)


@settings(max_examples=150, deadline=None)
@given(streams(), st.integers(1, 64), st.booleans())
def test_any_split_and_interleaving_folds_to_the_final_response(
    stream: tuple[list[dict[str, Any]], list[dict[str, Any]]], chunk: int, named: bool
) -> None:
    items, events = stream
    body = sse(events, named=named)
    driver, changes = fold(body)
    state = driver.state
    assert state.problems == [] and not driver.truncated
    assert state.current_run.to_dict() == events[-1]["response"]
    created = [ch.index for ch in changes if isinstance(ch, ToolCallCreated)]
    assert len(created) == len(set(created))  # created once
    done = [ch for ch in changes if isinstance(ch, (MessageDone, ToolCallDone))]
    assert len(done) == len(items)  # done exactly once
    parts_done = [ch for ch in changes if isinstance(ch, ContentPartDone)]
    assert len(parts_done) == sum(1 for item in items if item["type"] == "message")
    for index, item in enumerate(items):
        pieces = [
            ch.text
            for ch in changes
            if isinstance(ch, (ContentPartDelta, ToolCallDelta))
            and ch.event.data.output_index == index
        ]
        expected = item["content"][0]["text"] if item["type"] == "message" else item["arguments"]
        assert "".join(pieces) == expected
    chunked, chunked_changes = fold(body, chunk=chunk)
    assert chunked.state.current_run.to_dict() == state.current_run.to_dict()
    assert [(type(a), getattr(a, "text", None)) for a in chunked_changes] == [
        (type(b), getattr(b, "text", None)) for b in changes
    ]


# -- sequence numbers -----------------------------------------------------------------------


def _text_stream(pieces: list[str]) -> list[dict[str, Any]]:
    item = message("msg_1", "".join(pieces))
    return whole([item], item_events(0, item, pieces))


@pytest.mark.parametrize(
    ("edit", "kind", "numbers"),
    [
        (lambda ev: ev[:6] + ev[7:], "sequence_gap", "sequence_number 7 after 5"),
        (lambda ev: [*ev[:6], ev[5], *ev[6:]], "sequence_repeat", "sequence_number 5 after 5"),
        (lambda ev: [*ev[:6], ev[4], *ev[6:]], "sequence_backwards", "sequence_number 4 after 5"),
    ],
)
def test_sequence_numbers_out_of_order_are_problems_naming_both(
    edit: Any, kind: str, numbers: str
) -> None:
    events = _text_stream(["He", "ll", "o!"])
    body = sse(edit(events))
    with pytest.raises(ProtocolError, match=numbers):
        fold(body)
    driver, _ = fold(body, strict=False)
    problems = [p for p in driver.state.problems if p.kind == kind]
    assert len(problems) == 1 and numbers in problems[0].message
    item = driver.state.current_run.output[0]
    if kind != "sequence_gap":
        # a repeat or a step back is not applied twice: the text is right
        assert item.content[0].text == "Hello!"


def test_a_stream_starting_mid_way_continues() -> None:
    events = _text_stream(["a", "b", "c", "d"])
    first, rest = sse(events[:7]), sse(events[7:])
    driver = Driver(protocol=RESPONSES)
    list(driver.feed(first))
    assert driver.close()  # cut short
    resumed = Driver(protocol=RESPONSES, state=driver.state)
    for _ in resumed.feed(rest):
        pass
    assert resumed.close() == []
    problems = [p for p in driver.state.problems if p.kind != "truncated"]
    assert problems == []
    assert driver.state.current_run.output[0].content[0].text == "abcd"
    # a fresh state meeting a stream that starts at sequence_number > 0 keeps reading
    alone = Driver(protocol=RESPONSES)
    out = [ch for _, chs in alone.feed(rest) for ch in chs]
    assert alone.close() == []
    assert any(isinstance(ch, Problem) and ch.kind == "no_response" for ch in out)
    assert alone.state.current_run.to_dict() == events[-1]["response"]


# -- items never announced, mismatches ------------------------------------------------------


def test_items_without_output_item_added_are_created_from_their_first_delta() -> None:
    text, args = message("msg_1", "Hi there"), call("fc_1", '{"a":1}')
    body = [
        *item_events(0, text, ["Hi", " there"], announce=False),
        *item_events(1, args, ['{"a"', ":1}"], announce=False),
    ]
    driver, changes = fold(sse(whole([text, args], body)))
    assert driver.state.problems == []
    created = [type(ch).__name__ for ch in changes if type(ch).__name__.endswith("Created")]
    assert created == ["RunCreated", "MessageCreated", "ContentPartCreated", "ToolCallCreated"]
    assert driver.state.current_run.to_dict()["output"] == [text, args]


def test_a_done_item_that_differs_is_a_mismatch_naming_the_field() -> None:
    item = message("msg_1", "Hello")
    events = item_events(0, item, ["Hel", "lo"])
    events[-1] = dict(events[-1], item=message("msg_1", "Help"))
    driver, _ = fold(sse(whole([message("msg_1", "Help")], events)), strict=True)
    mismatches = [p for p in driver.state.problems if p.kind == "mismatch"]
    assert mismatches and "content[0].text" in mismatches[0].message
    assert driver.state.current_run.output[0].content[0].text == "Help"  # the server's


# -- hosted tools, errors, events outside the union ----------------------------------------


def test_hosted_tool_status_events_are_progress() -> None:
    search = {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}
    done = dict(search, status="completed", action={"type": "search", "query": "x"})
    body = [
        {"type": "response.output_item.added", "output_index": 0, "item": search},
        {"type": "response.web_search_call.in_progress", "item_id": "ws_1", "output_index": 0},
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
        {"type": "response.web_search_call.completed", "item_id": "ws_1", "output_index": 0},
        {"type": "response.output_item.done", "output_index": 0, "item": done},
    ]
    driver, changes = fold(sse(whole([done], body)))
    assert driver.state.problems == []
    assert [ch.status for ch in changes if isinstance(ch, ToolCallProgress)] == [
        "in_progress",
        "searching",
        "completed",
    ]
    assert [ch.kind for ch in changes if isinstance(ch, ToolCallDone)] == ["web_search_call"]


def test_an_error_then_failed_ends_the_stream_with_the_error() -> None:
    failed = response("failed")
    failed["error"] = {"code": "server_error", "message": "boom"}
    events = number(
        [
            {"type": "response.created", "response": response("in_progress")},
            {
                "type": "error",
                "error": {"type": "server_error", "code": "server_error", "message": "boom"},
            },
            {"type": "response.failed", "response": failed},
        ]
    )
    driver, changes = fold(sse(events))
    errors = [ch for ch in changes if isinstance(ch, ErrorReceived)]
    assert errors and errors[0].error.message == "boom"
    assert (
        isinstance(driver.state.current_run, Response)
        and driver.state.current_run.status == "failed"
    )
    assert not driver.truncated and any(isinstance(ch, RunFinished) for ch in changes)
    only_error = sse(number([{"type": "error", "code": "x", "message": "flat"}]))
    driver, changes = fold(only_error)
    assert not driver.truncated
    assert [ch.error.message for ch in changes if isinstance(ch, ErrorReceived)] == ["flat"]


def test_keepalive_and_rate_limits_never_end_the_stream() -> None:
    events = _text_stream(["x"])
    extra = [{"type": "keepalive"}, {"type": "response.rate_limits.updated", "rate_limits": []}]
    cut = sse(events[:4]) + sse(extra)
    driver, changes = fold(cut)
    assert driver.truncated  # the keepalive did not end it
    assert sum(type(ch).__name__ == "UnknownReceived" for ch in changes) == 2
    after = sse(events) + sse(extra, named=False) + b"data: [DONE]\n\n"
    driver, _ = fold(after)
    assert not driver.truncated and driver.state.problems == []


def test_a_cut_stream_is_truncated_naming_the_rule() -> None:
    events = _text_stream(["x", "y"])
    driver, changes = fold(sse(events[:-1]))
    assert driver.truncated
    assert "response.completed" in changes[-1].message


# -- every kind of delta --------------------------------------------------------------------


def _every_kind() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A response with a message (text + annotation, refusal), reasoning text, a custom tool
    call, an MCP call, a code interpreter call and an image generation: every delta kind."""
    cite = {
        "type": "url_citation",
        "url": "https://a.example",
        "title": "A",
        "start_index": 0,
        "end_index": 2,
    }
    text = {"type": "output_text", "text": "Hi", "annotations": [cite], "logprobs": []}
    refusal = {"type": "refusal", "refusal": "No."}
    msg = {
        "id": "m",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [text, refusal],
    }
    reasoning = {
        "id": "r",
        "type": "reasoning",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "think"}],
    }
    custom = {
        "id": "ct",
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": "c1",
        "name": "grep",
        "input": "a*b",
    }
    mcp = {
        "id": "mc",
        "type": "mcp_call",
        "status": "completed",
        "server_label": "s",
        "name": "ask",
        "arguments": '{"q":1}',
        "output": "ok",
    }
    code = {
        "id": "ci",
        "type": "code_interpreter_call",
        "status": "completed",
        "container_id": "cnt",
        "code": "print(1)",
        "outputs": [],
    }
    image = {"id": "ig", "type": "image_generation_call", "status": "completed", "result": "QUJD"}
    items = [msg, reasoning, custom, mcp, code, image]

    def at(i: int, item_id: str, **more: Any) -> dict[str, Any]:
        return {"item_id": item_id, "output_index": i, **more}

    body = [
        {"type": "response.output_text.delta", **at(0, "m", content_index=0), "delta": "H"},
        {"type": "response.output_text.delta", **at(0, "m", content_index=0), "delta": "i"},
        {
            "type": "response.output_text.annotation.added",
            **at(0, "m", content_index=0),
            "annotation_index": 0,
            "annotation": cite,
        },
        {"type": "response.refusal.delta", **at(0, "m", content_index=1), "delta": "No"},
        {"type": "response.refusal.delta", **at(0, "m", content_index=1), "delta": "."},
        {"type": "response.refusal.done", **at(0, "m", content_index=1), "refusal": "No."},
        {"type": "response.reasoning_text.delta", **at(1, "r", content_index=0), "delta": "thi"},
        {"type": "response.reasoning_text.delta", **at(1, "r", content_index=0), "delta": "nk"},
        {"type": "response.reasoning_text.done", **at(1, "r", content_index=0), "text": "think"},
        {"type": "response.custom_tool_call_input.delta", **at(2, "ct"), "delta": "a*"},
        {"type": "response.custom_tool_call_input.delta", **at(2, "ct"), "delta": "b"},
        {"type": "response.custom_tool_call_input.done", **at(2, "ct"), "input": "a*b"},
        {"type": "response.mcp_call.in_progress", **at(3, "mc")},
        {"type": "response.mcp_call_arguments.delta", **at(3, "mc"), "delta": '{"q":1}'},
        {"type": "response.mcp_call_arguments.done", **at(3, "mc"), "arguments": '{"q":1}'},
        {"type": "response.mcp_call.completed", **at(3, "mc")},
        {"type": "response.code_interpreter_call.in_progress", **at(4, "ci")},
        {"type": "response.code_interpreter_call_code.delta", **at(4, "ci"), "delta": "print("},
        {"type": "response.code_interpreter_call_code.delta", **at(4, "ci"), "delta": "1)"},
        {"type": "response.code_interpreter_call_code.done", **at(4, "ci"), "code": "print(1)"},
        {"type": "response.code_interpreter_call.interpreting", **at(4, "ci")},
        {"type": "response.code_interpreter_call.completed", **at(4, "ci")},
        {"type": "response.image_generation_call.in_progress", **at(5, "ig")},
        {"type": "response.image_generation_call.generating", **at(5, "ig")},
        {
            "type": "response.image_generation_call.partial_image",
            **at(5, "ig"),
            "partial_image_index": 0,
            "partial_image_b64": "QQ",
        },
        {"type": "response.image_generation_call.completed", **at(5, "ig")},
        *(
            {"type": "response.output_item.done", "output_index": i, "item": item}
            for i, item in enumerate(items)
        ),
    ]
    return items, whole(items, body)


def test_every_kind_of_delta_folds_to_the_final_items() -> None:
    items, events = _every_kind()
    driver, changes = fold(sse(events))
    assert driver.state.problems == []
    assert driver.state.current_run.to_dict() == events[-1]["response"]
    texts: dict[tuple[str, str], str] = {}
    for ch in changes:
        if isinstance(ch, (ContentPartDelta, ToolCallDelta)):
            texts[ch.kind, ch.event.data.item_id] = (
                texts.get((ch.kind, ch.event.data.item_id), "") + ch.text
            )
    assert texts == {
        ("text", "m"): "Hi",
        ("refusal", "m"): "No.",
        ("reasoning", "r"): "think",
        ("custom_tool_call", "ct"): "a*b",
        ("mcp_call", "mc"): '{"q":1}',
        ("code_interpreter_call", "ci"): "print(1)",
    }
    progress = [(ch.kind, ch.status) for ch in changes if isinstance(ch, ToolCallProgress)]
    assert ("image_generation_call", "partial_image") in progress
    assert ("code_interpreter_call", "interpreting") in progress
    done = [ch for ch in changes if isinstance(ch, (MessageDone, ToolCallDone))]
    assert len(done) == len(items)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_lenient_fold_of_any_mangled_stream_never_raises(data: st.DataObject) -> None:
    """Events dropped, repeated or swapped: a lenient fold reads on, and still ends each
    object once."""
    _, events = _every_kind()
    mangled = list(events)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(mangled) - 1))
        how = data.draw(st.sampled_from(["drop", "repeat", "swap", "renumber"]))
        if how == "drop":
            del mangled[i]
        elif how == "repeat":
            mangled.insert(i, mangled[i])
        elif how == "swap" and i + 1 < len(mangled):
            mangled[i], mangled[i + 1] = mangled[i + 1], mangled[i]
        elif how == "renumber":
            mangled = number(mangled)
        if not mangled:
            return
    _, changes = fold(sse(mangled), strict=False)
    finished = [
        getattr(ch, "message", None) or getattr(ch, "tool_call", None)
        for ch in changes
        if isinstance(ch, (MessageDone, ToolCallDone))
    ]
    assert len({id(x) for x in finished}) == len(finished)  # done once each


def test_a_replay_from_the_start_skips_what_was_read() -> None:
    """The official SDKs resume by replaying the stream from its start: the events already
    read are skipped, the rest continue the snapshot."""
    events = _text_stream(["a", "b", "c", "d"])
    driver = Driver(protocol=RESPONSES)
    list(driver.feed(sse(events[:7])))
    assert driver.close()
    again = Driver(protocol=RESPONSES, state=driver.state)
    changes = [ch for _, chs in again.feed(sse(events)) for ch in chs]
    assert again.close() == []
    assert [p.kind for p in driver.state.problems] == ["truncated", "replayed"]
    assert driver.state.current_run.to_dict() == events[-1]["response"]
    assert "".join(ch.text for ch in changes if isinstance(ch, ContentPartDelta)) == "d"


def test_the_next_response_of_a_tool_loop_numbers_afresh() -> None:
    first = _text_stream(["x"])
    second = [dict(e) for e in _text_stream(["y"])]
    for event in second:
        if "response" in event:
            event["response"] = dict(event["response"], id="resp_next")
    driver = Driver(protocol=RESPONSES)
    list(driver.feed(sse(first)))
    driver.next_input()
    list(driver.feed(sse(second)))
    assert driver.close() == [] and driver.state.problems == []
    assert list(driver.state.responses) == ["resp_test", "resp_next"]


def test_an_incomplete_response_finishes_what_it_left_open() -> None:
    item = message("msg_1", "Hel", status="incomplete")
    events = item_events(0, item, ["Hel"])[:-1]  # no output_item.done
    final = dict(response("incomplete", [item]), incomplete_details={"reason": "max_output_tokens"})
    stream = number(
        [
            {"type": "response.created", "response": response("queued")},
            {"type": "response.in_progress", "response": response("in_progress")},
            *events,
            {"type": "response.incomplete", "response": final},
        ]
    )
    driver, changes = fold(sse(stream))
    assert not driver.truncated
    assert [p.kind for p in driver.state.problems] == ["left_open"]
    assert "message item msg_1" in driver.state.problems[0].message
    assert sum(isinstance(ch, MessageDone) for ch in changes) == 1
    statuses = [
        (ch.previous, ch.status) for ch in changes if type(ch).__name__ == "RunStatusChanged"
    ]
    assert statuses == [(None, "queued"), ("queued", "in_progress"), ("in_progress", "incomplete")]
    run = driver.state.current_run
    assert run.to_dict() == final and run.incomplete_details.reason == "max_output_tokens"


def test_a_response_cannot_move_back_from_completed() -> None:
    events = _text_stream(["x"])
    back = {"type": "response.in_progress", "response": response("in_progress")}
    body = sse([*events, {**back, "sequence_number": len(events)}])
    with pytest.raises(ProtocolError, match="cannot move to 'in_progress'"):
        fold(body)
    driver, _ = fold(body, strict=False)
    assert [p.kind for p in driver.state.problems] == ["illegal_transition"]


def test_an_item_announced_after_its_first_delta_keeps_what_was_folded() -> None:
    item = message("msg_1", "Hi!")
    events = item_events(0, item, ["Hi", "!"])
    added, part_added = events[0], events[1]
    late = [events[2], added, part_added, *events[3:]]  # a delta before the announcements
    driver, changes = fold(sse(whole([item], late)))
    assert [p.kind for p in driver.state.problems] == ["created_again"]
    assert driver.state.current_run.to_dict()["output"] == [item]
    assert sum(type(ch).__name__ == "MessageCreated" for ch in changes) == 1


def test_tolerant_decoding_turns_a_bad_event_into_a_problem() -> None:
    events = _text_stream(["a", "b"])
    body = sse(events).replace(b'"delta": "a"', b'"delta": 5', 1)
    driver = Driver(protocol=RESPONSES, tolerant=True)
    changes = [ch for _, chs in driver.feed(body) for ch in chs]
    assert driver.close() == []
    problem, *after = [ch for ch in changes if isinstance(ch, Problem)]
    assert problem.kind == "malformed" and "delta" in problem.message
    # the lost delta: no sequence gap (its number was read), and the server's text wins
    assert after and {p.kind for p in after} == {"mismatch"}
    assert "text" in after[0].message
    assert driver.state.current_run.to_dict() == events[-1]["response"]
