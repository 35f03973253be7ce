"""The async client's resources: the same names and arguments as :mod:`._resources`.

Plain calls are awaited (``await client.threads.runs.retrieve(run_id, thread_id=...)``),
lists answer an :class:`~._pages.AsyncPage` (``async for`` it for every object), and the
streaming calls return an :class:`~._live.AsyncRunStream` at once, unsent until read.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._handler import AsyncEventHandler
from .._stream import OnTruncated
from ..fold import State
from ..models import (
    Assistant,
    AssistantDeleted,
    Message,
    MessageDeleted,
    Model,
    Run,
    RunStep,
    Thread,
    ThreadDeleted,
)
from ._live import AsyncLive, AsyncRunStream, Opening
from ._options import Reconnect
from ._pages import AsyncPage, decode_model
from ._resources import pick_handler

if TYPE_CHECKING:
    from ._client import AsyncClient

__all__ = ["AsyncAssistants", "AsyncMessages", "AsyncRuns", "AsyncSteps", "AsyncThreads"]

M = TypeVar("M", bound=Model)
Headers = Mapping[str, str] | None
Query = Mapping[str, Any] | None
Timeout = float | httpx.Timeout | None


def _request(extra_headers: Headers, extra_query: Query, timeout: Timeout) -> dict[str, Any]:
    return {
        "headers": dict(extra_headers) if extra_headers else None,
        "query": dict(extra_query) if extra_query else None,
        "timeout": timeout,
    }


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def _call(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Query = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> M:
        options = _request(extra_headers, extra_query, timeout)
        options["query"] = {**(query or {}), **(options["query"] or {})} or None
        body, request = await self._client.transport.json(method, path, json=json, **options)
        return decode_model(model, body, request)

    async def _list(
        self,
        model: type[M],
        path: str,
        query: Mapping[str, Any],
        extra_headers: Headers,
        extra_query: Query,
        timeout: Timeout,
    ) -> AsyncPage[M]:
        options = _request(extra_headers, extra_query, timeout)
        first = {**query, **(options.pop("query") or {})}
        transport = self._client.transport

        async def fetch(params: dict[str, Any]) -> tuple[Any, httpx.Request]:
            return await transport.json("GET", path, query=params, **options)

        body, request = await fetch(first)
        return AsyncPage(model, first, body, request, fetch)

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        *,
        thread_id: str | None,
        run_id: str | None,
        handler: AsyncEventHandler | None,
        state: State | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
        reconnect: Reconnect | None,
        extra_headers: Headers,
        extra_query: Query,
        timeout: Timeout,
    ) -> AsyncRunStream:
        client = self._client
        options = _request(extra_headers, extra_query, timeout)
        live = AsyncLive(
            client.transport,
            Opening("POST", path, {"json": {**body, "stream": True}, **options}),
            thread_id=thread_id,
            run_id=run_id,
            reconnect=reconnect or client.options.reconnect,
        )
        return AsyncRunStream(
            live,
            handler=handler,
            state=state,
            strict=strict,
            tolerant=tolerant,
            on_truncated=on_truncated,
        )


class AsyncAssistants(_Resource):
    """``client.assistants``: create, retrieve, update, list, delete."""

    async def create(
        self,
        *,
        model: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Assistant:
        """Create an assistant (``name``, ``instructions``, ``tools``, ... as keywords)."""
        body = {"model": model, **params}
        return await self._call(
            Assistant, "POST", "/assistants", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def retrieve(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Assistant:
        """Retrieve an assistant."""
        return await self._call(
            Assistant, "GET", f"/assistants/{assistant_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def update(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Assistant:
        """Modify an assistant."""
        return await self._call(
            Assistant, "POST", f"/assistants/{assistant_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def list(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> AsyncPage[Assistant]:
        """List assistants (``after``, ``before``, ``limit``, ``order``); iterate for all."""
        path = "/assistants"
        return await self._list(Assistant, path, query, extra_headers, extra_query, timeout)

    async def delete(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> AssistantDeleted:
        """Delete an assistant."""
        return await self._call(
            AssistantDeleted, "DELETE", f"/assistants/{assistant_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class AsyncSteps(_Resource):
    """``client.threads.runs.steps``: list, retrieve."""

    async def list(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> AsyncPage[RunStep]:
        """List a run's steps (``after``, ``before``, ``limit``, ``order``)."""
        path = f"/threads/{thread_id}/runs/{run_id}/steps"
        return await self._list(RunStep, path, query, extra_headers, extra_query, timeout)

    async def retrieve(
        self,
        step_id: str,
        *,
        thread_id: str,
        run_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> RunStep:
        """Retrieve a run step."""
        return await self._call(
            RunStep, "GET", f"/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class AsyncRuns(_Resource):
    """``client.threads.runs``: create, retrieve, update, list, cancel,
    submit_tool_outputs, and the streaming ``stream`` / ``submit_tool_outputs_stream``."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.steps = AsyncSteps(client)

    async def create(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Run:
        """Create a run (not streamed; see :meth:`stream`)."""
        body = {"assistant_id": assistant_id, **params}
        return await self._call(
            Run, "POST", f"/threads/{thread_id}/runs", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def retrieve(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Run:
        """Retrieve a run."""
        return await self._call(
            Run, "GET", f"/threads/{thread_id}/runs/{run_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def update(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Run:
        """Modify a run (its ``metadata``)."""
        return await self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def list(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> AsyncPage[Run]:
        """List a thread's runs (``after``, ``before``, ``limit``, ``order``)."""
        path = f"/threads/{thread_id}/runs"
        return await self._list(Run, path, query, extra_headers, extra_query, timeout)

    async def cancel(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Run:
        """Cancel a run; the answer is the run as it is then (``cancelling``)."""
        return await self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}/cancel", json={},
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def submit_tool_outputs(
        self,
        run_id: str,
        *,
        thread_id: str,
        tool_outputs: builtins.list[dict[str, Any]],
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Run:
        """Submit tool outputs (not streamed; see :meth:`submit_tool_outputs_stream`)."""
        body = {"tool_outputs": tool_outputs, **params}
        return await self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", json=body,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def stream(
        self,
        *,
        thread_id: str,
        assistant_id: str,
        handler: AsyncEventHandler | None = None,
        event_handler: AsyncEventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> AsyncRunStream:
        """Create a run on ``thread_id`` and stream it (sent when first read)."""
        return self._stream(
            f"/threads/{thread_id}/runs", {"assistant_id": assistant_id, **params},
            thread_id=thread_id, run_id=None, handler=pick_handler(handler, event_handler),
            state=state, strict=strict, tolerant=tolerant, on_truncated=on_truncated,
            reconnect=reconnect, extra_headers=extra_headers, extra_query=extra_query,
            timeout=timeout,
        )  # fmt: skip

    def submit_tool_outputs_stream(
        self,
        *,
        tool_outputs: builtins.list[dict[str, Any]],
        run_id: str,
        thread_id: str,
        handler: AsyncEventHandler | None = None,
        event_handler: AsyncEventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> AsyncRunStream:
        """Submit tool outputs and stream the continuation (pass the first stream's
        ``state`` to fold it into the same snapshots)."""
        return self._stream(
            f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
            {"tool_outputs": tool_outputs, **params},
            thread_id=thread_id, run_id=run_id, handler=pick_handler(handler, event_handler),
            state=state, strict=strict, tolerant=tolerant, on_truncated=on_truncated,
            reconnect=reconnect, extra_headers=extra_headers, extra_query=extra_query,
            timeout=timeout,
        )  # fmt: skip


class AsyncMessages(_Resource):
    """``client.threads.messages``: create, retrieve, update, list, delete."""

    async def create(
        self,
        thread_id: str,
        *,
        role: str,
        content: str | builtins.list[dict[str, Any]],
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Message:
        """Add a message to a thread."""
        body = {"role": role, "content": content, **params}
        return await self._call(
            Message, "POST", f"/threads/{thread_id}/messages", json=body,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def retrieve(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Message:
        """Retrieve a message."""
        return await self._call(
            Message, "GET", f"/threads/{thread_id}/messages/{message_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def update(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Message:
        """Modify a message (its ``metadata``)."""
        return await self._call(
            Message, "POST", f"/threads/{thread_id}/messages/{message_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def list(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> AsyncPage[Message]:
        """List a thread's messages (``after``, ``before``, ``limit``, ``order``,
        ``run_id``)."""
        path = f"/threads/{thread_id}/messages"
        return await self._list(Message, path, query, extra_headers, extra_query, timeout)

    async def delete(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> MessageDeleted:
        """Delete a message."""
        return await self._call(
            MessageDeleted, "DELETE", f"/threads/{thread_id}/messages/{message_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class AsyncThreads(_Resource):
    """``client.threads``: create, retrieve, update, delete, create_and_run(_stream);
    ``.messages`` and ``.runs``."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.messages = AsyncMessages(client)
        self.runs = AsyncRuns(client)

    async def create(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Thread:
        """Create a thread (``messages``, ``metadata``, ``tool_resources``)."""
        return await self._call(
            Thread, "POST", "/threads", json=params, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def retrieve(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Thread:
        """Retrieve a thread."""
        return await self._call(
            Thread, "GET", f"/threads/{thread_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def update(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Thread:
        """Modify a thread."""
        return await self._call(
            Thread, "POST", f"/threads/{thread_id}", json=params, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def delete(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> ThreadDeleted:
        """Delete a thread."""
        return await self._call(
            ThreadDeleted, "DELETE", f"/threads/{thread_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    async def create_and_run(
        self,
        *,
        assistant_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Run:
        """Create a thread (``thread={"messages": [...]}``) and run it, not streamed."""
        body = {"assistant_id": assistant_id, **params}
        return await self._call(
            Run, "POST", "/threads/runs", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        handler: AsyncEventHandler | None = None,
        event_handler: AsyncEventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> AsyncRunStream:
        """Create a thread and run it, streamed (sent when first read)."""
        return self._stream(
            "/threads/runs", {"assistant_id": assistant_id, **params},
            thread_id=None, run_id=None, handler=pick_handler(handler, event_handler),
            state=state, strict=strict, tolerant=tolerant, on_truncated=on_truncated,
            reconnect=reconnect, extra_headers=extra_headers, extra_query=extra_query,
            timeout=timeout,
        )  # fmt: skip
