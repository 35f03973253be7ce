"""``client.responses`` against the emulator over real sockets, sync and async (asyncio
and trio): streamed text through a handler, the function tool loop over rounds, a
background response resumed from the server with ``starting_after`` (the snapshots equal
an uninterrupted read's), recovery from dropped connections with no text lost or read
twice, cancel and delete, and the API's errors raised as ``ResponseError``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import streamkit
from streamkit.client import ResponseStream, ToolCallError, ToolLoopError
from streamkit.emulator import Emulator, Script, create_app, serve_in_thread
from streamkit.emulator._script import FunctionCall, FunctionCalls, TextReply
from streamkit.fold import ErrorReceived
from streamkit.protocols.responses import ResponsesState

KEY = "sk-responses-live"
WEATHER = {
    "type": "function",
    "name": "get_current_weather",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
}
PLACES = "What is the weather in Paris, Tokyo and Rome?"
WORDS = " ".join(f"word{i}" for i in range(40))


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_in_thread(create_app(Emulator(api_key=KEY))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[streamkit.Client]:
    with streamkit.Client(base_url=base_url, api_key=KEY, backoff=0.01, timeout=10) as c:
        yield c


class Watch(streamkit.EventHandler):
    """Counts every "done" and collects the text deltas and tool errors."""

    def __init__(self) -> None:
        self.done: Counter[tuple[str, str]] = Counter()
        self.text: list[str] = []
        self.errors: list[ToolCallError] = []

    def on_run_done(self, run: Any) -> None:
        self.done["response", run.id] += 1

    def on_message_done(self, message: Any) -> None:
        self.done["message", message.id] += 1

    def on_tool_call_done(self, tool_call: Any) -> None:
        self.done["call", tool_call.id] += 1

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text.append(delta.delta)

    def on_tool_error(self, error: ToolCallError) -> None:
        self.errors.append(error)


def snapshot(state: ResponsesState) -> dict[str, Any]:
    """What a consumer reads at the end: the response and every item, as the API's JSON."""
    assert state.current_run is not None
    return {
        "response": state.current_run.to_dict(),
        "items": {key: item.to_dict() for key, item in state.items.items()},
    }


# --- streaming, plain calls, errors -----------------------------------------------------------


def test_a_streamed_answer_through_a_handler(client: streamkit.Client) -> None:
    watch = Watch()
    stream = client.responses.stream(model="gpt-5", input=f"echo: {WORDS}", handler=watch)
    assert isinstance(stream, ResponseStream) and stream.response_id is None  # not sent yet
    with stream:
        stream.until_done()
    response = stream.get_final_response()
    assert response is not None and response.status == "completed"
    assert "".join(watch.text) == WORDS == stream.get_final_text()
    assert set(watch.done.values()) == {1} and ("response", response.id) in watch.done
    assert isinstance(stream.state, ResponsesState) and not stream.state.problems
    assert stream.response_id == response.id
    assert response.to_dict() == client.responses.retrieve(response.id).to_dict()
    assert list(client.responses.stream(model="gpt-5", input="echo: a b").text_deltas) == [
        "a",
        " b",
    ]


def test_create_retrieve_cancel_delete(client: streamkit.Client) -> None:
    response = client.responses.create(model="gpt-5", input="echo: plain call")
    assert response.status == "completed" and response.output is not None
    assert response.output[0].content[0].text == "plain call"  # type: ignore[union-attr]
    assert client.responses.retrieve(response.id).to_dict() == response.to_dict()
    with pytest.raises(streamkit.ResponseError) as caught:
        client.responses.cancel(response.id)  # only a background response can be
    assert caught.value.status_code == 400 and caught.value.error["param"] == "response_id"
    background = client.responses.create(
        model="gpt-5",
        input=f"echo: {' '.join(['later'] * 40)}",
        background=True,
        extra_headers={"X-Emulator-Tokens-Per-Second": "20"},  # two seconds
    )
    assert background.background is True and background.status == "queued"
    cancelled = client.responses.cancel(background.id)
    assert cancelled.id == background.id and cancelled.status == "cancelled"
    finished = client.responses.create(model="gpt-5", input="echo: done", background=True)
    for _ in range(200):  # generated at once (no pacing): completed within moments
        if client.responses.retrieve(finished.id).status == "completed":
            break
        time.sleep(0.01)
    with pytest.raises(streamkit.ResponseError) as caught:
        client.responses.cancel(finished.id)  # as the service: a completed one cannot be
    assert caught.value.status_code == 400
    assert "Cannot cancel a completed response." in str(caught.value)
    assert client.responses.delete(background.id) is None
    with pytest.raises(streamkit.ResponseError) as caught:
        client.responses.retrieve(background.id)
    assert caught.value.status_code == 404
    with pytest.raises(TypeError, match=r"responses\.stream"):
        client.responses.create(model="gpt-5", input="hi", stream=True)


def test_errors_are_response_errors(client: streamkit.Client) -> None:
    with pytest.raises(streamkit.ResponseError) as caught:
        client.responses.create(input="no model")
    assert caught.value.status_code == 400 and caught.value.error["param"] == "model"
    stream = client.responses.stream(model="gpt-5")  # no input: refused when first read
    with pytest.raises(streamkit.StreamkitError) as refused:
        stream.until_done()
    assert isinstance(refused.value, streamkit.ResponseError)
    assert refused.value.status_code == 400 and refused.value.error["param"] == "input"
    with pytest.raises(streamkit.ResponseError) as missing:
        client.responses.retrieve_stream("resp_missing").until_done()
    assert missing.value.status_code == 404
    wrong = streamkit.Client(base_url=client.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(streamkit.ResponseError) as denied:
        wrong.responses.stream(model="gpt-5", input="hi").until_done()
    assert denied.value.status_code == 401
    wrong.close()


# --- the tool loop ------------------------------------------------------------------------


def _rounds(total: int) -> Script:
    """A response that calls the tool ``total`` times, two parallel calls each round."""

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


def test_the_tool_loop_over_two_rounds(
    client: streamkit.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streamkit.emulator._responses.choose", lambda *args: _rounds(2))
    calls: list[tuple[str, int]] = []

    def get_current_weather(location: str, round: int) -> str:
        calls.append((location, round))
        return f"{location}@{round}"

    watch = Watch()
    stream = client.responses.stream(
        model="gpt-5", input="the weather", tools=[WEATHER], handler=watch
    ).run_tools({"get_current_weather": get_current_weather})
    assert stream.get_final_text() == "Oslo@1 / Lima@1"
    assert sorted(calls) == sorted((p, r) for p in ("Oslo", "Lima") for r in range(2))
    responses = list(stream.state.responses.values())
    assert len(responses) == 3 and [r.status for r in responses] == ["completed"] * 3
    # each continuation names the response before it, and is the server's response
    assert [r.previous_response_id for r in responses] == [None, responses[0].id, responses[1].id]
    final = stream.get_final_response()
    assert final is responses[2]
    assert final.to_dict() == client.responses.retrieve(final.id).to_dict()
    assert sum(1 for key in watch.done if key[0] == "response") == 3
    assert set(watch.done.values()) == {1} and not stream.state.problems
    assert stream.response_id == final.id

    limited = client.responses.stream(model="gpt-5", input="the weather", tools=[WEATHER])
    limited.run_tools({"get_current_weather": get_current_weather}, max_rounds=1)
    with pytest.raises(ToolLoopError, match="after 1 round") as caught:
        limited.until_done()
    assert caught.value.rounds == 1 and caught.value.run_id == limited.response_id


def test_a_failing_tool_is_told_to_the_model_or_raised(client: streamkit.Client) -> None:
    def flaky(location: str) -> str:
        if location == "Tokyo":
            raise ConnectionError("no station")
        return "18 C"

    watch = Watch()
    stream = client.responses.stream(
        model="gpt-5", input=PLACES, tools=[WEATHER], handler=watch
    ).run_tools({"get_current_weather": flaky})
    text = stream.get_final_text()
    assert "Paris: 18 C" in text and "no station" in text
    assert [error.kind for error in watch.errors] == ["raised"]
    assert isinstance(watch.errors[0].__cause__, ConnectionError)

    raising = client.responses.stream(model="gpt-5", input=PLACES, tools=[WEATHER])
    raising.run_tools({"get_current_weather": flaky}, on_error="raise")
    with pytest.raises(ToolCallError) as caught:
        raising.until_done()
    assert caught.value.kind == "raised" and caught.value.name == "get_current_weather"


# --- resuming a background response ---------------------------------------------------------


def _uninterrupted(client: streamkit.Client, response_id: str) -> tuple[dict[str, Any], list[str]]:
    whole = client.responses.retrieve_stream(response_id)
    text = list(whole.text_deltas)
    assert not whole.state.problems
    return snapshot(whole.state), text


@pytest.mark.parametrize("cut", [1, 2, 3, 5, 8, 13, 21, 34, 44])
def test_retrieve_stream_continues_a_snapshot_from_the_cursor(
    client: streamkit.Client, cut: int
) -> None:
    first = client.responses.stream(
        model="gpt-5",
        input=f"echo: {WORDS}",
        background=True,
        on_truncated="ignore",
        extra_headers={"X-Emulator-Fault": f"drop:{cut}"},
    )
    seen = list(first.text_deltas)
    assert first.truncated and first.response_id is not None
    cursor = first.state.sequence_number
    assert cursor == cut - 1  # events count from 1, sequence numbers from 0
    watch = Watch()
    rest = client.responses.retrieve_stream(
        first.response_id, starting_after=cursor, state=first.state, handler=watch
    )
    rest.until_done()
    whole, text = _uninterrupted(client, first.response_id)
    assert snapshot(rest.state) == whole
    assert seen + watch.text == text  # nothing read twice, nothing lost
    # the only problem is the first stream's cut; the resumed stream added none
    assert [p.kind for p in rest.state.problems] == ["truncated"] and not rest.truncated


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(1, 50))
def test_a_dropped_background_stream_resumes_by_itself(client: streamkit.Client, cut: int) -> None:
    # The fault header goes with every resume too: the server cuts every `cut` events.
    watch = Watch()
    stream = client.responses.stream(
        model="gpt-5",
        input=f"echo: {WORDS}",
        background=True,
        reconnect="poll",
        handler=watch,
        extra_headers={"X-Emulator-Fault": f"drop:{cut}"},
    )
    stream.until_done()
    assert stream.response_id is not None and not stream.truncated
    whole, text = _uninterrupted(client, stream.response_id)
    assert watch.text == text and "".join(text) == WORDS
    assert snapshot(stream.state) == whole and not stream.state.problems
    assert set(watch.done.values()) == {1}


def test_an_error_event_ends_the_stream_without_a_resume(client: streamkit.Client) -> None:
    stream = client.responses.stream(
        model="gpt-5",
        input=f"echo: {WORDS}",
        background=True,
        reconnect="poll",
        extra_headers={"X-Emulator-Fault": "error:6"},
    )
    changes = list(stream.changes())
    errors = [change for change in changes if isinstance(change, ErrorReceived)]
    assert len(errors) == 1 and errors[0].error.code == "server_error"
    assert not stream.truncated and stream.get_final_text() == "word0"  # nothing resumed


def test_a_dropped_stream_that_cannot_be_resumed(client: streamkit.Client) -> None:
    # not a background response: the service cannot stream it again
    stream = client.responses.stream(
        model="gpt-5",
        input=f"echo: {WORDS}",
        reconnect="poll",
        extra_headers={"X-Emulator-Fault": "drop:6"},
    )
    with pytest.raises(streamkit.StreamTruncated, match="after 6 event"):
        stream.until_done()
    # an answer with no event names no response: there is nothing to resume (an empty
    # stream is not a cut one, as for every stream)
    early = client.responses.stream(
        model="gpt-5",
        input="echo: hi",
        background=True,
        reconnect="poll",
        extra_headers={"X-Emulator-Fault": "drop:0"},
    )
    early.until_done()
    assert early.response_id is None and early.get_final_response() is None


def test_the_tool_loop_survives_drops(
    client: streamkit.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streamkit.emulator._responses.choose", lambda *args: _rounds(2))
    stream = client.responses.stream(
        model="gpt-5",
        input="the weather",
        tools=[WEATHER],
        background=True,
        reconnect="poll",
        extra_headers={"X-Emulator-Fault": "drop:4"},
    ).run_tools({"get_current_weather": lambda location, round: f"{location}#{round}"})
    assert stream.get_final_text() == "Oslo#1 / Lima#1"
    assert len(stream.state.responses) == 3 and not stream.state.problems


# --- async -----------------------------------------------------------------------------------


class AsyncWatch(streamkit.AsyncEventHandler):
    def __init__(self) -> None:
        self.text: list[str] = []
        self.errors: list[ToolCallError] = []

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text.append(delta.delta)

    async def on_tool_error(self, error: ToolCallError) -> None:
        self.errors.append(error)


@pytest.mark.anyio
async def test_async_stream_tools_resume_and_errors(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with streamkit.AsyncClient(
        base_url=base_url, api_key=KEY, backoff=0.01, timeout=10
    ) as client:
        watch = AsyncWatch()
        stream = client.responses.stream(model="gpt-5", input=f"echo: {WORDS}", handler=watch)
        assert await stream.get_final_text() == WORDS == "".join(watch.text)
        response = await stream.get_final_response()
        assert response is not None
        assert (await client.responses.retrieve(response.id)).to_dict() == response.to_dict()

        async def slow_weather(location: str) -> str:
            await anyio.sleep(0.01)
            return f"mild in {location}"

        tools = client.responses.stream(model="gpt-5", input=PLACES, tools=[WEATHER])
        tools.run_tools({"get_current_weather": slow_weather})
        assert "Rome: mild in Rome" in await tools.get_final_text()
        plain = client.responses.stream(model="gpt-5", input=PLACES, tools=[WEATHER])
        plain.run_tools({"get_current_weather": lambda location: f"cold in {location}"})
        assert "Tokyo: cold in Tokyo" in await plain.get_final_text()

        monkeypatch.setattr("streamkit.emulator._responses.choose", lambda *args: _rounds(2))
        rounds = client.responses.stream(
            model="gpt-5",
            input="the weather",
            tools=[WEATHER],
            background=True,
            reconnect="poll",
            extra_headers={"X-Emulator-Fault": "drop:3"},
        ).run_tools({"get_current_weather": lambda location, round: f"{location}+{round}"})
        assert await rounds.get_final_text() == "Oslo+1 / Lima+1"
        monkeypatch.undo()

        resumed_watch = AsyncWatch()
        resumed = client.responses.stream(
            model="gpt-5",
            input=f"echo: {WORDS}",
            background=True,
            reconnect="poll",
            handler=resumed_watch,
            extra_headers={"X-Emulator-Fault": "drop:5"},
        )
        await resumed.until_done()
        assert "".join(resumed_watch.text) == WORDS and not resumed.state.problems
        assert resumed.response_id is not None
        whole = client.responses.retrieve_stream(resumed.response_id, starting_after=10)
        await whole.until_done()
        assert (await whole.get_final_response()).to_dict() == (  # type: ignore[union-attr]
            await resumed.get_final_response()
        ).to_dict()  # type: ignore[union-attr]

        with pytest.raises(streamkit.ResponseError) as caught:
            await client.responses.create(model="gpt-5")
        assert caught.value.status_code == 400
        with pytest.raises(streamkit.ResponseError) as cancel:
            await client.responses.cancel(response.id)
        assert cancel.value.status_code == 400
        await client.responses.delete(response.id)
        with pytest.raises(streamkit.ResponseError):
            await client.responses.retrieve(response.id)
