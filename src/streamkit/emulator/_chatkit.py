"""ChatKit: sessions with client secrets, their limits, and threads with items.

A session is created with the API key (``POST /chatkit/sessions``) with the reference's
defaults: it expires 10 minutes after creation (``expires_after.seconds``), allows 10
requests per minute (``rate_limits.max_requests_per_1_minute``), has uploads off (at
most 10 files of 512 MB when on), history on with no limit, and thread titling on. Its
``status`` is computed when it is read: ``cancelled`` once cancelled, ``expired`` once
its ``expires_at`` has passed, else ``active``.

Its ``client_secret`` authenticates requests to the ChatKit thread endpoints as the
session's user: an active session's secret is counted against its per-minute limit
(a sliding window of 60 seconds; over it, 429 with ``Retry-After``), and a cancelled or
expired session's secret gets 401. The API key sees every user's threads.

The reference has no endpoint that creates ChatKit threads, so they are added from
Python (:meth:`ChatKit.add_thread`, :meth:`ChatKit.add_item`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._store import ApiError, Collection, Ids, not_found, page_params, paginate

__all__ = ["DEFAULT_EXPIRES_AFTER", "DEFAULT_MAX_REQUESTS_PER_MINUTE", "ChatKit"]

JSON = dict[str, Any]
DEFAULT_EXPIRES_AFTER = 600
DEFAULT_MAX_REQUESTS_PER_MINUTE = 10
_WINDOW = 60.0


class ChatKit:
    """ChatKit sessions and threads, in memory."""

    def __init__(self, ids: Ids, clock: Callable[[], float]) -> None:
        self._ids = ids
        self._clock = clock
        self._sessions: dict[str, JSON] = {}
        self._cancelled: set[str] = set()
        self._by_secret: dict[str, str] = {}
        self._requests: dict[str, deque[float]] = {}
        self.threads = Collection()
        self.items: dict[str, Collection] = {}

    # -- sessions

    def create_session(self, body: Mapping[str, Any]) -> JSON:
        """A new session from a (checked) create request."""
        now = int(self._clock())
        config = body.get("chatkit_configuration") or {}
        titling = config.get("automatic_thread_titling") or {}
        upload = config.get("file_upload") or {}
        history = config.get("history") or {}
        workflow = body["workflow"]
        tracing = workflow.get("tracing") or {}
        limit = (body.get("rate_limits") or {}).get(
            "max_requests_per_1_minute", DEFAULT_MAX_REQUESTS_PER_MINUTE
        )
        seconds = (body.get("expires_after") or {}).get("seconds", DEFAULT_EXPIRES_AFTER)
        session: JSON = {
            "id": self._ids.new("cksess_"),
            "object": "chatkit.session",
            "chatkit_configuration": {
                "automatic_thread_titling": {"enabled": titling.get("enabled", True)},
                "file_upload": {
                    "enabled": upload.get("enabled", False),
                    "max_file_size": upload.get("max_file_size", 512),
                    "max_files": upload.get("max_files", 10),
                },
                "history": {
                    "enabled": history.get("enabled", True),
                    "recent_threads": history.get("recent_threads"),
                },
            },
            "client_secret": self._ids.new("ek_", 32),
            "expires_at": now + seconds,
            "max_requests_per_1_minute": limit,
            "rate_limits": {"max_requests_per_1_minute": limit},
            "status": "active",
            "user": body["user"],
            "workflow": {
                "id": workflow["id"],
                "state_variables": workflow.get("state_variables"),
                "tracing": {"enabled": tracing.get("enabled", True)},
                "version": workflow.get("version"),
            },
        }
        self._sessions[session["id"]] = session
        self._by_secret[session["client_secret"]] = session["id"]
        self._requests[session["id"]] = deque()
        return self._render(session)

    def _render(self, session: JSON) -> JSON:
        if session["id"] in self._cancelled:
            status = "cancelled"
        elif self._clock() >= session["expires_at"]:
            status = "expired"
        else:
            status = "active"
        session["status"] = status
        return dict(session)

    def cancel_session(self, session_id: str) -> JSON:
        """Cancel a session: its client secret stops working. An expired session stays
        ``expired``; cancelling twice is harmless."""
        session = self._sessions.get(session_id)
        if session is None:
            raise not_found("ChatKit session", session_id)
        if self._render(session)["status"] == "active":
            self._cancelled.add(session_id)
        return self._render(session)

    def session_for_secret(self, secret: str) -> JSON | None:
        """The session whose client secret this is, if any (no check, no counting)."""
        session_id = self._by_secret.get(secret)
        return None if session_id is None else self._sessions[session_id]

    def admit(self, session: JSON) -> None:
        """Let one request through on ``session``'s secret, or raise 401 / 429."""
        status = self._render(session)["status"]
        if status != "active":
            raise ApiError(
                401,
                f"The ChatKit session {session['id']} is {status}: its client secret "
                "no longer works.",
                type="invalid_request_error",
                code=f"session_{status}",
            )
        now = self._clock()
        window = self._requests[session["id"]]
        while window and window[0] <= now - _WINDOW:
            window.popleft()
        limit = session["max_requests_per_1_minute"]
        if len(window) >= limit:
            retry = max(1, math.ceil(window[0] + _WINDOW - now))
            raise ApiError(
                429,
                f"Rate limit reached for ChatKit session {session['id']}: "
                f"{limit} requests per minute. Try again in {retry} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": str(retry)},
            )
        window.append(now)

    # -- threads

    def add_thread(
        self,
        user: str,
        *,
        title: str | None = None,
        items: Iterable[tuple[str, str]] = (),
    ) -> JSON:
        """Add a ChatKit thread of ``user``, with ``(role, text)`` items (role "user" or
        "assistant"), and return it."""
        thread: JSON = {
            "id": self._ids.new("cthr_"),
            "object": "chatkit.thread",
            "created_at": int(self._clock()),
            "status": {"type": "active"},
            "title": title,
            "user": user,
        }
        self.threads.add(thread)
        self.items[thread["id"]] = Collection()
        for role, text in items:
            self.add_item(thread["id"], role, text)
        return thread

    def add_item(self, thread_id: str, role: str, text: str) -> JSON:
        """Add a user or assistant message item to a thread, and return it."""
        if thread_id not in self.items:
            raise KeyError(f"no ChatKit thread {thread_id!r}")
        base: JSON = {
            "id": self._ids.new("cthi_"),
            "object": "chatkit.thread_item",
            "created_at": int(self._clock()),
            "thread_id": thread_id,
        }
        if role == "user":
            item = {
                **base,
                "type": "chatkit.user_message",
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": None,
            }
        elif role == "assistant":
            item = {
                **base,
                "type": "chatkit.assistant_message",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        else:
            raise ValueError(f"role must be 'user' or 'assistant', not {role!r}")
        return self.items[thread_id].add(item)

    def _visible(self, session: JSON | None) -> list[JSON]:
        threads = list(self.threads)
        if session is None:
            return threads
        mine = [thread for thread in threads if thread["user"] == session["user"]]
        history = session["chatkit_configuration"]["history"]
        if not history["enabled"]:
            return []
        recent = history["recent_threads"]
        return mine[-recent:] if recent else mine

    def thread(self, thread_id: str, session: JSON | None) -> JSON:
        """A thread, if ``session`` (None: the API key) may see it; else 404."""
        for thread in self._visible(session):
            if thread["id"] == thread_id:
                return thread
        raise not_found("ChatKit thread", thread_id)

    def list_threads(self, query: Mapping[str, str], session: JSON | None) -> JSON:
        after, before, limit, order = page_params(query)
        threads = self._visible(session)
        user = query.get("user")
        if user:
            threads = [thread for thread in threads if thread["user"] == user]
        return paginate(threads, after=after, before=before, limit=limit, order=order)

    def delete_thread(self, thread_id: str, session: JSON | None) -> JSON:
        self.thread(thread_id, session)
        self.threads.remove(thread_id)
        self.items.pop(thread_id, None)
        return {"id": thread_id, "object": "chatkit.thread.deleted", "deleted": True}

    def list_items(self, thread_id: str, query: Mapping[str, str], session: JSON | None) -> JSON:
        self.thread(thread_id, session)
        after, before, limit, order = page_params(query)
        items = list(self.items[thread_id])
        return paginate(items, after=after, before=before, limit=limit, order=order)
