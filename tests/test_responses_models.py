"""The Responses API models: exact round trips of real payloads, unknown fields and types
kept, growable strings, wrong shapes named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamkit.models import ShapeError
from streamkit.models.responses import (
    CONTENT,
    OUTPUT_ITEM,
    FunctionCall,
    OutputMessage,
    OutputText,
    ReasoningItem,
    Response,
    UnknownContent,
    UnknownOutputItem,
    URLCitation,
)

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "responses"
FILES = sorted(RECORDINGS.glob("*.sse"))
needs_recordings = pytest.mark.skipif(not FILES, reason="no Responses recordings")


def payloads(path: Path) -> list[dict[str, Any]]:
    """Every event payload of a recording, parsed."""
    return [
        json.loads(line[len("data: ") :])
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


@pytest.mark.external
@needs_recordings
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_object_of_the_recordings_round_trips(path: Path) -> None:
    seen = 0
    for payload in payloads(path):
        if "response" in payload:
            response = Response.from_dict(payload["response"])
            assert response.to_dict() == payload["response"]
            assert response.clone().to_dict() == payload["response"]
            for raw, item in zip(payload["response"]["output"], response.output or [], strict=True):
                assert not isinstance(item, UnknownOutputItem), raw["type"]
            seen += 1
        if "item" in payload:
            item = OUTPUT_ITEM.decoder()(payload["item"])
            assert not isinstance(item, UnknownOutputItem)
            assert item.to_dict() == payload["item"]
            seen += 1
        if "part" in payload:
            part = CONTENT.decoder()(payload["part"])
            assert not isinstance(part, UnknownContent)
            assert part.to_dict() == payload["part"]
            seen += 1
    assert seen >= 4


def test_unknown_fields_and_types_are_kept() -> None:
    raw = {
        "id": "resp_1",
        "object": "response",
        "status": "completed",
        "brand_new": {"a": [1, 2]},
        "output": [
            {"id": "x_1", "type": "hologram_call", "status": "completed", "beams": 3},
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "phase": "final_answer",
                "content": [
                    {
                        "type": "output_text",
                        "text": "Hi",
                        "annotations": [
                            {"type": "url_citation", "url": "https://a.example", "title": "A"},
                            {"type": "poem_citation", "verse": 2},
                        ],
                    },
                    {"type": "output_audio", "data": "AAAA"},
                ],
            },
        ],
    }
    response = Response.from_dict(raw)
    assert response.to_dict() == raw
    assert response.extra == {"brand_new": {"a": [1, 2]}}
    unknown, message = response.output or []
    assert isinstance(unknown, UnknownOutputItem) and unknown.type == "hologram_call"
    assert isinstance(message, OutputMessage) and message.extra == {"phase": "final_answer"}
    text, audio = message.content or []
    assert isinstance(text, OutputText) and text.text == "Hi"
    assert isinstance((text.annotations or [])[0], URLCitation)
    assert isinstance(audio, UnknownContent) and audio.raw == {
        "type": "output_audio",
        "data": "AAAA",
    }
    assert "usage" not in response.to_dict()  # absent stays absent


def test_a_wrong_shape_names_where() -> None:
    with pytest.raises(ShapeError) as info:
        Response.from_dict({"id": "r", "output": [{"type": "function_call", "arguments": 3}]})
    assert info.value.where() == "output[0].arguments"
    with pytest.raises(ShapeError):
        Response.from_dict({"object": "response"})  # id is required


@given(st.lists(st.text(max_size=8), max_size=10))
def test_growable_fields_read_as_their_pieces_joined(pieces: list[str]) -> None:
    from streamkit._model import append_to

    call = FunctionCall.from_dict({"type": "function_call", "arguments": ""})
    item = ReasoningItem.from_dict(
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": ""}]}
    )
    summary = (item.summary or [])[0]
    for piece in pieces:
        append_to(call, "_arguments", piece)
        append_to(summary, "_text", piece)
    assert call.arguments == "".join(pieces)
    assert call.to_dict()["arguments"] == "".join(pieces)
    assert summary.to_dict() == {"type": "summary_text", "text": "".join(pieces)}
