"""The relay wire format (version 1): small JSON events derived from Changes.

How it works: an :class:`Encoder` turns each Change of a run into zero or more wire
events (plain dicts, ``{"v": 1, "type": ..., ...}``), reading only what a Change carries
(``kind``, ``text``, and the ids, names and statuses of the snapshot objects it points
at); it never tests a protocol's event classes. A :class:`RunView` folds wire events into
the run's state (:meth:`RunView.state`, a JSON object); the hub keeps one per run to
answer new viewers with a ``snapshot``, and ``static/streamkit-relay.js`` folds the same
events the same way in a browser. The format is described for front-end authors in
docs/relay.md.

Text is sent as deltas. A part or a tool call that arrived whole (a server's final
object, a resync) gets its text when it is done: the rest of it as a delta, or, when the
server's final text is not a continuation of what was sent, the whole text with
``"replace": true``.
"""

from __future__ import annotations

from typing import Any, Final

from .. import _changes as c

__all__ = [
    "END_REASONS",
    "VERSION",
    "Encoder",
    "RunView",
    "end_event",
    "end_reason",
    "error_event",
    "run_status_event",
    "snapshot_event",
]

#: The wire format's version, sent as ``"v"`` in every event.
VERSION: Final = 1

#: Why a relayed run ended (``end.reason``).
END_REASONS: Final = ("completed", "failed", "cancelled", "stopped", "requires_action")

_FAILED: Final = frozenset({"failed", "expired", "incomplete"})


def end_reason(status: str | None) -> str:
    """The ``end`` reason for a stream that ended with its run in ``status``."""
    if status in ("completed", "cancelled", "requires_action"):
        return status
    if status == "cancelling":  # cancelled upstream, not yet settled
        return "cancelled"
    return "failed"  # failed, expired, incomplete, or a stream that never finished its run


def end_event(reason: str, status: str | None) -> dict[str, Any]:
    """The ``end`` event: ``reason`` (one of :data:`END_REASONS`) and the run's status."""
    return {"v": VERSION, "type": "end", "reason": reason, "status": status}


def _part_text(part: Any) -> str | None:
    """The text of a "text" or "refusal" content part, None for another kind."""
    text = getattr(part, "text", None)
    if isinstance(text, str):  # a Responses part (output_text, a reasoning summary)
        return text
    if text is not None:
        value = getattr(text, "value", None)
        return value if isinstance(value, str) else None
    refusal = getattr(part, "refusal", None)
    return refusal if isinstance(refusal, str) else None


def _call_text(call: Any) -> str | None:
    """A function's arguments or a code interpreter's input, None for another kind."""
    function = getattr(call, "function", None)
    if function is not None:
        value = getattr(function, "arguments", None)
        return value if isinstance(value, str) else None
    ci = getattr(call, "code_interpreter", None)
    if ci is not None:
        value = getattr(ci, "input", None)
        return value if isinstance(value, str) else None
    for field in ("arguments", "code", "input"):  # a Responses item
        value = getattr(call, field, None)
        if isinstance(value, str):
            return value
    return None


def _call_name(call: Any) -> str | None:
    function = getattr(call, "function", None)
    name = getattr(function, "name", None) if function is not None else getattr(call, "name", None)
    return name if isinstance(name, str) else None


def _call_output(call: Any) -> str | None:
    function = getattr(call, "function", None)
    output = getattr(function, "output", None) if function is not None else None
    return output if isinstance(output, str) else None


class Encoder:
    """Turns one run's Changes into wire events (see the module doc).

    It remembers how much text it sent per part and per call, so that what arrived whole
    is sent once, and the run status it sent last, so that a status is sent once.
    """

    def __init__(self) -> None:
        self._run: tuple[Any, Any, Any] | None = None
        # the text pieces sent per part and call (the delta strings themselves, shared)
        self._sent: dict[tuple[str, str, int], list[str]] = {}
        self._outputs: set[tuple[str, int]] = set()  # the calls whose output was sent
        self.status: str | None = None  # the run's last status

    def encode(self, change: c.Change) -> list[dict[str, Any]]:
        """The wire events for ``change`` (often none)."""
        cls = change.__class__
        if cls is c.ContentPartDelta:
            assert isinstance(change, c.ContentPartDelta)
            if not change.text:
                return []
            key = ("m", change.message.id, change.index)
            self._sent.setdefault(key, []).append(change.text)
            return [
                {
                    "v": VERSION,
                    "type": "text.delta",
                    "message_id": change.message.id,
                    "index": change.index,
                    "text": change.text,
                }
            ]
        if cls is c.ToolCallDelta:
            assert isinstance(change, c.ToolCallDelta)
            if not change.text:
                return []
            call_key = f"{change.step.id}/{change.index}"
            key = ("c", change.step.id, change.index)
            self._sent.setdefault(key, []).append(change.text)
            return [{"v": VERSION, "type": "tool_call.delta", "key": call_key, "text": change.text}]
        if cls is c.RunStatusChanged or cls is c.RunCreated or cls is c.RunFinished:
            run = change.run  # type: ignore[attr-defined]
            now = (run.id, getattr(run, "thread_id", None), run.status)  # a response has none
            if now == self._run:
                return []
            self._run = now
            self.status = run.status
            return [
                {
                    "v": VERSION,
                    "type": "run.status",
                    "run": {"id": run.id, "thread_id": now[1], "status": run.status},
                }
            ]
        if cls is c.MessageCreated:
            assert isinstance(change, c.MessageCreated)
            message = change.message
            return [
                {
                    "v": VERSION,
                    "type": "message.created",
                    "message_id": message.id,
                    "role": message.role,
                }
            ]
        if cls is c.ContentPartCreated:
            assert isinstance(change, c.ContentPartCreated)
            return [
                {
                    "v": VERSION,
                    "type": "part.created",
                    "message_id": change.message.id,
                    "index": change.index,
                    "kind": change.kind,
                }
            ]
        if cls is c.ContentPartDone:
            assert isinstance(change, c.ContentPartDone)
            key = ("m", change.message.id, change.index)
            final = _part_text(change.part)
            return self._catch_up(
                key,
                final,
                "text.delta",
                {
                    "message_id": change.message.id,
                    "index": change.index,
                },
            )
        if cls is c.MessageDone:
            assert isinstance(change, c.MessageDone)
            message = change.message
            return [
                {
                    "v": VERSION,
                    "type": "message.done",
                    "message_id": message.id,
                    "status": message.status,
                }
            ]
        if cls is c.ToolCallCreated:
            assert isinstance(change, c.ToolCallCreated)
            call = change.tool_call
            return [
                {
                    "v": VERSION,
                    "type": "tool_call.created",
                    "key": f"{change.step.id}/{change.index}",
                    "id": getattr(call, "id", None),
                    "step_id": change.step.id,
                    "kind": change.kind,
                    "name": _call_name(call),
                }
            ]
        if cls is c.ToolCallDone:
            assert isinstance(change, c.ToolCallDone)
            call = change.tool_call
            call_key = f"{change.step.id}/{change.index}"
            key = ("c", change.step.id, change.index)
            out = self._catch_up(key, _call_text(call), "tool_call.delta", {"key": call_key})
            if _call_output(call) is not None:
                self._outputs.add((change.step.id, change.index))
            out.append(
                {
                    "v": VERSION,
                    "type": "tool_call.done",
                    "key": call_key,
                    "id": getattr(call, "id", None),
                    "name": _call_name(call),
                    "output": _call_output(call),
                }
            )
            return out
        if cls is c.StepDone:
            assert isinstance(change, c.StepDone)
            step = change.step
            details = getattr(step, "step_details", None)
            out = []
            for index, call in enumerate(getattr(details, "tool_calls", None) or ()):
                output = _call_output(call)
                if output is not None and (step.id, index) not in self._outputs:
                    self._outputs.add((step.id, index))
                    out.append(
                        {
                            "v": VERSION,
                            "type": "tool_call.output",
                            "key": f"{step.id}/{index}",
                            "output": output,
                        }
                    )
            return out
        if cls is c.RunRequiresAction:
            assert isinstance(change, c.RunRequiresAction)
            calls = [
                {
                    "id": call.id,
                    "name": getattr(call.function, "name", None),
                    "arguments": getattr(call.function, "arguments", None),
                }
                for call in change.tool_calls
            ]
            return [{"v": VERSION, "type": "requires_action", "tool_calls": calls}]
        if cls is c.ErrorReceived:
            assert isinstance(change, c.ErrorReceived)
            error = change.error
            return [
                {
                    "v": VERSION,
                    "type": "error",
                    "code": getattr(error, "code", None),
                    "message": getattr(error, "message", None),
                }
            ]
        return []

    def _catch_up(
        self, key: tuple[str, str, int], final: str | None, kind: str, where: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """The text of a done part or call that its deltas did not bring."""
        pieces = self._sent.get(key)
        sent = "".join(pieces) if pieces else ""
        if final is None or final == sent:
            return []
        self._sent[key] = [final]
        if final.startswith(sent):  # the rest (the fold keeps the server's final text)
            return [{"v": VERSION, "type": kind, **where, "text": final[len(sent) :]}]
        return [{"v": VERSION, "type": kind, **where, "text": final, "replace": True}]


def run_status_event(run_id: str, thread_id: str | None, status: str) -> dict[str, Any]:
    """A ``run.status`` event of the relay itself (the upstream run read after a stop;
    ``thread_id`` is None for a Responses API response)."""
    return {
        "v": VERSION,
        "type": "run.status",
        "run": {"id": run_id, "thread_id": thread_id, "status": status},
    }


def error_event(code: str, message: str) -> dict[str, Any]:
    """An ``error`` event of the relay itself (the upstream stream failed)."""
    return {"v": VERSION, "type": "error", "code": code, "message": message}


class RunView:
    """The state of one run, folded from wire events; :meth:`state` is the snapshot.

    Text is held as lists of pieces and joined when read, so folding a delta costs the
    delta. ``static/streamkit-relay.js`` folds the same way (keep them in step).
    """

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.run: dict[str, Any] | None = None
        self.messages: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self.requires_action: list[dict[str, Any]] | None = None
        self.errors: list[dict[str, Any]] = []
        self.end: dict[str, Any] | None = None

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RunView:
        """A view that continues from a snapshot's ``state``."""
        view = cls(state["run_id"])
        view.run = state["run"]
        for message in state["messages"]:
            parts = [{"kind": p["kind"], "text": [p["text"]]} for p in message["parts"]]
            view.messages[message["id"]] = {**message, "parts": parts}
        for call in state["tool_calls"]:
            view.calls[call["key"]] = {**call, "arguments": [call["arguments"]]}
        view.requires_action = state["requires_action"]
        view.errors = list(state["errors"])
        view.end = state["end"]
        return view

    def _message(self, message_id: str) -> dict[str, Any]:
        message = self.messages.get(message_id)
        if message is None:
            message = self.messages[message_id] = {
                "id": message_id,
                "role": "assistant",
                "status": "in_progress",
                "parts": [],
            }
        return message

    def _part(self, message_id: str, index: int) -> dict[str, Any]:
        parts: list[dict[str, Any]] = self._message(message_id)["parts"]
        while len(parts) <= index:
            parts.append({"kind": "text", "text": []})
        return parts[index]

    def _call(self, key: str) -> dict[str, Any]:
        call = self.calls.get(key)
        if call is None:
            call = self.calls[key] = {
                "key": key,
                "id": None,
                "step_id": key.rpartition("/")[0],
                "kind": "function",
                "name": None,
                "arguments": [],
                "output": None,
                "done": False,
            }
        return call

    def apply(self, event: dict[str, Any]) -> None:
        """Fold one wire event (a snapshot is not folded: start a new view from it)."""
        kind = event["type"]
        if kind == "text.delta":
            part = self._part(event["message_id"], event["index"])
            if event.get("replace"):
                part["text"] = [event["text"]]
            else:
                part["text"].append(event["text"])
        elif kind == "tool_call.delta":
            call = self._call(event["key"])
            if event.get("replace"):
                call["arguments"] = [event["text"]]
            else:
                call["arguments"].append(event["text"])
        elif kind == "run.status":
            self.run = event["run"]
            if event["run"]["status"] != "requires_action":
                self.requires_action = None
        elif kind == "message.created":
            self._message(event["message_id"])["role"] = event["role"]
        elif kind == "part.created":
            self._part(event["message_id"], event["index"])["kind"] = event["kind"]
        elif kind == "message.done":
            self._message(event["message_id"])["status"] = event["status"]
        elif kind == "tool_call.created":
            call = self._call(event["key"])
            call.update(id=event["id"], step_id=event["step_id"], kind=event["kind"])
            call["name"] = event["name"]
        elif kind == "tool_call.done":
            call = self._call(event["key"])
            call.update(id=event["id"], name=event["name"], output=event["output"], done=True)
        elif kind == "tool_call.output":
            self._call(event["key"])["output"] = event["output"]
        elif kind == "requires_action":
            self.requires_action = event["tool_calls"]
        elif kind == "error":
            self.errors.append({"code": event["code"], "message": event["message"]})
        elif kind == "end":
            self.end = {"reason": event["reason"], "status": event["status"]}
        # another type (a later version's): ignored, as the JavaScript client does

    def state(self) -> dict[str, Any]:
        """The run's state as JSON: what a ``snapshot`` event carries."""
        messages = [
            {
                **message,
                "parts": [
                    {"kind": part["kind"], "text": "".join(part["text"])}
                    for part in message["parts"]
                ],
            }
            for message in self.messages.values()
        ]
        calls = [{**call, "arguments": "".join(call["arguments"])} for call in self.calls.values()]
        return {
            "run_id": self.run_id,
            "run": self.run,
            "messages": messages,
            "tool_calls": calls,
            "requires_action": self.requires_action,
            "errors": list(self.errors),
            "end": self.end,
        }


def snapshot_event(view: RunView, *, fresh: bool = False) -> dict[str, Any]:
    """The ``snapshot`` event of ``view``; ``fresh`` when it replaces a resume."""
    return {"v": VERSION, "type": "snapshot", "fresh": fresh, "state": view.state()}
