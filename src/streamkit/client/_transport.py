"""Sending requests: URLs, headers, retries before the answer, and typed errors.

:class:`Transport` (sync) and :class:`AsyncTransport` wrap an ``httpx.Client`` /
``httpx.AsyncClient``. Both build a request from the :class:`~._options.Options` (base
URL, headers, default query) and a call's own path, body, query, headers and timeout,
then :meth:`Transport.send` it:

- it sends, and on a connect error or a retryable status (408, 409, 429, 5xx) waits
  (:func:`~._options.retry_delay`) and sends again, up to ``max_retries`` times;
- an error status becomes :class:`streamkit.ResponseError` (status, request id, the
  API's error object), a failure below HTTP an
  :class:`~._errors.APIConnectionError` / :class:`~._errors.APITimeoutError`;
- a JSON call reads and parses the body (:meth:`Transport.json`); a stream call checks
  that the answer is an event stream and hands it over unread (:meth:`Transport.stream`).

Once an answer with a 2xx status has arrived, nothing is retried: for a stream that
would repeat events the caller has already folded.
"""

from __future__ import annotations

import time
from typing import Any, Final

import anyio
import httpx
import orjson

from .._http import (
    BODY_PEEK,
    aevent_stream_problem,
    apeek,
    event_stream_problem,
    peek,
    response_error,
)
from ._errors import APIConnectionError, APITimeoutError
from ._options import Options, retry_delay

__all__ = ["AsyncTransport", "Transport", "connection_error", "decode_json"]

_CONNECT_ERRORS: Final = (httpx.ConnectError, httpx.ConnectTimeout)
Query = dict[str, Any]


def _where(request: httpx.Request) -> tuple[str, str]:
    return request.method, str(request.url.copy_with(query=None))


def connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The client's error for an httpx transport error while handling ``request``."""
    method, url = _where(request)
    kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    return kind(f"{type(exc).__name__}: {exc or 'no detail'}", method=method, url=url)


def decode_json(response: httpx.Response, body: bytes) -> Any:
    """The JSON of a 2xx answer; a :class:`ResponseError` naming what came instead."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise response_error(
            response, body[:BODY_PEEK], reason=f"the body is not JSON ({exc})"
        ) from None


class _Base:
    def __init__(self, options: Options) -> None:
        self.options = options

    def build(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Query | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | httpx.Timeout | None = None,
        stream: bool = False,
    ) -> httpx.Request:
        options = self.options
        params = {**options.query, **{k: v for k, v in (query or {}).items() if v is not None}}
        merged = dict(options.headers)
        if json is not None:
            merged["content-type"] = "application/json"
        if stream:
            merged["accept"] = "text/event-stream"
        if headers:
            merged.update({name.lower(): value for name, value in headers.items()})
        extensions = {}
        if timeout is not None:
            chosen = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            extensions["timeout"] = chosen.as_dict()
        return client.build_request(
            method,
            options.base_url + path,
            params=params or None,
            content=orjson.dumps(json) if json is not None else None,
            headers=merged,
            extensions=extensions or None,
        )


class Transport(_Base):
    """Sync requests with retries on an ``httpx.Client``."""

    def __init__(self, options: Options, client: httpx.Client) -> None:
        super().__init__(options)
        self.client = client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        """A request to ``path`` under the base URL (see :meth:`_Base.build`)."""
        return self.build(self.client, method, path, **kwargs)

    def send(self, request: httpx.Request, *, max_retries: int | None = None) -> httpx.Response:
        """Send with retries; the 2xx answer, its body not read yet."""
        options = self.options
        retries = options.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            try:
                response = self.client.send(request, stream=True)
            except _CONNECT_ERRORS as exc:
                if attempt < retries:
                    time.sleep(retry_delay(options, attempt, None))
                    attempt += 1
                    continue
                raise connection_error(exc, request) from exc
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from exc
            if response.is_success:
                return response
            try:
                if attempt < retries and options.retryable(response.status_code):
                    response.read()  # frees the connection for the next attempt
                    delay = retry_delay(options, attempt, response.headers)
                else:
                    raise response_error(response, peek(response))
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from exc
            finally:
                response.close()
            time.sleep(delay)
            attempt += 1

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, httpx.Request]:
        """Send a JSON call; the parsed JSON answer, and the request (for errors)."""
        request = self.request(method, path, **kwargs)
        response = self.send(request)
        try:
            body = response.read()
        except httpx.TransportError as exc:
            raise connection_error(exc, request) from exc
        finally:
            response.close()
        return decode_json(response, body), request

    def stream(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send a streaming call; the event-stream answer, unread (the caller closes it)."""
        request = self.request(method, path, stream=True, **kwargs)
        response = self.send(request)
        problem = event_stream_problem(response)  # a 2xx that is not an event stream
        if problem is not None:
            response.close()
            raise problem
        return response


class AsyncTransport(_Base):
    """Async requests with retries on an ``httpx.AsyncClient`` (asyncio or trio)."""

    def __init__(self, options: Options, client: httpx.AsyncClient) -> None:
        super().__init__(options)
        self.client = client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        return self.build(self.client, method, path, **kwargs)

    async def send(
        self, request: httpx.Request, *, max_retries: int | None = None
    ) -> httpx.Response:
        options = self.options
        retries = options.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            try:
                response = await self.client.send(request, stream=True)
            except _CONNECT_ERRORS as exc:
                if attempt < retries:
                    await anyio.sleep(retry_delay(options, attempt, None))
                    attempt += 1
                    continue
                raise connection_error(exc, request) from exc
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from exc
            if response.is_success:
                return response
            try:
                if attempt < retries and options.retryable(response.status_code):
                    await response.aread()
                    delay = retry_delay(options, attempt, response.headers)
                else:
                    raise response_error(response, await apeek(response))
            except httpx.TransportError as exc:
                raise connection_error(exc, request) from exc
            finally:
                await response.aclose()
            await anyio.sleep(delay)
            attempt += 1

    async def json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, httpx.Request]:
        request = self.request(method, path, **kwargs)
        response = await self.send(request)
        try:
            body = await response.aread()
        except httpx.TransportError as exc:
            raise connection_error(exc, request) from exc
        finally:
            await response.aclose()
        return decode_json(response, body), request

    async def stream(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        request = self.request(method, path, stream=True, **kwargs)
        response = await self.send(request)
        problem = await aevent_stream_problem(response)
        if problem is not None:
            await response.aclose()
            raise problem
        return response
