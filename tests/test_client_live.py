"""The live path of the client against the emulator over real sockets: the tool loop
(rounds, parallel calls, every failure mode, cancellation on asyncio and trio) and the
resync after a drop at random points (the final snapshots equal an undisturbed run's)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamkit
from streamkit import fold
from streamkit.client import ToolCallError, ToolLoopError
from streamkit.emulator import Emulator, Script, create_app, serve_in_thread
from streamkit.emulator._script import FunctionCall, FunctionCalls, TextReply

KEY = "sk-live-test"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}
PLACES = "What is the weather in Paris, Tokyo and Rome?"


@pytest.fixture(scope="module")
def app() -> Any:
    return create_app(Emulator(api_key=KEY))


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[streamkit.Client]:
    with streamkit.Client(
        base_url=base_url, api_key=KEY, backoff=0.01, poll_interval=0.02, timeout=10
    ) as c:
        yield c


def start(client: streamkit.Client, text: str = PLACES, **kwargs: Any) -> streamkit.Stream:
    assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
    thread = {"messages": [{"role": "user", "content": text}]}
    return client.threads.create_and_run_stream(assistant_id=assistant.id, thread=thread, **kwargs)


class Errors(streamkit.EventHandler):
    def __init__(self) -> None:
        self.errors: list[ToolCallError] = []
        self.done: Counter[str] = Counter()

    def on_tool_error(self, error: ToolCallError) -> None:
        self.errors.append(error)

    def on_run_done(self, run: Any) -> None:
        self.done[run.id] += 1


# --- the tool loop ------------------------------------------------------------------------


def test_parallel_calls_one_round(client: streamkit.Client) -> None:
    active, most, lock = [0], [0], threading.Lock()
    places: list[str] = []

    def get_current_weather(location: str) -> dict[str, Any]:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            places.append(location)
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return {"location": location, "temperature": 21}

    handler = Errors()
    s = start(client, handler=handler).run_tools({"get_current_weather": get_current_weather})
    text = s.get_final_text()
    assert sorted(places) == ["Paris", "Rome", "Tokyo"] and most[0] == 3  # concurrently
    assert text.startswith("Here is the current weather:\n- Paris: {")
    assert '"temperature":21' in text
    run = s.get_final_run()
    assert run is not None and run.status == "completed" and handler.done == {run.id: 1}
    assert handler.errors == []
    step = s.get_final_run_steps()[0]
    outputs = [call.function.output for call in step.step_details.tool_calls]  # type: ignore[union-attr]
    assert all('"temperature":21' in output for output in outputs)


def _rounds(total: int) -> Script:
    """A run that asks for tools ``total`` times, two parallel calls each round."""

    def then(answered: Sequence[tuple[FunctionCall, str]]) -> list[Any]:
        round_ = int(answered[0][0].arguments.split('"round": ')[1].rstrip("}")) + 1
        if round_ < total:
            return [_calls(round_)]
        return [TextReply((" / ".join(output for _, output in answered),))]

    return Script("rounds", [_calls(0)], then=then)


def _calls(round_: int) -> FunctionCalls:
    return FunctionCalls(
        tuple(
            FunctionCall("get_current_weather", f'{{"location": "{place}", "round": {round_}}}')
            for place in ("Oslo", "Lima")
        )
    )


def test_several_rounds_then_the_round_limit(
    client: streamkit.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streamkit.emulator._app.choose", lambda *args: _rounds(3))
    calls: list[tuple[str, int]] = []

    async def get_current_weather(location: str, round: int) -> str:  # async works too
        await anyio.sleep(0)
        calls.append((location, round))
        return f"{location}@{round}"

    handler = Errors()
    s = start(client, handler=handler).run_tools({"get_current_weather": get_current_weather})
    assert s.get_final_text() == "Oslo@2 / Lima@2"
    assert sorted(calls) == sorted((p, r) for p in ("Oslo", "Lima") for r in range(3))
    assert [step.status for step in s.get_final_run_steps()] == ["completed"] * 4
    assert len(handler.done) == 1 and not s.state.problems

    limited = start(client).run_tools({"get_current_weather": get_current_weather}, max_rounds=2)
    with pytest.raises(ToolLoopError, match="after 2 round") as caught:
        limited.until_done()
    assert caught.value.rounds == 2 and caught.value.run_id == limited.run_id
    assert limited.thread_id is not None and limited.run_id is not None
    run = client.threads.runs.retrieve(limited.run_id, thread_id=limited.thread_id)
    assert run.status == "cancelled"  # not left waiting for outputs


def _weather_of(kind: str) -> Any:
    def get_current_weather(location: str) -> str:
        if location == "Tokyo":
            if kind == "raises":
                raise ValueError("no station in Tokyo")
            if kind == "slow":
                time.sleep(2)
        return "mild"

    return get_current_weather


@pytest.mark.parametrize("kind", ["raises", "slow", "unknown", "arguments"])
def test_each_failure_becomes_an_error_output(
    client: streamkit.Client, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    functions: dict[str, Any] = {"get_current_weather": _weather_of(kind)}
    if kind == "unknown":
        functions = {"get_weather": _weather_of(kind)}
    if kind == "arguments":
        bad = Script(
            "bad",
            [FunctionCalls((FunctionCall("get_current_weather", '{"location": "Tok'),))],
            then=lambda answered: [TextReply((answered[0][1],))],
        )
        monkeypatch.setattr("streamkit.emulator._app.choose", lambda *args: bad)
    handler = Errors()
    started = time.monotonic()
    s = start(client, handler=handler).run_tools(functions, timeout=0.3)
    text = s.get_final_text()
    assert time.monotonic() - started < 1.5  # a slow tool is not waited for
    expected = {"raises": "raised", "slow": "timeout", "unknown": "unknown_tool"}
    [error] = handler.errors if kind != "unknown" else handler.errors[:1]
    assert error.kind == expected.get(kind, "invalid_arguments")
    assert (error.output is not None and error.output in text) or error.output in str(
        s.get_final_run_steps()[0].to_dict()
    )
    assert s.get_final_run().status == "completed"  # type: ignore[union-attr]
    if kind == "raises":
        assert isinstance(error.__cause__, ValueError) and "no station" in error.output  # type: ignore[operator]
        assert "Paris: mild" in text
    if kind == "unknown":
        assert len(handler.errors) == 3 and "known: get_weather" in str(error)


def test_a_failure_can_raise_instead_and_cancels_the_run(client: streamkit.Client) -> None:
    handler = Errors()
    s = start(client, handler=handler).run_tools(
        {"get_current_weather": _weather_of("raises")}, on_error="raise"
    )
    with pytest.raises(ToolCallError, match="no station in Tokyo") as caught:
        s.until_done()
    assert caught.value.kind == "raised" and caught.value.output is None
    assert handler.errors == [caught.value]  # reported, then raised
    assert s.thread_id is not None and s.run_id is not None
    run = client.threads.runs.retrieve(s.run_id, thread_id=s.thread_id)
    assert run.status == "cancelled"


def test_run_tools_checks_its_options(client: streamkit.Client) -> None:
    s = start(client)
    with pytest.raises(ValueError, match="on_error"):
        s.run_tools({}, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_rounds"):
        s.run_tools({}, max_rounds=0)
    with pytest.raises(TypeError, match="callable"):
        s.run_tools({"f": 3})  # type: ignore[dict-item]
    s.close()


@pytest.mark.anyio
async def test_async_tool_loop_and_cancellation(base_url: str) -> None:
    async with streamkit.AsyncClient(
        base_url=base_url, api_key=KEY, backoff=0.01, timeout=10
    ) as client:
        assistant = await client.assistants.create(model="gpt-4o", tools=[WEATHER])
        thread = {"messages": [{"role": "user", "content": PLACES}]}

        async def fast(location: str) -> str:
            await anyio.sleep(0.01)
            return f"sunny in {location}"

        class AsyncErrors(streamkit.AsyncEventHandler):
            errors: list[ToolCallError] = []

            async def on_tool_error(self, error: ToolCallError) -> None:
                self.errors.append(error)

        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id, thread=thread, handler=AsyncErrors()
        ).run_tools({"get_current_weather": fast, "other": lambda: "x"})
        assert "Rome: sunny in Rome" in await s.get_final_text()

        started = anyio.Event()

        async def hangs(location: str) -> str:
            started.set()
            await anyio.sleep(30)
            return "never"

        s = client.threads.create_and_run_stream(assistant_id=assistant.id, thread=thread)
        s.run_tools({"get_current_weather": hangs}, timeout=None)
        with anyio.move_on_after(5) as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(s.until_done)
                await started.wait()
                group.cancel_scope.cancel()  # the loop is cancelled while tools run
        assert not scope.cancelled_caught and s.finished
        assert s.thread_id is not None and s.run_id is not None
        run = await client.threads.runs.retrieve(s.run_id, thread_id=s.thread_id)
        assert run.status == "cancelled"


# --- resync after a drop ------------------------------------------------------------------


def _fresh(app: Any) -> Emulator:
    """A new emulator behind the same server: the same ids and times for every run."""
    emulator = Emulator(api_key=KEY, seed=7, clock=lambda: 1_750_000_000.0)
    app.state.emulator = emulator
    return emulator


class Watch(streamkit.EventHandler):
    """Counts every "done" and collects the text deltas."""

    def __init__(self) -> None:
        self.done: Counter[tuple[str, str]] = Counter()
        self.text: list[str] = []

    def on_run_done(self, run: Any) -> None:
        self.done["run", run.id] += 1

    def on_run_step_done(self, run_step: Any) -> None:
        self.done["step", run_step.id] += 1

    def on_message_done(self, message: Any) -> None:
        self.done["message", message.id] += 1

    def on_tool_call_done(self, tool_call: Any) -> None:
        self.done["call", tool_call.id] += 1

    def on_text_done(self, text: Any) -> None:
        self.done["text", text.value] += 1

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text.append(delta.value)


def _weather(location: str) -> str:
    return f"{len(location)} C"


def _converse(base_url: str, text: str, first: str | None) -> tuple[fold.State, Watch]:
    watch = Watch()
    with streamkit.Client(
        base_url=base_url, api_key=KEY, reconnect="poll", poll_interval=0.02, timeout=10
    ) as client:
        assistant = client.assistants.create(model="gpt-4o", tools=[WEATHER])
        headers = {"X-Emulator-Fault": first} if first else None
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": text}]},
            handler=watch,
            extra_headers=headers,
        ).run_tools({"get_current_weather": _weather})
        s.until_done()
    return s.state, watch


def _snapshots(state: fold.State) -> dict[str, Any]:
    return {
        "runs": {k: v.to_dict() for k, v in state.runs.items()},
        "steps": {k: v.to_dict() for k, v in state.steps.items()},
        "messages": {k: v.to_dict() for k, v in state.messages.items()},
        "problems": [p.kind for p in state.problems],
    }


_BASELINES: dict[str, tuple[dict[str, Any], Watch]] = {}

TEXTS = [PLACES, "echo: the quick brown fox jumps over the lazy dog"]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.sampled_from(TEXTS),
    where=st.sampled_from(["first", "continuation"]),
    drop=st.integers(min_value=1, max_value=27),
)
def test_resync_after_a_drop_gives_the_undisturbed_snapshots(
    app: Any, base_url: str, text: str, where: str, drop: int
) -> None:
    if text not in _BASELINES:
        _fresh(app)
        state, watch = _converse(base_url, text, None)
        _BASELINES[text] = (_snapshots(state), watch)
    expected, undisturbed = _BASELINES[text]
    emulator = _fresh(app)
    first = f"drop:{drop}"
    if where == "continuation":
        emulator.inject_fault(first)  # taken by the next stream without a fault header
        first = "slow:0"
    state, watch = _converse(base_url, text, first)
    assert _snapshots(state) == expected
    assert watch.done == undisturbed.done and set(watch.done.values()) == {1}
    assert "".join(watch.text) == "".join(undisturbed.text)  # the missed text arrived too


@pytest.mark.anyio
async def test_async_resync_follows_a_run_by_polling(base_url: str) -> None:
    async with streamkit.AsyncClient(
        base_url=base_url, api_key=KEY, reconnect="poll", poll_interval=0.02, timeout=10
    ) as client:
        assistant = await client.assistants.create(model="gpt-4o")
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": "echo: a b c d e f g h"}]},
            extra_headers={"X-Emulator-Fault": "drop:10", "X-Emulator-Tokens-Per-Second": "100"},
        )
        pieces = [piece async for piece in s.text_deltas]
        assert "".join(pieces) == "a b c d e f g h"
        assert (await s.get_final_run()).status == "completed"  # type: ignore[union-attr]
        assert not s.state.problems


def test_resync_without_a_run_to_follow(client: streamkit.Client) -> None:
    assistant = client.assistants.create(model="gpt-4o")
    s = client.threads.create_and_run_stream(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": "hi"}]},
        reconnect="poll",
        extra_headers={"X-Emulator-Fault": "drop:0"},
    )
    with pytest.raises(streamkit.StreamTruncated, match="nothing to resynchronise"):
        s.until_done()


class _CutTransport(httpx.BaseTransport):
    """A real transport whose first streamed answer drops after ``after`` bytes, mid-event."""

    def __init__(self, after: int) -> None:
        self.inner, self.after, self.cut = httpx.HTTPTransport(), after, False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if self.cut or "event-stream" not in response.headers.get("content-type", ""):
            return response
        self.cut = True
        inner, after = response.stream, self.after

        class Cut(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                sent = 0
                for chunk in inner:  # type: ignore[union-attr]
                    if sent + len(chunk) >= after:
                        yield chunk[: after - sent]
                        raise httpx.ReadError("connection reset")
                    sent += len(chunk)
                    yield chunk

            def close(self) -> None:
                inner.close()  # type: ignore[union-attr]

        return httpx.Response(response.status_code, headers=response.headers, stream=Cut())


@pytest.mark.parametrize("after", [900, 2500, 4000, 5200])
def test_resync_after_a_cut_inside_an_event(base_url: str, after: int) -> None:
    with streamkit.Client(
        base_url=base_url, api_key=KEY, reconnect="poll", poll_interval=0.02,
        transport=_CutTransport(after),
    ) as client:  # fmt: skip
        assistant = client.assistants.create(model="gpt-4o")
        s = client.threads.create_and_run_stream(
            assistant_id=assistant.id,
            thread={"messages": [{"role": "user", "content": "echo: one two three four"}]},
        )
        assert "".join(s.text_deltas) == "one two three four"
        assert s.get_final_run().status == "completed"  # type: ignore[union-attr]
        assert not s.state.problems and not s.truncated
