"""``streamkit demo``: a conversation with the local emulator, and a bundled example run.

:func:`run_demo` is the command: it serves the emulator (:mod:`streamkit.emulator`) on a
free 127.0.0.1 port, talks to it over HTTP with :class:`streamkit.Client` (a weather
question whose parallel function calls the client's tool loop answers with a local
function, then a follow-up that runs code interpreter) and renders the run live as
``streamkit replay`` does; no network beyond 127.0.0.1, so it works offline.

:func:`demo_body` / :func:`demo_recording` are a bundled example generated in code (two
Assistants streams with a function call, code interpreter and a file citation), used by
the documentation of ``inspect`` and by tests.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from .record import Chunk, Recorder, Recording, load_recording

__all__ = ["DEMO_TOKENS_PER_SECOND", "demo_body", "demo_recording", "run_demo"]

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


# --- the live demo -------------------------------------------------------------------------

#: The emulator's pace for the demo's token deltas at ``--speed 1``.
DEMO_TOKENS_PER_SECOND = 25.0
_KEY = "sk-demo"
_WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}
_CONDITIONS = {"Paris": (18, "light rain"), "Rome": (24, "sunny")}


def get_current_weather(location: str) -> str:
    """The demo's tool: canned weather, as a real function would fetch it."""
    temperature, conditions = _CONDITIONS.get(location, (20, "clear"))
    return f"{temperature} °C, {conditions}"


def _renderer(state: Any, plain: bool) -> Any:
    from ._render import PlainRenderer

    if not plain:
        from rich.console import Console

        from ._render import LiveRenderer

        console = Console()
        if console.is_terminal:
            return LiveRenderer(console, state)
    return PlainRenderer(sys.stdout)


def _merge(directory: str, target: str) -> None:
    """The recordings of the demo's streams, one after the other, as one recording."""
    paths = sorted(Path(directory).iterdir())
    offset = 0.0
    with Recorder(
        target,
        method="POST",
        path="/v1/threads/runs",
        status=200,
        headers=[("content-type", "text/event-stream")],
        metadata={"source": "streamkit demo", "streams": len(paths)},
    ) as recorder:
        for path in paths:
            recording = load_recording(path)
            for chunk in recording.chunks:
                recorder.write(chunk.data, t=offset + (chunk.t or 0.0))
            offset += recording.duration or 0.0
        recorder.end(t=offset)


def run_demo(*, tokens_per_second: float | None, plain: bool, save: str | None) -> int:
    """Serve the emulator, run the demo conversation through the client, render it."""
    from .client import Client
    from .emulator import create_app, serve_in_thread

    app = create_app(api_key=_KEY, tokens_per_second=tokens_per_second)
    with tempfile.TemporaryDirectory() as scratch, serve_in_thread(app) as base_url:
        record_to = os.path.join(scratch, "streams") if save is not None else None
        with Client(base_url=base_url, api_key=_KEY, record_to=record_to) as client:
            assistant = client.assistants.create(
                model="gpt-4o",
                name="Weather helper",
                tools=[_WEATHER_TOOL, {"type": "code_interpreter"}],
            )
            question = {"role": "user", "content": "What is the weather in Paris and Rome?"}
            first = client.threads.create_and_run_stream(
                assistant_id=assistant.id, thread={"messages": [question]}
            ).run_tools({"get_current_weather": get_current_weather}, timeout=10)
            renderer = _renderer(first.state, plain)
            try:
                for change in first.changes():
                    renderer.update([change])
                follow_up = {"role": "user", "content": "Calculate (18 + 24) / 2 with code."}
                assert first.thread_id is not None
                second = client.threads.runs.stream(
                    thread_id=first.thread_id,
                    assistant_id=assistant.id,
                    additional_messages=[follow_up],
                    state=first.state,  # one fold: the view shows both runs
                )
                for change in second.changes():
                    renderer.update([change])
            finally:
                renderer.close()
        if save is not None and record_to is not None:
            _merge(record_to, save)
    return 0
