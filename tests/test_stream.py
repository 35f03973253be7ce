"""stream() / astream(): iteration views, final getters, truncation, errors, cancellation."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

from streamkit import _changes as c
from streamkit._errors import MalformedEventError, ProtocolError
from streamkit._handler import AsyncEventHandler, EventHandler
from streamkit._stream import (
    AsyncStream,
    Stream,
    StreamTruncated,
    StreamTruncatedWarning,
    astream,
    stream,
)
from streamkit.fold import State
from streamkit.models import Message, Run, RunStep

# --- streams ---------------------------------------------------------------------------


def sse(event: str, data: object) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {event}\ndata: {text}\n\n".encode()


IDS = {"thread_id": "thread_1", "assistant_id": "asst_1"}
CALLS = {"type": "tool_calls", "tool_calls": []}


def run(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "run_1", "object": "thread.run", "status": status, **IDS, **extra}


def step(step_id: str, status: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "run_id": "run_1",
        "type": details["type"],
        "status": status,
        "step_details": details,
        **IDS,
    }


def message(message_id: str, status: str, text: str | None) -> dict[str, Any]:
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


def delta(message_id: str, value: str) -> bytes:
    content = [{"index": 0, "type": "text", "text": {"value": value}}]
    return sse("thread.message.delta", {"id": message_id, "delta": {"content": content}})


def message_events(message_id: str, pieces: list[str]) -> list[bytes]:
    creation = {"type": "message_creation", "message_creation": {"message_id": message_id}}
    return [
        sse("thread.run.step.created", step(f"step_{message_id}", "in_progress", creation)),
        sse("thread.message.created", message(message_id, "in_progress", None)),
        *(delta(message_id, piece) for piece in pieces),
        sse("thread.message.completed", message(message_id, "completed", "".join(pieces))),
        sse("thread.run.step.completed", step(f"step_{message_id}", "completed", creation)),
    ]


PIECES = ["Hello", ",", " world", "!"]


def text_stream(pieces: list[str] = PIECES, *, done: bool = True) -> bytes:
    events = [
        sse("thread.created", {"id": "thread_1", "object": "thread"}),
        sse("thread.run.created", run("queued")),
        sse("thread.run.in_progress", run("in_progress")),
        *message_events("msg_1", pieces),
        sse("thread.run.completed", run("completed")),
    ]
    if done:
        events.append(sse("done", "[DONE]"))
    return b"".join(events)


def tool_call_stream() -> bytes:
    """Ends at requires_action: a stream that legitimately stops there."""
    announce = {"index": 0, "id": "call_1", "type": "function"}
    announce["function"] = {"name": "weather", "arguments": ""}
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": "{}"},
                }
            ]
        },
    }
    step_delta = {"id": "step_1", "delta": {"step_details": {**CALLS, "tool_calls": [announce]}}}
    return b"".join(
        [
            sse("thread.run.created", run("queued")),
            sse("thread.run.in_progress", run("in_progress")),
            sse("thread.run.step.created", step("step_1", "in_progress", CALLS)),
            sse("thread.run.step.delta", step_delta),
            sse("thread.run.requires_action", run("requires_action", required_action=action)),
            sse("done", "[DONE]"),
        ]
    )


def continuation_stream() -> bytes:
    """The submit-tool-outputs stream: continues the run and step of tool_call_stream()."""
    final_calls = {**CALLS, "tool_calls": [{"id": "call_1", "type": "function"}]}
    return b"".join(
        [
            sse("thread.run.step.completed", step("step_1", "completed", final_calls)),
            sse("thread.run.queued", run("queued")),
            sse("thread.run.in_progress", run("in_progress")),
            *message_events("msg_2", ["It is", " sunny."]),
            sse("thread.run.completed", run("completed")),
            sse("done", "[DONE]"),
        ]
    )


def split(body: bytes, size: int) -> list[bytes]:
    return [body[i : i + size] for i in range(0, len(body), size)]


def event_names(body: bytes) -> list[str]:
    return [line[7:].decode() for line in body.split(b"\n") if line.startswith(b"event: ")]


class Counting(EventHandler):
    def __init__(self) -> None:
        self.deltas: list[str] = []
        self.ends = 0
        self.exceptions: list[BaseException] = []
        self.calls: list[str] = []

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.deltas.append(delta.value)

    def on_end(self) -> None:
        self.ends += 1
        self.calls.append("end")

    def on_exception(self, exception: Exception) -> None:
        self.exceptions.append(exception)
        self.calls.append("exception")

    def on_timeout(self) -> None:
        self.calls.append("timeout")

    def on_problem(self, problem: c.Problem) -> None:
        self.calls.append(f"problem {problem.kind}")


class Source:
    """A generator source that counts pulls and knows whether it was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.chunks:
                self.pulled += 1
                yield chunk
        finally:
            self.closed = True

    async def aiter(self, delay: float = 0) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                await anyio.sleep(delay)
                self.pulled += 1
                yield chunk
        finally:
            self.closed = True


# --- iteration ---------------------------------------------------------------------------


def test_events_text_changes_and_snapshots() -> None:
    body = text_stream()
    assert [e.event for e in stream(body)] == event_names(body)
    assert list(stream(body).text_deltas) == PIECES
    state = State()
    expected = [type(ch) for e in stream(body) for ch in state.apply(e)]
    assert [type(ch) for ch in stream(split(body, 50)).changes()] == expected
    kinds = [type(snap).__name__ for snap in stream(body).snapshots()]
    assert kinds == ["Thread", "Run", "Run", "RunStep", "Message"] + ["Message"] * 5 + [
        "RunStep",
        "Run",
    ]


def test_snapshots_are_the_live_objects_once_per_event() -> None:
    s = stream(tool_call_stream())
    touched = list(s.snapshots())
    run_, step_ = s.state.runs["run_1"], s.state.steps["step_1"]
    # requires_action ends the step's tool call and changes the run: both, once each
    assert touched[-2:] == [run_, step_] or touched[-2:] == [step_, run_]
    assert all(isinstance(t, Run | RunStep | Message) for t in touched)


def test_views_are_independent_and_buffer_one_event() -> None:
    body = text_stream(["a", "b", "c", "d", "e", "f"])
    source = Source([body])  # one chunk: the pump still goes one event at a time
    h = Counting()
    s = stream(source, handler=h)
    texts, changes = s.text_deltas, s.changes()
    sinks = list(s._sinks)
    got_text, got_changes, events = [], [], []
    for event in s:
        events.append(event.event)
        assert all(len(sink.buf) <= 4 for sink in sinks)  # what one event produced
        if event.event == "thread.message.delta":
            got_text.append(next(texts))
        got_changes += [next(changes) for _ in range(len(changes._buf))]  # type: ignore[attr-defined]
    assert got_text == h.deltas == list("abcdef")  # the handler was not starved
    assert events == event_names(body)
    state = State()
    assert len(got_changes) == len([ch for e in stream(body) for ch in state.apply(e)])
    assert source.closed


def test_a_view_left_behind_does_not_stop_the_others() -> None:
    body = text_stream()
    s = stream(body)
    lagging = s.text_deltas
    assert len(list(s)) == len(event_names(body))
    assert list(lagging) == PIECES  # it buffered what it had not consumed
    assert list(s.text_deltas) == []  # a view sees what happens after it was created


def test_abandoned_views_are_dropped() -> None:
    s = stream(text_stream())
    for _ in range(5):
        next(iter(s.changes()))
    import gc

    gc.collect()
    assert s._sinks == []
    s.close()


def test_source_is_pulled_lazily() -> None:
    body = text_stream()
    blocks = [block + b"\n\n" for block in body.split(b"\n\n") if block]
    source = Source(blocks)
    s = stream(source)
    assert source.pulled == 0  # nothing read before it is consumed
    events = iter(s)
    next(events)
    assert source.pulled == 1
    next(events)
    assert source.pulled == 2
    s.close()
    assert source.closed


def test_next_on_the_stream() -> None:
    s = stream(text_stream())
    assert next(s).event == "thread.created"
    assert next(s).event == "thread.run.created"
    assert next(iter(s)).event == "thread.run.in_progress"
    assert len(list(s)) == len(event_names(text_stream())) - 3
    with pytest.raises(StopIteration):
        next(s)


# --- final getters -------------------------------------------------------------------------


def test_final_getters() -> None:
    s = stream(text_stream())
    final_run = s.get_final_run()
    assert final_run is not None and final_run.status == "completed"
    assert [m.id for m in s.get_final_messages()] == ["msg_1"]
    assert [st.id for st in s.get_final_run_steps()] == ["step_msg_1"]
    assert s.get_final_text() == "Hello, world!"
    assert s.finished and not s.truncated


def test_final_getters_on_an_empty_stream() -> None:
    # An empty stream is empty, not cut short: the getters never raise on it.
    for body in (b"", b": just a ping\n\n"):
        s = stream(body)
        assert s.get_final_run() is None
        assert s.get_final_messages() == [] == s.get_final_run_steps()
        assert s.get_final_text() == ""
        assert not s.truncated


def test_a_stream_cut_after_its_first_event_is_truncated() -> None:
    s = stream(sse("thread.run.created", run("queued")))
    with pytest.raises(StreamTruncated, match="after 1 event"):
        s.get_final_messages()
    assert s.get_final_messages() == []  # raised once; then the state is readable
    assert s.get_final_run() is not None
    assert s.truncated


def test_final_text_of_several_messages() -> None:
    body = b"".join(
        [
            sse("thread.run.created", run("in_progress")),
            *message_events("msg_1", ["one"]),
            *message_events("msg_2", ["two", "2"]),
            sse("thread.run.completed", run("completed")),
        ]
    )
    assert stream(body).get_final_text() == "one\n\ntwo2"


# --- truncation ----------------------------------------------------------------------------


def test_truncated_stream_raises() -> None:
    body = text_stream(done=False)
    cut = body[: body.index(b"event: thread.message.completed")]
    h = Counting()
    s = stream(split(cut, 64), handler=h)
    with pytest.raises(StreamTruncated) as info:
        s.until_done()
    err = info.value
    assert err.last_event is not None and err.last_event.event == "thread.message.delta"
    assert err.events == len(event_names(cut)) and err.bytes_read == len(cut)
    assert "thread.message.delta" in str(err) and "cut short" in str(err)
    assert h.calls == ["exception", "end"] and h.exceptions == [err]
    assert s.truncated and s.finished
    assert s.get_final_messages()[0].content[0].text.value == "Hello, world!"  # type: ignore[union-attr,index]


def test_cut_inside_an_event_is_truncated_too() -> None:
    body = text_stream()
    cut = body[: body.index(b"event: thread.run.completed") + 40]
    with pytest.raises(StreamTruncated, match=r"thread\.run\.step\.completed"):
        stream(cut).until_done()  # the run's completion never completes


@pytest.mark.parametrize(
    "body",
    [
        text_stream(done=False),  # run completed, no done: fine
        tool_call_stream()[: tool_call_stream().index(b"event: done")],  # requires_action
        sse("done", "[DONE]"),  # done alone
    ],
    ids=["completed", "requires_action", "done"],
)
def test_legitimate_ends_are_not_truncated(body: bytes) -> None:
    s = stream(body)
    s.until_done()
    assert not s.truncated


def test_truncation_warn_and_ignore() -> None:
    cut = text_stream()[:300]
    h = Counting()
    s = stream(cut, handler=h, on_truncated="warn")
    changes = s.changes()
    with pytest.warns(StreamTruncatedWarning, match="cut short"):
        kinds = [type(ch).__name__ for ch in changes]
    assert kinds[-1] == "Problem" and s.truncated
    assert [p.kind for p in s.state.problems] == ["truncated"]
    assert h.calls == ["problem truncated", "end"]

    h = Counting()
    s = stream(cut, handler=h, on_truncated="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.until_done()
    # Not reported to the handler, but the fold's record is the same in every mode.
    assert s.truncated and h.calls == ["end"]
    assert [p.kind for p in s.state.problems] == ["truncated"]

    with pytest.raises(ValueError, match="on_truncated"):
        stream(cut, on_truncated="loud")  # type: ignore[arg-type]


# --- errors --------------------------------------------------------------------------------


class Failing(Counting):
    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        super().on_text_delta(delta, snapshot)
        if len(self.deltas) == 2:
            raise ValueError("boom")


def test_callback_exception_is_reraised_with_the_event() -> None:
    source = Source(split(text_stream(), 100))
    h = Failing()
    s = stream(source, handler=h)
    with pytest.raises(ValueError, match="boom") as info:
        s.until_done()
    err = info.value
    event = err.streamkit_event  # type: ignore[attr-defined]
    assert event.event == "thread.message.delta" and event.data.delta.content[0].text.value == ","
    assert any("thread.message.delta" in note for note in err.__notes__)
    assert h.exceptions == [err] and h.calls == ["exception", "end"]
    assert source.closed and s.finished
    # what was folded so far stays readable, and the stream is over
    assert s.current_message_snapshot.content[0].text.value == "Hello,"  # type: ignore[union-attr,index]
    assert list(s) == [] and s.get_final_messages()[0].id == "msg_1"


def test_an_exception_in_on_exception_replaces_it() -> None:
    class H(Failing):
        def on_exception(self, exception: Exception) -> None:
            raise KeyError("from on_exception")

    h = H()
    with pytest.raises(KeyError) as info:
        stream(text_stream(), handler=h).until_done()
    assert isinstance(info.value.__context__, ValueError)
    assert h.ends == 1


def test_errors_of_the_lower_layers_go_to_on_exception() -> None:
    h = Counting()
    bad = sse("thread.run.created", run("completed")) + sse(
        "thread.run.in_progress", run("in_progress")
    )
    with pytest.raises(ProtocolError) as info:
        stream(bad, handler=h).until_done()
    assert info.value.streamkit_event.event == "thread.run.in_progress"  # type: ignore[attr-defined]
    assert h.exceptions == [info.value] and h.ends == 1

    h = Counting()
    with pytest.raises(MalformedEventError):
        stream(b"event: thread.run.created\ndata: {oops\n\n", handler=h).until_done()
    assert len(h.exceptions) == 1 and h.ends == 1
    assert not hasattr(h.exceptions[0], "streamkit_event")  # it has its own location


def test_timeouts_call_on_timeout_first() -> None:
    def source() -> Iterator[bytes]:
        yield text_stream()[:100]
        raise httpx.ReadTimeout("slow")

    h = Counting()
    with pytest.raises(httpx.ReadTimeout):
        stream(source(), handler=h).until_done()
    assert h.calls == ["timeout", "exception", "end"]


def test_reentry_from_a_callback_is_refused() -> None:
    class H(Counting):
        stream: Stream

        def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            self.stream.until_done()

    h = H()
    h.stream = stream(text_stream(), handler=h)
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        list(h.stream.text_deltas)
    assert h.ends == 1


class Closable:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = iter(chunks)
        self.closed = 0

    def __iter__(self) -> Closable:
        return self

    def __next__(self) -> bytes:
        return next(self.chunks)

    def close(self) -> None:
        self.closed += 1


def test_close() -> None:
    source = Closable(split(text_stream(), 30))
    h = Counting()
    s = stream(source, handler=h)
    s.close()
    s.close()
    assert source.closed == 1 and h.ends == 0  # never started: no on_end (as openai)

    generator = Source(split(text_stream(), 30))
    h = Counting()
    with stream(generator, handler=h) as s:
        for event in s:
            if event.event == "thread.message.delta":
                break
    assert generator.closed and h.ends == 1 and s.finished
    assert list(s) == [] and h.deltas == ["Hello"]
    s.close()  # idempotent
    assert h.ends == 1


# --- continuation ----------------------------------------------------------------------------


def test_submit_tool_outputs_continues_the_state() -> None:
    calls: list[Any] = []

    class H(EventHandler):
        def on_requires_action(self, run: Any, tool_calls: Any) -> None:
            calls.extend(tool_calls)

    first = stream(tool_call_stream(), handler=H())
    first.until_done()
    assert [call.id for call in calls] == ["call_1"]
    assert first.get_final_run().status == "requires_action"  # type: ignore[union-attr]

    h = Counting()
    second = stream(continuation_stream(), handler=h, state=first.state)
    assert second.get_final_run().status == "completed"  # type: ignore[union-attr]
    assert second.state is first.state
    assert second.state.steps["step_1"].status == "completed"
    assert [m.id for m in second.get_final_messages()] == ["msg_2"]
    assert h.deltas == ["It is", " sunny."]
    # the step of the first stream is the same object, completed by the second
    assert [s.id for s in second.get_final_run_steps()] == ["step_1", "step_msg_2"]


def test_continuation_without_the_state_starts_from_its_own_events() -> None:
    s = stream(continuation_stream())
    assert s.get_final_run().status == "completed"  # type: ignore[union-attr]
    # the step is known only from its completion: its tool call has no name
    call: Any = s.state.steps["step_1"].step_details.tool_calls[0]  # type: ignore[union-attr,index]
    assert call.function is None


# --- async ---------------------------------------------------------------------------------


class AsyncCounting(AsyncEventHandler):
    def __init__(self, delay: float = 0) -> None:
        self.deltas: list[str] = []
        self.calls: list[str] = []
        self.delay = delay

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        await anyio.sleep(self.delay)
        self.deltas.append(delta.value)

    async def on_end(self) -> None:
        self.calls.append("end")

    async def on_exception(self, exception: Exception) -> None:
        self.calls.append("exception")

    async def on_problem(self, problem: c.Problem) -> None:
        self.calls.append(f"problem {problem.kind}")


@pytest.mark.anyio
async def test_async_iteration_and_getters() -> None:
    body = text_stream()
    source = Source(split(body, 40))
    h = AsyncCounting()
    async with astream(source.aiter(), handler=h) as s:
        assert isinstance(s, AsyncStream)
        texts, changes = s.text_deltas, s.changes()
        events = [e.event async for e in s]
        assert events == event_names(body)
        assert [t async for t in texts] == PIECES == h.deltas
        assert len([ch async for ch in changes]) > len(events)
        assert (await s.get_final_run()).status == "completed"  # type: ignore[union-attr]
        assert [m.id for m in await s.get_final_messages()] == ["msg_1"]
        assert [st.id for st in await s.get_final_run_steps()] == ["step_msg_1"]
        assert await s.get_final_text() == "Hello, world!"
    assert source.closed and h.calls == ["end"]

    s = astream(body)
    assert (await s.__anext__()).event == "thread.created"
    kinds = [type(x).__name__ async for x in s.snapshots()]
    assert kinds[0] == "Run" and kinds[-1] == "Run"
    with pytest.raises(StopAsyncIteration):
        await s.__anext__()


@pytest.mark.anyio
async def test_async_views_in_concurrent_tasks() -> None:
    body = text_stream(list("abcdefgh"))
    h = AsyncCounting(delay=0.001)
    s = astream(split(body, 25), handler=h)
    got: dict[str, list[Any]] = {}

    async def consume(name: str, view: Any) -> None:
        got[name] = [item async for item in view]

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume, "text", s.text_deltas)
        tg.start_soon(consume, "events", s.__aiter__())
        tg.start_soon(consume, "changes", s.changes())
    assert got["text"] == h.deltas == list("abcdefgh")
    assert [e.event for e in got["events"]] == event_names(body)
    assert s.finished


@pytest.mark.anyio
async def test_a_view_in_another_task_is_not_starved_by_the_pumping_task() -> None:
    body = text_stream([f"p{i}" for i in range(20)])
    s = astream(Source(split(body, 30)).aiter())
    log: list[str] = []

    async def events() -> None:
        async for _ in s:
            log.append("E")

    async def texts() -> None:
        async for _ in s.text_deltas:
            log.append("T")

    async with anyio.create_task_group() as tg:
        tg.start_soon(events)
        await anyio.sleep(0)
        tg.start_soon(texts)
    trace = "".join(log)
    assert trace.count("T") == 20 and "ETE" in trace  # interleaved, not all at the end

    s = astream(Source(split(body, 30)).aiter())
    log.clear()

    async def drain() -> None:
        await s.until_done()
        log.append("D")

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain)
        await anyio.sleep(0)
        tg.start_soon(texts)
    assert log == ["T"] * 20 + ["D"]  # each piece while until_done() ran, not after it


@pytest.mark.anyio
async def test_slow_consumer_backpressure() -> None:
    body = text_stream([f"p{i}" for i in range(50)])
    blocks = [block + b"\n\n" for block in body.split(b"\n\n") if block]
    source = Source(blocks)
    s = astream(source.aiter())
    consumed = 0
    async for _event in s:
        consumed += 1
        await anyio.sleep(0)
        assert source.pulled == consumed  # one chunk per event here: never read ahead
    assert consumed == len(blocks)


@pytest.mark.anyio
async def test_async_truncation_and_callback_errors() -> None:
    h = AsyncCounting()
    with pytest.raises(StreamTruncated):
        await astream(text_stream()[:500], handler=h).until_done()
    assert h.calls == ["exception", "end"]

    h = AsyncCounting()
    s = astream(text_stream()[:500], handler=h, on_truncated="warn")
    with pytest.warns(StreamTruncatedWarning):
        await s.until_done()
    assert h.calls == ["problem truncated", "end"] and s.truncated

    class Failing(AsyncCounting):
        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            await anyio.sleep(0)
            raise ValueError(delta.value)

    source = Source(split(text_stream(), 64))
    h = Failing()
    s = astream(source.aiter(), handler=h)
    with pytest.raises(ValueError, match="Hello") as info:
        async for _ in s.text_deltas:
            pass
    assert info.value.streamkit_event.event == "thread.message.delta"  # type: ignore[attr-defined]
    assert h.calls == ["exception", "end"] and source.closed
    assert s.current_message_snapshot is not None


@pytest.mark.anyio
async def test_async_reentry_is_refused() -> None:
    class H(AsyncCounting):
        stream: AsyncStream

        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            await self.stream.until_done()

    h = H()
    h.stream = astream(text_stream(), handler=h)
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        await h.stream.until_done()


@pytest.mark.anyio
async def test_cancellation_while_reading_closes_the_source() -> None:
    async def hanging(log: list[str]) -> AsyncIterator[bytes]:
        try:
            yield text_stream()[:200]
            await anyio.sleep_forever()
            yield b""  # pragma: no cover
        finally:
            log.append("closed")

    log: list[str] = []
    h = AsyncCounting()
    s = astream(hanging(log), handler=h)  # no `async with`: cancellation alone closes it
    with anyio.move_on_after(0.05) as scope:
        await s.until_done()
    assert scope.cancelled_caught
    assert log == ["closed"] and s.finished
    assert h.calls == []  # cancelled: no further callbacks
    await s.aclose()  # harmless afterwards


@pytest.mark.anyio
async def test_cancellation_in_a_callback_closes_the_source() -> None:
    source = Source(split(text_stream(), 50))
    h = AsyncCounting(delay=10)
    with anyio.move_on_after(0.05):
        async with astream(source.aiter(), handler=h) as s:
            async for _ in s:
                pass
    assert source.closed and s.finished


@pytest.mark.anyio
async def test_leaving_async_with_closes_and_ends() -> None:
    source = Source(split(text_stream(), 50))
    h = AsyncCounting()
    async with astream(source.aiter(), handler=h) as s:
        async for event in s:
            if event.event == "thread.message.delta":
                break
    assert source.closed and h.calls == ["end"]
    assert [e async for e in s] == []


@pytest.mark.anyio
async def test_async_continuation() -> None:
    first = astream(tool_call_stream())
    await first.until_done()
    second = astream(continuation_stream(), state=first.state)
    assert (await second.get_final_run()).status == "completed"  # type: ignore[union-attr]
    assert await second.get_final_text() == "It is sunny."


@pytest.mark.anyio
async def test_async_timeout() -> None:
    async def source() -> AsyncIterator[bytes]:
        yield text_stream()[:100]
        raise httpx.ReadTimeout("slow")

    class H(AsyncCounting):
        async def on_timeout(self) -> None:
            self.calls.append("timeout")

    h = H()
    with pytest.raises(httpx.ReadTimeout):
        await astream(source(), handler=h).until_done()
    assert h.calls == ["timeout", "exception", "end"]


@pytest.mark.anyio
@pytest.mark.parametrize("reader", ["until_done", "view"])
async def test_aclose_from_another_task_stops_the_reader(reader: str) -> None:
    body = text_stream([f"p{i}" for i in range(200)])
    source = Source(split(body, 60))

    class H(AsyncCounting):
        ends = 0

        async def on_end(self) -> None:
            self.ends += 1

    h = H(delay=0.001)
    s = astream(source.aiter(), handler=h)
    finished: list[str] = []

    async def read() -> None:
        if reader == "until_done":
            await s.until_done()
        else:
            async for _ in s.text_deltas:
                pass
        finished.append("reader")

    async with anyio.create_task_group() as tg:
        tg.start_soon(read)
        await anyio.sleep(0.02)
        await s.aclose()
        finished.append("closed")
    assert sorted(finished) == ["closed", "reader"]
    assert source.closed and s.finished and h.ends == 1
    assert 0 < len(h.deltas) < 200


def test_a_stream_that_ends_after_an_error_event_is_not_truncated() -> None:
    errors = []

    class Handler(EventHandler):
        def on_error_event(self, error: Any) -> None:
            errors.append(error.message)

    body = sse("thread.run.created", run("queued")) + sse(
        "error", {"message": "server overloaded", "type": "server_error"}
    )
    s = stream(body, handler=Handler())
    s.until_done()
    assert errors == ["server overloaded"]
    assert not s.truncated


def test_a_stream_cut_inside_its_first_event_is_truncated() -> None:
    body = b'event: thread.run.created\ndata: {"id": "run_1", "stat'
    s = stream(body)
    with pytest.raises(StreamTruncated, match="inside its first event"):
        s.until_done()
    assert s.truncated
    assert s.get_final_run() is None


@pytest.mark.anyio
async def test_a_consumer_cancelled_while_reading_does_not_end_the_others_quietly() -> None:
    # Two tasks share a stream; the one that happens to be reading is cancelled while it
    # waits for the source. The source is gone with it, so the other task must hear of it.
    gate = anyio.Event()

    async def source() -> AsyncIterator[bytes]:
        yield sse("thread.message.created", message("msg_1", "in_progress", None))
        await gate.wait()  # never set: the server stalls
        yield sse("thread.message.completed", message("msg_1", "completed", ""))

    s = astream(source())
    texts = s.text_deltas
    changes = s.changes()
    got: list[Any] = []
    async with anyio.create_task_group() as tg:
        reader = anyio.CancelScope()

        async def read_texts() -> None:
            with reader:
                async for piece in texts:
                    got.append(piece)

        tg.start_soon(read_texts)
        await anyio.sleep(0.05)  # the reader is now waiting inside the source
        reader.cancel()
    with pytest.raises(StreamTruncated, match=r"interrupted.*cancelled"):
        async for change in changes:
            got.append(change)
    assert s.truncated
    assert s.state.messages["msg_1"].status == "in_progress"  # readable, as far as it got
    assert [p.kind for p in s.state.problems] == ["truncated"]
