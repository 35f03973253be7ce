"""The run engine: a script's plan becomes the events of a run, applied to the store.

An :class:`Execution` is a generator of :data:`Event` tuples (name, JSON data, paced).
Each object is changed in the store *before* its event is produced, and the event's data
is serialized at once, so a stream and the REST endpoints always agree: a client that
lost its stream can read from retrieve / list what the stream would have told it.
The event order and the fields are the real service's (see the recordings):

- ``thread.created`` (create-and-run only), ``thread.run.created``, ``.queued``,
  ``.in_progress``;
- a message step: ``step.created``, ``step.in_progress``, ``message.created``,
  ``message.in_progress``, one ``message.delta`` per token (the first with
  ``"annotations": []``), ``message.completed``, ``step.completed``;
- a tool step: ``step.created``, ``step.in_progress``, ``step.delta``s; function calls end
  the stream with ``thread.run.requires_action``; after the outputs are submitted the
  continuation starts with that step's ``step.completed``, ``run.queued``,
  ``run.in_progress``;
- ``thread.run.completed``, then ``done`` (``data: [DONE]``).

``cancel()`` turns the rest into ``thread.run.cancelling``, the open message
``incomplete``, open steps ``cancelled``, ``thread.run.cancelled``, ``done``; ``fail()``
marks the run failed without events (an injected ``error`` event); ``drain()`` runs to
the end without anyone listening (a client that went away does not stop its run).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from . import _objects as objects
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
    pieces,
)
from ._store import Store

__all__ = ["DONE", "Event", "Execution", "Pending"]

JSON = dict[str, Any]
Event = tuple[str, bytes, bool]
"""One event: its name, its data, and whether it is a token (paced)."""

DONE: Event = ("done", b"[DONE]", False)
_RANKING = {"ranker": "default_2024_08_21", "score_threshold": 0.0}


@dataclass
class Pending:
    """A run waiting for tool outputs: its tool step, the calls (with ids) and the rest."""

    step: JSON
    calls: list[tuple[str, FunctionCall]]
    script: Script


def _event(name: str, obj: JSON) -> Event:
    return (name, orjson.dumps(obj), False)


def _token(name: str, obj: JSON) -> Event:
    return (name, orjson.dumps(obj), True)


class Execution:
    """The events of one stretch of a run (until it ends or requires action)."""

    def __init__(self, store: Store, run: JSON, script: Script) -> None:
        self.store = store
        self.run = run
        self.script = script
        self.finished = False
        self._cancel_requested = False
        self._open_steps: dict[str, JSON] = {}
        self._open_message: JSON | None = None
        self._events: Iterator[Event] = iter(())
        store.live[run["id"]] = self

    # -- starting points

    @classmethod
    def start(
        cls, store: Store, run: JSON, script: Script, *, new_thread: JSON | None = None
    ) -> Execution:
        """A new run, from ``thread.run.created`` (``thread.created`` first if given)."""
        execution = cls(store, run, script)
        execution._events = execution._start(new_thread)
        return execution

    @classmethod
    def resume(
        cls, store: Store, run: JSON, pending: Pending, outputs: dict[str, str]
    ) -> Execution:
        """The continuation of a run once its tool outputs are submitted."""
        execution = cls(store, run, pending.script)
        execution._open_steps[pending.step["id"]] = pending.step
        execution._events = execution._resume(pending, outputs)
        return execution

    @classmethod
    def cancel_waiting(cls, store: Store, run: JSON, pending: Pending | None) -> None:
        """Cancel a run that no stream is producing (it requires action)."""
        execution = cls(store, run, Script("cancel", []))
        if pending is not None:
            execution._open_steps[pending.step["id"]] = pending.step
        execution._events = execution._cancelled()
        execution.drain()

    # -- consuming

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self.finished:
            raise StopIteration
        if self._cancel_requested:
            self._cancel_requested = False
            self._events = self._cancelled()
        try:
            return next(self._events)
        except StopIteration:
            self._finish()
            raise

    def drain(self) -> None:
        """Produce the rest of the events, for no one."""
        for _event in self:
            pass

    def cancel(self) -> None:
        """Cancel the run: the next event starts its cancellation."""
        self.run["status"] = "cancelling"
        self._cancel_requested = True

    def fail(self, code: str, message: str) -> None:
        """End the run as ``failed`` with ``last_error`` (no events are produced)."""
        if self.finished:
            return
        now = self.store.now()
        error = {"code": code, "message": message}
        if self._open_message is not None:
            self._end_message("incomplete", now, reason="run_failed")
        for step in self._open_steps.values():
            step.update(status="failed", failed_at=now, last_error=error)
        self._open_steps.clear()
        self.run.update(
            status="failed",
            failed_at=now,
            last_error=error,
            expires_at=None,
            required_action=None,
        )
        self.store.pending.pop(self.run["id"], None)
        self._finish()

    def _finish(self) -> None:
        self.finished = True
        self._events = iter(())
        if self.store.live.get(self.run["id"]) is self:
            del self.store.live[self.run["id"]]

    # -- the plan

    def _start(self, new_thread: JSON | None) -> Iterator[Event]:
        run = self.run
        if new_thread is not None:
            yield _event("thread.created", new_thread)
        yield _event("thread.run.created", run)
        yield _event("thread.run.queued", run)
        run.update(status="in_progress", started_at=self.store.now())
        yield _event("thread.run.in_progress", run)
        yield from self._steps(self.script.steps)

    def _resume(self, pending: Pending, outputs: dict[str, str]) -> Iterator[Event]:
        run, step = self.run, pending.step
        for call in step["step_details"]["tool_calls"]:
            call["function"]["output"] = outputs[call["id"]]
        step.update(status="completed", completed_at=self.store.now(), usage=self._usage(step, 0))
        del self._open_steps[step["id"]]
        yield _event("thread.run.step.completed", step)
        run.update(status="queued", required_action=None)
        yield _event("thread.run.queued", run)
        run.update(status="in_progress", started_at=self.store.now())
        yield _event("thread.run.in_progress", run)
        answered = [(call, outputs[call_id]) for call_id, call in pending.calls]
        assert pending.script.then is not None
        yield from self._steps(pending.script.then(answered))

    def _steps(self, steps: Sequence[Step]) -> Iterator[Event]:
        for planned in steps:
            if isinstance(planned, TextReply | RefusalReply):
                yield from self._message_step(planned)
            elif isinstance(planned, FunctionCalls):
                yield from self._function_step(planned)
                return
            elif isinstance(planned, CodeRun):
                yield from self._code_step(planned)
            elif isinstance(planned, FileSearchCall):
                yield from self._file_search_step(planned)
        now = self.store.now()
        self.run.update(
            status="completed", completed_at=now, expires_at=None, usage=self._run_usage()
        )
        yield _event("thread.run.completed", self.run)
        yield DONE

    # -- steps

    def _new_step(self, details: JSON) -> JSON:
        store = self.store
        step = objects.step(store.new_id("step_"), store.now(), self.run, details)
        store.steps[self.run["id"]].add(step)
        self._open_steps[step["id"]] = step
        return step

    def _complete_step(self, step: JSON, tokens: int) -> Event:
        step.update(
            status="completed", completed_at=self.store.now(), usage=self._usage(step, tokens)
        )
        del self._open_steps[step["id"]]
        return _event("thread.run.step.completed", step)

    def _message_step(self, reply: TextReply | RefusalReply) -> Iterator[Event]:
        store, run = self.store, self.run
        message_id = store.new_id("msg_")
        details = {"type": "message_creation", "message_creation": {"message_id": message_id}}
        step = self._new_step(details)
        yield _event("thread.run.step.created", step)
        yield _event("thread.run.step.in_progress", step)
        message = objects.message(
            message_id,
            store.now(),
            run["thread_id"],
            role="assistant",
            content=[],
            status="in_progress",
            assistant_id=run["assistant_id"],
            run_id=run["id"],
        )
        store.messages[run["thread_id"]].add(message)
        self._open_message = message
        yield _event("thread.message.created", message)
        yield _event("thread.message.in_progress", message)
        tokens = 0
        if isinstance(reply, RefusalReply):
            part: JSON = {"type": "refusal", "refusal": ""}
            for piece in pieces(reply.refusal):
                if not message["content"]:
                    message["content"].append(part)
                part["refusal"] += piece
                tokens += 1
                delta = {"index": 0, "type": "refusal", "refusal": piece}
                yield _token("thread.message.delta", self._message_delta(message_id, delta))
        else:
            text: JSON = {"value": "", "annotations": []}
            for item in reply.parts:
                chunks = [item.text] if isinstance(item, Citation) else pieces(item)
                for piece in chunks:
                    delta_text: JSON = {"value": piece}
                    if not message["content"]:
                        message["content"].append({"type": "text", "text": text})
                        delta_text["annotations"] = []
                    if isinstance(item, Citation):
                        start = len(text["value"])
                        annotation = {
                            "type": "file_citation",
                            "text": item.text,
                            "start_index": start,
                            "end_index": start + len(item.text),
                        }
                        delta_text["annotations"] = [
                            {
                                "index": len(text["annotations"]),
                                **annotation,
                                "file_citation": {"file_id": item.file_id, "quote": item.quote},
                            }
                        ]
                        # The completed message drops the empty quote, as the service does.
                        text["annotations"].append(
                            {**annotation, "file_citation": {"file_id": item.file_id}}
                        )
                    text["value"] += piece
                    tokens += 1
                    delta = {"index": 0, "type": "text", "text": delta_text}
                    yield _token("thread.message.delta", self._message_delta(message_id, delta))
        self._end_message("completed", store.now())
        yield _event("thread.message.completed", message)
        yield self._complete_step(step, tokens)

    @staticmethod
    def _message_delta(message_id: str, part: JSON) -> JSON:
        return {"id": message_id, "object": "thread.message.delta", "delta": {"content": [part]}}

    @staticmethod
    def _step_delta(step_id: str, call: JSON) -> JSON:
        return {
            "id": step_id,
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
        }

    def _end_message(self, status: str, now: int, reason: str | None = None) -> None:
        message = self._open_message
        assert message is not None
        if status == "completed":
            message.update(status="completed", completed_at=now)
        else:
            message.update(
                status="incomplete", incomplete_at=now, incomplete_details={"reason": reason}
            )
        self._open_message = None

    def _function_step(self, planned: FunctionCalls) -> Iterator[Event]:
        store, run = self.store, self.run
        step = self._new_step({"type": "tool_calls", "tool_calls": []})
        yield _event("thread.run.step.created", step)
        yield _event("thread.run.step.in_progress", step)
        calls = step["step_details"]["tool_calls"]
        with_ids: list[tuple[str, FunctionCall]] = []
        for index, call in enumerate(planned.calls):
            call_id = store.new_id("call_")
            with_ids.append((call_id, call))
            function: JSON = {"name": call.name, "arguments": "", "output": None}
            calls.append({"id": call_id, "type": "function", "function": function})
            first = {"index": index, "id": call_id, "type": "function", "function": dict(function)}
            yield _token("thread.run.step.delta", self._step_delta(step["id"], first))
            for piece in pieces(call.arguments):
                function["arguments"] += piece
                delta = {"index": index, "type": "function", "function": {"arguments": piece}}
                yield _token("thread.run.step.delta", self._step_delta(step["id"], delta))
        run.update(
            status="requires_action",
            required_action={
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call.name, "arguments": call.arguments},
                        }
                        for call_id, call in with_ids
                    ]
                },
            },
        )
        store.pending[run["id"]] = Pending(step, with_ids, self.script)
        self._open_steps.pop(step["id"])  # it stays in_progress until the outputs come
        yield _event("thread.run.requires_action", run)
        yield DONE

    def _code_step(self, planned: CodeRun) -> Iterator[Event]:
        step = self._new_step({"type": "tool_calls", "tool_calls": []})
        yield _event("thread.run.step.created", step)
        yield _event("thread.run.step.in_progress", step)
        call_id = self.store.new_id("call_")
        code: JSON = {"input": "", "outputs": []}
        step["step_details"]["tool_calls"].append(
            {"id": call_id, "type": "code_interpreter", "code_interpreter": code}
        )
        first = {
            "index": 0,
            "id": call_id,
            "type": "code_interpreter",
            "code_interpreter": {"input": "", "outputs": []},
        }
        yield _token("thread.run.step.delta", self._step_delta(step["id"], first))
        tokens = 0
        for piece in pieces(planned.input):
            code["input"] += piece
            tokens += 1
            delta = {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": piece}}
            yield _token("thread.run.step.delta", self._step_delta(step["id"], delta))
        code["outputs"].append({"type": "logs", "logs": planned.logs})
        logs = {"index": 0, "type": "logs", "logs": planned.logs}
        delta = {"index": 0, "type": "code_interpreter", "code_interpreter": {"outputs": [logs]}}
        yield _token("thread.run.step.delta", self._step_delta(step["id"], delta))
        yield self._complete_step(step, tokens)

    def _file_search_step(self, planned: FileSearchCall) -> Iterator[Event]:
        step = self._new_step({"type": "tool_calls", "tool_calls": []})
        yield _event("thread.run.step.created", step)
        yield _event("thread.run.step.in_progress", step)
        call_id = self.store.new_id("call_")
        search: JSON = {"ranking_options": dict(_RANKING), "results": []}
        step["step_details"]["tool_calls"].append(
            {"id": call_id, "type": "file_search", "file_search": search}
        )
        first = {
            "index": 0,
            "id": call_id,
            "type": "file_search",
            "file_search": {"ranking_options": dict(_RANKING), "results": []},
        }
        yield _token("thread.run.step.delta", self._step_delta(step["id"], first))
        # Results arrive only with the completed step, as the service sends them.
        search["results"] = [dict(result) for result in planned.results]
        yield self._complete_step(step, 1)

    def _cancelled(self) -> Iterator[Event]:
        run, now = self.run, self.store.now()
        run.update(status="cancelling", required_action=None)
        yield _event("thread.run.cancelling", run)
        if self._open_message is not None:
            message = self._open_message
            self._end_message("incomplete", now, reason="run_cancelled")
            yield _event("thread.message.incomplete", message)
        for step in list(self._open_steps.values()):
            step.update(status="cancelled", cancelled_at=now)
            del self._open_steps[step["id"]]
            yield _event("thread.run.step.cancelled", step)
        self.store.pending.pop(run["id"], None)
        run.update(status="cancelled", cancelled_at=now, expires_at=None)
        yield _event("thread.run.cancelled", run)
        yield DONE

    # -- usage

    def _usage(self, step: JSON, completion_tokens: int) -> JSON:
        messages = self.store.messages[self.run["thread_id"]]
        prompt = sum(
            len(str(part.get("text", {}).get("value", "")).split())
            for message in messages
            if message["created_at"] <= step["created_at"]
            for part in message["content"]
            if isinstance(part.get("text"), dict)
        )
        return objects.usage(prompt, completion_tokens)

    def _run_usage(self) -> JSON:
        prompt = completion = 0
        for step in self.store.steps[self.run["id"]]:
            if step["usage"] is not None:
                prompt += step["usage"]["prompt_tokens"]
                completion += step["usage"]["completion_tokens"]
        return objects.usage(prompt, completion)
