"""The relay's HTTP side on Starlette: the event stream of a run, and its stop.

How it works. ``GET /runs/{run_id}/events`` subscribes to the hub (with the
``Last-Event-ID`` header, or a ``last_event_id`` query parameter for a page that reloads)
and answers ``text/event-stream`` through :class:`EventStreamResponse`, a small ASGI
response written for this rather than Starlette's ``StreamingResponse`` or
sse-starlette's ``EventSourceResponse``: it needs a deadline on every single write (a
viewer that does not read is dropped after ``send_timeout`` seconds, without an
exception reaching the app), a heartbeat comment only after ``heartbeat`` seconds with
nothing to send, a ``204`` for a resume that has nothing left (which tells an
EventSource to stop reconnecting), and frames that the hub encoded once for all viewers
(a backlog is sent as one write); a task watches ``http.disconnect`` so a viewer that
leaves is forgotten at once. Leaving is never a stop. ``POST /runs/{run_id}/stop`` calls
:meth:`Hub.stop`.

:func:`relay_routes` gives the two routes to add to an app; :func:`create_relay_app` a
Starlette app to mount. Authentication is the app's (a middleware or a dependency).
"""

from __future__ import annotations

import math
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ._hub import Hub, RunNotFound, Subscription

__all__ = ["EventStreamResponse", "create_relay_app", "js_client_path", "relay_routes"]

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),
]


def js_client_path() -> Path:
    """The path of ``streamkit-relay.js`` (serve it with your static files)."""
    return Path(str(files("streamkit.relay") / "static" / "streamkit-relay.js"))


class EventStreamResponse:
    """An ASGI response that sends a :class:`Subscription`'s frames (see the module doc).

    ``heartbeat``: seconds of silence before a ``: heartbeat`` comment; ``send_timeout``:
    seconds one write may take before the viewer is dropped; ``retry_ms``: the reconnect
    delay the browser is told (``retry:``), None to leave it.
    """

    def __init__(
        self,
        subscription: Subscription,
        *,
        heartbeat: float = 15.0,
        send_timeout: float = 10.0,
        retry_ms: int | None = 1000,
    ) -> None:
        self.subscription = subscription
        self.heartbeat = heartbeat if heartbeat > 0 else math.inf
        self.send_timeout = send_timeout
        self.retry_ms = retry_ms
        #: Why the response ended: "end" (the run ended or the hub dropped the viewer),
        #: "disconnect", or "timeout" (a write took longer than ``send_timeout``).
        self.outcome: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.subscription
        async with subscription:
            try:
                with anyio.fail_after(self.send_timeout):
                    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
                    if self.retry_ms is not None:
                        body = b"retry: %d\n\n" % self.retry_ms
                        await send({"type": "http.response.body", "body": body, "more_body": True})
            except TimeoutError:
                self.outcome = "timeout"
                return
            async with anyio.create_task_group() as group:
                group.start_soon(self._watch, receive, group.cancel_scope)
                await self._pump(send)
                group.cancel_scope.cancel()
            if self.outcome == "end":
                with anyio.move_on_after(self.send_timeout):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _watch(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.outcome = "disconnect"
        scope.cancel()

    async def _pump(self, send: Send) -> None:
        subscription = self.subscription
        while True:
            data: bytes | None = b": heartbeat\n\n"
            with anyio.move_on_after(self.heartbeat):
                data = await subscription.next_chunk()
            if data is None:
                self.outcome = "end"
                return
            try:
                with anyio.fail_after(self.send_timeout):
                    await send({"type": "http.response.body", "body": data, "more_body": True})
            except TimeoutError:
                self.outcome = "timeout"
                return
            except OSError:  # the server's transport is gone
                self.outcome = "disconnect"
                return


def _last_event_id(request: Request) -> int | str | None:
    raw = request.headers.get("last-event-id")
    if raw is None:
        raw = request.query_params.get("last_event_id")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        return raw
    return value if value >= 0 else raw


def relay_routes(
    hub: Hub,
    *,
    prefix: str = "",
    heartbeat: float = 15.0,
    send_timeout: float = 10.0,
    retry_ms: int | None = 1000,
) -> list[Route]:
    """The relay's routes: ``GET {prefix}/runs/{run_id}/events`` and
    ``POST {prefix}/runs/{run_id}/stop`` (see the module doc and docs/relay.md)."""

    async def events(request: Request) -> Any:
        run_id = request.path_params["run_id"]
        last = _last_event_id(request)
        if isinstance(last, str):
            return _error(400, f"Last-Event-ID must be a relay event id (an integer), got {last!r}")
        try:
            subscription = await hub.subscribe(run_id, last)
        except RunNotFound as exc:
            return _error(404, str(exc))
        if subscription.over:  # a resume after the end: nothing more, do not reconnect
            return Response(status_code=204, headers={"cache-control": "no-store"})
        return EventStreamResponse(
            subscription, heartbeat=heartbeat, send_timeout=send_timeout, retry_ms=retry_ms
        )

    async def stop(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        if await hub.stop(run_id):  # here, or (a shared hub) in the process relaying it
            return JSONResponse({"run_id": run_id, "stopped": True})
        if not await hub.knows(run_id):
            return _error(404, str(RunNotFound(run_id)))
        return JSONResponse({"run_id": run_id, "stopped": False})

    return [
        Route(f"{prefix}/runs/{{run_id}}/events", events, methods=["GET"]),
        Route(f"{prefix}/runs/{{run_id}}/stop", stop, methods=["POST"]),
    ]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


def create_relay_app(
    hub: Hub,
    *,
    heartbeat: float = 15.0,
    send_timeout: float = 10.0,
    retry_ms: int | None = 1000,
) -> Starlette:
    """A Starlette app serving :func:`relay_routes` (mount it: ``app.mount("/relay",
    create_relay_app(hub))``). A mounted app's lifespan does not run: open the hub's task
    group (``async with hub:``) in your app's lifespan when you use :meth:`Hub.start`."""
    return Starlette(
        routes=relay_routes(hub, heartbeat=heartbeat, send_timeout=send_timeout, retry_ms=retry_ms)
    )
