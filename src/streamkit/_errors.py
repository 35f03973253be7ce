"""The exception hierarchy. Every error streamkit raises on purpose derives from StreamkitError."""

from __future__ import annotations

from typing import Any

__all__ = ["MalformedEventError", "ProtocolError", "StreamkitError"]


class StreamkitError(Exception):
    """Root of every exception streamkit raises on purpose."""


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 30] + " ... " + text[-25:]


class MalformedEventError(StreamkitError):
    """An event's data is not JSON, or not JSON of the shape its event type needs.

    Attributes: ``event`` (the SSE event name), ``data`` (the raw data text, whole),
    ``id`` (the SSE last event id), ``offset`` and ``line`` (where the event's block began
    in the stream, when known), ``reason`` (what was wrong) and ``path`` (where in the JSON,
    for a shape error).
    """

    def __init__(
        self,
        reason: str,
        *,
        event: str,
        data: str,
        id: str | None = None,
        offset: int | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> None:
        self.reason = reason
        self.event = event
        self.data = data
        self.id = id
        self.offset = offset
        self.line = line
        self.path = path
        where = []
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"byte {offset}")
        if id is not None:
            where.append(f"id {id!r}")
        at = f" at {', '.join(where)}" if where else ""
        inside = f" (at {path})" if path else ""
        super().__init__(f"malformed {event!r} event{at}: {reason}{inside}; data: {_clip(data)!r}")


class ProtocolError(StreamkitError):
    """An event that the object lifecycles do not allow (strict fold mode).

    ``kind`` is "run", "step" or "message"; ``object_id`` and ``status`` say which object
    in which status met ``event`` (the event name); ``raw`` is the decoded event.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        object_id: str | None,
        status: str | None,
        event: str,
        raw: Any = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.object_id = object_id
        self.status = status
        self.event = event
        self.raw = raw


class ResponseError(StreamkitError):
    """An HTTP answer that is not what was asked: a non-2xx status, a stream whose content
    type is not ``text/event-stream``, or a 2xx answer that is not the expected object.

    ``status_code``, ``content_type``, ``request_id`` (the ``x-request-id`` /
    ``apim-request-id`` header, when present), ``body`` (the start of the body, as text)
    and ``error`` (the API's error object ``{"message", "type", "code", "param"}`` when
    the body is one, else None) say what came back instead; ``method`` and ``url`` (its
    secrets redacted) say what was asked; ``reason`` (when set) says what was wrong with a
    2xx answer (a JSON body that is not the expected object).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        content_type: str | None,
        request_id: str | None,
        body: str,
        error: dict[str, Any] | None,
        method: str | None = None,
        url: str | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.content_type = content_type
        self.request_id = request_id
        self.body = body
        self.error = error
        self.method = method
        self.url = url
        self.reason = reason
