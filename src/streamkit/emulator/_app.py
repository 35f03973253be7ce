"""The ASGI app: routes, auth, request checks, JSON and event-stream responses.

:func:`create_app` builds a Starlette app around an :class:`Emulator` (the options and
the in-memory state, reachable as ``app.state.emulator``). Every route goes through one
wrapper that authenticates the request, applies a ``status:CODE`` fault, calls the
handler and turns an :class:`~._store.ApiError` into the API's error response; every
response carries an ``x-request-id``.

Streaming answers are :class:`EventStream` responses: the run's events (or a recording's
event blocks) become SSE bytes through :func:`._faults.with_faults`, paced, and sent as
they are produced. Starlette's ``StreamingResponse`` would do for the bytes, but not
for the run: whatever way the response ends (done, a fault, the client leaving), the
run must still reach its end in the store, so that a client can resynchronise from the
REST endpoints. ``EventStream`` therefore always listens for the disconnect and drains
the run in a ``finally``. The bytes are written here rather than by sse-starlette,
since ``malformed:N`` needs exact control of them.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import aclosing, suppress
from dataclasses import replace
from typing import Any, cast

import anyio
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from .. import record
from ..sse import ServerSentEvent, encode
from . import _objects as objects
from . import _validate as v
from ._chatkit import ChatKit
from ._engine import Execution
from ._faults import FAULT_HEADER, Block, Faults, parse_faults, with_faults
from ._responses import (
    ResponseRecord,
    ResponsesRun,
    new_response,
    parse_request,
    plan,
    start_background,
    stop_background,
)
from ._script import choose
from ._store import ApiError, Ids, Store, page_params, paginate

__all__ = [
    "DEFAULT_API_KEY",
    "RECORDING_HEADER",
    "RECORDING_SPEED_HEADER",
    "TOKENS_PER_SECOND_HEADER",
    "Emulator",
    "EventStream",
    "create_app",
]

JSON = dict[str, Any]
DEFAULT_API_KEY = "sk-emulator"
RECORDING_HEADER = "X-Emulator-Recording"
RECORDING_SPEED_HEADER = "X-Emulator-Recording-Speed"
TOKENS_PER_SECOND_HEADER = "X-Emulator-Tokens-Per-Second"
_ACTIVE = frozenset({"queued", "in_progress", "requires_action", "cancelling"})
RecordingSource = str | os.PathLike[str] | bytes | record.Recording


class Emulator:
    """The emulator's options and its in-memory state (``app.state.emulator``).

    ``api_key``: the key requests must carry (``Authorization: Bearer`` or ``api-key``);
    None accepts any request. ``prefix``: where the API is mounted. ``tokens_per_second``:
    pacing of token deltas (None: as fast as possible). ``recordings``: name → recording
    (a path to a ``streamkit record`` file or a ``.sse`` body, bytes, or a loaded
    :class:`~streamkit.record.Recording`), served to streaming requests that ask for one;
    ``serve_recording`` names one served to every streaming request that does not ask;
    ``recording_speed``: 1.0 is the recorded pace, None instant. ``clock`` gives the
    time (seconds) for timestamps, expiries and rate limits; ``seed`` the ids.
    """

    def __init__(
        self,
        *,
        api_key: str | None = DEFAULT_API_KEY,
        prefix: str = "/v1",
        tokens_per_second: float | None = None,
        recordings: Mapping[str, RecordingSource] | None = None,
        serve_recording: str | None = None,
        recording_speed: float | None = None,
        clock: Callable[[], float] = time.time,
        seed: int | None = 0,
    ) -> None:
        if tokens_per_second is not None and not tokens_per_second > 0:
            raise ValueError(f"tokens_per_second must be > 0 or None, not {tokens_per_second!r}")
        if recording_speed is not None and not recording_speed > 0:
            raise ValueError(f"recording_speed must be > 0 or None, not {recording_speed!r}")
        prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.api_key = api_key
        self.prefix = prefix
        self.tokens_per_second = tokens_per_second
        self.recording_speed = recording_speed
        self.clock = clock
        ids = Ids(seed)
        #: The assistants, threads, messages, runs and steps.
        self.store = Store(ids, clock)
        #: ChatKit sessions and threads.
        self.chatkit = ChatKit(ids, clock)
        #: The Responses API's responses, by id (see :mod:`._responses`).
        self.responses: dict[str, ResponseRecord] = {}
        self.recordings: dict[str, record.Recording] = {}
        for name, source in (recordings or {}).items():
            self.add_recording(name, source)
        if serve_recording is not None and serve_recording not in self.recordings:
            raise ValueError(f"serve_recording {serve_recording!r} is not in recordings")
        self.serve_recording = serve_recording
        self._injected: deque[tuple[Faults, str]] = deque()
        self._requests = 0

    def add_recording(self, name: str, source: RecordingSource) -> None:
        """Load a recording (or a plain ``.sse`` body) to serve under ``name``."""
        if isinstance(source, record.Recording):
            self.recordings[name] = source
        else:
            self.recordings[name] = record.load_recording(source)

    def inject_fault(self, spec: str, *, times: int = 1) -> None:
        """Apply ``spec`` (the ``X-Emulator-Fault`` syntax) to the next ``times``
        requests it fits, for clients whose headers a test cannot set: a ``status``
        fault fits any request, the others the next streaming ones."""
        faults = parse_faults(spec)
        for _ in range(times):
            self._injected.append((faults, spec))

    def take_injected(self, *, status: bool) -> Faults:
        """The first injected fault with (``status``) or without a status fault, taken
        off the queue; none when there is none."""
        for index, (faults, _spec) in enumerate(self._injected):
            if (faults.status is not None) == status:
                del self._injected[index]
                return faults
        return Faults()

    def next_request_id(self) -> str:
        self._requests += 1
        return f"req_{self._requests:024x}"

    # -- auth

    def authenticate(self, request: Request, *, chatkit: bool = False) -> JSON | None:
        """Check the request's key; returns the ChatKit session when a ChatKit client
        secret was used (only where ``chatkit``), else None."""
        authorization = request.headers.get("authorization", "")
        key = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        key = key or request.headers.get("api-key")
        if chatkit and key:
            session = self.chatkit.session_for_secret(key)
            if session is not None:
                self.chatkit.admit(session)
                return session
        if self.api_key is None:
            return None
        if not key:
            raise ApiError(
                401,
                "You didn't provide an API key. Provide it in an Authorization header "
                "(Authorization: Bearer YOUR_KEY) or an api-key header.",
                code="missing_api_key",
            )
        if key != self.api_key:
            shown = key[:4] + "*" * max(0, min(len(key) - 8, 20)) + key[-4:]
            raise ApiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")
        return None


# --- responses --------------------------------------------------------------------------


def _json(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(obj), status, headers=headers, media_type="application/json")


def _copy(obj: JSON) -> JSON:
    copied: JSON = orjson.loads(orjson.dumps(obj))
    return copied


class EventStream(StreamingResponse):
    """An event-stream response that calls ``on_close`` however it ends."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[bytes],
        on_close: Callable[[], None],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            content,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})},
        )
        self._content = content
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def respond() -> None:
                    with suppress(OSError):  # the client went away
                        await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(respond)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            try:
                aclose = getattr(self._content, "aclose", None)
                if aclose is not None:
                    with anyio.CancelScope(shield=True):
                        await aclose()
            finally:
                self._on_close()


def _blocks(events: Iterator[tuple[str, bytes, bool]], delay: float) -> Iterator[Block]:
    for name, data, paced in events:
        yield encode(ServerSentEvent(event=name, data=data.decode())), delay if paced else 0.0


def _recording_blocks(recording: record.Recording, speed: float | None) -> list[Block]:
    """A recording's body cut into event blocks, each after the time it was complete."""
    blocks: list[Block] = []
    body = b""
    ends: list[tuple[int, float | None]] = []
    for chunk in recording.chunks:
        body += chunk.data
        ends.append((len(body), chunk.t))
    start, previous, position = 0, 0.0, 0
    lines = body.splitlines(keepends=True)
    offset = 0
    for line in lines:
        offset += len(line)
        if line.strip(b"\r\n") == b"" or offset == len(body):
            while position < len(ends) - 1 and ends[position][0] < offset:
                position += 1
            t = ends[position][1] if ends else None
            delay = 0.0
            if speed is not None and t is not None:
                delay = max(0.0, (t - previous) / speed)
                previous = t
            blocks.append((body[start:offset], delay))
            start = offset
    return blocks


# --- the routes -------------------------------------------------------------------------

Handler = Callable[[Request, "Call"], Awaitable[Response]]


class Call:
    """What a handler gets besides the request: the emulator and the request's options."""

    def __init__(self, emulator: Emulator, request: Request) -> None:
        self.emulator = emulator
        self.store = emulator.store
        self.request = request
        self.session: JSON | None = None
        #: The faults of the request's header; None without the header.
        self.faults: Faults | None = None
        self.request_id = emulator.next_request_id()

    def stream_faults(self) -> Faults:
        if self.faults is not None:
            return self.faults
        return self.emulator.take_injected(status=False)

    async def body(self, check: v.Check) -> JSON:
        return v.parse_body(await self.request.body(), check)

    def tokens_per_second(self) -> float | None:
        raw = self.request.headers.get(TOKENS_PER_SECOND_HEADER)
        if raw is None:
            return self.emulator.tokens_per_second
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not value >= 0:
            raise ApiError(
                400,
                f"Invalid {TOKENS_PER_SECOND_HEADER} header {raw!r}: a number >= 0 "
                "(0 turns pacing off).",
                param=TOKENS_PER_SECOND_HEADER,
            )
        return value or None

    def recording(self) -> record.Recording | None:
        name = self.request.headers.get(RECORDING_HEADER) or self.emulator.serve_recording
        if name is None:
            return None
        found = self.emulator.recordings.get(name)
        if found is None:
            known = ", ".join(sorted(self.emulator.recordings)) or "none"
            raise ApiError(
                400,
                f"Unknown recording {name!r} in {RECORDING_HEADER}; configured: {known}.",
                param=RECORDING_HEADER,
            )
        return found

    def recording_speed(self) -> float | None:
        raw = self.request.headers.get(RECORDING_SPEED_HEADER)
        if raw is None:
            return self.emulator.recording_speed
        if raw.strip().lower() == "instant":
            return None
        try:
            speed = float(raw)
        except ValueError:
            speed = 0.0
        if not speed > 0:
            raise ApiError(
                400,
                f"Invalid {RECORDING_SPEED_HEADER} header {raw!r}: a number > 0 "
                "(1 is the recorded pace) or 'instant'.",
                param=RECORDING_SPEED_HEADER,
            )
        return speed

    def stream(self, execution: Execution) -> Response:
        faults = self.stream_faults()
        tps = self.tokens_per_second()
        blocks = _blocks(execution, 1 / tps if tps else 0.0)

        def failed(message: str) -> None:
            execution.fail("server_error", message)

        content = with_faults(blocks, faults, on_error=failed)
        return EventStream(content, execution.drain, {"x-request-id": self.request_id})

    def stream_recording(self, recording: record.Recording) -> Response:
        faults = self.stream_faults()
        blocks = _recording_blocks(recording, self.recording_speed())
        content = with_faults(blocks, faults, on_error=lambda message: None)
        return EventStream(content, lambda: None, {"x-request-id": self.request_id})


def _route(path: str, methods: list[str], handler: Handler, *, chatkit: bool = False) -> Route:
    async def endpoint(request: Request) -> Response:
        emulator: Emulator = request.app.state.emulator
        call = Call(emulator, request)
        try:
            call.session = emulator.authenticate(request, chatkit=chatkit)
            header = request.headers.get(FAULT_HEADER)
            if header is not None:
                call.faults = parse_faults(header)
            status = (call.faults or emulator.take_injected(status=True)).status
            if status is not None:
                raise ApiError(
                    status,
                    f"Injected fault: status {status}.",
                    type="server_error" if status >= 500 else "invalid_request_error",
                    code="injected_fault",
                    headers={"Retry-After": "1"} if status == 429 else None,
                )
            response = await handler(request, call)
        except ApiError as error:
            response = _json(error.body(), error.status, error.headers)
        response.headers.setdefault("x-request-id", call.request_id)
        return response

    return Route(path, endpoint, methods=methods)


def _query(request: Request) -> Mapping[str, str]:
    return request.query_params


# -- assistants


async def create_assistant(request: Request, call: Call) -> Response:
    body = await call.body(v.ASSISTANT_CREATE)
    store = call.store
    assistant = objects.assistant(store.new_id("asst_"), store.now(), body)
    return _json(store.assistants.add(assistant))


async def list_assistants(request: Request, call: Call) -> Response:
    after, before, limit, order = page_params(_query(request))
    page = paginate(
        list(call.store.assistants), after=after, before=before, limit=limit, order=order
    )
    return _json(page)


async def retrieve_assistant(request: Request, call: Call) -> Response:
    return _json(call.store.assistant(request.path_params["assistant_id"]))


async def modify_assistant(request: Request, call: Call) -> Response:
    assistant = call.store.assistant(request.path_params["assistant_id"])
    body = await call.body(v.ASSISTANT_UPDATE)
    for name in list(assistant):
        if name in body and name not in ("id", "object", "created_at"):
            value = body[name]
            if name == "tools" and value is None:
                value = []
            assistant[name] = value if name != "metadata" or value else {}
    return _json(assistant)


async def delete_assistant(request: Request, call: Call) -> Response:
    assistant_id = request.path_params["assistant_id"]
    call.store.assistant(assistant_id)
    call.store.assistants.remove(assistant_id)
    return _json({"id": assistant_id, "object": "assistant.deleted", "deleted": True})


# -- threads and messages


def _add_messages(store: Store, thread_id: str, messages: list[JSON]) -> None:
    for params in messages:
        store.messages[thread_id].add(
            objects.message(
                store.new_id("msg_"),
                store.now(),
                thread_id,
                role=params["role"],
                content=objects.message_content(params["content"]),
                attachments=params.get("attachments"),
                metadata=params.get("metadata"),
            )
        )


def _new_thread(store: Store, body: JSON) -> JSON:
    thread = store.add_thread(objects.thread(store.new_id("thread_"), store.now(), body))
    _add_messages(store, thread["id"], body.get("messages") or [])
    return thread


def _active_run(store: Store, thread_id: str) -> JSON | None:
    for run in store.runs[thread_id]:
        if run["status"] in _ACTIVE:
            return run
    return None


async def create_thread(request: Request, call: Call) -> Response:
    return _json(_new_thread(call.store, await call.body(v.THREAD_CREATE)))


async def retrieve_thread(request: Request, call: Call) -> Response:
    return _json(call.store.thread(request.path_params["thread_id"]))


async def modify_thread(request: Request, call: Call) -> Response:
    thread = call.store.thread(request.path_params["thread_id"])
    body = await call.body(
        v.obj(
            {"metadata": (v.METADATA, False), "tool_resources": (v.nullable(v.any_object), False)}
        )
    )
    if "metadata" in body:
        thread["metadata"] = body["metadata"] or {}
    if body.get("tool_resources") is not None:
        thread["tool_resources"] = body["tool_resources"]
    return _json(thread)


async def delete_thread(request: Request, call: Call) -> Response:
    thread_id = request.path_params["thread_id"]
    call.store.delete_thread(thread_id)
    return _json({"id": thread_id, "object": "thread.deleted", "deleted": True})


async def create_message(request: Request, call: Call) -> Response:
    store = call.store
    thread = store.thread(request.path_params["thread_id"])
    body = await call.body(v.MESSAGE_CREATE)
    active = _active_run(store, thread["id"])
    if active is not None:
        raise ApiError(
            400,
            f"Can't add messages to {thread['id']} while a run {active['id']} is active.",
            code="thread_locked",
        )
    _add_messages(store, thread["id"], [body])
    return _json(list(store.messages[thread["id"]])[-1])


async def list_messages(request: Request, call: Call) -> Response:
    thread = call.store.thread(request.path_params["thread_id"])
    query = _query(request)
    after, before, limit, order = page_params(query)
    messages = list(call.store.messages[thread["id"]])
    run_id = query.get("run_id")
    if run_id:
        messages = [message for message in messages if message["run_id"] == run_id]
    return _json(paginate(messages, after=after, before=before, limit=limit, order=order))


async def retrieve_message(request: Request, call: Call) -> Response:
    params = request.path_params
    return _json(call.store.message(params["thread_id"], params["message_id"]))


async def modify_message(request: Request, call: Call) -> Response:
    params = request.path_params
    message = call.store.message(params["thread_id"], params["message_id"])
    body = await call.body(v.METADATA_UPDATE)
    if "metadata" in body:
        message["metadata"] = body["metadata"] or {}
    return _json(message)


async def delete_message(request: Request, call: Call) -> Response:
    params = request.path_params
    message = call.store.message(params["thread_id"], params["message_id"])
    call.store.messages[message["thread_id"]].remove(message["id"])
    return _json({"id": message["id"], "object": "thread.message.deleted", "deleted": True})


# -- runs


def _last_user_text(store: Store, thread_id: str) -> str:
    for message in reversed(list(store.messages[thread_id])):
        if message["role"] == "user":
            return "".join(
                part["text"]["value"]
                for part in message["content"]
                if part.get("type") == "text" and isinstance(part.get("text"), dict)
            )
    return ""


def _start_run(call: Call, thread: JSON, body: JSON, *, new_thread: bool) -> Response:
    store = call.store
    assistant = store.assistant(body["assistant_id"])
    run = objects.run(store.new_id("run_"), store.now(), thread["id"], assistant, body)
    script = choose(run["instructions"] or "", _last_user_text(store, thread["id"]), run["tools"])
    store.add_run(run)
    execution = Execution.start(store, run, script, new_thread=thread if new_thread else None)
    if body.get("stream"):
        return call.stream(execution)
    queued = _copy(run)
    execution.drain()
    return _json(queued)


async def create_thread_and_run(request: Request, call: Call) -> Response:
    body = await call.body(v.THREAD_AND_RUN_CREATE)
    if body.get("stream") and (recording := call.recording()) is not None:
        return call.stream_recording(recording)
    store = call.store
    store.assistant(body["assistant_id"])
    thread = _new_thread(store, body.get("thread") or {})
    return _start_run(call, thread, body, new_thread=True)


async def create_run(request: Request, call: Call) -> Response:
    body = await call.body(v.RUN_CREATE)
    if body.get("stream") and (recording := call.recording()) is not None:
        return call.stream_recording(recording)
    store = call.store
    thread = store.thread(request.path_params["thread_id"])
    store.assistant(body["assistant_id"])
    active = _active_run(store, thread["id"])
    if active is not None:
        raise ApiError(
            400,
            f"Thread {thread['id']} already has an active run {active['id']}.",
            code="thread_locked",
        )
    _add_messages(store, thread["id"], body.get("additional_messages") or [])
    return _start_run(call, thread, body, new_thread=False)


async def list_runs(request: Request, call: Call) -> Response:
    thread = call.store.thread(request.path_params["thread_id"])
    after, before, limit, order = page_params(_query(request))
    runs = list(call.store.runs[thread["id"]])
    return _json(paginate(runs, after=after, before=before, limit=limit, order=order))


async def retrieve_run(request: Request, call: Call) -> Response:
    params = request.path_params
    return _json(call.store.run(params["thread_id"], params["run_id"]))


async def modify_run(request: Request, call: Call) -> Response:
    params = request.path_params
    run = call.store.run(params["thread_id"], params["run_id"])
    body = await call.body(v.METADATA_UPDATE)
    if "metadata" in body:
        run["metadata"] = body["metadata"] or {}
    return _json(run)


async def submit_tool_outputs(request: Request, call: Call) -> Response:
    body = await call.body(v.SUBMIT_TOOL_OUTPUTS)
    if body.get("stream") and (recording := call.recording()) is not None:
        return call.stream_recording(recording)
    store = call.store
    params = request.path_params
    run = store.run(params["thread_id"], params["run_id"])
    pending = store.pending.get(run["id"])
    if run["status"] != "requires_action" or pending is None:
        raise ApiError(
            400,
            f'Runs in status "{run["status"]}" do not accept tool outputs.',
            param="tool_outputs",
            code="run_not_awaiting_outputs",
        )
    expected = [call_id for call_id, _ in pending.calls]
    outputs: dict[str, str] = {}
    for index, output in enumerate(body["tool_outputs"]):
        if output["tool_call_id"] not in expected:
            raise ApiError(
                400,
                f"No tool call with id {output['tool_call_id']!r} awaits an output; "
                f"expected: {', '.join(expected)}.",
                param=f"tool_outputs[{index}].tool_call_id",
                code="invalid_tool_call_id",
            )
        outputs[output["tool_call_id"]] = output["output"]
    missing = [call_id for call_id in expected if call_id not in outputs]
    if missing:
        raise ApiError(
            400,
            f"Expected tool outputs for call_ids {expected}, got {list(outputs)}: "
            f"missing {missing}.",
            param="tool_outputs",
            code="missing_tool_outputs",
        )
    del store.pending[run["id"]]
    execution = Execution.resume(store, run, pending, outputs)
    if body.get("stream"):
        return call.stream(execution)
    queued = {**_copy(run), "status": "queued", "required_action": None}
    execution.drain()
    return _json(queued)


async def cancel_run(request: Request, call: Call) -> Response:
    store = call.store
    params = request.path_params
    run = store.run(params["thread_id"], params["run_id"])
    if run["status"] not in ("queued", "in_progress", "requires_action"):
        raise ApiError(
            400, f"Cannot cancel run with status '{run['status']}'.", code="run_not_active"
        )
    live = store.live.get(run["id"])
    if live is not None:
        live.cancel()
        return _json(run)
    snapshot = {**_copy(run), "status": "cancelling", "required_action": None}
    Execution.cancel_waiting(store, run, store.pending.get(run["id"]))
    return _json(snapshot)


async def list_steps(request: Request, call: Call) -> Response:
    params = request.path_params
    run = call.store.run(params["thread_id"], params["run_id"])
    after, before, limit, order = page_params(_query(request))
    steps = list(call.store.steps[run["id"]])
    return _json(paginate(steps, after=after, before=before, limit=limit, order=order))


async def retrieve_step(request: Request, call: Call) -> Response:
    params = request.path_params
    return _json(call.store.step(params["thread_id"], params["run_id"], params["step_id"]))


# -- ChatKit


async def create_chatkit_session(request: Request, call: Call) -> Response:
    body = await call.body(v.CHATKIT_SESSION_CREATE)
    return _json(call.emulator.chatkit.create_session(body))


async def cancel_chatkit_session(request: Request, call: Call) -> Response:
    return _json(call.emulator.chatkit.cancel_session(request.path_params["session_id"]))


async def list_chatkit_threads(request: Request, call: Call) -> Response:
    return _json(call.emulator.chatkit.list_threads(_query(request), call.session))


async def retrieve_chatkit_thread(request: Request, call: Call) -> Response:
    return _json(call.emulator.chatkit.thread(request.path_params["thread_id"], call.session))


async def delete_chatkit_thread(request: Request, call: Call) -> Response:
    chatkit = call.emulator.chatkit
    return _json(chatkit.delete_thread(request.path_params["thread_id"], call.session))


async def list_chatkit_items(request: Request, call: Call) -> Response:
    chatkit = call.emulator.chatkit
    thread_id = request.path_params["thread_id"]
    return _json(chatkit.list_items(thread_id, _query(request), call.session))


# -- the Responses API (see ._responses)


def _record(call: Call, response_id: str) -> ResponseRecord:
    found = call.emulator.responses.get(response_id)
    if found is None:
        raise ApiError(404, f"No response found with id '{response_id}'.", code=None)
    return found


def _shifted(faults: Faults, sent: int) -> Faults:
    """``faults`` for the rest of a stream that has sent ``sent`` events: the counts made
    relative to what follows (those already applied dropped)."""
    if sent == 0:
        return faults

    def after(number: int | None) -> int | None:
        return number - sent if number is not None and number > sent else None

    stall_after = after(faults.stall_after) if faults.stall is not None else None
    return replace(
        faults,
        drop=None if faults.drop is None else faults.drop - sent,
        malformed=after(faults.malformed),
        error=after(faults.error),
        stall=faults.stall if stall_after is not None else None,
        stall_after=stall_after if stall_after is not None else 1,
    )


async def _follow(
    record: ResponseRecord, after: int, faults: Faults
) -> AsyncGenerator[bytes, None]:
    """A reader of a kept response: its published events after sequence number ``after``,
    then each one as it is published, until the record is done; ``faults`` apply to this
    reader's events, counted from its first (each batch of published events goes through
    :func:`with_faults`, the faults shifted by what was sent)."""
    index, sent = max(0, after + 1), 0
    while faults.drop is None or sent < faults.drop:
        if index >= record.published:
            if record.done:
                return
            await record.wait(index)
            continue
        batch = [
            (encode(ServerSentEvent(event=name, data=data.decode())), 0.0)
            for _sequence, name, data in record.events[index : record.published]
        ]
        index += len(batch)
        shifted, before = _shifted(faults, sent), sent
        chunks = with_faults(batch, shifted, on_error=lambda message: None)
        async with aclosing(cast(AsyncGenerator[bytes, None], chunks)) as out:
            async for chunk in out:
                yield chunk
                sent += 1
        if shifted.error is not None and sent - before >= shifted.error:
            return  # an error event was sent in place of an event: that is the end


def _read_stream(call: Call, record: ResponseRecord, after: int) -> Response:
    """An event stream of ``record`` after sequence number ``after`` that follows it live
    (leaving it does not stop the response)."""
    content = _follow(record, after, call.stream_faults())
    return EventStream(content, lambda: None, {"x-request-id": call.request_id})


async def create_response(request: Request, call: Call) -> Response:
    body = parse_request(await request.body())
    previous_id = body.get("previous_response_id")
    previous = _record(call, previous_id) if previous_id is not None else None
    script, steps = plan(body, previous)
    background = body.get("background") is True
    record = ResponseRecord(new_response(call.store, body, background), script)
    call.emulator.responses[record.response["id"]] = record
    if background:
        # Generated by a task of the event loop at the request's pace; this request, and
        # any GET ...?stream=true, read it as it is published.
        tps = call.tokens_per_second()
        run = ResponsesRun(call.store, record, steps, hold=True)
        next(run)  # response.created (queued): every reader begins with it
        record.publish()
        start_background(record, run, 1 / tps if tps else 0.0)
        if body.get("stream"):
            return _read_stream(call, record, -1)
        return _json(_copy(record.response))
    run = ResponsesRun(call.store, record, steps)
    if body.get("stream"):
        return call.stream(run)  # type: ignore[arg-type]
    run.drain()
    return _json(record.response)


async def retrieve_response(request: Request, call: Call) -> Response:
    record = _record(call, request.path_params["response_id"])
    query = _query(request)
    if query.get("stream", "").lower() == "true":
        raw = query.get("starting_after", "-1")
        try:
            after = int(raw)
        except ValueError:
            raise ApiError(
                400, f"Invalid 'starting_after' {raw!r}: an integer.", param="starting_after"
            ) from None
        return _read_stream(call, record, after)
    return _json(record.response)


async def cancel_response(request: Request, call: Call) -> Response:
    record = _record(call, request.path_params["response_id"])
    if not record.response["background"]:
        raise ApiError(400, "Only background responses can be cancelled.", param="response_id")
    if record.run is not None:
        record.run.cancel()  # stops the generation; readers get response.cancelled
    return _json(record.response)


async def delete_response(request: Request, call: Call) -> Response:
    response_id = request.path_params["response_id"]
    record = _record(call, response_id)
    stop_background(record)
    del call.emulator.responses[response_id]
    return _json({"id": response_id, "object": "response.deleted", "deleted": True})


def routes() -> list[BaseRoute]:
    """Every endpoint, relative to the prefix."""
    t, r = "/threads/{thread_id}", "/threads/{thread_id}/runs/{run_id}"
    return [
        _route("/assistants", ["POST"], create_assistant),
        _route("/assistants", ["GET"], list_assistants),
        _route("/assistants/{assistant_id}", ["GET"], retrieve_assistant),
        _route("/assistants/{assistant_id}", ["POST"], modify_assistant),
        _route("/assistants/{assistant_id}", ["DELETE"], delete_assistant),
        _route("/threads", ["POST"], create_thread),
        _route("/threads/runs", ["POST"], create_thread_and_run),
        _route(t, ["GET"], retrieve_thread),
        _route(t, ["POST"], modify_thread),
        _route(t, ["DELETE"], delete_thread),
        _route(f"{t}/messages", ["POST"], create_message),
        _route(f"{t}/messages", ["GET"], list_messages),
        _route(f"{t}/messages/{{message_id}}", ["GET"], retrieve_message),
        _route(f"{t}/messages/{{message_id}}", ["POST"], modify_message),
        _route(f"{t}/messages/{{message_id}}", ["DELETE"], delete_message),
        _route(f"{t}/runs", ["POST"], create_run),
        _route(f"{t}/runs", ["GET"], list_runs),
        _route(r, ["GET"], retrieve_run),
        _route(r, ["POST"], modify_run),
        _route(f"{r}/submit_tool_outputs", ["POST"], submit_tool_outputs),
        _route(f"{r}/cancel", ["POST"], cancel_run),
        _route(f"{r}/steps", ["GET"], list_steps),
        _route(f"{r}/steps/{{step_id}}", ["GET"], retrieve_step),
        _route("/chatkit/sessions", ["POST"], create_chatkit_session),
        _route("/chatkit/sessions/{session_id}/cancel", ["POST"], cancel_chatkit_session),
        _route("/chatkit/threads", ["GET"], list_chatkit_threads, chatkit=True),
        _route("/chatkit/threads/{thread_id}", ["GET"], retrieve_chatkit_thread, chatkit=True),
        _route("/chatkit/threads/{thread_id}", ["DELETE"], delete_chatkit_thread, chatkit=True),
        _route("/chatkit/threads/{thread_id}/items", ["GET"], list_chatkit_items, chatkit=True),
        _route("/responses", ["POST"], create_response),
        _route("/responses/{response_id}", ["GET"], retrieve_response),
        _route("/responses/{response_id}", ["DELETE"], delete_response),
        _route("/responses/{response_id}/cancel", ["POST"], cancel_response),
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"Invalid URL ({request.method} {request.url.path})."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    error = ApiError(exc.status_code, message, code=None)
    return _json(error.body(), exc.status_code, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    error = ApiError(500, f"The emulator failed: {exc!r}", type="server_error")
    return _json(error.body(), 500)


def create_app(emulator: Emulator | None = None, **options: Any) -> Starlette:
    """The emulator as an ASGI app: pass an :class:`Emulator`, or its options
    (``api_key``, ``prefix``, ``tokens_per_second``, ``recordings``, ...)."""
    if emulator is None:
        emulator = Emulator(**options)
    elif options:
        raise TypeError("pass an Emulator or its options, not both")
    mounted: list[BaseRoute] = (
        [Mount(emulator.prefix, routes=routes())] if emulator.prefix else routes()
    )
    app = Starlette(
        routes=mounted,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.emulator = emulator
    return app
