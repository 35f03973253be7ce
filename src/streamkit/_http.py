"""HTTP glue: recording an httpx response, checking that a response is an event stream,
and the client the ``streamkit record`` command sends its request with.

The one module of streamkit built on httpx for its own requests (the HTTP client will
live beside it). :func:`record_response` / :func:`arecord_response` build a
:class:`~streamkit.record.Recorder` from a response (request method and URL path,
status, headers) and tee its body into it. :func:`event_stream_problem` says, in one
line, why a response is not an event stream worth reading (a non-2xx status, or a
content type that is not ``text/event-stream``), with the status, the content type, the
request id and the start of the body, read as the API's error object when it is one.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from typing import IO, Any, Final

import httpx
import orjson

from ._errors import ResponseError
from .record._redact import redact_url
from .record._write import Recorder, atee, tee

__all__ = [
    "BODY_PEEK",
    "aevent_stream_problem",
    "apeek",
    "arecord_response",
    "client_factory",
    "event_stream_problem",
    "new_client",
    "peek",
    "record_response",
    "response_error",
    "response_recorder",
]

#: How much of a body that is not an event stream is read to describe it.
BODY_PEEK: Final = 4096
#: How many characters of that body an error message shows.
BODY_SHOWN: Final = 200
#: Response headers that carry the id a service's support asks for, first found wins.
REQUEST_ID_HEADERS: Final = ("x-request-id", "apim-request-id", "x-ms-request-id", "request-id")


def new_client() -> httpx.Client:
    """The client ``streamkit record`` uses: 30 s to connect, 10 minutes between reads,
    redirects followed."""
    return httpx.Client(timeout=httpx.Timeout(30.0, read=600.0), follow_redirects=True)


#: Builds the HTTP client for ``streamkit record`` (tests replace it to inject a transport).
client_factory: Callable[[], httpx.Client] = new_client


def response_recorder(
    response: httpx.Response,
    file: str | os.PathLike[str] | IO[bytes],
    *,
    redact: Iterable[str] = (),
    redact_body_secrets: bool = False,
    metadata: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Recorder:
    """A ``Recorder`` whose header is ``response``'s request method and URL path, status
    and headers (redacted); it starts the recording's clock."""
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a Response built without a request
        request = None
    return Recorder(
        file,
        method=request.method if request is not None else None,
        path=request.url.path if request is not None else None,
        status=response.status_code,
        headers=response.headers.multi_items(),
        metadata=metadata,
        redact=redact,
        redact_body_secrets=redact_body_secrets,
        clock=clock,
    )


def record_response(
    response: httpx.Response,
    path: str | os.PathLike[str] | IO[bytes],
    *,
    redact: Iterable[str] = (),
    redact_body_secrets: bool = False,
    metadata: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Iterator[bytes]:
    """Yield ``response.iter_bytes()`` while recording it to ``path``.

    The header (request method and URL path, status, response headers) is written when
    iteration starts; the end line when the body is exhausted. Stopping early leaves a
    truncated recording.
    """
    with response_recorder(
        response,
        path,
        redact=redact,
        redact_body_secrets=redact_body_secrets,
        metadata=metadata,
        clock=clock,
    ) as recorder:
        yield from tee(response.iter_bytes(), recorder)


async def arecord_response(
    response: httpx.Response,
    path: str | os.PathLike[str] | IO[bytes],
    *,
    redact: Iterable[str] = (),
    redact_body_secrets: bool = False,
    metadata: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> AsyncIterator[bytes]:
    """Async twin of ``record_response``, over ``response.aiter_bytes()``."""
    with response_recorder(
        response,
        path,
        redact=redact,
        redact_body_secrets=redact_body_secrets,
        metadata=metadata,
        clock=clock,
    ) as recorder:
        async for chunk in atee(response.aiter_bytes(), recorder):
            yield chunk


def is_event_stream(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` value names ``text/event-stream`` (parameters and case
    ignored)."""
    if content_type is None:
        return False
    return content_type.partition(";")[0].strip().lower() == "text/event-stream"


def event_stream_problem(response: httpx.Response) -> ResponseError | None:
    """Why ``response`` is not an event stream to read, as a :class:`ResponseError`
    whose message is one line; None when it is one (a 2xx status other than 204 and 205,
    and a ``text/event-stream`` content type).

    The error names the status, the content type, the request id when the response has
    one, and the start of the body (the API's error object when the body is one).
    Reading that start reads at most ``BODY_PEEK`` bytes of the body.
    """
    content_type = response.headers.get("content-type")
    ok, what, details = _verdict(response, content_type)
    if ok:
        return None
    return _error(response, content_type, what, details, peek(response))


async def aevent_stream_problem(response: httpx.Response) -> ResponseError | None:
    """The async twin of :func:`event_stream_problem`."""
    content_type = response.headers.get("content-type")
    ok, what, details = _verdict(response, content_type)
    if ok:
        return None
    return _error(response, content_type, what, details, await apeek(response))


def _verdict(response: httpx.Response, content_type: str | None) -> tuple[bool, str, list[str]]:
    # 204 and 205 never have a body (and EventSource reads 204 as "stop reconnecting").
    ok = 200 <= response.status_code < 300 and response.status_code not in (204, 205)
    if ok and is_event_stream(content_type):
        return True, "", []
    status = f"HTTP {response.status_code}"
    if response.reason_phrase:
        status += f" {response.reason_phrase}"
    details = [f"content type {content_type}" if content_type else "no content type"]
    what = status if not ok else f"{status}, but not an event stream"
    return False, what, details


def _request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def response_error(
    response: httpx.Response, data: bytes, *, reason: str | None = None
) -> ResponseError:
    """The :class:`ResponseError` for ``response`` (``data``: the start of its body), for
    an answer that is not what was asked: an error status, not an event stream, or (with
    ``reason``) a 2xx answer that is not the expected JSON object."""
    content_type = response.headers.get("content-type")
    _, what, details = _verdict(response, content_type)
    if reason is not None:
        what = f"HTTP {response.status_code}: {reason}"
        details = [f"content type {content_type}" if content_type else "no content type"]
    return _error(response, content_type, what, details, data, reason)


def _error(
    response: httpx.Response,
    content_type: str | None,
    what: str,
    details: list[str],
    data: bytes,
    reason: str | None = None,
) -> ResponseError:
    request_id = _request_id(response)
    if request_id is not None:
        details.append(f"request id {request_id}")
    line = f"{what} ({', '.join(details)})"
    error = _api_error(data)
    body = _describe_body(data, error)
    request = getattr(response, "_request", None)
    return ResponseError(
        f"{line}: {body}" if body else line,
        status_code=response.status_code,
        content_type=content_type,
        request_id=request_id,
        body=data.decode("utf-8", "replace"),
        error=error,
        method=request.method if request is not None else None,
        url=redact_url(str(request.url)) if request is not None else None,
        reason=reason,
    )


def peek(response: httpx.Response) -> bytes:
    """Up to ``BODY_PEEK`` bytes of the body (for an error message); what could be read
    when reading fails."""
    data = b""
    try:
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= BODY_PEEK:
                break
    except httpx.HTTPError:
        pass
    return data[:BODY_PEEK]


async def apeek(response: httpx.Response) -> bytes:
    """The async twin of :func:`peek`."""
    data = b""
    try:
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= BODY_PEEK:
                break
    except httpx.HTTPError:
        pass
    return data[:BODY_PEEK]


def _api_error(data: bytes) -> dict[str, Any] | None:
    """The API's error object when ``data`` is one (bare, or ``{"error": {...}}``)."""
    try:
        error = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if isinstance(error, dict) and isinstance(error.get("error"), dict):
        error = error["error"]  # {"error": {"message", "type", "code", "param"}}
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error
    return None


def _describe_body(data: bytes, error: dict[str, Any] | None) -> str:
    if error is not None:
        kind = [str(error[k]) for k in ("type", "code") if isinstance(error.get(k), str | int)]
        text = f"{' / '.join(kind)}: {error['message']}" if kind else error["message"]
    else:
        text = data.decode("utf-8", "replace")
    text = " ".join(text.split())  # one line
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    return text if len(text) <= BODY_SHOWN else text[: BODY_SHOWN - 3] + "..."
