"""The sync client's resources, named as openai-python's beta assistants API.

``client.assistants``, ``client.threads``, ``client.threads.messages``,
``client.threads.runs`` and ``client.threads.runs.steps``, with openai-python's method
names and argument order (``runs.retrieve(run_id, thread_id=...)``), so code written for
``client.beta.threads.runs...`` reads the same. Plain calls return the typed models of
:mod:`streamkit.models`; lists a :class:`~._pages.Page`; streaming calls
(``threads.create_and_run_stream``, ``threads.runs.stream``,
``threads.runs.submit_tool_outputs_stream``) a :class:`~._live.RunStream`.

Every method takes the API's body fields as keywords (passed on as given, so fields this
version does not know work too), and ``extra_headers``, ``extra_query`` and ``timeout``
for that one request. Streaming methods also take the stream's own options: ``handler``
(``event_handler``, openai-python's name, is accepted too), ``state`` (continue an
earlier stream's snapshots), ``strict``, ``tolerant``, ``on_truncated`` and
``reconnect`` (``"poll"`` / ``"off"``; None: the client's).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .._handler import EventHandler
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
from ._live import Live, Opening, RunStream
from ._options import Reconnect
from ._pages import Page, decode_model

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["Assistants", "Messages", "Runs", "Steps", "Threads", "pick_handler"]

M = TypeVar("M", bound=Model)
Headers = Mapping[str, str] | None
Query = Mapping[str, Any] | None
Timeout = float | httpx.Timeout | None


def pick_handler(handler: Any, event_handler: Any) -> Any:
    """``handler``, or ``event_handler`` (openai-python's name for it); not both."""
    if handler is not None and event_handler is not None:
        raise TypeError("pass handler or event_handler (openai-python's name for it), not both")
    return handler if handler is not None else event_handler


def _request(extra_headers: Headers, extra_query: Query, timeout: Timeout) -> dict[str, Any]:
    return {
        "headers": dict(extra_headers) if extra_headers else None,
        "query": dict(extra_query) if extra_query else None,
        "timeout": timeout,
    }


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _call(
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
        body, request = self._client.transport.json(method, path, json=json, **options)
        return decode_model(model, body, request)

    def _list(
        self,
        model: type[M],
        path: str,
        query: Mapping[str, Any],
        extra_headers: Headers,
        extra_query: Query,
        timeout: Timeout,
    ) -> Page[M]:
        options = _request(extra_headers, extra_query, timeout)
        first = {**query, **(options.pop("query") or {})}
        transport = self._client.transport

        def fetch(params: dict[str, Any]) -> tuple[Any, httpx.Request]:
            return transport.json("GET", path, query=params, **options)

        body, request = fetch(first)
        return Page(model, first, body, request, fetch)

    def _stream(
        self,
        path: str,
        body: dict[str, Any],
        *,
        thread_id: str | None,
        run_id: str | None,
        handler: EventHandler | None,
        state: State | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
        reconnect: Reconnect | None,
        extra_headers: Headers,
        extra_query: Query,
        timeout: Timeout,
    ) -> RunStream:
        client = self._client
        options = _request(extra_headers, extra_query, timeout)
        live = Live(
            client.transport,
            Opening("POST", path, {"json": {**body, "stream": True}, **options}),
            thread_id=thread_id,
            run_id=run_id,
            reconnect=reconnect or client.options.reconnect,
        )
        return RunStream(
            live,
            handler=handler,
            state=state,
            strict=strict,
            tolerant=tolerant,
            on_truncated=on_truncated,
        )


class Assistants(_Resource):
    """``client.assistants``: create, retrieve, update, list, delete."""

    def create(
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
        return self._call(
            Assistant, "POST", "/assistants", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def retrieve(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Assistant:
        """Retrieve an assistant."""
        return self._call(
            Assistant, "GET", f"/assistants/{assistant_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def update(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Assistant:
        """Modify an assistant."""
        return self._call(
            Assistant, "POST", f"/assistants/{assistant_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def list(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> Page[Assistant]:
        """List assistants (``after``, ``before``, ``limit``, ``order``); iterate for all."""
        return self._list(Assistant, "/assistants", query, extra_headers, extra_query, timeout)

    def delete(
        self,
        assistant_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> AssistantDeleted:
        """Delete an assistant."""
        return self._call(
            AssistantDeleted, "DELETE", f"/assistants/{assistant_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class Steps(_Resource):
    """``client.threads.runs.steps``: list, retrieve."""

    def list(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> Page[RunStep]:
        """List a run's steps (``after``, ``before``, ``limit``, ``order``)."""
        path = f"/threads/{thread_id}/runs/{run_id}/steps"
        return self._list(RunStep, path, query, extra_headers, extra_query, timeout)

    def retrieve(
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
        return self._call(
            RunStep, "GET", f"/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class Runs(_Resource):
    """``client.threads.runs``: create, retrieve, update, list, cancel,
    submit_tool_outputs, and the streaming ``stream`` / ``submit_tool_outputs_stream``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.steps = Steps(client)

    def create(
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
        return self._call(
            Run, "POST", f"/threads/{thread_id}/runs", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def retrieve(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Run:
        """Retrieve a run."""
        return self._call(
            Run, "GET", f"/threads/{thread_id}/runs/{run_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def update(
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
        return self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def list(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> Page[Run]:
        """List a thread's runs (``after``, ``before``, ``limit``, ``order``)."""
        path = f"/threads/{thread_id}/runs"
        return self._list(Run, path, query, extra_headers, extra_query, timeout)

    def cancel(
        self,
        run_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Run:
        """Cancel a run; the answer is the run as it is then (``cancelling``)."""
        return self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}/cancel", json={},
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def submit_tool_outputs(
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
        return self._call(
            Run, "POST", f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", json=body,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def stream(
        self,
        *,
        thread_id: str,
        assistant_id: str,
        handler: EventHandler | None = None,
        event_handler: EventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> RunStream:
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
        handler: EventHandler | None = None,
        event_handler: EventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> RunStream:
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


class Messages(_Resource):
    """``client.threads.messages``: create, retrieve, update, list, delete."""

    def create(
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
        return self._call(
            Message, "POST", f"/threads/{thread_id}/messages", json=body,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def retrieve(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Message:
        """Retrieve a message."""
        return self._call(
            Message, "GET", f"/threads/{thread_id}/messages/{message_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def update(
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
        return self._call(
            Message, "POST", f"/threads/{thread_id}/messages/{message_id}", json=params,
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def list(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **query: Any,
    ) -> Page[Message]:
        """List a thread's messages (``after``, ``before``, ``limit``, ``order``,
        ``run_id``)."""
        path = f"/threads/{thread_id}/messages"
        return self._list(Message, path, query, extra_headers, extra_query, timeout)

    def delete(
        self,
        message_id: str,
        *,
        thread_id: str,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> MessageDeleted:
        """Delete a message."""
        return self._call(
            MessageDeleted, "DELETE", f"/threads/{thread_id}/messages/{message_id}",
            extra_headers=extra_headers, extra_query=extra_query, timeout=timeout,
        )  # fmt: skip


class Threads(_Resource):
    """``client.threads``: create, retrieve, update, delete, create_and_run(_stream);
    ``.messages`` and ``.runs``."""

    def __init__(self, client: Client) -> None:
        super().__init__(client)
        self.messages = Messages(client)
        self.runs = Runs(client)

    def create(
        self,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Thread:
        """Create a thread (``messages``, ``metadata``, ``tool_resources``)."""
        return self._call(
            Thread, "POST", "/threads", json=params, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def retrieve(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> Thread:
        """Retrieve a thread."""
        return self._call(
            Thread, "GET", f"/threads/{thread_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def update(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> Thread:
        """Modify a thread."""
        return self._call(
            Thread, "POST", f"/threads/{thread_id}", json=params, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def delete(
        self,
        thread_id: str,
        *,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
    ) -> ThreadDeleted:
        """Delete a thread."""
        return self._call(
            ThreadDeleted, "DELETE", f"/threads/{thread_id}", extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def create_and_run(
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
        return self._call(
            Run, "POST", "/threads/runs", json=body, extra_headers=extra_headers,
            extra_query=extra_query, timeout=timeout,
        )  # fmt: skip

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        handler: EventHandler | None = None,
        event_handler: EventHandler | None = None,
        state: State | None = None,
        strict: bool = True,
        tolerant: bool = False,
        on_truncated: OnTruncated = "raise",
        reconnect: Reconnect | None = None,
        extra_headers: Headers = None,
        extra_query: Query = None,
        timeout: Timeout = None,
        **params: Any,
    ) -> RunStream:
        """Create a thread and run it, streamed (sent when first read)."""
        return self._stream(
            "/threads/runs", {"assistant_id": assistant_id, **params},
            thread_id=None, run_id=None, handler=pick_handler(handler, event_handler),
            state=state, strict=strict, tolerant=tolerant, on_truncated=on_truncated,
            reconnect=reconnect, extra_headers=extra_headers, extra_query=extra_query,
            timeout=timeout,
        )  # fmt: skip
