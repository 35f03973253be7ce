"""Synthetic Assistants API stream bodies for benchmarks.

The objects are shaped like the real response bodies recorded from the service (runs,
steps and messages with every field the service sends, compact JSON, ``event:`` and
``data:`` lines, LF line ends, ``event: done`` / ``data: [DONE]`` at the end), but generated
here so that any size can be produced. Everything is deterministic for a given ``seed``.

- :func:`assistant_stream`: a text-only run whose message arrives in ``n_deltas`` deltas.
- :func:`tool_call_stream`: a function tool call whose arguments arrive in ``n_deltas``
  pieces, ending in ``thread.run.requires_action``.
- :func:`chunked`: split a body into network-sized chunks of random size.
"""

from __future__ import annotations

import json
import random
import string
from typing import Any

__all__ = ["assistant_stream", "chunked", "sse_event", "tool_call_stream"]

_ALNUM = string.ascii_letters + string.digits
_BASE_TIME = 1761861742

# Mostly ASCII words, with the occasional curly quote, dash or accented word that real
# model output contains, so that decoders also meet multi-byte UTF-8.
_ASCII_WORDS = (
    "the a to of and in is it you that for on with as this be are can I your or by "
    "help program feelings ready whatever need assist today stream event message run "
    "step thread delta value text token model answer question weather sunny warm city "
    "data parser line field byte chunk buffer state change result output input"
)
_WORDS = (*_ASCII_WORDS.split(), "don\u2019t", "it\u2019s", "\u2014", "caf\u00e9", "na\u00efve")

_USAGE = {
    "prompt_tokens": 38,
    "completion_tokens": 35,
    "total_tokens": 73,
    "prompt_token_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}

_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Gets the user's current weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "notes": {"type": "string"},
            },
        },
        "strict": False,
    },
}


def sse_event(event: str, data: str) -> bytes:
    """One SSE block: ``event:`` and ``data:`` lines and a blank line, LF line ends."""
    return f"event: {event}\ndata: {data}\n\n".encode()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class _Ids:
    """Deterministic OpenAI-style object ids (``prefix_`` + 24 alphanumerics)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def __call__(self, prefix: str) -> str:
        return prefix + "_" + "".join(self._rng.choices(_ALNUM, k=24))


def _words(rng: random.Random, n: int) -> str:
    """A few words (``n``), each with its leading space, like a model's text delta."""
    return "".join(" " + rng.choice(_WORDS) for _ in range(n))


def _thread(thread_id: str, created_at: int) -> dict[str, Any]:
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": created_at,
        "metadata": {},
        "tool_resources": {"code_interpreter": {"file_ids": []}},
    }


def _run(
    run_id: str,
    thread_id: str,
    assistant_id: str,
    status: str,
    *,
    tools: list[Any],
    started_at: int | None = None,
    completed_at: int | None = None,
    required_action: Any = None,
    usage: Any = None,
) -> dict[str, Any]:
    done = status == "completed"
    return {
        "id": run_id,
        "object": "thread.run",
        "created_at": _BASE_TIME,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "status": status,
        "started_at": started_at,
        "expires_at": None if done else _BASE_TIME + 600,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": completed_at,
        "required_action": required_action,
        "last_error": None,
        "model": "gpt-4o",
        "instructions": None,
        "tools": tools,
        "tool_resources": {"code_interpreter": {"file_ids": []}},
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "reasoning_effort": None,
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "usage": usage,
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }


def _step(
    step_id: str,
    run_id: str,
    thread_id: str,
    assistant_id: str,
    status: str,
    step_details: dict[str, Any],
    *,
    completed_at: int | None = None,
    usage: Any = None,
) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": _BASE_TIME + 3,
        "run_id": run_id,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "type": step_details["type"],
        "status": status,
        "cancelled_at": None,
        "completed_at": completed_at,
        "expires_at": _BASE_TIME + 600,
        "failed_at": None,
        "last_error": None,
        "step_details": step_details,
        "usage": usage,
    }


def _message(
    message_id: str,
    run_id: str,
    thread_id: str,
    assistant_id: str,
    status: str,
    content: list[Any],
    *,
    completed_at: int | None = None,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "object": "thread.message",
        "created_at": _BASE_TIME + 3,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "run_id": run_id,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": completed_at,
        "role": "assistant",
        "content": content,
        "attachments": [],
        "metadata": {},
    }


def assistant_stream(n_deltas: int, *, seed: int = 0) -> bytes:
    """A text-only run on a new thread whose one message arrives in ``n_deltas`` deltas.

    Events: ``thread.created``, ``thread.run.created`` / ``queued`` / ``in_progress``,
    ``thread.run.step.created`` / ``in_progress`` (message_creation),
    ``thread.message.created`` / ``in_progress``, ``n_deltas`` x ``thread.message.delta``
    (a few words each; the first also carries ``"annotations":[]``),
    ``thread.message.completed`` (its text is exactly the deltas joined),
    ``thread.run.step.completed``, ``thread.run.completed``, ``done`` (``[DONE]``):
    ``n_deltas + 12`` events in all.
    """
    rng = random.Random(seed)
    new_id = _Ids(rng)
    thread_id, run_id = new_id("thread"), new_id("run")
    assistant_id, step_id, message_id = new_id("asst"), new_id("step"), new_id("msg")
    t = _BASE_TIME
    details = {"type": "message_creation", "message_creation": {"message_id": message_id}}

    def run(status: str, **kw: Any) -> str:
        return _dumps(_run(run_id, thread_id, assistant_id, status, tools=[], **kw))

    def step(status: str, **kw: Any) -> str:
        return _dumps(_step(step_id, run_id, thread_id, assistant_id, status, details, **kw))

    def message(status: str, content: list[Any], **kw: Any) -> str:
        return _dumps(_message(message_id, run_id, thread_id, assistant_id, status, content, **kw))

    out = [
        sse_event("thread.created", _dumps(_thread(thread_id, t))),
        sse_event("thread.run.created", run("queued")),
        sse_event("thread.run.queued", run("queued")),
        sse_event("thread.run.in_progress", run("in_progress", started_at=t + 2)),
        sse_event("thread.run.step.created", step("in_progress")),
        sse_event("thread.run.step.in_progress", step("in_progress")),
        sse_event("thread.message.created", message("in_progress", [])),
        sse_event("thread.message.in_progress", message("in_progress", [])),
    ]
    pieces: list[str] = []
    for i in range(n_deltas):
        piece = _words(rng, rng.randint(1, 3))
        if i == 0:
            piece = piece[1:]
        pieces.append(piece)
        text: dict[str, Any] = {"value": piece, "annotations": []} if i == 0 else {"value": piece}
        delta = {
            "id": message_id,
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
        }
        out.append(sse_event("thread.message.delta", _dumps(delta)))
    full = {"type": "text", "text": {"value": "".join(pieces), "annotations": []}}
    out += [
        sse_event("thread.message.completed", message("completed", [full], completed_at=t + 4)),
        sse_event("thread.run.step.completed", step("completed", completed_at=t + 4, usage=_USAGE)),
        sse_event(
            "thread.run.completed",
            run("completed", started_at=t + 2, completed_at=t + 5, usage=_USAGE),
        ),
        sse_event("done", "[DONE]"),
    ]
    return b"".join(out)


def tool_call_stream(n_deltas: int, *, seed: int = 0) -> bytes:
    """A run that calls a function tool whose arguments arrive in ``n_deltas`` pieces.

    Events: ``thread.created``, ``thread.run.created`` / ``queued`` / ``in_progress``,
    ``thread.run.step.created`` / ``in_progress`` (tool_calls), one
    ``thread.run.step.delta`` announcing the call (id, name, ``"arguments":""``), then
    ``n_deltas`` x ``thread.run.step.delta`` with the argument pieces,
    ``thread.run.requires_action`` whose tool call carries exactly the pieces joined, and
    ``done`` (``[DONE]``): ``n_deltas + 9`` events in all.
    """
    if n_deltas < 1:
        raise ValueError("n_deltas must be at least 1")
    rng = random.Random(seed)
    new_id = _Ids(rng)
    thread_id, run_id = new_id("thread"), new_id("run")
    assistant_id, step_id, call_id = new_id("asst"), new_id("step"), new_id("call")
    t = _BASE_TIME
    tools = [_WEATHER_TOOL]
    details_empty = {"type": "tool_calls", "tool_calls": []}

    notes = _words(rng, max(4, n_deltas)).strip()
    arguments = _dumps({"location": "San Francisco, CA", "unit": "celsius", "notes": notes})
    cuts = sorted(rng.sample(range(1, len(arguments)), n_deltas - 1))
    pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]

    def run(status: str, **kw: Any) -> str:
        return _dumps(_run(run_id, thread_id, assistant_id, status, tools=tools, **kw))

    def step_delta(call: dict[str, Any]) -> str:
        details = {"type": "tool_calls", "tool_calls": [call]}
        delta = {"step_details": details}
        return _dumps({"id": step_id, "object": "thread.run.step.delta", "delta": delta})

    def step(status: str) -> str:
        return _dumps(_step(step_id, run_id, thread_id, assistant_id, status, details_empty))

    announce = {
        "index": 0,
        "id": call_id,
        "type": "function",
        "function": {"name": "get_current_weather", "arguments": "", "output": None},
    }
    out = [
        sse_event("thread.created", _dumps(_thread(thread_id, t))),
        sse_event("thread.run.created", run("queued")),
        sse_event("thread.run.queued", run("queued")),
        sse_event("thread.run.in_progress", run("in_progress", started_at=t + 2)),
        sse_event("thread.run.step.created", step("in_progress")),
        sse_event("thread.run.step.in_progress", step("in_progress")),
        sse_event("thread.run.step.delta", step_delta(announce)),
    ]
    for piece in pieces:
        call = {"index": 0, "type": "function", "function": {"arguments": piece}}
        out.append(sse_event("thread.run.step.delta", step_delta(call)))
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": arguments},
                }
            ]
        },
    }
    out += [
        sse_event(
            "thread.run.requires_action",
            run("requires_action", started_at=t + 2, required_action=action),
        ),
        sse_event("done", "[DONE]"),
    ]
    return b"".join(out)


def chunked(body: bytes, *, lo: int = 1024, hi: int = 4096, seed: int = 0) -> list[bytes]:
    """Split ``body`` into chunks of random sizes in ``[lo, hi]`` (the last may be shorter)."""
    rng = random.Random(seed)
    chunks = []
    pos = 0
    while pos < len(body):
        size = rng.randint(lo, hi)
        chunks.append(body[pos : pos + size])
        pos += size
    return chunks
