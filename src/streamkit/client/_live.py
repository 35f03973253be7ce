"""A run over HTTP as one stream: the live bytes, resync after a drop, tool rounds.

Every streaming method of the client returns a :class:`RunStream` (a
:class:`streamkit.Stream`) or an :class:`AsyncRunStream` (a
:class:`streamkit.AsyncStream`). Its source is a :class:`Live` (or :class:`AsyncLive`):
a generator of bytes that chains, for one run, everything the fold should see:

1. the answer of the first request (sent when the stream is first read, with retries
   until the answer arrives; never after);
2. if that answer ends before its proper end (a dropped connection, a read error) and
   ``reconnect="poll"``: the events the stream missed, rebuilt from the retrieve / list
   endpoints (:func:`~._resync.missed_events`), then polling until the run is final;
3. if the run requires action and :meth:`RunStream.run_tools` gave functions: their
   outputs are submitted and the continuation's answer follows, back to 2; up to
   ``max_rounds`` times.

The stream's pump asks for the next bytes only after it has folded the last ones, so
between two answers the source reads the stream's own :class:`~streamkit.State` to decide
what comes next, and everything (handler, iterators, snapshots) sees one run from one
fold. Events rebuilt after a drop go through the same parser (a fresh one, since the
cut one may hold half an event), decoder and fold as live ones.

If the stream stops early (closed, cancelled, an error) while the tool loop is on and
the run is not over, the run is cancelled (best effort, shielded, a few seconds at most):
no one would submit its outputs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing, suppress
from typing import Any, Final, Self

import anyio
import attrs
import httpx
import orjson

from .._errors import StreamkitError
from .._handler import AsyncEventHandler, EventHandler
from .._stream import (
    AsyncStream,
    OnTruncated,
    Stream,
    StreamTruncated,
)
from ..fold import RUN_TERMINAL, State
from ..models import RequiredActionFunctionToolCall, Run
from ..sse import ServerSentEvent, encode
from ._errors import ToolCallError, ToolLoopError
from ._options import Options, Reconnect
from ._pages import shape_error
from ._recording import arecorded, recorded
from ._resync import final_run_status, missed_events
from ._tools import OnToolError, ToolFunction, call_tools, error_output
from ._transport import AsyncTransport, Transport, connection_error

__all__ = [
    "AsyncLive",
    "AsyncRunStream",
    "Live",
    "Opening",
    "RunStream",
    "ToolLoop",
    "call_tools_sync",
    "tool_loop",
]

#: How long cancelling an abandoned run may take, in seconds.
CANCEL_TIMEOUT: Final = 5.0


@attrs.frozen
class Opening:
    """The first request of a stream: method, path and the transport's keywords."""

    method: str
    path: str
    kwargs: dict[str, Any]


@attrs.define
class ToolLoop:
    """The tool loop's settings (see :meth:`RunStream.run_tools`)."""

    functions: Mapping[str, ToolFunction]
    timeout: float | None
    max_rounds: int
    on_error: OnToolError
    rounds: int = 0


def _events(missed: list[tuple[str, Any]]) -> bytes:
    blocks = []
    for name, payload in missed:
        data = payload if isinstance(payload, str) else orjson.dumps(payload).decode()
        blocks.append(encode(ServerSentEvent(event=name, data=data)))
    return b"".join(blocks)


def _check_dict(body: Any, what: str, request: httpx.Request) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        raise shape_error(body, what, "no id", request)
    return body


class _LiveBase:
    """What the sync and async sources share: settings, ids, and the decisions."""

    def __init__(
        self,
        options: Options,
        opening: Opening,
        *,
        thread_id: str | None,
        run_id: str | None,
        reconnect: Reconnect,
    ) -> None:
        self.options = options
        self.opening = opening
        self.thread_id = thread_id
        self.run_id = run_id
        self.reconnect = reconnect
        self.tools: ToolLoop | None = None
        self._stream: Stream | AsyncStream | None = None
        self._on_truncated: OnTruncated = "raise"

    def bind(self, stream: Stream | AsyncStream, on_truncated: OnTruncated) -> None:
        self._stream = stream
        self._on_truncated = on_truncated

    @property
    def state(self) -> State:
        assert self._stream is not None
        return self._stream.state

    def learn_ids(self) -> None:
        """Take the thread and run ids from the stream's thread and run, once seen."""
        state = self.state
        if state.thread is not None and self.thread_id is None:
            self.thread_id = state.thread.id
        run = state.current_run
        if run is not None:
            self.run_id = run.id
            self.thread_id = run.thread_id or self.thread_id

    def run(self) -> Run | None:
        return self.state.runs.get(self.run_id) if self.run_id is not None else None

    def pending_calls(self) -> list[RequiredActionFunctionToolCall] | None:
        """The calls to answer now, or None (no tool loop, or the run does not wait)."""
        loop, run = self.tools, self.run()
        if loop is None or run is None or run.status != "requires_action":
            return None
        action = run.required_action
        if action is None or action.submit_tool_outputs is None:
            return None  # another kind of action (an approval): left to the caller
        loop.rounds += 1
        if loop.rounds > loop.max_rounds:
            raise ToolLoopError(
                f"run {run.id} still requires action after {loop.max_rounds} round(s) of "
                "tool calls (max_rounds); the run is cancelled",
                run_id=run.id,
                rounds=loop.max_rounds,
            )
        return list(action.submit_tool_outputs.tool_calls or [])

    def outputs(
        self, calls: list[RequiredActionFunctionToolCall], results: list[str | ToolCallError]
    ) -> tuple[list[dict[str, Any]], list[ToolCallError]]:
        """The tool outputs to submit, and the errors (with their error output set when
        they are sent to the model)."""
        assert self.tools is not None
        outputs, errors = [], []
        for call, result in zip(calls, results, strict=True):
            if isinstance(result, ToolCallError):
                errors.append(result)
                if self.tools.on_error == "output":
                    result.output = error_output(result)
                result = result.output or ""
            outputs.append({"tool_call_id": call.id, "output": result})
        return outputs, errors

    def submit_path(self) -> str:
        return f"/threads/{self.thread_id}/runs/{self.run_id}/submit_tool_outputs"

    def should_cancel(self) -> bool:
        if self.tools is None or self.run_id is None or self.thread_id is None:
            return False
        run = self.run()
        return run is None or run.status not in RUN_TERMINAL

    def next_answer(self) -> None:
        """The bytes that follow are another answer of the run (a continuation, or events
        rebuilt after a drop): the driver judges it on its own (a fresh parser, since a
        cut answer may end inside an event; events may follow the last answer's done)."""
        assert self._stream is not None
        self._stream.driver.next_input()

    def unlocated(self) -> StreamTruncated:
        assert self._stream is not None
        driver = self._stream.driver
        return StreamTruncated(
            "the stream was cut before it named its run or thread: there is nothing to "
            "resynchronise from",
            last_event=driver.last_event,
            events=driver.events,
            bytes_read=driver.bytes,
        )

    def still_open(self, status: object) -> StreamTruncated:
        assert self._stream is not None
        driver = self._stream.driver
        return StreamTruncated(
            f"resynchronising run {self.run_id}: still {status!r} after polling for "
            f"{self.options.poll_timeout} s (poll_timeout)",
            last_event=driver.last_event,
            events=driver.events,
            bytes_read=driver.bytes,
        )

    def paths(self) -> tuple[str, str, str, dict[str, Any]]:
        t, r = self.thread_id, self.run_id
        return (
            f"/threads/{t}/runs/{r}",
            f"/threads/{t}/runs/{r}/steps",
            f"/threads/{t}/messages",
            {"run_id": r},
        )


_PAGE: Final = {"order": "asc", "limit": 100}


class Live(_LiveBase):
    """The sync source of a :class:`RunStream` (see the module doc)."""

    def __init__(self, transport: Transport, opening: Opening, **kwargs: Any) -> None:
        super().__init__(transport.options, opening, **kwargs)
        self.transport = transport

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks()

    def _chunks(self) -> Iterator[bytes]:
        state, options = self.state, self.options
        opening = self.opening
        try:
            response = self.transport.stream(opening.method, opening.path, **opening.kwargs)
            while True:
                endings = state.endings
                cut: httpx.TransportError | None = None
                try:
                    yield from recorded(response, options.record_to)
                except httpx.TransportError as exc:
                    cut = exc
                finally:
                    response.close()
                self.learn_ids()
                if state.endings == endings:
                    if self.reconnect != "poll":
                        if cut is not None:
                            raise connection_error(cut, response.request) from cut
                        return  # the driver reports it, as on_truncated says
                    self.next_answer()
                    yield from self._resync()
                calls = self.pending_calls()
                if calls is None:
                    return
                outputs = self._call(calls)
                body = {"tool_outputs": outputs, "stream": True}
                response = self.transport.stream("POST", self.submit_path(), json=body)
                self.next_answer()
        except BaseException:
            if self.should_cancel():
                self._cancel()
            raise

    # -- the tool loop

    def _call(self, calls: list[RequiredActionFunctionToolCall]) -> list[dict[str, Any]]:
        assert self.tools is not None and self._stream is not None
        results = call_tools_sync(calls, self.tools)
        outputs, errors = self.outputs(calls, results)
        handler = self._stream.handler
        for error in errors:
            if isinstance(handler, EventHandler):
                handler.on_tool_error(error)
        if errors and self.tools.on_error == "raise":
            raise errors[0]
        return outputs

    def _cancel(self) -> None:
        with suppress(StreamkitError):
            request = self.transport.request(
                "POST",
                f"/threads/{self.thread_id}/runs/{self.run_id}/cancel",
                json={},
                timeout=CANCEL_TIMEOUT,
            )
            self.transport.send(request, max_retries=0).close()

    # -- resync

    def _get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        body, _request = self.transport.json("GET", path, query=query)
        return body

    def _all(self, path: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = {**query, **_PAGE}
        for _ in range(10_000):  # a bound, far beyond any real run
            body, request = self.transport.json("GET", path, query=query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise shape_error(body, "a list", "no data array", request)
            items.extend(_check_dict(item, "an object", request) for item in body["data"])
            if not body.get("has_more") or not items:
                break
            query = {**query, "after": body.get("last_id") or items[-1]["id"]}
        return items

    def _locate(self) -> None:
        if self.run_id is not None:
            return
        if self.thread_id is None:
            raise self.unlocated()
        runs = self._get(f"/threads/{self.thread_id}/runs", {"order": "desc", "limit": 1})
        data = runs.get("data") if isinstance(runs, dict) else None
        if not data or not isinstance(data[0], dict) or "id" not in data[0]:
            raise self.unlocated()
        self.run_id = data[0]["id"]

    def _resync(self) -> Iterator[bytes]:
        self._locate()
        deadline = time.monotonic() + self.options.poll_timeout
        while True:
            run_path, steps_path, messages_path, by_run = self.paths()
            body, request = self.transport.json("GET", run_path)
            run = _check_dict(body, "a Run", request)
            steps = self._all(steps_path, {})
            messages = self._all(messages_path, by_run)
            missed = missed_events(self.state, run, steps, messages)
            if missed:
                yield _events(missed)
            if final_run_status(run.get("status")):
                return
            if time.monotonic() >= deadline:
                raise self.still_open(run.get("status"))
            time.sleep(self.options.poll_interval)


class AsyncLive(_LiveBase):
    """The async source of an :class:`AsyncRunStream` (see the module doc)."""

    def __init__(self, transport: AsyncTransport, opening: Opening, **kwargs: Any) -> None:
        super().__init__(transport.options, opening, **kwargs)
        self.transport = transport

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        state, options = self.state, self.options
        opening = self.opening
        try:
            response = await self.transport.stream(opening.method, opening.path, **opening.kwargs)
            while True:
                endings = state.endings
                cut: httpx.TransportError | None = None
                try:
                    async with aclosing(arecorded(response, options.record_to)) as chunks:
                        async for chunk in chunks:
                            yield chunk
                except httpx.TransportError as exc:
                    cut = exc
                finally:
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
                self.learn_ids()
                if state.endings == endings:
                    if self.reconnect != "poll":
                        if cut is not None:
                            raise connection_error(cut, response.request) from cut
                        return  # the driver reports it, as on_truncated says
                    self.next_answer()
                    async with aclosing(self._resync()) as rebuilt:
                        async for chunk in rebuilt:
                            yield chunk
                calls = self.pending_calls()
                if calls is None:
                    return
                outputs = await self._call(calls)
                body = {"tool_outputs": outputs, "stream": True}
                response = await self.transport.stream("POST", self.submit_path(), json=body)
                self.next_answer()
        except BaseException:
            if self.should_cancel():
                await self._cancel()
            raise

    async def _call(self, calls: list[RequiredActionFunctionToolCall]) -> list[dict[str, Any]]:
        assert self.tools is not None and self._stream is not None
        loop = self.tools
        results = await call_tools(calls, loop.functions, loop.timeout)
        outputs, errors = self.outputs(calls, results)
        handler = self._stream.handler
        for error in errors:
            if isinstance(handler, AsyncEventHandler):
                await handler.on_tool_error(error)
        if errors and loop.on_error == "raise":
            raise errors[0]
        return outputs

    async def _cancel(self) -> None:
        with (
            anyio.CancelScope(shield=True),
            anyio.move_on_after(CANCEL_TIMEOUT),
            suppress(StreamkitError),
        ):
            request = self.transport.request(
                "POST",
                f"/threads/{self.thread_id}/runs/{self.run_id}/cancel",
                json={},
                timeout=CANCEL_TIMEOUT,
            )
            response = await self.transport.send(request, max_retries=0)
            await response.aclose()

    async def _all(self, path: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = {**query, **_PAGE}
        for _ in range(10_000):
            body, request = await self.transport.json("GET", path, query=query)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise shape_error(body, "a list", "no data array", request)
            items.extend(_check_dict(item, "an object", request) for item in body["data"])
            if not body.get("has_more") or not items:
                break
            query = {**query, "after": body.get("last_id") or items[-1]["id"]}
        return items

    async def _locate(self) -> None:
        if self.run_id is not None:
            return
        if self.thread_id is None:
            raise self.unlocated()
        runs, _request = await self.transport.json(
            "GET", f"/threads/{self.thread_id}/runs", query={"order": "desc", "limit": 1}
        )
        data = runs.get("data") if isinstance(runs, dict) else None
        if not data or not isinstance(data[0], dict) or "id" not in data[0]:
            raise self.unlocated()
        self.run_id = data[0]["id"]

    async def _resync(self) -> AsyncGenerator[bytes, None]:
        await self._locate()
        deadline = time.monotonic() + self.options.poll_timeout
        while True:
            run_path, steps_path, messages_path, by_run = self.paths()
            body, request = await self.transport.json("GET", run_path)
            run = _check_dict(body, "a Run", request)
            steps = await self._all(steps_path, {})
            messages = await self._all(messages_path, by_run)
            missed = missed_events(self.state, run, steps, messages)
            if missed:
                yield _events(missed)
            if final_run_status(run.get("status")):
                return
            if time.monotonic() >= deadline:
                raise self.still_open(run.get("status"))
            await anyio.sleep(self.options.poll_interval)


# --- the streams --------------------------------------------------------------------------


def call_tools_sync(
    calls: list[RequiredActionFunctionToolCall], loop: ToolLoop
) -> list[str | ToolCallError]:
    """:func:`~._tools.call_tools` from sync code: on an event loop of its own (beside
    the caller's, in a worker thread, when called from an event loop's thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return anyio.run(call_tools, calls, loop.functions, loop.timeout)
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(anyio.run, call_tools, calls, loop.functions, loop.timeout)
        return future.result()


def tool_loop(
    functions: Mapping[str, ToolFunction],
    timeout: float | None,
    max_rounds: int,
    on_error: OnToolError,
) -> ToolLoop:
    if on_error not in ("output", "raise"):
        raise ValueError(f"on_error must be 'output' or 'raise', not {on_error!r}")
    if max_rounds < 1:
        raise ValueError(f"max_rounds must be >= 1, not {max_rounds!r}")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"timeout must be > 0 or None, not {timeout!r}")
    bad = [name for name, function in functions.items() if not callable(function)]
    if bad:
        raise TypeError(f"tool functions must be callable: {', '.join(map(repr, bad))}")
    return ToolLoop(dict(functions), timeout, max_rounds, on_error)


class RunStream(Stream):
    """A :class:`streamkit.Stream` of one run over HTTP, from a :class:`~streamkit.Client`
    streaming method: the first answer, its continuations (:meth:`run_tools`) and what
    a resync rebuilt after a drop, through one fold and one handler."""

    def __init__(
        self,
        live: Live,
        *,
        handler: EventHandler | None,
        state: State | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
    ) -> None:
        super().__init__(
            live,
            handler=handler,
            state=state,
            strict=strict,
            tolerant=tolerant,
            on_truncated=on_truncated,
        )
        live.bind(self, on_truncated)
        self._live = live

    @property
    def thread_id(self) -> str | None:
        """The run's thread id (once known: from the request, or its first run event)."""
        return self._live.thread_id

    @property
    def run_id(self) -> str | None:
        """The run's id (once known)."""
        return self._live.run_id

    def run_tools(
        self,
        functions: Mapping[str, ToolFunction],
        *,
        timeout: float | None = 60.0,
        max_rounds: int = 10,
        on_error: OnToolError = "output",
    ) -> Self:
        """Answer the run's function calls with ``functions`` (name -> function) from now
        on: whenever the run requires action, call them concurrently (``timeout`` seconds
        each), submit every output and go on reading the continuation into this stream.
        A call that fails (arguments not JSON, unknown name, raised, timed out) goes to
        the handler's ``on_tool_error`` and is sent to the model as an error output
        (``on_error="output"``) or raised (``"raise"``, the run is cancelled). After
        ``max_rounds`` rounds a :class:`~streamkit.client.ToolLoopError` is raised. Returns
        the stream, to chain: ``client.threads.runs.stream(...).run_tools({...})``."""
        self._live.tools = tool_loop(functions, timeout, max_rounds, on_error)
        return self


class AsyncRunStream(AsyncStream):
    """The async twin of :class:`RunStream` (anyio: asyncio or trio)."""

    def __init__(
        self,
        live: AsyncLive,
        *,
        handler: AsyncEventHandler | None,
        state: State | None,
        strict: bool,
        tolerant: bool,
        on_truncated: OnTruncated,
    ) -> None:
        super().__init__(
            live,
            handler=handler,
            state=state,
            strict=strict,
            tolerant=tolerant,
            on_truncated=on_truncated,
        )
        live.bind(self, on_truncated)
        self._live = live

    @property
    def thread_id(self) -> str | None:
        """The run's thread id (once known: from the request, or its first run event)."""
        return self._live.thread_id

    @property
    def run_id(self) -> str | None:
        """The run's id (once known)."""
        return self._live.run_id

    def run_tools(
        self,
        functions: Mapping[str, ToolFunction],
        *,
        timeout: float | None = 60.0,
        max_rounds: int = 10,
        on_error: OnToolError = "output",
    ) -> Self:
        """See :meth:`RunStream.run_tools`; ``async def`` functions are awaited, plain ones
        run in worker threads, all concurrently; a cancelled stream cancels its run."""
        self._live.tools = tool_loop(functions, timeout, max_rounds, on_error)
        return self
