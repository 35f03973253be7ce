"""Serving the app with uvicorn: in a background thread (tests, demos) or in the foreground.

:func:`serve_in_thread` binds a socket itself (port 0 picks a free one), so the port is
known before the server starts and no other process can take it; it waits until uvicorn
is accepting connections, yields the base URL (the prefix included), and on exit asks
uvicorn to stop, waits for the thread, and raises if it would not stop.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.applications import Starlette

__all__ = ["serve", "serve_in_thread"]


def _prefix(app: Starlette) -> str:
    emulator = getattr(app.state, "emulator", None)
    return str(getattr(emulator, "prefix", ""))


@contextmanager
def serve_in_thread(
    app: Starlette,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    shutdown_timeout: float = 10.0,
    lifespan: Literal["on", "off", "auto"] = "off",
) -> Iterator[str]:
    """Serve ``app`` on ``host:port`` in a daemon thread; yields the base URL.
    ``lifespan="on"`` runs the app's lifespan (the emulator has none)."""
    # IPPROTO_TCP, not 0: asyncio turns Nagle's algorithm off only on sockets that say
    # they are TCP, and accepted sockets inherit this; with it on, every response whose
    # headers and body are written apart waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan=lifespan,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="streamkit-emulator", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the emulator's server stopped while starting")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start within {startup_timeout} s")
            time.sleep(0.005)
        yield f"http://{host}:{bound_port}{_prefix(app)}"
    finally:
        server.should_exit = True
        thread.join(shutdown_timeout)
        sock.close()
        if thread.is_alive():
            raise RuntimeError(f"the emulator did not stop within {shutdown_timeout} s")


def serve(app: Starlette, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` in the foreground until interrupted (Ctrl-C)."""
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")
