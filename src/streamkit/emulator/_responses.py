"""The Responses API endpoints: ``POST /responses``, retrieve, resume, cancel, delete.

The same scripted assistant as the Assistants endpoints (:func:`._script.choose`) answers,
in the Responses API's event format, with the event order and the fields of the real
streams in ``../shared/recordings/responses``:

- ``response.created`` and ``response.in_progress``, then one output item per step of
  the plan: a ``message`` (``output_text`` deltas, file citations as
  ``output_text.annotation.added``), a ``refusal`` part, ``function_call`` items (their
  arguments streamed), a ``code_interpreter_call`` (code deltas, then its logs) or a
  ``file_search_call``; each item is ``output_item.added`` ... ``output_item.done``.
- ``response.completed`` with the whole output and the usage. Every event carries a
  contiguous ``sequence_number`` from 0. No ``[DONE]`` terminator (the service sends none).

Function calling: the response completes with its ``function_call`` items; the client
sends a new request with ``previous_response_id`` and one ``function_call_output`` item
per call, and the script's continuation answers (the weather script uses the outputs).

Background mode (``"background": true``): the app produces the response in a task of its
event loop, at the request's pace, and each event is *published* on the record (kept in
order, readers woken) once its pacing delay has passed; readers (the creating request's
stream, ``GET /responses/{id}?stream=true&starting_after=N``) send the published events
after N and then wait for more until the record is *done*. A reader leaving does not stop
the task; :meth:`ResponsesRun.cancel` does: the response becomes ``cancelled`` (open items
``incomplete``) and its last event is ``response.cancelled``. A foreground response
publishes each event as it is produced. Every response is kept, and retrievable, until
deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Any

import anyio
import orjson

from ._script import (
    Citation,
    CodeRun,
    FileSearchCall,
    FunctionCall,
    FunctionCalls,
    RefusalReply,
    Script,
    Step,
    TextReply,
    choose,
    pieces,
)
from ._store import ApiError, Store

__all__ = [
    "ResponseRecord",
    "ResponsesRun",
    "generate",
    "parse_request",
    "start_background",
    "stop_background",
]

JSON = dict[str, Any]
Event = tuple[str, bytes, bool]  # (event name, data, paced)


class ResponseRecord:
    """A response the emulator produced: the object, its events so far, and, when it
    ended with function calls, what answers their outputs."""

    def __init__(self, response: JSON, script: Script) -> None:
        self.response = response
        self.script = script
        #: Every event produced, in order: (sequence number, name, data); the sequence
        #: number is the index.
        self.events: list[tuple[int, str, bytes]] = []
        #: How many of ``events`` readers may send (a paced event is produced, then
        #: published after its delay).
        self.published = 0
        #: No event will be added: the response ended (or its generation was stopped).
        self.done = False
        self.calls: list[tuple[str, FunctionCall]] = []  # (call_id, call) awaiting outputs
        #: The run producing the response, while it does (for cancel).
        self.run: ResponsesRun | None = None
        #: The task generating a background response (held so that it is not collected).
        self.task: asyncio.Task[None] | None = None
        self._grew: anyio.Event | None = None

    def publish(self) -> None:
        """Make every produced event readable, and wake the readers."""
        self.published = len(self.events)
        self._wake()

    def close(self) -> None:
        """No event will follow: publish the rest, and wake the readers to end."""
        self.done = True
        self.publish()

    def _wake(self) -> None:
        if self._grew is not None:
            self._grew.set()
            self._grew = None

    async def wait(self, count: int) -> None:
        """Return once more than ``count`` events are published, or the record is done."""
        while self.published <= count and not self.done:
            if self._grew is None:
                self._grew = anyio.Event()
            await self._grew.wait()


# --- the request ------------------------------------------------------------------------


def _check(body: Mapping[str, Any], name: str, kinds: tuple[type, ...], what: str) -> Any:
    value = body.get(name)
    if value is not None and (
        not isinstance(value, kinds) or isinstance(value, bool) != (bool in kinds)
    ):
        raise ApiError(400, f"Invalid type for '{name}': expected {what}.", param=name)
    return value


def parse_request(raw: bytes) -> JSON:
    """The request body, checked: a 400 naming the field for anything of the wrong type."""
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    if not isinstance(body.get("model"), str):
        raise ApiError(400, "Missing required parameter: 'model'.", param="model")
    if not isinstance(body.get("input"), str | list):
        raise ApiError(
            400,
            "Missing required parameter: 'input' (a string or a list of items).",
            param="input",
        )
    _check(body, "instructions", (str,), "a string")
    _check(body, "tools", (list,), "an array")
    _check(body, "previous_response_id", (str,), "a string")
    for flag in ("stream", "background", "store"):
        _check(body, flag, (bool,), "a boolean")
    for i, item in enumerate(body["input"] if isinstance(body["input"], list) else []):
        if not isinstance(item, dict):
            raise ApiError(
                400, f"Invalid type for 'input[{i}]': expected an object.", param=f"input[{i}]"
            )
        if item.get("type") == "function_call_output" and not (
            isinstance(item.get("call_id"), str) and isinstance(item.get("output"), str)
        ):
            raise ApiError(
                400,
                f"'input[{i}]': a function_call_output needs 'call_id' and 'output' strings.",
                param=f"input[{i}]",
            )
    return body


def _user_text(items: Any) -> str:
    if isinstance(items, str):
        return items
    text = ""
    for item in items:
        if item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                text = content
            elif isinstance(content, list):
                text = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return text


def _assistants_tools(tools: Sequence[Any]) -> list[JSON]:
    """Responses tools (flat function tools) in the shape the script chooser reads."""
    out: list[JSON] = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") == "function":
            out.append({"type": "function", "function": {"name": tool.get("name", "")}})
        elif isinstance(tool, dict):
            out.append({"type": tool.get("type")})
    return out


def plan(body: JSON, previous: ResponseRecord | None) -> tuple[Script, list[Step]]:
    """The script and the steps that answer this request."""
    items = body["input"]
    outputs = {
        item["call_id"]: item["output"]
        for item in (items if isinstance(items, list) else [])
        if item.get("type") == "function_call_output"
    }
    if previous is not None and previous.calls and outputs:
        missing = [call_id for call_id, _ in previous.calls if call_id not in outputs]
        if missing:
            raise ApiError(
                400, f"No tool output found for function call {missing[0]}.", param="input"
            )
        script = previous.script
        if script.then is None:
            return script, [TextReply(("Thanks.",))]
        answered = [(call, outputs[call_id]) for call_id, call in previous.calls]
        return script, script.then(answered)
    tools = _assistants_tools(body.get("tools") or [])
    script = choose(body.get("instructions") or "", _user_text(items), tools)
    return script, script.steps


# --- the events -----------------------------------------------------------------------------


class ResponsesRun:
    """The events of one response, produced as they are read (the app paces them)."""

    def __init__(
        self, store: Store, record: ResponseRecord, steps: list[Step], *, hold: bool = False
    ) -> None:
        self.store = store
        self.record = record
        self.steps = steps
        #: True: events are kept unpublished until the producer calls ``record.publish()``
        #: (background mode, where pacing happens before readers see an event).
        self.hold = hold
        self.finished = False
        self._sequence = 0
        self._tokens = 0
        self._events: Generator[Event, None, None] = self._produce()
        record.run = self

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self.finished:
            raise StopIteration
        try:
            return next(self._events)
        except StopIteration:
            self._finish()
            raise

    def drain(self) -> None:
        """Produce the rest of the events, for no one (the response still ends)."""
        for _event in self:
            pass

    def fail(self, code: str, message: str) -> None:
        """An injected ``error:N`` fault: the response fails after it."""
        self._events = self._failed(code, message)

    def cancel(self) -> None:
        """Stop producing: the response is ``cancelled`` (its open items ``incomplete``),
        ``response.cancelled`` is its last event, and the record is done."""
        if self.finished:
            return
        self._events.close()
        response = self.record.response
        response["status"] = "cancelled"
        for item in response["output"]:
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
        self._emit("response.cancelled", {"response": self._snapshot()})
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        self.record.run = None
        self.record.close()

    # -- building blocks

    def _emit(self, name: str, payload: JSON, paced: bool = False) -> Event:
        sequence = self._sequence
        self._sequence += 1
        data = orjson.dumps({"type": name, **payload, "sequence_number": sequence})
        self.record.events.append((sequence, name, data))
        if not self.hold:
            self.record.publish()
        return (name, data, paced)

    def _snapshot(self) -> JSON:
        copied: JSON = orjson.loads(orjson.dumps(self.record.response))
        return copied

    def _produce(self) -> Generator[Event, None, None]:
        response = self.record.response
        yield self._emit("response.created", {"response": self._snapshot()})
        response["status"] = "in_progress"
        yield self._emit("response.in_progress", {"response": self._snapshot()})
        for step in self.steps:
            yield from self._step(step)
        response["status"] = "completed"
        response["completed_at"] = self.store.now()
        output_tokens = max(1, self._tokens)
        response["usage"] = {
            "input_tokens": 20,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 20 + output_tokens,
        }
        yield self._emit("response.completed", {"response": self._snapshot()})

    def _failed(self, code: str, message: str) -> Generator[Event, None, None]:
        response = self.record.response
        response["status"] = "failed"
        response["error"] = {"code": code, "message": message}
        yield self._emit("response.failed", {"response": self._snapshot()})

    def _step(self, step: Step) -> Iterator[Event]:
        if isinstance(step, TextReply):
            yield from self._message(step)
        elif isinstance(step, RefusalReply):
            yield from self._refusal(step)
        elif isinstance(step, FunctionCalls):
            for call in step.calls:
                yield from self._function_call(call)
        elif isinstance(step, CodeRun):
            yield from self._code(step)
        elif isinstance(step, FileSearchCall):
            yield from self._file_search(step)

    def _add_item(self, item: JSON) -> tuple[int, Event]:
        output = self.record.response["output"]
        index = len(output)
        output.append(item)
        added = orjson.loads(orjson.dumps(item))
        return index, self._emit(
            "response.output_item.added", {"item": added, "output_index": index}
        )

    def _item_done(self, index: int) -> Event:
        item = self.record.response["output"][index]
        item["status"] = "completed"
        done = orjson.loads(orjson.dumps(item))
        return self._emit("response.output_item.done", {"item": done, "output_index": index})

    def _message(self, reply: TextReply) -> Iterator[Event]:
        item_id = self.store.new_id("msg_")
        item: JSON = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        index, added = self._add_item(item)
        yield added
        part: JSON = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
        where = {"content_index": 0, "item_id": item_id, "output_index": index}
        yield self._emit("response.content_part.added", {**where, "part": dict(part)})
        item["content"].append(part)
        for piece in reply.parts:
            text = piece.text if isinstance(piece, Citation) else piece
            for token in [text] if isinstance(piece, Citation) else pieces(text):
                part["text"] += token
                self._tokens += 1
                yield self._emit(
                    "response.output_text.delta",
                    {**where, "delta": token, "logprobs": []},
                    paced=True,
                )
            if isinstance(piece, Citation):
                annotation = {
                    "type": "file_citation",
                    "file_id": piece.file_id,
                    "filename": "emulator_notes.txt",
                    "index": len(part["text"]),
                }
                yield self._emit(
                    "response.output_text.annotation.added",
                    {
                        **where,
                        "annotation": annotation,
                        "annotation_index": len(part["annotations"]),
                    },
                )
                part["annotations"].append(annotation)
        yield self._emit(
            "response.output_text.done", {**where, "logprobs": [], "text": part["text"]}
        )
        yield self._emit("response.content_part.done", {**where, "part": dict(part)})
        yield self._item_done(index)

    def _refusal(self, reply: RefusalReply) -> Iterator[Event]:
        item_id = self.store.new_id("msg_")
        item: JSON = {
            "id": item_id,
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        index, added = self._add_item(item)
        yield added
        part: JSON = {"type": "refusal", "refusal": ""}
        where = {"content_index": 0, "item_id": item_id, "output_index": index}
        yield self._emit("response.content_part.added", {**where, "part": dict(part)})
        item["content"].append(part)
        for token in pieces(reply.refusal):
            part["refusal"] += token
            self._tokens += 1
            yield self._emit("response.refusal.delta", {**where, "delta": token}, paced=True)
        yield self._emit("response.refusal.done", {**where, "refusal": part["refusal"]})
        yield self._emit("response.content_part.done", {**where, "part": dict(part)})
        yield self._item_done(index)

    def _function_call(self, call: FunctionCall) -> Iterator[Event]:
        item_id, call_id = self.store.new_id("fc_"), self.store.new_id("call_")
        item: JSON = {
            "id": item_id,
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id,
            "name": call.name,
        }
        index, added = self._add_item(item)
        yield added
        where = {"item_id": item_id, "output_index": index}
        for token in pieces(call.arguments) or [call.arguments]:
            item["arguments"] += token
            self._tokens += 1
            yield self._emit(
                "response.function_call_arguments.delta", {**where, "delta": token}, paced=True
            )
        yield self._emit(
            "response.function_call_arguments.done", {**where, "arguments": item["arguments"]}
        )
        yield self._item_done(index)
        self.record.calls.append((call_id, call))

    def _code(self, run: CodeRun) -> Iterator[Event]:
        item_id = self.store.new_id("ci_")
        item: JSON = {
            "id": item_id,
            "type": "code_interpreter_call",
            "status": "in_progress",
            "code": "",
            "container_id": "cntr_emulator",
            "outputs": None,
        }
        index, added = self._add_item(item)
        yield added
        where = {"item_id": item_id, "output_index": index}
        yield self._emit("response.code_interpreter_call.in_progress", where)
        for token in pieces(run.input) or [run.input]:
            item["code"] += token
            self._tokens += 1
            yield self._emit(
                "response.code_interpreter_call_code.delta",
                {**where, "delta": token},
                paced=True,
            )
        yield self._emit(
            "response.code_interpreter_call_code.done", {**where, "code": item["code"]}
        )
        yield self._emit("response.code_interpreter_call.interpreting", where)
        item["outputs"] = [{"type": "logs", "logs": run.logs}]
        yield self._emit("response.code_interpreter_call.completed", where)
        yield self._item_done(index)

    def _file_search(self, search: FileSearchCall) -> Iterator[Event]:
        item_id = self.store.new_id("fs_")
        item: JSON = {
            "id": item_id,
            "type": "file_search_call",
            "status": "in_progress",
            "queries": ["emulator notes"],
            "results": None,
        }
        index, added = self._add_item(item)
        yield added
        where = {"item_id": item_id, "output_index": index}
        yield self._emit("response.file_search_call.in_progress", where)
        yield self._emit("response.file_search_call.searching", where)
        item["results"] = [
            {
                "file_id": r.get("file_id"),
                "filename": r.get("file_name"),
                "score": r.get("score"),
                "text": (r.get("content") or [{}])[0].get("text") if r.get("content") else None,
            }
            for r in search.results
        ]
        yield self._emit("response.file_search_call.completed", where)
        yield self._item_done(index)


def new_response(store: Store, body: JSON, background: bool) -> JSON:
    """The response object, as ``response.created`` shows it."""
    return {
        "id": store.new_id("resp_"),
        "object": "response",
        "created_at": store.now(),
        "status": "queued" if background else "in_progress",
        "background": background,
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": body.get("metadata") or {},
    }


# --- background mode --------------------------------------------------------------------


async def generate(record: ResponseRecord, run: ResponsesRun, delay: float) -> None:
    """Produce a background response: each event is published at once, a token after
    ``delay`` seconds (the pacing of a foreground stream); ends when the response does,
    or when it was cancelled while waiting."""
    try:
        for _name, _data, paced in run:
            if paced and delay:
                await anyio.sleep(delay)
                if record.done:  # cancelled meanwhile: cancel() published what there was
                    return
            record.publish()
    finally:
        record.close()  # also when the task itself is cancelled (the server stops)


def start_background(record: ResponseRecord, run: ResponsesRun, delay: float) -> None:
    """Generate the response in a task of the running event loop (uvicorn's asyncio
    loop); on another event loop (no asyncio loop running) it is produced at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        run.drain()
        return
    record.task = loop.create_task(generate(record, run, delay))


def stop_background(record: ResponseRecord) -> None:
    """Stop generating a response that is being deleted (its readers end)."""
    if record.task is not None and not record.task.done():
        record.task.cancel()
    record.close()
