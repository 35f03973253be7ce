"""A bundled example run for ``streamkit demo``, generated in code (works offline).

:func:`demo_recording` returns a timed :class:`~streamkit.record.Recording` of two
Assistants streams, as the API sends them: the first creates a thread and a run, streams
the arguments of a ``get_weather`` function call and stops at ``requires_action``; the
second (after the tool output is submitted) runs code interpreter (input and logs stream),
then streams an answer with a file citation, and completes the run with token usage.
"""

from __future__ import annotations

from typing import Any

import orjson

from .record import Chunk, Recording

__all__ = ["demo_recording"]

_T0 = 1_730_000_000
THREAD = "thread_demo"
RUN = "run_demo"
ASSISTANT = "asst_demo"
CALL = "call_weather"

_TOOLS = [
    {"type": "code_interpreter"},
    {"type": "file_search"},
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
]

_ARGUMENTS = ['{"', "city", '":"', "Paris", '","', "unit", '":"', "celsius", '"}']
_OUTPUT = '{"temperature": 18, "conditions": "light rain"}'
_CODE = [
    "temps = [18, 17, 16, 15, 17]\n",
    "avg = sum(temps) / len(temps)\n",
    'print(f"5-day average: {avg:.1f} C")',
]
_LOGS = ["5-day average: ", "16.6 C\n"]
_ANSWER = [
    "It is ",
    "18 °C ",
    "with light rain ",
    "in Paris right now",
    ", and the ",
    "5-day average ",
    "is 16.6 °C. ",
    "Pack an umbrella",
    " 【4:0†packing.md】",
    ".",
]
_CITATION = " 【4:0†packing.md】"


def _run(status: str, **extra: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "id": RUN,
        "object": "thread.run",
        "created_at": _T0,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "status": status,
        "started_at": None if status == "queued" else _T0 + 1,
        "expires_at": _T0 + 600,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "required_action": None,
        "last_error": None,
        "model": "gpt-4o",
        "instructions": "You are a helpful travel assistant.",
        "tools": _TOOLS,
        "metadata": {},
        "usage": None,
        "temperature": 1.0,
        "top_p": 1.0,
        "max_prompt_tokens": None,
        "max_completion_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }
    run.update(extra)
    return run


def _step(ident: str, status: str, details: dict[str, Any], **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": ident,
        "object": "thread.run.step",
        "created_at": _T0 + 2,
        "run_id": RUN,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "type": details["type"],
        "status": status,
        "cancelled_at": None,
        "completed_at": _T0 + 5 if status == "completed" else None,
        "expires_at": _T0 + 600,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
    }
    step.update(extra)
    return step


def _function_call(arguments: str, output: str | None) -> dict[str, Any]:
    function = {"name": "get_weather", "arguments": arguments, "output": output}
    return {"id": CALL, "type": "function", "function": function}


def _code_call(code: str, logs: str | None) -> dict[str, Any]:
    outputs = [{"type": "logs", "logs": logs}] if logs is not None else []
    return {
        "id": "call_code",
        "type": "code_interpreter",
        "code_interpreter": {"input": code, "outputs": outputs},
    }


def _message(status: str, text: str | None) -> dict[str, Any]:
    content = []
    if text is not None:
        start = text.index(_CITATION)
        annotation = {
            "type": "file_citation",
            "text": _CITATION.strip(),
            "start_index": start + 1,
            "end_index": start + len(_CITATION),
            "file_citation": {"file_id": "file_packing"},
        }
        content.append({"type": "text", "text": {"value": text, "annotations": [annotation]}})
    return {
        "id": "msg_demo",
        "object": "thread.message",
        "created_at": _T0 + 6,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "run_id": RUN,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": _T0 + 8 if status == "completed" else None,
        "role": "assistant",
        "content": content,
        "attachments": [],
        "metadata": {},
    }


def _events() -> list[tuple[float, str, Any]]:
    """(delay before the event, event name, data) for both streams."""
    empty_calls = {"type": "tool_calls", "tool_calls": []}
    events: list[tuple[float, str, Any]] = [
        (0.0, "thread.created", {"id": THREAD, "object": "thread", "created_at": _T0}),
        (0.15, "thread.run.created", _run("queued")),
        (0.1, "thread.run.queued", _run("queued")),
        (0.4, "thread.run.in_progress", _run("in_progress")),
        (0.5, "thread.run.step.created", _step("step_call", "in_progress", empty_calls)),
        (0.05, "thread.run.step.in_progress", _step("step_call", "in_progress", empty_calls)),
    ]
    for i, piece in enumerate(_ARGUMENTS):
        call: dict[str, Any] = {"index": 0, "type": "function", "function": {"arguments": piece}}
        if i == 0:
            call = {
                "index": 0,
                "id": CALL,
                "type": "function",
                "function": {"name": "get_weather", "arguments": "", "output": None},
            }
            events.append((0.2, "thread.run.step.delta", _step_delta("step_call", call)))
            call = {"index": 0, "type": "function", "function": {"arguments": piece}}
        events.append((0.12, "thread.run.step.delta", _step_delta("step_call", call)))
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": CALL,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "".join(_ARGUMENTS)},
                }
            ]
        },
    }
    events += [
        (0.2, "thread.run.requires_action", _run("requires_action", required_action=required)),
        # --- second stream: after POST .../submit_tool_outputs (one body holds both, so
        # the first stream's `done` is left out: nothing may follow a `done`)
        (1.2, "thread.run.queued", _run("queued", started_at=_T0 + 1)),
        (0.3, "thread.run.in_progress", _run("in_progress")),
        (
            0.1,
            "thread.run.step.completed",
            _step(
                "step_call",
                "completed",
                {
                    "type": "tool_calls",
                    "tool_calls": [_function_call("".join(_ARGUMENTS), _OUTPUT)],
                },
            ),
        ),
        (0.4, "thread.run.step.created", _step("step_code", "in_progress", empty_calls)),
        (0.05, "thread.run.step.in_progress", _step("step_code", "in_progress", empty_calls)),
    ]
    first = {"index": 0, "id": "call_code", "type": "code_interpreter"}
    for i, line in enumerate(_CODE):
        code: dict[str, Any] = {"index": 0, "type": "code_interpreter"}
        if i == 0:
            code = dict(first)
        code["code_interpreter"] = {"input": line}
        events.append((0.35, "thread.run.step.delta", _step_delta("step_code", code)))
    for i, piece in enumerate(_LOGS):
        log = {"index": 0, "type": "code_interpreter"}
        log["code_interpreter"] = {"outputs": [{"index": 0, "type": "logs", "logs": piece}]}
        events.append(
            (0.6 if i == 0 else 0.2, "thread.run.step.delta", _step_delta("step_code", log))
        )
    code_done = {"type": "tool_calls", "tool_calls": [_code_call("".join(_CODE), "".join(_LOGS))]}
    message_step = {"type": "message_creation", "message_creation": {"message_id": "msg_demo"}}
    events += [
        (0.1, "thread.run.step.completed", _step("step_code", "completed", code_done)),
        (0.3, "thread.run.step.created", _step("step_msg", "in_progress", message_step)),
        (0.05, "thread.run.step.in_progress", _step("step_msg", "in_progress", message_step)),
        (0.05, "thread.message.created", _message("in_progress", None)),
        (0.05, "thread.message.in_progress", _message("in_progress", None)),
    ]
    text = "".join(_ANSWER)
    for i, piece in enumerate(_ANSWER):
        block: dict[str, Any] = {"index": 0, "type": "text", "text": {"value": piece}}
        if i == 0:
            block["text"]["annotations"] = []
        if piece == _CITATION:
            start = text.index(_CITATION)
            block["text"]["annotations"] = [
                {
                    "index": 0,
                    "type": "file_citation",
                    "text": _CITATION.strip(),
                    "start_index": start + 1,
                    "end_index": start + len(_CITATION),
                    "file_citation": {"file_id": "file_packing"},
                }
            ]
        delta = {"id": "msg_demo", "object": "thread.message.delta", "delta": {"content": [block]}}
        events.append((0.15, "thread.message.delta", delta))
    usage = {"prompt_tokens": 412, "completion_tokens": 86, "total_tokens": 498}
    step_usage = {"prompt_tokens": 160, "completion_tokens": 31, "total_tokens": 191}
    events += [
        (0.1, "thread.message.completed", _message("completed", text)),
        (
            0.05,
            "thread.run.step.completed",
            _step("step_msg", "completed", message_step, usage=step_usage),
        ),
        (0.1, "thread.run.completed", _run("completed", completed_at=_T0 + 9, usage=usage)),
        (0.05, "done", "[DONE]"),
    ]
    return events


def _step_delta(step: str, call: dict[str, Any]) -> dict[str, Any]:
    details = {"type": "tool_calls", "tool_calls": [call]}
    return {"id": step, "object": "thread.run.step.delta", "delta": {"step_details": details}}


def demo_body() -> bytes:
    """The demo streams as one plain ``text/event-stream`` body."""
    return b"".join(chunk.data for chunk in demo_recording().chunks)


def demo_recording() -> Recording:
    """The demo streams, one chunk per event, timed like a live run (about 12 s)."""
    chunks: list[Chunk] = []
    t = 0.0
    for delay, name, data in _events():
        t += delay
        payload = data if isinstance(data, str) else orjson.dumps(data).decode()
        chunks.append(Chunk(round(t, 6), f"event: {name}\ndata: {payload}\n\n".encode()))
    return Recording(header=None, chunks=chunks, duration=round(t, 6))
