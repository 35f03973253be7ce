"""``Client`` and ``AsyncClient``: the API's resources over one httpx client.

A client resolves its :class:`~._options.Options` once, owns (or borrows) an httpx
client, and exposes the resources with openai-python's names: ``client.assistants``,
``client.threads`` (``.messages``, ``.runs``, ``.runs.steps``). ``client.beta`` holds the
same two, so code written for openai-python's ``client.beta.threads.runs.stream(...)``
runs unchanged; the short form is the primary one because the API is no longer a beta
(it is retired, and compatible services such as Azure's serve it without one).

Pass ``http_client`` to use your own ``httpx.Client`` (it is not closed with ours), or
``transport`` for a custom ``httpx`` transport (tests, proxies, ``httpx.MockTransport``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from ._aresources import AsyncAssistants, AsyncThreads
from ._options import DEFAULT_TIMEOUT, Auth, Options, Reconnect, RecordTo
from ._resources import Assistants, Threads
from ._responses import AsyncResponses, Responses
from ._transport import AsyncTransport, Transport

__all__ = ["AsyncClient", "Client"]


class _Beta:
    """``client.beta``: ``assistants`` and ``threads``, as in openai-python."""

    def __init__(self, assistants: Any, threads: Any) -> None:
        self.assistants = assistants
        self.threads = threads


def _options(**kwargs: Any) -> Options:
    return Options.make(**kwargs)


class Client:
    """A sync client of the Assistants API (or a compatible service, or the emulator).

    ``base_url``: the API root, e.g. ``http://127.0.0.1:8000/v1`` (else
    ``STREAMKIT_BASE_URL`` / ``OPENAI_BASE_URL``; there is no default). ``api_key``
    (else ``STREAMKIT_API_KEY`` / ``OPENAI_API_KEY``) is sent as ``Authorization:
    Bearer`` or, with ``auth="api-key"``, as Azure's ``api-key`` header.
    ``default_headers`` / ``default_query`` go with every request. ``timeout`` (seconds
    or an ``httpx.Timeout``), ``max_retries``, ``backoff`` and ``max_backoff`` govern
    sending (retries happen only before an answer arrives). ``reconnect="poll"``
    resynchronises a dropped stream from the REST endpoints, polling every
    ``poll_interval`` s for at most ``poll_timeout`` s. ``record_to`` records every
    stream (a directory, or a function of the response giving a path or file).
    """

    def __init__(
        self,
        *,
        base_url: str | httpx.URL | None = None,
        api_key: str | None = None,
        auth: Auth = "bearer",
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        reconnect: Reconnect = "off",
        poll_interval: float = 1.0,
        poll_timeout: float = 600.0,
        record_to: RecordTo | None = None,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise TypeError("pass http_client or transport, not both")
        #: The resolved options.
        self.options = _options(
            base_url=base_url, api_key=api_key, auth=auth, default_headers=default_headers,
            default_query=default_query, timeout=timeout, max_retries=max_retries,
            backoff=backoff, max_backoff=max_backoff, reconnect=reconnect,
            poll_interval=poll_interval, poll_timeout=poll_timeout, record_to=record_to,
        )  # fmt: skip
        self._owns_http = http_client is None
        #: The httpx client requests go through.
        self.http_client = http_client or httpx.Client(
            transport=transport, timeout=self.options.timeout
        )
        #: Sends requests with retries (used by the resources).
        self.transport = Transport(self.options, self.http_client)
        self.assistants = Assistants(self)
        self.threads = Threads(self)
        #: The Responses API (``client.responses.stream(...)``; see docs/responses.md).
        self.responses = Responses(self)
        self.beta = _Beta(self.assistants, self.threads)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self.options.base_url

    def close(self) -> None:
        """Close the httpx client (unless it was given)."""
        if self._owns_http:
            self.http_client.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<streamkit.Client {self.options.base_url}>"


class AsyncClient:
    """The async twin of :class:`Client` (anyio: asyncio or trio), on an
    ``httpx.AsyncClient``; the same options (``transport``: an ``httpx.AsyncBaseTransport``)."""

    def __init__(
        self,
        *,
        base_url: str | httpx.URL | None = None,
        api_key: str | None = None,
        auth: Auth = "bearer",
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, str] | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        reconnect: Reconnect = "off",
        poll_interval: float = 1.0,
        poll_timeout: float = 600.0,
        record_to: RecordTo | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if http_client is not None and transport is not None:
            raise TypeError("pass http_client or transport, not both")
        self.options = _options(
            base_url=base_url, api_key=api_key, auth=auth, default_headers=default_headers,
            default_query=default_query, timeout=timeout, max_retries=max_retries,
            backoff=backoff, max_backoff=max_backoff, reconnect=reconnect,
            poll_interval=poll_interval, poll_timeout=poll_timeout, record_to=record_to,
        )  # fmt: skip
        self._owns_http = http_client is None
        self.http_client = http_client or httpx.AsyncClient(
            transport=transport, timeout=self.options.timeout
        )
        self.transport = AsyncTransport(self.options, self.http_client)
        self.assistants = AsyncAssistants(self)
        self.threads = AsyncThreads(self)
        self.responses = AsyncResponses(self)
        self.beta = _Beta(self.assistants, self.threads)

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self.options.base_url

    async def aclose(self) -> None:
        """Close the httpx client (unless it was given)."""
        if self._owns_http:
            await self.http_client.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<streamkit.AsyncClient {self.options.base_url}>"
