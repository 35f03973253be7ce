"""The relay: a run's progress to browsers, over Server-Sent Events that resume exactly.

A :class:`Hub` (:class:`MemoryHub` in this process) takes a run's Changes (from any
streamkit stream: :meth:`Hub.relay`) and publishes them as numbered, versioned JSON
events (the wire format, ``docs/relay.md``). :func:`relay_routes` / :func:`create_relay_app`
serve them to viewers (``GET …/runs/{run_id}/events``) and stop runs
(``POST …/runs/{run_id}/stop``); ``static/streamkit-relay.js`` (:func:`js_client_path`)
folds them in the browser. Needs the ``relay`` extra (Starlette); ``import streamkit``
does not import this package. :class:`RedisHub` (Redis Streams, shared by many worker
processes) needs the ``redis`` extra; redis-py is imported only when it is used.
"""

from typing import TYPE_CHECKING, Any

from ._app import EventStreamResponse, create_relay_app, js_client_path, relay_routes
from ._hub import Hub, MemoryHub, RunNotFound, Subscription
from ._wire import END_REASONS, VERSION, Encoder, RunView

if TYPE_CHECKING:
    from ._redis import RedisHub

__all__ = [
    "END_REASONS",
    "VERSION",
    "Encoder",
    "EventStreamResponse",
    "Hub",
    "MemoryHub",
    "RedisHub",
    "RunNotFound",
    "RunView",
    "Subscription",
    "create_relay_app",
    "js_client_path",
    "relay_routes",
]


def __getattr__(name: str) -> Any:
    if name == "RedisHub":  # imports redis-py: only when asked for
        from ._redis import RedisHub

        return RedisHub
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
