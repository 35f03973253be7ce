"""``client.responses``: the Responses API (``POST /responses`` and its siblings).

Named as openai-python's ``client.responses``: :meth:`Responses.create` (not streamed,
the typed :class:`~streamkit.models.responses.Response`), :meth:`Responses.stream` (a
:class:`~._responses_live.ResponseStream`, sent when first read), :meth:`~Responses.retrieve`,
:meth:`~Responses.retrieve_stream` (``GET /responses/{id}?stream=true&starting_after=N``:
the cursor goes to the server, and ``state=`` continues a snapshot from there),
:meth:`~Responses.cancel` and :meth:`~Responses.delete`. The request's body fields are
keywords, passed on as given; every method takes ``extra_headers``, ``extra_query`` and
``timeout``, and the streaming ones the stream's options (``handler``, ``state``,
``strict``, ``tolerant``, ``on_truncated``, ``reconnect``). :class:`AsyncResponses` is the
same for :class:`~streamkit.AsyncClient`, its plain calls awaited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .._handler import AsyncEventHandler, EventHandler
from .._stream import OnTruncated
from ..models.responses import Response
from ..protocols.responses import ResponsesState
from ._live import Opening
from ._options import Reconnect
from ._pages import decode_model
from ._resources import pick_handler
from ._responses_live import (
    AsyncResponsesLive,
    AsyncResponseStream,
    ResponsesLive,
    ResponseStream,
)

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = ["AsyncResponses", "Responses"]

Headers = Mapping[str, str] | None
Query = Mapping[str, Any] | None
Timeout = float | httpx.Timeout | None


def _options(extra_headers: Headers, extra_query: Query, timeout: Timeout) -> dict[str, Any]:
    return {
        "headers": dict(extra_headers) if extra_headers else None,
        "query": dict(extra_query) if extra_query else None,
        "timeout": timeout,
    }


def _not_streamed(params: Mapping[str, Any]) -> None:
    if params.get("stream"):
        raise TypeError("create() answers a whole response: use responses.stream(...) to stream")


def _resume_query(options: dict[str, Any], starting_after: int | None) -> dict[str, Any]:
    query = {**(options["query"] or {}), "stream": "true"}
    if starting_after is not None:
        query["starting_after"] = starting_after
    return {**options, "query": query}


class Responses:
    """``client.responses``: create, stream, retrieve, retrieve_stream, cancel, delete."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _call(self, method: str, path: str, options: dict[str, Any], json: Any = None) -> Response:
        body, request = self._client.transport.json(method, path, json=json, **options)
        return decode_model(Response, body, request)

    def _open(
        self,
        opening: Opening,
        request: dict[str, Any],
        *,
        body: Mapping[str, Any],
        response_id: str | None,
        cursor: int | None,
        background: bool,
        handler: EventHandler | None,
        state: ResponsesState | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
        reconnect: Reconnect | None,
    ) -> ResponseStream:
        client = self._client
        live = ResponsesLive(
            client.transport, opening, body=body, request=request,
            reconnect=reconnect or client.options.reconnect, background=background,
            response_id=response_id, cursor=cursor,
        )  # fmt: skip
        return ResponseStream(
            live, handler=handler, state=state, strict=strict, tolerant=tolerant,
            on_truncated=on_truncated,
        )  # fmt: skip

    def create(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Response:
        """Create a response, not streamed (``model``, ``input``, ``tools``, ...); with
        ``background=True`` it answers at once, ``queued`` or further."""
        _not_streamed(params)
        options = _options(extra_headers, extra_query, timeout)
        return self._call("POST", "/responses", options, json=params)

    def stream(
        self,
        *,
        handler: EventHandler | None = None,
        event_handler: EventHandler | None = None,
        state: ResponsesState | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> ResponseStream:
        """Create a response and stream it (sent when first read). With
        ``background=True`` and ``reconnect="poll"``, a dropped stream resumes after the
        last ``sequence_number`` read."""
        options = _options(extra_headers, extra_query, timeout)
        opening = Opening("POST", "/responses", {**options, "json": {**params, "stream": True}})
        return self._open(
            opening, options, body=params, response_id=None, cursor=None,
            background=params.get("background") is True,
            handler=pick_handler(handler, event_handler), state=state, strict=strict,
            tolerant=tolerant, on_truncated=on_truncated, reconnect=reconnect,
        )  # fmt: skip

    def retrieve(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Response:
        """Retrieve a response as it is now."""
        options = _options(extra_headers, extra_query, timeout)
        return self._call("GET", f"/responses/{response_id}", options)

    def retrieve_stream(
        self,
        response_id: str,
        *,
        starting_after: int | None = None,
        handler: EventHandler | None = None,
        event_handler: EventHandler | None = None,
        state: ResponsesState | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> ResponseStream:
        """Stream a background response's events after sequence number ``starting_after``
        (all of them without it): the server skips the rest. Pass the ``state`` of the
        stream that read up to there to continue its snapshots."""
        options = _options(extra_headers, extra_query, timeout)
        path = f"/responses/{response_id}"
        opening = Opening("GET", path, _resume_query(options, starting_after))
        return self._open(
            opening, options, body={}, response_id=response_id, cursor=starting_after,
            background=True, handler=pick_handler(handler, event_handler), state=state,
            strict=strict, tolerant=tolerant, on_truncated=on_truncated, reconnect=reconnect,
        )  # fmt: skip

    def cancel(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Response:
        """Cancel a background response; the answer is the response as it is then."""
        options = _options(extra_headers, extra_query, timeout)
        path = f"/responses/{response_id}/cancel"
        return self._call("POST", path, options, json={})

    def delete(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> None:
        """Delete a response (a :class:`~streamkit.ResponseError` 404 if there is none)."""
        options = _options(extra_headers, extra_query, timeout)
        self._client.transport.json("DELETE", f"/responses/{response_id}", **options)


class AsyncResponses:
    """``AsyncClient.responses``: the methods of :class:`Responses`; plain calls are
    awaited, the streaming ones return an :class:`AsyncResponseStream` at once."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _call(
        self, method: str, path: str, options: dict[str, Any], json: Any = None
    ) -> Response:
        body, request = await self._client.transport.json(method, path, json=json, **options)
        return decode_model(Response, body, request)

    def _open(
        self,
        opening: Opening,
        request: dict[str, Any],
        *,
        body: Mapping[str, Any],
        response_id: str | None,
        cursor: int | None,
        background: bool,
        handler: AsyncEventHandler | None,
        state: ResponsesState | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
        reconnect: Reconnect | None,
    ) -> AsyncResponseStream:
        client = self._client
        live = AsyncResponsesLive(
            client.transport, opening, body=body, request=request,
            reconnect=reconnect or client.options.reconnect, background=background,
            response_id=response_id, cursor=cursor,
        )  # fmt: skip
        return AsyncResponseStream(
            live, handler=handler, state=state, strict=strict, tolerant=tolerant,
            on_truncated=on_truncated,
        )  # fmt: skip

    async def create(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Response:
        """See :meth:`Responses.create`."""
        _not_streamed(params)
        options = _options(extra_headers, extra_query, timeout)
        return await self._call("POST", "/responses", options, json=params)

    def stream(
        self,
        *,
        handler: AsyncEventHandler | None = None,
        event_handler: AsyncEventHandler | None = None,
        state: ResponsesState | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> AsyncResponseStream:
        """See :meth:`Responses.stream`."""
        options = _options(extra_headers, extra_query, timeout)
        opening = Opening("POST", "/responses", {**options, "json": {**params, "stream": True}})
        return self._open(
            opening, options, body=params, response_id=None, cursor=None,
            background=params.get("background") is True,
            handler=pick_handler(handler, event_handler), state=state, strict=strict,
            tolerant=tolerant, on_truncated=on_truncated, reconnect=reconnect,
        )  # fmt: skip

    async def retrieve(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Response:
        """See :meth:`Responses.retrieve`."""
        options = _options(extra_headers, extra_query, timeout)
        return await self._call("GET", f"/responses/{response_id}", options)

    def retrieve_stream(
        self,
        response_id: str,
        *,
        starting_after: int | None = None,
        handler: AsyncEventHandler | None = None,
        event_handler: AsyncEventHandler | None = None,
        state: ResponsesState | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> AsyncResponseStream:
        """See :meth:`Responses.retrieve_stream`."""
        options = _options(extra_headers, extra_query, timeout)
        path = f"/responses/{response_id}"
        opening = Opening("GET", path, _resume_query(options, starting_after))
        return self._open(
            opening, options, body={}, response_id=response_id, cursor=starting_after,
            background=True, handler=pick_handler(handler, event_handler), state=state,
            strict=strict, tolerant=tolerant, on_truncated=on_truncated, reconnect=reconnect,
        )  # fmt: skip

    async def cancel(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Response:
        """See :meth:`Responses.cancel`."""
        options = _options(extra_headers, extra_query, timeout)
        path = f"/responses/{response_id}/cancel"
        return await self._call("POST", path, options, json={})

    async def delete(
        self,
        response_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> None:
        """See :meth:`Responses.delete`."""
        options = _options(extra_headers, extra_query, timeout)
        await self._client.transport.json("DELETE", f"/responses/{response_id}", **options)
