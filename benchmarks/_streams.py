"""Synthetic Assistants API stream bodies for benchmarks.

The objects are shaped like the real response bodies recorded from the service (runs,
steps and messages with every field the service sends, compact JSON, ``event:`` and
``data:`` lines, LF line ends, ``event: done`` / ``data: [DONE]`` at the end), but generated
here so that any size can be produced. Everything is deterministic for a given ``seed``.

- :func:`assistant_stream`: a text-only run whose message arrives in ``n_deltas`` deltas.
- :func:`tool_call_stream`: a function tool call whose arguments arrive in ``n_deltas``
  pieces, ending in ``thread.run.requires_action``.
- :func:`annotated_text_stream`: a text run whose deltas now and then carry a
  ``file_citation`` annotation.
- :func:`parallel_tool_calls_stream`: several function calls in one step, their arguments
  streamed call after call.
- :func:`code_interpreter_stream`: a code interpreter call whose ``input`` or whose logs
  output arrives in ``n_deltas`` pieces.
- :func:`file_search_stream`: a file search call whose free-form ``file_search`` object
  grows by one key per delta.
- :func:`chunked`: split a body into network-sized chunks of random size.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from typing import Any

__all__ = [
    "annotated_text_stream",
    "assistant_stream",
    "chunked",
    "code_interpreter_stream",
    "file_search_stream",
    "parallel_tool_calls_stream",
    "sse_event",
    "tool_call_stream",
]

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


# --- more delta kinds (issue 11's per-kind cost) -----------------------------------------


def _split(rng: random.Random, value: str, n: int) -> list[str]:
    """``value`` cut at ``n - 1`` random places into ``n`` non-empty pieces."""
    if not 1 <= n <= len(value):
        raise ValueError(f"cannot cut {len(value)} characters into {n} pieces")
    cuts = sorted(rng.sample(range(1, len(value)), n - 1))
    return [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]


_StepDelta = Callable[[dict[str, Any]], bytes]
#: Builds a tool_calls step's body: (step delta events, final tool calls, requires action).
_Build = Callable[[random.Random, _Ids, _StepDelta], tuple[list[bytes], list[Any], bool]]


def _tool_run(n_deltas: int, seed: int, tools: list[Any], build: _Build) -> bytes:
    """The frame of a run with one tool_calls step: ``build(new_id, step_delta)`` returns
    (the step delta events, the final tool calls, whether the run requires action)."""
    if n_deltas < 1:
        raise ValueError("n_deltas must be at least 1")
    rng = random.Random(seed)
    new_id = _Ids(rng)
    thread_id, run_id = new_id("thread"), new_id("run")
    assistant_id, step_id = new_id("asst"), new_id("step")
    t = _BASE_TIME

    def run(status: str, **kw: Any) -> str:
        return _dumps(_run(run_id, thread_id, assistant_id, status, tools=tools, **kw))

    def step(status: str, calls: list[Any], **kw: Any) -> str:
        details = {"type": "tool_calls", "tool_calls": calls}
        return _dumps(_step(step_id, run_id, thread_id, assistant_id, status, details, **kw))

    def step_delta(call: dict[str, Any]) -> bytes:
        delta = {"step_details": {"type": "tool_calls", "tool_calls": [call]}}
        data = {"id": step_id, "object": "thread.run.step.delta", "delta": delta}
        return sse_event("thread.run.step.delta", _dumps(data))

    deltas, final_calls, requires_action = build(rng, new_id, step_delta)
    out = [
        sse_event("thread.created", _dumps(_thread(thread_id, t))),
        sse_event("thread.run.created", run("queued")),
        sse_event("thread.run.queued", run("queued")),
        sse_event("thread.run.in_progress", run("in_progress", started_at=t + 2)),
        sse_event("thread.run.step.created", step("in_progress", [])),
        sse_event("thread.run.step.in_progress", step("in_progress", [])),
        *deltas,
    ]
    if requires_action:
        action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": final_calls}}
        out.append(
            sse_event(
                "thread.run.requires_action",
                run("requires_action", started_at=t + 2, required_action=action),
            )
        )
    else:
        done_step = step("completed", final_calls, completed_at=t + 4, usage=_USAGE)
        done_run = run("completed", started_at=t + 2, completed_at=t + 5, usage=_USAGE)
        out += [
            sse_event("thread.run.step.completed", done_step),
            sse_event("thread.run.completed", done_run),
        ]
    out.append(sse_event("done", "[DONE]"))
    return b"".join(out)


def annotated_text_stream(n_deltas: int, *, every: int = 8, seed: int = 0) -> bytes:
    """A text-only run like :func:`assistant_stream` whose every ``every``-th delta ends its
    text with a citation marker (``【4:j†notes_j.txt】``) and carries the matching
    ``file_citation`` annotation (``index`` j, ``start_index`` / ``end_index`` in
    characters of the whole text, ``quote: ""``), as the service streams file search
    citations. ``thread.message.completed`` carries the whole text and every annotation
    (without ``index``, as the service sends it): ``n_deltas + 12`` events in all.
    """
    if every < 1:
        raise ValueError("every must be at least 1")
    rng = random.Random(seed)
    new_id = _Ids(rng)
    thread_id, run_id = new_id("thread"), new_id("run")
    assistant_id, step_id, message_id = new_id("asst"), new_id("step"), new_id("msg")
    file_ids = [new_id("file") for _ in range(4)]
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
    length = 0
    pieces: list[str] = []
    final_annotations: list[dict[str, Any]] = []
    for i in range(n_deltas):
        piece = _words(rng, rng.randint(1, 3))
        if i == 0:
            piece = piece[1:]
        text: dict[str, Any] = {"value": piece}
        if i == 0:
            text["annotations"] = []
        if i % every == every - 1:
            j = len(final_annotations)
            marker = f"\u30104:{j}\u2020notes_{j}.txt\u3011"
            start = length + len(piece)
            piece += marker
            citation = {
                "type": "file_citation",
                "text": marker,
                "start_index": start,
                "end_index": start + len(marker),
                "file_citation": {"file_id": file_ids[j % len(file_ids)], "quote": ""},
            }
            text = {"value": piece, "annotations": [{"index": j, **citation}]}
            final_annotations.append(citation)
        pieces.append(piece)
        length += len(piece)
        delta = {
            "id": message_id,
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
        }
        out.append(sse_event("thread.message.delta", _dumps(delta)))
    full = {"type": "text", "text": {"value": "".join(pieces), "annotations": final_annotations}}
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


def parallel_tool_calls_stream(n_deltas: int, *, calls: int = 4, seed: int = 0) -> bytes:
    """A run that calls the function tool ``calls`` times in one step (parallel tool
    calls), streamed call after call as the service does: a delta announcing call k (id,
    name, ``"arguments":""``), then its argument pieces. The ``n_deltas`` argument pieces
    are shared out evenly between the calls; ``thread.run.requires_action`` carries every
    call with its whole arguments: ``n_deltas + calls + 8`` events in all.
    """
    if not 1 <= calls <= n_deltas:
        raise ValueError("calls must be between 1 and n_deltas")

    def build(
        rng: random.Random, new_id: _Ids, step_delta: _StepDelta
    ) -> tuple[list[bytes], list[Any], bool]:
        deltas: list[bytes] = []
        final: list[dict[str, Any]] = []
        for k in range(calls):
            call_id = new_id("call")
            count = n_deltas // calls + (k < n_deltas % calls)
            notes = _words(rng, max(4, count)).strip()
            arguments = _dumps({"location": f"City {k}", "unit": "celsius", "notes": notes})
            function = {"name": "get_current_weather", "arguments": "", "output": None}
            announce = {"index": k, "id": call_id, "type": "function", "function": function}
            deltas.append(step_delta(announce))
            for piece in _split(rng, arguments, count):
                call = {"index": k, "type": "function", "function": {"arguments": piece}}
                deltas.append(step_delta(call))
            function = {"name": "get_current_weather", "arguments": arguments}
            final.append({"id": call_id, "type": "function", "function": function})
        return deltas, final, True

    return _tool_run(n_deltas, seed, [_WEATHER_TOOL], build)


# Tokens of the Python a code interpreter call writes, and of the logs it prints.
_CODE_TOKENS = (
    "import",
    " math",
    "\n",
    "values",
    " =",
    " [",
    "]",
    "x",
    " for",
    " x",
    " in",
    " range(",
    "10",
    ")",
    "\n",
    "print(",
    "sum(",
    "values",
    "))",
    " *",
    " math.pi",
    "\n    ",
    "if",
    " x",
    " %",
    " 2",
    ":",
    "'done'",
)


def code_interpreter_stream(n_deltas: int, *, streamed: str = "input", seed: int = 0) -> bytes:
    """A run with one code interpreter call, then completed.

    ``streamed="input"``: the call's ``input`` (Python code) arrives in ``n_deltas``
    pieces. ``streamed="logs"``: the input arrives in one delta, then its logs output (at
    output index 0) in ``n_deltas`` pieces. The call is announced first (id,
    ``"input":""``, ``"outputs":[]``); ``thread.run.step.completed`` carries the whole
    input and outputs: ``n_deltas + 10`` (input) or ``n_deltas + 11`` (logs) events.
    """
    if streamed not in ("input", "logs"):
        raise ValueError("streamed must be 'input' or 'logs'")

    def build(
        rng: random.Random, new_id: _Ids, step_delta: _StepDelta
    ) -> tuple[list[bytes], list[Any], bool]:
        call_id = new_id("call")

        def call(ci: dict[str, Any], **kw: Any) -> dict[str, Any]:
            return {"index": 0, **kw, "type": "code_interpreter", "code_interpreter": ci}

        deltas = [step_delta(call({"input": "", "outputs": []}, id=call_id))]
        code = [rng.choice(_CODE_TOKENS) for _ in range(n_deltas if streamed == "input" else 8)]
        if streamed == "input":
            deltas += [step_delta(call({"input": token})) for token in code]
            logs: list[str] = []
        else:
            deltas.append(step_delta(call({"input": "".join(code)})))
            logs = [f"step {i}: {rng.random():.6f}\n" for i in range(n_deltas)]
            for piece in logs:
                output = {"index": 0, "type": "logs", "logs": piece}
                deltas.append(step_delta(call({"outputs": [output]})))
        outputs = [{"type": "logs", "logs": "".join(logs)}] if logs else []
        final = {"input": "".join(code), "outputs": outputs}
        done = {"id": call_id, "type": "code_interpreter", "code_interpreter": final}
        return deltas, [done], False

    return _tool_run(n_deltas, seed, [{"type": "code_interpreter"}], build)


def file_search_stream(n_deltas: int, *, seed: int = 0) -> bytes:
    """A run with one file search call whose ``file_search`` object arrives in
    ``n_deltas + 1`` deltas, then completed.

    The first delta announces the call as the service does (id, ``ranking_options``,
    ``"results":[]``). Each of the ``n_deltas`` after it adds one key to the free-form
    ``file_search`` object (``result_000001``: a small result with file id, name and
    score). The API reference says these deltas are "always an empty object" for now, so
    there is no real shape to copy; this one makes the merged object grow with the
    stream, as a message's text does, which is what a fold that re-encodes the merged
    object on every delta turns quadratic (issue 11). ``thread.run.step.completed``
    carries the whole merged object: ``n_deltas + 11`` events in all.
    """

    def build(
        rng: random.Random, new_id: _Ids, step_delta: _StepDelta
    ) -> tuple[list[bytes], list[Any], bool]:
        call_id = new_id("call")
        file_ids = [new_id("file") for _ in range(4)]
        ranking = {"ranker": "default_2024_08_21", "score_threshold": 0.0}
        merged: dict[str, Any] = {"ranking_options": ranking, "results": []}
        announce = {"index": 0, "id": call_id, "type": "file_search", "file_search": merged}
        deltas = [step_delta(announce)]
        for i in range(1, n_deltas + 1):
            result = {
                "file_id": file_ids[i % len(file_ids)],
                "file_name": f"notes_{i % 7}.txt",
                "score": round(rng.random(), 6),
            }
            piece = {f"result_{i:06d}": result}
            merged = {**merged, **piece}
            deltas.append(step_delta({"index": 0, "type": "file_search", "file_search": piece}))
        final = {"id": call_id, "type": "file_search", "file_search": merged}
        return deltas, [final], False

    return _tool_run(n_deltas, seed, [{"type": "file_search"}], build)
