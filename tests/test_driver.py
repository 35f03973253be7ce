"""The Driver: one pipeline that every edge drives, and the verdicts they therefore share."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import warnings
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamkit
from streamkit import _changes as c
from streamkit._cli import main
from streamkit.events import ThreadMessageDelta

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = ROOT.parent / "shared" / "recordings" / "openai-dotnet"
REAL = sorted(RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else []
IDS = {"thread_id": "thread_1", "assistant_id": "asst_1"}


def sse(event: str, data: object) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {event}\ndata: {text}\n\n".encode()


def run(status: str, run_id: str = "run_1") -> dict[str, Any]:
    return {"id": run_id, "object": "thread.run", "status": status, **IDS}


def message(status: str, text: str | None = None, message_id: str = "msg_1") -> dict[str, Any]:
    content = [] if text is None else [{"type": "text", "text": {"value": text, "annotations": []}}]
    return {
        "id": message_id,
        "object": "thread.message",
        "run_id": "run_1",
        "role": "assistant",
        "status": status,
        "content": content,
        **IDS,
    }


def step(status: str, calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "step_1",
        "object": "thread.run.step",
        "run_id": "run_1",
        "type": "tool_calls",
        "status": status,
        "step_details": {"type": "tool_calls", "tool_calls": calls or []},
        **IDS,
    }


def text_delta(value: str, message_id: str = "msg_1") -> bytes:
    content = [{"index": 0, "type": "text", "text": {"value": value}}]
    return sse("thread.message.delta", {"id": message_id, "delta": {"content": content}})


def call_delta(arguments: str, **first: Any) -> bytes:
    call = {"index": 0, "type": "function", "function": {"arguments": arguments}, **first}
    payload = {
        "id": "step_1",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
    }
    return sse("thread.run.step.delta", payload)


def names(changes: list[c.Change]) -> list[str]:
    return [type(change).__name__ for change in changes]


# --- the driver on its own -------------------------------------------------------------------


def test_feed_gives_each_event_with_its_changes_and_close_says_the_stream_ended() -> None:
    body = (
        sse("thread.run.created", run("queued"))
        + sse("thread.message.created", message("in_progress"))
        + text_delta("Hel")
        + text_delta("lo")
        + sse("thread.run.completed", run("completed"))
    )
    driver = streamkit.Driver()
    seen = [(event.event, names(changes)) for event, changes in driver.feed(body[:100])]
    seen += [(event.event, names(changes)) for event, changes in driver.feed(body[100:])]
    assert [name for name, _ in seen] == [
        "thread.run.created",
        "thread.message.created",
        "thread.message.delta",
        "thread.message.delta",
        "thread.run.completed",
    ]
    assert seen[2][1] == ["ContentPartCreated", "ContentPartDelta", "MessageDeltaApplied"]
    assert driver.close() == [] and not driver.truncated and driver.ended
    assert driver.state.messages["msg_1"].content[0].text.value == "Hello"  # type: ignore[index,union-attr]
    assert (driver.events, driver.bytes) == (5, len(body))


def test_close_reports_a_cut_stream_once_and_records_it() -> None:
    driver = streamkit.Driver()
    list(driver.feed(sse("thread.run.created", run("queued")) + b"event: thread.run.in_pr"))
    ending = driver.close()
    assert names(ending) == ["Problem"] and driver.truncated
    problem = ending[0]
    assert isinstance(problem, c.Problem) and problem.kind == "truncated"
    assert "after 1 event(s), the last 'thread.run.created' (SSE line 1)" in problem.message
    assert driver.state.problems == [problem]
    assert driver.close() == []


def test_an_empty_stream_is_empty_not_cut_short() -> None:
    driver = streamkit.Driver()
    assert list(driver.feed(b": a comment only\n\n")) == []
    assert driver.close() == [] and not driver.truncated


def test_a_stream_cut_inside_its_first_event_is_truncated() -> None:
    driver = streamkit.Driver()
    list(driver.feed(b'event: thread.run.created\ndata: {"id"'))
    [problem] = driver.close()
    assert isinstance(problem, c.Problem) and problem.event is None
    assert "inside its first event" in problem.message


def test_a_continuation_needs_its_own_proper_end() -> None:
    first = streamkit.Driver()
    list(first.feed(sse("thread.run.created", run("queued")) + sse("done", "[DONE]")))
    assert first.close() == []
    # The state carries over; the first stream's ending does not.
    second = streamkit.Driver(state=first.state)
    list(second.feed(sse("thread.run.in_progress", run("in_progress"))))
    assert names(second.close()) == ["Problem"]


def test_step_by_step_lets_an_edge_act_between_decoding_and_folding() -> None:
    driver = streamkit.Driver()
    body = sse("thread.message.created", message("in_progress")) + text_delta("Hi")
    before = []
    for event_sse in driver.receive(body):
        event = driver.decode(event_sse)
        if isinstance(event, ThreadMessageDelta):
            before.append(list(driver.state.messages["msg_1"].content or []))
        driver.apply(event)
    assert before == [[]]


def test_limits_are_the_driver_s() -> None:
    driver = streamkit.Driver(max_line_bytes=64)
    with pytest.raises(streamkit.SSEError):
        list(driver.feed(b"data: " + b"x" * 100 + b"\n\n"))
    big = b"data: " + b"x" * (2 << 20) + b"\n\n"
    with pytest.raises(streamkit.SSEError):  # the default: 1 MiB a line
        list(streamkit.stream(big))
    s = streamkit.stream(big, max_line_bytes=4 << 20, on_truncated="ignore")
    assert [e.event for e in s] == ["message"]


# --- imports ---------------------------------------------------------------------------------

IO_LIBRARIES = ("httpx", "httpx_sse", "anyio", "rich", "starlette", "uvicorn", "redis")


def test_import_streamkit_its_core_and_a_sync_stream_load_no_io_library() -> None:
    code = f"""
import sys, streamkit
loaded = [m for m in {IO_LIBRARIES!r} if m in sys.modules]
d = streamkit.Driver()
body = b'event: thread.run.created\\ndata: {{"id": "r", "status": "queued"}}\\n\\n'
list(d.feed(body))
assert d.close() != []
streamkit.State, streamkit.decode, streamkit.SSEParser, streamkit.EventHandler
core = [m for m in {IO_LIBRARIES!r} if m in sys.modules]
streamkit.stream(body + b"event: done\\ndata: [DONE]\\n\\n").until_done()
streamkit.record
sync = [m for m in {IO_LIBRARIES!r} if m in sys.modules]
print(loaded, core, sync)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[] [] []"


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in streamkit.__all__:
        assert getattr(streamkit, name) is not None
    assert set(streamkit.__all__) <= set(dir(streamkit))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        streamkit.nope  # noqa: B018


def test_extras_list_only_packages_the_source_uses() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "streamkit").rglob("*.py"))
    for extra, requirements in project["optional-dependencies"].items():
        if extra in ("dev", "bench"):
            continue
        for requirement in requirements:
            module = requirement.split(">")[0].split("[")[0].strip().replace("-", "_")
            assert f"import {module}" in source or f"from {module}" in source, (extra, module)


# --- lifecycles: done exactly once, and completed by the run's end ---------------------------


def test_a_run_that_ends_finishes_what_it_left_open_exactly_once() -> None:
    state = streamkit.State(strict=False)
    changes: list[c.Change] = []
    body = (
        sse("thread.run.created", run("queued"))
        + sse("thread.run.step.created", step("in_progress"))
        + call_delta('{"ci', id="call_1")
        + sse("thread.message.created", message("in_progress"))
        + text_delta("Hal")
        + sse("thread.run.failed", run("failed"))
        # A server that still sends the children's ends: nothing fires twice.
        + sse("thread.run.step.completed", step("completed"))
        + sse("thread.message.completed", message("completed", "Hal"))
    )
    driver = streamkit.Driver(state=state)
    for _, step_changes in driver.feed(body):
        changes += step_changes
    counts = {name: names(changes).count(name) for name in set(names(changes))}
    for done in ("RunFinished", "StepDone", "ToolCallDone", "MessageDone", "ContentPartDone"):
        assert counts[done] == 1, done
    failed = names(changes).index("RunFinished")
    assert names(changes)[failed - 1] == "Problem"  # left_open, just before RunFinished
    [left_open] = [p for p in state.problems if p.kind == "left_open"]
    assert "step step_1 ('in_progress')" not in left_open.message
    assert "step step_1 (in_progress)" in left_open.message
    assert "message msg_1 (in_progress)" in left_open.message
    assert driver.close() == []


def test_the_left_open_children_keep_the_server_s_status() -> None:
    state = streamkit.State()  # strict: nothing here is raised
    body = (
        sse("thread.run.created", run("queued"))
        + sse("thread.message.created", message("in_progress"))
        + sse("thread.run.cancelled", run("cancelled"))
    )
    for event, _ in streamkit.Driver(state=state).feed(body):
        assert event is not None
    assert state.messages["msg_1"].status == "in_progress"  # not invented
    assert [p.kind for p in state.problems] == ["left_open"]


def test_lenient_recompletion_does_not_fire_done_twice() -> None:
    state = streamkit.State(strict=False)
    changes: list[c.Change] = []
    body = (
        sse("thread.message.created", message("in_progress"))
        + sse("thread.message.completed", message("completed", "a"))
        + sse("thread.message.in_progress", message("in_progress", "a"))
        + sse("thread.message.completed", message("completed", "a"))
        + sse("thread.run.completed", run("completed"))
        + sse("thread.run.in_progress", run("in_progress"))
        + sse("thread.run.completed", run("completed"))
    )
    for _, step_changes in streamkit.Driver(state=state).feed(body):
        changes += step_changes
    assert names(changes).count("MessageDone") == 1
    assert names(changes).count("ContentPartDone") == 1
    assert names(changes).count("RunFinished") == 1
    assert [p.kind for p in state.problems] == ["illegal_transition", "illegal_transition"]


# --- neutral Changes ------------------------------------------------------------------------


def test_changes_carry_kind_and_text() -> None:
    body = (
        sse("thread.run.created", run("queued"))
        + sse("thread.run.step.created", step("in_progress"))
        + call_delta('{"city":', id="call_1")
        + call_delta(' "Oslo"}')
        + sse("thread.message.created", message("in_progress"))
        + text_delta("Hi")
    )
    changes = [ch for _, chs in streamkit.Driver().feed(body) for ch in chs]
    calls = [ch for ch in changes if isinstance(ch, c.ToolCallDelta)]
    assert [(ch.kind, ch.text) for ch in calls] == [
        ("function", '{"city":'),
        ("function", ' "Oslo"}'),
    ]
    [created] = [ch for ch in changes if isinstance(ch, c.ToolCallCreated)]
    assert created.kind == "function"
    [part] = [ch for ch in changes if isinstance(ch, c.ContentPartDelta)]
    assert (part.kind, part.text) == ("text", "Hi")


def test_an_unknown_object_error_says_what_to_do() -> None:
    with pytest.raises(streamkit.ProtocolError, match=r"state=.*strict=False"):
        list(streamkit.Driver().feed(text_delta("orphan")))


def test_a_mismatch_names_the_fields_that_differ() -> None:
    state = streamkit.State()
    body = (
        sse("thread.message.created", message("in_progress"))
        + text_delta("Hello")
        + sse("thread.message.completed", message("completed", "Help"))
    )
    list(streamkit.Driver(state=state).feed(body))
    [problem] = state.problems
    assert problem.kind == "mismatch"
    assert "content[0].text.value" in problem.message
    assert problem.detail["fields"] == ["content[0].text.value"]


# --- every edge agrees: stream, astream, inspect, validate ----------------------------------

#: What the CLI reports beyond the fold's problems: facts about the bytes and the file.
CLI_ONLY = {"server_error", "missing_data", "dataless_block", "unterminated_block"}


def verdict_of_stream(body: bytes) -> tuple[bool, list[tuple[str, str]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = streamkit.stream(body, strict=False, tolerant=True, on_truncated="ignore")
        s.until_done()
    return s.truncated, sorted((p.kind, p.message) for p in s.state.problems)


def verdict_of_astream(body: bytes) -> tuple[bool, list[tuple[str, str]]]:
    async def go() -> tuple[bool, list[tuple[str, str]]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = streamkit.astream(body, strict=False, tolerant=True, on_truncated="ignore")
            await s.until_done()
        return s.truncated, sorted((p.kind, p.message) for p in s.state.problems)

    return anyio.run(go)


def verdict_of_cli(
    body: bytes, tmp: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[bool, list[tuple[str, str]]], tuple[bool, list[tuple[str, str]]]]:
    path = tmp / "body.sse"
    path.write_bytes(body)
    capsys.readouterr()
    assert main(["inspect", "--json", str(path)]) == 0
    problems = json.loads(capsys.readouterr().out)["problems"]
    inspected = [(p["kind"], p["message"]) for p in problems if p["kind"] not in CLI_ONLY]
    status = main(["validate", str(path)])
    out = capsys.readouterr().out
    validated = []
    for line in out.splitlines():
        if line.startswith(f"{path}: clean:"):
            continue
        kind, message = line[len(str(path)) + 1 :].split(": ", 2)[1:]
        if kind not in CLI_ONLY:
            validated.append((kind, message))
    assert status == (1 if problems else 0)
    return (
        (any(k == "truncated" for k, _ in inspected), sorted(inspected)),
        (any(k == "truncated" for k, _ in validated), sorted(validated)),
    )


def _pieces() -> st.SearchStrategy[bytes]:
    ok_events = [
        sse("thread.run.created", run("queued")),
        sse("thread.run.in_progress", run("in_progress")),
        sse("thread.run.completed", run("completed")),
        sse("thread.run.completed", run("incomplete")),  # a real server's quirk
        sse("thread.run.requires_action", run("requires_action")),
        sse("thread.message.created", message("in_progress")),
        text_delta("one "),
        text_delta("two"),
        sse("thread.message.completed", message("completed", "one two")),
        sse("thread.run.step.created", step("in_progress")),
        call_delta("{}", id="call_1"),
        sse("thread.run.step.completed", step("completed")),
        sse("error", {"error": {"message": "boom", "type": "server_error", "code": None}}),
        sse("error", {"message": "bare", "type": "server_error", "code": "x"}),
        sse("done", "[DONE]"),
        sse("thread.run.step.delta", "{not json"),
        sse("thread.message.delta", '{"id": "msg_1", "delta": {}}}'),
        sse("some.future.event", {"x": 1}),
        b": keep-alive\n\n",
        b"event: thread.run.failed\n\n",
    ]
    return st.sampled_from(ok_events)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    if REAL and draw(st.booleans()):
        body = draw(st.sampled_from(REAL)).read_bytes()
    else:
        body = b"".join(draw(st.lists(_pieces(), max_size=12)))
    cut = draw(st.integers(0, len(body)))
    return body[:cut] if draw(st.booleans()) else body


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies())
def test_stream_astream_inspect_and_validate_agree(
    body: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = verdict_of_stream(body)
    assert verdict_of_astream(body) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not any(True for _ in streamkit.Driver(strict=False, tolerant=True).feed(body)):
            return  # no event at all: the CLI refuses the file ("no events found")
    inspected, validated = verdict_of_cli(body, tmp_path, capsys)
    assert inspected == expected
    assert validated == expected


def test_an_error_event_then_the_end_is_not_truncated_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = sse("thread.run.created", run("queued")) + sse(
        "error", {"error": {"message": "boom", "type": "server_error"}}
    )
    assert verdict_of_stream(body) == (False, [])
    assert verdict_of_cli(body, tmp_path, capsys) == ((False, []), (False, []))


# --- hostile input: exactly once, and nothing dropped silently (issue 11) -------------------


def fold_all(body: bytes, *, strict: bool = False) -> tuple[streamkit.State, list[c.Change]]:
    state = streamkit.State(strict=strict)
    driver = streamkit.Driver(state=state)
    return state, [change for _, step_changes in driver.feed(body) for change in step_changes]


def part_delta(index: int, value: str) -> bytes:
    content = [{"index": index, "type": "text", "text": {"value": value}}]
    return sse("thread.message.delta", {"id": "msg_1", "delta": {"content": content}})


def test_sparse_part_indices_are_created_and_done_once() -> None:
    two_parts = message("completed", "a")
    two_parts["content"] = [
        {"type": "text", "text": {"value": "a", "annotations": []}},
        {"type": "text", "text": {"value": "b", "annotations": []}},
    ]
    body = (
        sse("thread.message.created", message("in_progress"))
        + part_delta(0, "a")
        + part_delta(2, "b")
        + sse("thread.message.completed", two_parts)
    )
    state, changes = fold_all(body)
    assert names(changes).count("ContentPartCreated") == 2
    assert names(changes).count("ContentPartDone") == 2
    done = [ch for ch in changes if isinstance(ch, c.ContentPartDone)]
    assert [(ch.index, ch.part.text.value) for ch in done] == [(0, "a"), (2, "b")]  # type: ignore[union-attr]
    assert [p.kind for p in state.problems] == ["reindexed"]
    assert "indices [0, 2]" in state.problems[0].message


def test_sparse_tool_call_indices_are_created_and_done_once() -> None:
    def call(index: int, call_id: str) -> bytes:
        item = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": "f", "arguments": "{}"},
        }
        details = {"type": "tool_calls", "tool_calls": [item]}
        return sse("thread.run.step.delta", {"id": "step_1", "delta": {"step_details": details}})

    final_calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "f", "arguments": "{}", "output": None},
        }
        for i in (0, 3)
    ]
    body = (
        sse("thread.run.step.created", step("in_progress"))
        + call(0, "call_0")
        + call(3, "call_3")
        + sse("thread.run.step.completed", step("completed", final_calls))
    )
    _, changes = fold_all(body)
    assert names(changes).count("ToolCallCreated") == 2
    assert names(changes).count("ToolCallDone") == 2


def test_a_second_created_keeps_the_text_and_is_noted_not_raised() -> None:
    body = (
        sse("thread.message.created", message("in_progress"))
        + text_delta("kept")
        + sse("thread.message.created", message("in_progress"))  # Azure sends such repeats
        + text_delta(" text")
        + sse("thread.message.completed", message("completed", "kept text"))
    )
    for strict in (True, False):
        state, changes = fold_all(body, strict=strict)
        assert state.messages["msg_1"].content[0].text.value == "kept text"  # type: ignore[index,union-attr]
        assert [p.kind for p in state.problems] == ["created_again"]
        assert names(changes).count("MessageCreated") == 1


def test_an_event_after_done_is_noted_and_starts_another_answer() -> None:
    first = sse("thread.run.created", run("queued")) + sse("done", "[DONE]")
    second = sse("thread.run.in_progress", run("in_progress"))
    for strict in (True, False):
        state, _ = fold_all(first + second, strict=strict)  # never raised
        assert [p.kind for p in state.problems] == ["after_done"]
        assert "line 7 follows a 'done' event" in state.problems[0].message
        assert state.runs["run_1"].status == "in_progress"
    # Each answer's end is judged on its own: the second one here was cut short.
    driver = streamkit.Driver()
    list(driver.feed(first + second))
    assert [p.kind for p in driver.close()] == ["truncated"]
    driver = streamkit.Driver()
    list(driver.feed(first + second + sse("thread.run.completed", run("completed"))))
    assert driver.close() == []


def test_a_bom_in_mid_stream_is_reported_not_dropped_silently() -> None:
    body = (
        sse("thread.message.created", message("in_progress"))
        + b"\xef\xbb\xbf"
        + text_delta("lost?")
        + sse("thread.message.completed", message("completed", "lost?"))
    )
    state, changes = fold_all(body)
    [problem] = [p for p in state.problems if p.kind == "unnamed_event"]
    assert "byte order mark" in problem.message and "line 4" in problem.message
    assert "UnknownReceived" in names(changes)


def test_a_file_search_delta_of_a_bad_shape_is_a_problem_not_a_crash() -> None:
    call = {"index": 0, "id": "fs_1", "type": "file_search", "file_search": {"results": 7}}
    details = {"type": "tool_calls", "tool_calls": [call]}
    body = sse("thread.run.step.created", step("in_progress")) + sse(
        "thread.run.step.delta", {"id": "step_1", "delta": {"step_details": details}}
    )
    with pytest.raises(streamkit.ProtocolError, match="results"):
        fold_all(body, strict=True)
    state, _ = fold_all(body)
    assert [p.kind for p in state.problems] == ["malformed"]


def test_file_search_deltas_merge_without_re_encoding_the_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0.1.0 re-encoded everything merged so far on each delta (quadratic): the merge now
    # decodes only the delta's keys and never encodes the call.
    from streamkit.models import FileSearch

    encoded: list[object] = []
    original = FileSearch.to_dict
    monkeypatch.setattr(FileSearch, "to_dict", lambda self: encoded.append(self) or original(self))

    def delta(key: str, value: object, first: bool = False) -> bytes:
        call: dict[str, Any] = {"index": 0, "type": "file_search", "file_search": {key: value}}
        if first:
            call["id"] = "fs_1"
        details = {"type": "tool_calls", "tool_calls": [call]}
        return sse("thread.run.step.delta", {"id": "step_1", "delta": {"step_details": details}})

    body = sse("thread.run.step.created", step("in_progress")) + delta(
        "ranking_options", {"ranker": "auto", "score_threshold": 0.5}, first=True
    )
    body += b"".join(delta(f"result_{i}", {"score": i}) for i in range(200))
    state, _ = fold_all(body, strict=True)
    assert encoded == []
    call = state.steps["step_1"].step_details.tool_calls[0]  # type: ignore[union-attr]
    merged = call.file_search.to_dict()
    assert merged["ranking_options"]["ranker"] == "auto" and merged["result_199"] == {"score": 199}
    assert len(merged) == 201
