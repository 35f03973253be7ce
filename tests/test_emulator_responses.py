"""The emulator's Responses API endpoints, over real sockets on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkit.emulator import create_app, serve_in_thread
from streamkit.sse import SSEParser

KEY = "sk-responses"
RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "responses"
WEATHER = [{"type": "function", "name": "get_current_weather", "parameters": {}}]


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with (
        serve_in_thread(create_app(api_key=KEY)) as base_url,
        httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}) as client,
    ):
        yield client


def events(body: bytes) -> list[dict[str, Any]]:
    out = []
    for sse in SSEParser().feed(body):
        data = json.loads(sse.data)
        assert data["type"] == sse.event  # every frame names its own type
        out.append(data)
    return out


def shape(stream: list[dict[str, Any]]) -> list[str]:
    """The event types in order, runs of one type collapsed (delta counts differ)."""
    out: list[str] = []
    for event in stream:
        if not out or out[-1] != event["type"]:
            out.append(event["type"])
    return out


def ask(api: httpx.Client, **body: Any) -> list[dict[str, Any]]:
    response = api.post("/responses", json={"model": "gpt-4o", "stream": True, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return events(response.content)


def test_a_text_answer_has_the_service_s_order_and_fields(api: httpx.Client) -> None:
    stream = ask(api, input="echo: The capital of Minas Gerais is Belo Horizonte.")
    assert [e["sequence_number"] for e in stream] == list(range(len(stream)))
    assert shape(stream) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    text = "".join(e["delta"] for e in stream if e["type"] == "response.output_text.delta")
    final = stream[-1]["response"]
    assert final["status"] == "completed" and final["usage"]["total_tokens"] > 0
    assert final["output"][0]["content"][0]["text"] == text
    assert text == "The capital of Minas Gerais is Belo Horizonte."


@pytest.mark.skipif(not RECORDINGS.is_dir(), reason="../shared/recordings is absent")
@pytest.mark.parametrize(
    ("recording", "request_body"),
    [
        ("text_logprobs.sse", {"input": "echo: hello"}),
        (
            "parallel_function_calls.sse",
            {"input": "What is the weather in Paris and Rome?", "tools": WEATHER},
        ),
    ],
)
def test_streams_look_like_the_real_service_s(
    api: httpx.Client, recording: str, request_body: dict[str, Any]
) -> None:
    real = events((RECORDINGS / recording).read_bytes())
    ours = ask(api, **request_body)
    assert shape(ours) == shape(real)
    # The same keys per event type (``obfuscation`` is the service's random padding).
    for kind in {e["type"] for e in real}:
        theirs = {k for e in real if e["type"] == kind for k in e} - {"obfuscation"}
        mine = {k for e in ours if e["type"] == kind for k in e}
        assert mine == theirs, kind
    for field in ("item",):
        real_items = [e[field] for e in real if field in e]
        our_items = [e[field] for e in ours if field in e]
        assert {frozenset(i) for i in our_items} == {frozenset(i) for i in real_items}
    assert set(ours[-1]["response"]) <= set(real[-1]["response"])


def test_function_calls_then_the_continuation_with_their_outputs(api: httpx.Client) -> None:
    stream = ask(api, input="What is the weather in Oslo and Bern?", tools=WEATHER)
    final = stream[-1]["response"]
    calls = [item for item in final["output"] if item["type"] == "function_call"]
    assert [json.loads(call["arguments"]) for call in calls] == [
        {"location": "Oslo"},
        {"location": "Bern"},
    ]
    outputs = [
        {"type": "function_call_output", "call_id": call["call_id"], "output": "3 C, snow"}
        for call in calls
    ]
    answer = api.post(
        "/responses",
        json={"model": "gpt-4o", "previous_response_id": final["id"], "input": outputs},
    ).json()
    assert answer["previous_response_id"] == final["id"]
    text = answer["output"][0]["content"][0]["text"]
    assert "Oslo: 3 C, snow" in text and "Bern: 3 C, snow" in text
    missing = api.post(
        "/responses",
        json={"model": "gpt-4o", "previous_response_id": final["id"], "input": outputs[:1]},
    )
    assert missing.status_code == 400 and calls[1]["call_id"] in missing.text


def test_refusal_code_and_file_search_items(api: httpx.Client) -> None:
    refusal = ask(api, input="[script:refusal] anything")
    assert "response.refusal.delta" in shape(refusal)
    code = ask(
        api, input="[script:code_interpreter] calculate 6 * 7", tools=[{"type": "code_interpreter"}]
    )
    item = code[-1]["response"]["output"][0]
    assert item["type"] == "code_interpreter_call" and item["outputs"][0]["logs"].strip() == "42"
    search = ask(api, input="[script:file_search] search my files", tools=[{"type": "file_search"}])
    kinds = [i["type"] for i in search[-1]["response"]["output"]]
    assert kinds == ["file_search_call", "message"]
    assert "response.output_text.annotation.added" in shape(search)


@settings(max_examples=15, deadline=None)
@given(after=st.integers(-1, 20))
def test_a_background_response_resumes_after_any_sequence_number(after: int) -> None:
    app = create_app(api_key=None)
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as api:
        created = api.post(
            "/responses",
            json={"model": "gpt-4o", "input": "echo: one two three four", "background": True},
        ).json()
        assert created["background"] is True and created["status"] == "queued"  # at once
        whole = events(api.get(f"/responses/{created['id']}", params={"stream": "true"}).content)
        tail = api.get(
            f"/responses/{created['id']}", params={"stream": "true", "starting_after": after}
        )
        resumed = events(tail.content)
        assert resumed == [e for e in whole if e["sequence_number"] > after]


def test_errors_name_the_field(api: httpx.Client) -> None:
    for body, param in [
        ({"input": "hi"}, "model"),
        ({"model": "gpt-4o"}, "input"),
        ({"model": "gpt-4o", "input": "hi", "stream": "yes"}, "stream"),
        ({"model": "gpt-4o", "input": [{"type": "function_call_output"}]}, "input[0]"),
    ]:
        response = api.post("/responses", json=body)
        assert response.status_code == 400 and response.json()["error"]["param"] == param
    assert api.get("/responses/resp_nope").status_code == 404
    assert (
        api.post(
            "/responses", content=b"{", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert httpx.post(str(api.base_url) + "responses", json={}).status_code == 401


def test_retrieve_cancel_and_delete(api: httpx.Client) -> None:
    done = api.post("/responses", json={"model": "gpt-4o", "input": "hello"}).json()
    assert api.get(f"/responses/{done['id']}").json() == done
    assert api.post(f"/responses/{done['id']}/cancel").status_code == 400  # not background
    deleted = api.delete(f"/responses/{done['id']}").json()
    assert deleted == {"id": done["id"], "object": "response.deleted", "deleted": True}
    assert api.get(f"/responses/{done['id']}").status_code == 404
