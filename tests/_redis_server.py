"""A throwaway redis-server on 127.0.0.1 for the tests and the relay benchmark.

``redis_server()`` starts Debian's ``redis-server`` on a free port in a temporary directory
(no persistence: ``--save '' --appendonly no``), waits until it answers ``PING``, yields
its URL, and stops it. ``REDIS_MISSING`` says how to install it when the binary is absent.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

REDIS_MISSING = (
    "redis-server is not installed: `apt-get install redis-server` "
    "(the Redis hub's tests and benchmark start their own on 127.0.0.1)"
)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(startup_timeout: float = 10.0) -> Iterator[str]:
    """A running redis-server's URL (``redis://127.0.0.1:PORT/0``), stopped afterwards."""
    binary = redis_server_binary()
    if binary is None:
        raise RuntimeError(REDIS_MISSING)
    with tempfile.TemporaryDirectory(prefix="streamkit-redis-") as workdir:
        for _ in range(5):  # a port taken between choosing and binding: try another
            port = _free_port()
            process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    *("--save", ""),
                    *("--appendonly", "no", "--dir", workdir, "--loglevel", "warning"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + startup_timeout
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(port):
                    break
                time.sleep(0.02)
            if process.poll() is None and _answers(port):
                break
            process.kill()
            process.wait(5)
        else:
            raise RuntimeError(f"redis-server did not start on 127.0.0.1 (tried in {workdir})")
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
