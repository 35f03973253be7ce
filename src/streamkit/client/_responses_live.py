"""A response over HTTP as one stream: the live bytes, resuming after a drop, tool rounds.

``client.responses.stream(...)`` returns a :class:`ResponseStream` (a
:class:`streamkit.Stream` of the Responses protocol), ``AsyncClient``'s an
:class:`AsyncResponseStream`. Their source, :class:`ResponsesLive` (or
:class:`AsyncResponsesLive`), chains for one conversation everything the fold should see,
as the Assistants source (:mod:`._live`) does for a run:

1. the answer of the first request (``POST /responses`` with ``stream: true``, or
   ``GET /responses/{id}?stream=true&starting_after=N``), sent when the stream is first
   read, with retries until the answer arrives and never after;
2. if that answer ends before its proper end (``response.completed``, ``.incomplete``,
   ``.failed``, ``error``), ``reconnect="poll"`` and the response is a background one:
   ``GET /responses/{id}?stream=true&starting_after=<the last sequence_number read>``,
   the cursor sent to the server, so nothing is read twice or lost; again after each cut
   that brought new events (at most :data:`MAX_STALLED` in a row that bring none);
3. if the response completed with ``function_call`` items and :meth:`ResponseStream.run_tools`
   gave functions: the functions are called, and a new response is requested with
   ``previous_response_id`` and one ``function_call_output`` item per call (the first
   request's other parameters, ``model`` and ``tools`` included, are sent again, as the
   API wants); its answer follows, back to 2; at most ``max_rounds`` rounds.

The stream's pump asks for the next bytes only after it has folded the last ones, so
between two answers the source reads the stream's own
:class:`~streamkit.protocols.responses.ResponsesState` (the last ``sequence_number``, the
response's output) to decide what comes next. Each answer begins with
:meth:`streamkit.Driver.next_input`: a fresh parser, and the fold continues a resumed
response's numbering or starts the next response's from 0.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing
from typing import Any, Final, Self, cast

import anyio
import httpx

from .._handler import AsyncEventHandler, EventHandler
from .._stream import AsyncStream, OnTruncated, Stream
from ..models import RequiredActionFunctionToolCall
from ..models.responses import FunctionCall, Response
from ..protocols.responses import ResponsesState
from ._errors import ToolCallError, ToolLoopError
from ._live import Opening, ToolLoop, call_tools_sync, tool_loop
from ._options import Options, Reconnect, retry_delay
from ._recording import arecorded, recorded
from ._tools import OnToolError, ToolFunction, call_tools, error_output
from ._transport import AsyncTransport, Transport, connection_error

__all__ = [
    "MAX_STALLED",
    "AsyncResponseStream",
    "AsyncResponsesLive",
    "ResponseStream",
    "ResponsesLive",
]

#: Resumes in a row that may bring no new event before the stream is given up as cut.
MAX_STALLED: Final = 3


class _Base:
    """What the sync and async sources share: settings, the cursor, and the decisions."""

    def __init__(
        self,
        options: Options,
        opening: Opening,
        *,
        body: Mapping[str, Any],
        request: Mapping[str, Any],
        reconnect: Reconnect,
        background: bool = False,
        response_id: str | None = None,
        cursor: int | None = None,
    ) -> None:
        self.options = options
        self.opening = opening
        #: The request's parameters, sent again with each round's outputs.
        self.body = {k: v for k, v in body.items() if k not in ("input", "stream")}
        #: ``headers``, ``query`` and ``timeout`` of the call, for every request it makes.
        self.request = dict(request)
        self.reconnect = reconnect
        #: The request asked for a background response (one the service can stream again).
        self.background = background
        self.response_id = response_id
        #: The last sequence_number read of :attr:`response_id`'s events.
        self.cursor = cursor
        self.tools: ToolLoop | None = None
        self.stalled = 0
        self._answered: set[str] = set()  # responses whose calls were answered
        self._stream: ResponseStream | AsyncResponseStream | None = None

    def bind(self, stream: ResponseStream | AsyncResponseStream) -> None:
        self._stream = stream

    @property
    def state(self) -> ResponsesState:
        assert self._stream is not None
        return cast(ResponsesState, self._stream.driver.state)

    def learn(self) -> None:
        """After an answer: the response it was about, and the last number read of it
        (read before :meth:`next_answer`, which moves the fold's number aside)."""
        state = self.state
        response = state.current_run
        fresh = response is not None and response.id not in self._answered
        if fresh and response is not None and response.id and response.id != self.response_id:
            self.response_id, self.cursor = response.id, None
        number = state.sequence_number
        if number is not None and (self.cursor is None or number > self.cursor):
            self.cursor = number
            self.stalled = 0
        else:
            self.stalled += 1

    def next_answer(self) -> None:
        """The bytes that follow are another answer (see :meth:`streamkit.Driver.next_input`)."""
        assert self._stream is not None
        self._stream.driver.next_input()

    def resume(self) -> tuple[str, dict[str, Any]] | None:
        """The request that resumes a cut stream after the cursor, or None (no resume:
        ``reconnect`` is off, the response is unknown or not a background one, or
        :data:`MAX_STALLED` resumes in a row brought nothing)."""
        if self.reconnect != "poll" or self.response_id is None:
            return None
        response = self.state.responses.get(self.response_id)
        known = response.background if response is not None else None
        if not (known if known is not None else self.background):
            return None  # the service streams a response again only in background mode
        if self.stalled > MAX_STALLED:
            return None
        query = dict(self.request.get("query") or {})
        query["stream"] = "true"
        if self.cursor is not None:
            query["starting_after"] = self.cursor
        kwargs = {**self.request, "query": query}
        return f"/responses/{self.response_id}", kwargs

    def delay(self) -> float:
        """How long to wait before a resume: none after a cut that brought events."""
        return retry_delay(self.options, self.stalled - 1, None) if self.stalled else 0.0

    def pending_calls(self) -> list[RequiredActionFunctionToolCall] | None:
        """The function calls of the response that just completed, to answer now; None
        when there is no tool loop, no completed response, or no call."""
        loop, response = self.tools, self.state.current_run
        if loop is None or response is None or response.status != "completed":
            return None
        if response.id in self._answered:
            return None
        items = [item for item in response.output or () if isinstance(item, FunctionCall)]
        if not items:
            return None
        loop.rounds += 1
        if loop.rounds > loop.max_rounds:
            raise ToolLoopError(
                f"response {response.id} still calls functions after {loop.max_rounds} "
                "round(s) of tool calls (max_rounds)",
                run_id=response.id,
                rounds=loop.max_rounds,
            )
        self._answered.add(response.id)
        return [
            RequiredActionFunctionToolCall.from_dict(
                {
                    "id": item.call_id,
                    "type": "function",
                    "function": {"name": item.name, "arguments": item.arguments},
                }
            )
            for item in items
        ]

    def outputs(
        self, calls: list[RequiredActionFunctionToolCall], results: list[str | ToolCallError]
    ) -> tuple[list[dict[str, Any]], list[ToolCallError]]:
        """The ``function_call_output`` items, and the errors (with their error output
        set when they are sent to the model)."""
        assert self.tools is not None
        items, errors = [], []
        for call, result in zip(calls, results, strict=True):
            if isinstance(result, ToolCallError):
                errors.append(result)
                if self.tools.on_error == "output":
                    result.output = error_output(result)
                result = result.output or ""
            items.append({"type": "function_call_output", "call_id": call.id, "output": result})
        return items, errors

    def continuation(self, items: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        """The request of the next round: the outputs, ``previous_response_id``, and the
        first request's parameters (else the response's ``model`` and ``tools``)."""
        response = self.state.current_run
        assert response is not None
        body: dict[str, Any] = dict(self.body)
        if "model" not in body and response.model is not None:
            body["model"] = response.model
        if "tools" not in body and response.tools:
            body["tools"] = response.tools
        body.update(input=items, previous_response_id=response.id, stream=True)
        self.response_id, self.cursor, self.stalled = None, None, 0
        return "/responses", {**self.request, "json": body}

    def give_up(self, cut: httpx.TransportError | None, request: httpx.Request) -> None:
        """No resume: a connection error for a cut, else the driver reports the end."""
        if cut is not None:
            raise connection_error(cut, request) from cut


class ResponsesLive(_Base):
    """The sync source of a :class:`ResponseStream` (see the module doc)."""

    def __init__(self, transport: Transport, opening: Opening, **kwargs: Any) -> None:
        super().__init__(transport.options, opening, **kwargs)
        self.transport = transport

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        state, opening = self.state, self.opening
        response = self.transport.stream(opening.method, opening.path, **opening.kwargs)
        while True:
            endings = state.endings
            cut: httpx.TransportError | None = None
            try:
                yield from recorded(response, self.options.record_to)
            except httpx.TransportError as exc:
                cut = exc
            finally:
                response.close()
            self.learn()
            if state.endings == endings:
                resume = self.resume()
                if resume is None:
                    self.give_up(cut, response.request)
                    return
                time.sleep(self.delay())
                self.next_answer()
                response = self.transport.stream("GET", resume[0], **resume[1])
                continue
            calls = self.pending_calls()
            if calls is None:
                return
            path, kwargs = self.continuation(self._call(calls))
            response = self.transport.stream("POST", path, **kwargs)
            self.next_answer()

    def _call(self, calls: list[RequiredActionFunctionToolCall]) -> list[dict[str, Any]]:
        assert self.tools is not None and self._stream is not None
        results = call_tools_sync(calls, self.tools)
        items, errors = self.outputs(calls, results)
        handler = self._stream.handler
        for error in errors:
            if isinstance(handler, EventHandler):
                handler.on_tool_error(error)
        if errors and self.tools.on_error == "raise":
            raise errors[0]
        return items


class AsyncResponsesLive(_Base):
    """The async source of an :class:`AsyncResponseStream` (see the module doc)."""

    def __init__(self, transport: AsyncTransport, opening: Opening, **kwargs: Any) -> None:
        super().__init__(transport.options, opening, **kwargs)
        self.transport = transport

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        state, opening = self.state, self.opening
        response = await self.transport.stream(opening.method, opening.path, **opening.kwargs)
        while True:
            endings = state.endings
            cut: httpx.TransportError | None = None
            try:
                async with aclosing(arecorded(response, self.options.record_to)) as chunks:
                    async for chunk in chunks:
                        yield chunk
            except httpx.TransportError as exc:
                cut = exc
            finally:
                with anyio.CancelScope(shield=True):
                    await response.aclose()
            self.learn()
            if state.endings == endings:
                resume = self.resume()
                if resume is None:
                    self.give_up(cut, response.request)
                    return
                await anyio.sleep(self.delay())
                self.next_answer()
                response = await self.transport.stream("GET", resume[0], **resume[1])
                continue
            calls = self.pending_calls()
            if calls is None:
                return
            path, kwargs = self.continuation(await self._call(calls))
            response = await self.transport.stream("POST", path, **kwargs)
            self.next_answer()

    async def _call(self, calls: list[RequiredActionFunctionToolCall]) -> list[dict[str, Any]]:
        assert self.tools is not None and self._stream is not None
        results = await call_tools(calls, self.tools.functions, self.tools.timeout)
        items, errors = self.outputs(calls, results)
        handler = self._stream.handler
        for error in errors:
            if isinstance(handler, AsyncEventHandler):
                await handler.on_tool_error(error)
        if errors and self.tools.on_error == "raise":
            raise errors[0]
        return items


# --- the streams --------------------------------------------------------------------------


class ResponseStream(Stream):
    """A :class:`streamkit.Stream` of a response over HTTP, from ``client.responses``:
    the first answer, what resumes brought after a drop, and the responses of the tool
    loop (:meth:`run_tools`), through one fold and one handler. ``state`` is the
    :class:`~streamkit.protocols.responses.ResponsesState`; :meth:`get_final_run` (or
    :meth:`get_final_response`) the last response."""

    def __init__(
        self,
        live: ResponsesLive,
        *,
        handler: EventHandler | None,
        state: ResponsesState | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
    ) -> None:
        super().__init__(
            live,
            handler=handler,
            state=cast(Any, state),
            strict=strict,
            tolerant=tolerant,
            protocol="responses",
            on_truncated=on_truncated,
        )
        live.bind(self)
        self._live = live

    @property
    def state(self) -> ResponsesState:  # type: ignore[override]
        """The fold: the responses and their items (pass it on to continue them)."""
        return cast(ResponsesState, self.driver.state)

    @property
    def response_id(self) -> str | None:
        """The id of the response being read (once its first event came)."""
        current = self.state.current_run
        return current.id if current is not None else self._live.response_id

    def get_final_response(self) -> Response | None:
        """Read to the end; the last response (openai-python's name for it)."""
        return cast("Response | None", self.get_final_run())

    def run_tools(
        self,
        functions: Mapping[str, ToolFunction],
        *,
        timeout: float | None = 60.0,
        max_rounds: int = 10,
        on_error: OnToolError = "output",
    ) -> Self:
        """Answer the response's function calls with ``functions`` (name -> function), as
        :meth:`streamkit.client.RunStream.run_tools` does for a run: whenever a response
        completes with ``function_call`` items, call them concurrently, request the next
        response with their outputs (``previous_response_id``) and read it into this
        stream; a :class:`~streamkit.client.ToolLoopError` after ``max_rounds`` rounds."""
        self._live.tools = tool_loop(functions, timeout, max_rounds, on_error)
        return self


class AsyncResponseStream(AsyncStream):
    """The async twin of :class:`ResponseStream` (anyio: asyncio or trio)."""

    def __init__(
        self,
        live: AsyncResponsesLive,
        *,
        handler: AsyncEventHandler | None,
        state: ResponsesState | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
    ) -> None:
        super().__init__(
            live,
            handler=handler,
            state=cast(Any, state),
            strict=strict,
            tolerant=tolerant,
            protocol="responses",
            on_truncated=on_truncated,
        )
        live.bind(self)
        self._live = live

    @property
    def state(self) -> ResponsesState:  # type: ignore[override]
        """The fold: the responses and their items (pass it on to continue them)."""
        return cast(ResponsesState, self.driver.state)

    @property
    def response_id(self) -> str | None:
        """The id of the response being read (once its first event came)."""
        current = self.state.current_run
        return current.id if current is not None else self._live.response_id

    async def get_final_response(self) -> Response | None:
        """Read to the end; the last response."""
        return cast("Response | None", await self.get_final_run())

    def run_tools(
        self,
        functions: Mapping[str, ToolFunction],
        *,
        timeout: float | None = 60.0,
        max_rounds: int = 10,
        on_error: OnToolError = "output",
    ) -> Self:
        """See :meth:`ResponseStream.run_tools`; ``async def`` functions are awaited,
        plain ones run in worker threads, all concurrently."""
        self._live.tools = tool_loop(functions, timeout, max_rounds, on_error)
        return self
