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

What a tool produced travels as lists: a code interpreter's ``outputs`` (logs, images by
file id or URL, an image generation's partial and final images) and a file search's
``results`` (file id, name, score, text), each normalised to small JSON objects and sent
as ``tool_call.outputs`` / ``tool_call.results`` from the first entry that changed. A
hosted tool's progress (a Responses ``ToolCallProgress``) is ``tool_call.status``. A
reasoning item (Responses) is not a message: its summary and reasoning text parts are
``reasoning.*`` events, so that a client that does not know them shows nothing of it
rather than showing the model's reasoning as its answer.
"""

from __future__ import annotations

import sys
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


def _get(obj: Any, name: str) -> Any:
    """A field of a model, of a JSON object as sent, or of an unknown variant's ``raw``."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    value = getattr(obj, name, None)
    if value is None:
        raw = getattr(obj, "raw", None)
        if isinstance(raw, dict):
            return raw.get(name)
    return value


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _image(
    file_id: str | None = None,
    url: str | None = None,
    b64: str | None = None,
    partial: int | None = None,
) -> dict[str, Any]:
    return {"type": "image", "file_id": file_id, "url": url, "b64": b64, "partial": partial}


def _output(entry: Any) -> dict[str, Any]:
    """One code interpreter output as JSON: logs, or an image (a file id, a URL)."""
    kind = _get(entry, "type")
    if kind == "logs":
        return {"type": "logs", "logs": _str(_get(entry, "logs")) or ""}
    if kind == "image":
        file_id = _get(_get(entry, "image"), "file_id") or _get(entry, "file_id")
        return _image(file_id=_str(file_id), url=_str(_get(entry, "url")))
    return {"type": kind if isinstance(kind, str) else None}


def _call_outputs(call: Any) -> list[dict[str, Any]] | None:
    """What a code interpreter call produced (or an image generation's image), as JSON;
    None for a call that has no outputs."""
    ci = getattr(call, "code_interpreter", None)
    raw = _get(ci, "outputs") if ci is not None else getattr(call, "outputs", None)
    if isinstance(raw, list):
        return [_output(entry) for entry in raw]
    result = getattr(call, "result", None)  # a Responses image generation
    if isinstance(result, str) and result:
        return [_image(b64=result)]
    return None


def _result(entry: Any) -> dict[str, Any]:
    """One file search result as JSON: its file, score and (when included) text."""
    text = _get(entry, "text")
    content = _get(entry, "content")
    if text is None and isinstance(content, list) and content:
        text = _get(content[0], "text")
    score = _get(entry, "score")
    return {
        "file_id": _str(_get(entry, "file_id")),
        "file_name": _str(_get(entry, "file_name") or _get(entry, "filename")),
        "score": score if isinstance(score, int | float) else None,
        "text": _str(text),
    }


def _call_results(call: Any) -> list[dict[str, Any]] | None:
    """A file search call's results as JSON; None for another call or none yet."""
    fs = getattr(call, "file_search", None)
    raw = _get(fs, "results") if fs is not None else getattr(call, "results", None)
    return [_result(entry) for entry in raw] if isinstance(raw, list) else None


#: The kinds of Assistants call whose deltas can bring outputs or results (a Responses
#: item's come with the item, when it is done).
_PRODUCES: Final = frozenset({"code_interpreter", "file_search"})
#: The Changes that say nothing on the wire (the most frequent first leave at once).
_SILENT: Final = frozenset(
    {
        c.MessageDeltaApplied,
        c.StepDeltaApplied,
        c.StepCreated,
        c.StreamDone,
        c.ThreadStarted,
        c.UnknownReceived,
        c.Problem,
    }
)
#: The Responses protocol's progress Change class, once that protocol is loaded.
_PROGRESS: list[type] = []


def _progress_class() -> type | None:
    """``ToolCallProgress``, when the Responses protocol is loaded (else no stream could
    have made one, and it is not loaded for nothing)."""
    if not _PROGRESS:
        module = sys.modules.get("streamkit.protocols.responses")
        progress = getattr(module, "ToolCallProgress", None)
        if progress is None:
            return None
        _PROGRESS.append(progress)
    return _PROGRESS[0]


def _brings_lists(delta: Any) -> bool:
    """Whether an Assistants call delta carries code interpreter outputs or file search
    results (most carry only input text)."""
    ci = getattr(delta, "code_interpreter", None)
    if ci is not None and getattr(ci, "outputs", None) is not None:
        return True
    return getattr(delta, "file_search", None) is not None


def _reasoning_part(part: Any) -> str:
    """Which list of a reasoning item a part belongs to: ``summary`` or ``text``."""
    return "summary" if getattr(part, "type", None) == "summary_text" else "text"


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
        # the outputs / results lists sent per call, and each hosted call's last status
        self._lists: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._status: dict[str, str] = {}
        self.status: str | None = None  # the run's last status

    def encode(self, change: c.Change) -> list[dict[str, Any]]:
        """The wire events for ``change`` (often none)."""
        cls = change.__class__
        if cls in _SILENT:
            return []
        if cls is c.ContentPartDelta:
            assert isinstance(change, c.ContentPartDelta)
            if not change.text:
                return []
            if change.kind == "reasoning":
                return self._reasoning_delta(change.message, change.index, change.part, change.text)
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
                # A delta without input text may bring outputs or results (a delta with
                # text that also brought some has them sent when the call is done).
                if change.kind in _PRODUCES and _brings_lists(change.delta):
                    out: list[dict[str, Any]] = []
                    self._lists_sent(f"{change.step.id}/{change.index}", change.tool_call, out)
                    return out
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
            if getattr(message, "type", None) == "reasoning":
                return [{"v": VERSION, "type": "reasoning.created", "id": message.id}]
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
            if getattr(change.message, "type", None) == "reasoning":
                return []  # its text comes with reasoning.delta
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
            if getattr(change.message, "type", None) == "reasoning":
                return self._reasoning_delta(change.message, change.index, change.part, None)
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
            if getattr(message, "type", None) == "reasoning":
                return [
                    {
                        "v": VERSION,
                        "type": "reasoning.done",
                        "id": message.id,
                        "status": message.status,
                    }
                ]
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
            self._lists_sent(call_key, call, out)
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
        progress = _PROGRESS[0] if _PROGRESS else _progress_class()
        if progress is not None and cls is progress:
            return self._progress(change)
        return []

    def _progress(self, change: Any) -> list[dict[str, Any]]:
        """A hosted tool's status (``tool_call.status``), or a partial image (its
        ``outputs``)."""
        call_key = f"{change.step.id}/{change.index}"
        status = change.status
        out: list[dict[str, Any]] = []
        if status == "partial_image":
            data = change.event.data
            b64 = _str(getattr(data, "partial_image_b64", None))
            if b64 is not None:
                partial = getattr(data, "partial_image_index", None)
                image = _image(b64=b64, partial=partial if isinstance(partial, int) else None)
                self._list_sent(call_key, "outputs", [image], out)
            return out
        if isinstance(status, str) and self._status.get(call_key) != status:
            self._status[call_key] = status
            out.append(
                {"v": VERSION, "type": "tool_call.status", "key": call_key, "status": status}
            )
        self._lists_sent(call_key, change.tool_call, out)
        return out

    def _lists_sent(self, call_key: str, call: Any, out: list[dict[str, Any]]) -> None:
        """Append the events for what changed in a call's outputs and results."""
        outputs = _call_outputs(call)
        if outputs is not None:
            self._list_sent(call_key, "outputs", outputs, out)
        results = _call_results(call)
        if results is not None:
            self._list_sent(call_key, "results", results, out)

    def _list_sent(
        self, call_key: str, field: str, now: list[dict[str, Any]], out: list[dict[str, Any]]
    ) -> None:
        sent = self._lists.get((call_key, field), [])
        if now == sent:
            return
        same = 0
        for before, after in zip(sent, now, strict=False):
            if before != after:
                break
            same += 1
        self._lists[(call_key, field)] = now
        out.append(
            {
                "v": VERSION,
                "type": f"tool_call.{field}",
                "key": call_key,
                "index": same,
                field: now[same:],
            }
        )

    def _reasoning_delta(
        self, item: Any, index: int, part: Any, text: str | None
    ) -> list[dict[str, Any]]:
        """A reasoning part's delta (``text``), or, when it is done (``text`` None), what
        of its final text its deltas did not bring."""
        kind = _reasoning_part(part)
        where = {"id": item.id, "kind": kind, "index": index}
        key = (kind, item.id, index)
        if text is None:
            return self._catch_up(key, _part_text(part), "reasoning.delta", where)
        self._sent.setdefault(key, []).append(text)
        return [{"v": VERSION, "type": "reasoning.delta", **where, "text": text}]

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
        self.reasoning: dict[str, dict[str, Any]] = {}
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
            view.calls[call["key"]] = {
                "status": None,  # a snapshot of a server that predates these fields
                **call,
                "arguments": [call["arguments"]],
                "outputs": list(call.get("outputs") or ()),
                "results": list(call.get("results") or ()),
            }
        for item in state.get("reasoning") or ():
            view.reasoning[item["id"]] = {
                **item,
                "summary": [[text] for text in item["summary"]],
                "text": [[text] for text in item["text"]],
            }
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
                "status": None,
                "outputs": [],
                "results": [],
            }
        return call

    def _reasoning(self, item_id: str) -> dict[str, Any]:
        item = self.reasoning.get(item_id)
        if item is None:
            item = self.reasoning[item_id] = {
                "id": item_id,
                "status": "in_progress",
                "summary": [],
                "text": [],
                "done": False,
            }
        return item

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
        elif kind == "tool_call.outputs" or kind == "tool_call.results":
            field = kind[10:]
            call = self._call(event["key"])
            call[field] = call[field][: event["index"]] + event[field]
        elif kind == "tool_call.status":
            self._call(event["key"])["status"] = event["status"]
        elif kind == "reasoning.created":
            self._reasoning(event["id"])
        elif kind == "reasoning.delta" and event["kind"] in ("summary", "text"):
            parts: list[list[str]] = self._reasoning(event["id"])[event["kind"]]
            while len(parts) <= event["index"]:
                parts.append([])
            if event.get("replace"):
                parts[event["index"]] = [event["text"]]
            else:
                parts[event["index"]].append(event["text"])
        elif kind == "reasoning.done":
            self._reasoning(event["id"]).update(status=event["status"], done=True)
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
        calls = [
            {
                **call,
                "arguments": "".join(call["arguments"]),
                "outputs": list(call["outputs"]),
                "results": list(call["results"]),
            }
            for call in self.calls.values()
        ]
        reasoning = [
            {
                **item,
                "summary": ["".join(pieces) for pieces in item["summary"]],
                "text": ["".join(pieces) for pieces in item["text"]],
            }
            for item in self.reasoning.values()
        ]
        return {
            "run_id": self.run_id,
            "run": self.run,
            "messages": messages,
            "tool_calls": calls,
            "reasoning": reasoning,
            "requires_action": self.requires_action,
            "errors": list(self.errors),
            "end": self.end,
        }


def snapshot_event(view: RunView, *, fresh: bool = False) -> dict[str, Any]:
    """The ``snapshot`` event of ``view``; ``fresh`` when it replaces a resume."""
    return {"v": VERSION, "type": "snapshot", "fresh": fresh, "state": view.state()}
