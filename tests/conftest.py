"""Shared fixtures: async tests run on both asyncio and trio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of this test session on 127.0.0.1 (tests/_redis_server.py); skipped,
    saying how to install it, only when the binary is absent."""
    from _redis_server import REDIS_MISSING, redis_server, redis_server_binary

    if redis_server_binary() is None:
        pytest.skip(REDIS_MISSING)
    with redis_server() as url:
        yield url
