"""The JSON shape of each object, field for field and in the order the service sends.

The field sets follow the real recordings in ``shared/recordings/openai-dotnet`` where
they differ from the reference (a run step's ``expires_at``, a run's
``reasoning_effort``, usage's token details); ``tests/test_emulator_recordings.py``
compares them. Builders take the values and return a fresh dict; nothing here is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "RUN_TTL",
    "assistant",
    "message",
    "message_content",
    "run",
    "step",
    "thread",
    "usage",
]

JSON = dict[str, Any]

RUN_TTL = 600
"""Seconds before an unfinished run would expire (its ``expires_at``)."""


def _default_tool_resources(value: Any) -> Any:
    return value if value is not None else {"code_interpreter": {"file_ids": []}}


def assistant(object_id: str, created_at: int, body: Mapping[str, Any]) -> JSON:
    """An assistant from a create request's body."""
    return {
        "id": object_id,
        "object": "assistant",
        "created_at": created_at,
        "name": body.get("name"),
        "description": body.get("description"),
        "model": body["model"],
        "instructions": body.get("instructions"),
        "tools": list(body.get("tools") or []),
        "top_p": body.get("top_p", 1.0),
        "temperature": body.get("temperature", 1.0),
        "reasoning_effort": body.get("reasoning_effort"),
        "tool_resources": _default_tool_resources(body.get("tool_resources")),
        "metadata": body.get("metadata") or {},
        "response_format": body.get("response_format", "auto"),
    }


def thread(object_id: str, created_at: int, body: Mapping[str, Any]) -> JSON:
    """A thread (its messages are created separately)."""
    return {
        "id": object_id,
        "object": "thread",
        "created_at": created_at,
        "metadata": body.get("metadata") or {},
        "tool_resources": _default_tool_resources(body.get("tool_resources")),
    }


def message_content(content: str | list[Any]) -> list[JSON]:
    """A create request's ``content`` (a string or parts) as the message's content."""
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    parts: list[JSON] = []
    for part in content:
        if part["type"] == "text":
            parts.append({"type": "text", "text": {"value": part["text"], "annotations": []}})
        else:
            parts.append(dict(part))
    return parts


def message(
    object_id: str,
    created_at: int,
    thread_id: str,
    *,
    role: str,
    content: list[JSON],
    status: str = "completed",
    assistant_id: str | None = None,
    run_id: str | None = None,
    attachments: list[Any] | None = None,
    metadata: Mapping[str, str] | None = None,
) -> JSON:
    """A message; a user's is created ``completed``, an assistant's ``in_progress``."""
    return {
        "id": object_id,
        "object": "thread.message",
        "created_at": created_at,
        "assistant_id": assistant_id,
        "thread_id": thread_id,
        "run_id": run_id,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": created_at if status == "completed" else None,
        "role": role,
        "content": content,
        "attachments": list(attachments or []),
        "metadata": dict(metadata or {}),
    }


def run(
    object_id: str,
    created_at: int,
    thread_id: str,
    assistant: Mapping[str, Any],
    body: Mapping[str, Any],
) -> JSON:
    """A queued run from a create request's body and its assistant's defaults."""

    def pick(name: str, default: Any) -> Any:
        value = body.get(name)
        if value is not None:
            return value
        value = assistant.get(name)
        return default if value is None else value

    instructions = pick("instructions", None)
    extra = body.get("additional_instructions")
    if extra:
        instructions = f"{instructions}\n{extra}" if instructions else extra
    return {
        "id": object_id,
        "object": "thread.run",
        "created_at": created_at,
        "assistant_id": assistant["id"],
        "thread_id": thread_id,
        "status": "queued",
        "started_at": None,
        "expires_at": created_at + RUN_TTL,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "required_action": None,
        "last_error": None,
        "model": pick("model", "gpt-4o"),
        "instructions": instructions,
        "tools": list(pick("tools", [])),
        "tool_resources": _default_tool_resources(
            body.get("tool_resources") or assistant.get("tool_resources")
        ),
        "metadata": body.get("metadata") or {},
        "temperature": pick("temperature", 1.0),
        "top_p": pick("top_p", 1.0),
        "reasoning_effort": pick("reasoning_effort", None),
        "max_completion_tokens": body.get("max_completion_tokens"),
        "max_prompt_tokens": body.get("max_prompt_tokens"),
        "truncation_strategy": body.get("truncation_strategy")
        or {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "usage": None,
        "response_format": pick("response_format", "auto"),
        "tool_choice": body.get("tool_choice") or "auto",
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
    }


def step(object_id: str, created_at: int, run: Mapping[str, Any], details: JSON) -> JSON:
    """An in-progress run step of ``run`` with ``step_details``."""
    return {
        "id": object_id,
        "object": "thread.run.step",
        "created_at": created_at,
        "run_id": run["id"],
        "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"],
        "type": details["type"],
        "status": "in_progress",
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": run["expires_at"],
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
    }


def usage(prompt_tokens: int, completion_tokens: int) -> JSON:
    """Token usage, with the detail objects the service adds."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_token_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
