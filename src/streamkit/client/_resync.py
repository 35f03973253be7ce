"""Resynchronising after a drop: what the REST objects say that the snapshots miss.

Sans-IO. :func:`missed_events` compares a :class:`~streamkit.State` with what the
retrieve / list endpoints answered (the run, its steps, its messages, as JSON) and
returns the events a stream would have sent to bring the snapshots there, in the order
a live stream sends them. The client encodes them as Server-Sent Events and feeds them
through the same pipeline as the live bytes, so the same fold and the same handler see
them: Changes fire for what changed, "done" stays exactly once (the fold's bookkeeping),
and the final snapshots are the server's final objects, as after an undisturbed stream.

The rules, per object (nothing is emitted for an object whose "done" already fired):

- the run, first: unseen, it opens with ``thread.run.<status>`` (``in_progress`` when it
  has already ended or requires action); seen, a new non-final status (or new fields in
  the same one) is its ``thread.run.<status>``;
- each step, oldest first: unseen, ``thread.run.step.created`` (as ``in_progress``);
  seen and still open with new fields, ``thread.run.step.in_progress``; then the
  message a ``message_creation`` step creates; then the step's final event, if final;
- each message: unseen, ``thread.message.created`` (``in_progress``, no content, as the
  service sends it); then one ``thread.message.delta`` with what the text (and refusal)
  parts miss, suffixes of what was folded, annotations included, so a consumer of text
  deltas gets the missing text; then ``thread.message.completed`` / ``.incomplete``;
- the run's final event (a terminal status or ``requires_action``), then ``done``.
"""

from __future__ import annotations

from typing import Any

from ..fold import MESSAGE_TERMINAL, RUN_MOVES, RUN_TERMINAL, STEP_TERMINAL, State

__all__ = ["final_run_status", "missed_events"]

JSON = dict[str, Any]
Missed = list[tuple[str, Any]]

#: Statuses in which a run may get the same status event again.
_REPEATABLE = frozenset({"queued", "in_progress", "cancelling"})


def final_run_status(status: object) -> bool:
    """Whether a run in ``status`` will send nothing more without the client acting."""
    return status in RUN_TERMINAL or status == "requires_action"


def missed_events(state: State, run: JSON, steps: list[JSON], messages: list[JSON]) -> Missed:
    """The events that bring ``state`` to the server's ``run``, ``steps`` (oldest first)
    and ``messages`` of that run: ``(event name, payload)`` pairs; ``done`` last once
    the run is final."""
    out: Missed = []
    run_id = run["id"]
    if state.is_finished("run", run_id):
        return out
    status = run.get("status")
    final = final_run_status(status)
    known = state.runs.get(run_id)
    if known is None:
        opening = {**run, "status": "in_progress"} if final else run
        out.append((f"thread.run.{opening['status']}", opening))
    elif final:
        moves = RUN_MOVES.get(known.status or "", frozenset())
        again = known.status == status == "requires_action" and known.to_dict() != run
        if again or (known.status != status and status not in moves and "in_progress" in moves):
            # It went on after the outputs (and may ask again): it passed through in_progress.
            reopened = {**run, "status": "in_progress", "required_action": None}
            out.append(("thread.run.in_progress", reopened))
    elif known.status != status or (status in _REPEATABLE and known.to_dict() != run):
        out.append((f"thread.run.{status}", run))
    by_id = {message["id"]: message for message in messages}
    for step in steps:
        out.extend(_step_opening(state, step))
        created = _created_message(step)
        if created is not None and created in by_id:
            out.extend(_message(state, by_id.pop(created)))
        out.extend(_step_closing(state, step))
    for message in by_id.values():
        out.extend(_message(state, message))
    if final:
        if known is None or known.status != status or known.to_dict() != run:
            out.append((f"thread.run.{status}", run))
        out.append(("done", "[DONE]"))
    return out


def _created_message(step: JSON) -> str | None:
    details = step.get("step_details")
    if isinstance(details, dict) and details.get("type") == "message_creation":
        creation = details.get("message_creation")
        message_id = creation.get("message_id") if isinstance(creation, dict) else None
        if isinstance(message_id, str):
            return message_id
    return None


def _step_opening(state: State, step: JSON) -> Missed:
    step_id = step["id"]
    if state.is_finished("step", step_id):
        return []
    terminal = step.get("status") in STEP_TERMINAL
    known = state.steps.get(step_id)
    if known is None:
        return [("thread.run.step.created", {**step, "status": "in_progress"})]
    if not terminal and known.to_dict() != step:
        return [("thread.run.step.in_progress", step)]
    return []


def _step_closing(state: State, step: JSON) -> Missed:
    status = step.get("status")
    if status in STEP_TERMINAL and not state.is_finished("step", step["id"]):
        return [(f"thread.run.step.{status}", step)]
    return []


def _message(state: State, message: JSON) -> Missed:
    message_id = message["id"]
    if state.is_finished("message", message_id):
        return []
    out: Missed = []
    known = state.messages.get(message_id)
    if known is None:
        out.append(("thread.message.created", {**message, "status": "in_progress", "content": []}))
        have: list[JSON] = []
    else:
        have = [part.to_dict() for part in known.content or ()]
    parts = _content_deltas(have, message.get("content") or [])
    if parts:
        delta = {"id": message_id, "object": "thread.message.delta", "delta": {"content": parts}}
        out.append(("thread.message.delta", delta))
    status = message.get("status")
    if status in MESSAGE_TERMINAL:
        out.append((f"thread.message.{status}", message))
    return out


def _content_deltas(have: list[JSON], want: list[JSON]) -> list[JSON]:
    """Delta parts that turn the folded parts ``have`` into the server's ``want``."""
    deltas = []
    for index, part in enumerate(want):
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        old = have[index] if index < len(have) else None
        if old is not None and old.get("type") != kind:
            continue  # the final object wins (the fold notes the mismatch)
        if kind == "text":
            delta = _text_delta(old, part)
        elif kind == "refusal":
            delta = _suffix(old, part, "refusal")
        else:
            delta = None if old is not None else dict(part)
        if delta is not None:
            deltas.append({"index": index, **delta})
    return deltas


def _text_delta(old: JSON | None, part: JSON) -> JSON | None:
    text = part.get("text")
    if not isinstance(text, dict):
        return None
    value = text.get("value") or ""
    annotations = text.get("annotations") or []
    old_text = (old or {}).get("text") or {}
    old_value = old_text.get("value") or ""
    seen = len(old_text.get("annotations") or [])
    if not value.startswith(old_value):
        return None
    piece: JSON = {"value": value[len(old_value) :]}
    if old is None or len(annotations) > seen:
        piece["annotations"] = [
            {"index": i, **note} for i, note in enumerate(annotations) if i >= seen
        ]
    if not piece["value"] and not piece.get("annotations") and old is not None:
        return None
    return {"type": "text", "text": piece}


def _suffix(old: JSON | None, part: JSON, field: str) -> JSON | None:
    value = part.get(field) or ""
    old_value = (old or {}).get(field) or ""
    if not isinstance(value, str) or not value.startswith(old_value):
        return None
    if old is not None and value == old_value:
        return None
    return {"type": part.get("type"), field: value[len(old_value) :]}
