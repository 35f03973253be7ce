"""Client options, resolved once: where the API is, the key, timeouts, retries, resync.

There is no default service: the hosted Assistants API is retired, so ``base_url`` is
an argument or the ``STREAMKIT_BASE_URL`` / ``OPENAI_BASE_URL`` environment variable
(a local emulator: ``http://127.0.0.1:8000/v1``; Azure AI Foundry Agents:
``https://NAME.services.ai.azure.com/api/projects/PROJECT``). The key is an argument or
``STREAMKIT_API_KEY`` / ``OPENAI_API_KEY``, sent as ``Authorization: Bearer KEY``
(``auth="bearer"``) or as Azure's ``api-key: KEY`` (``auth="api-key"``); no key, no
header. ``default_headers`` and ``default_query`` go with every request (Azure's
``api-version`` is a query parameter).

Retries: a request that could not connect, or whose answer is 408, 409, 429 or 5xx, is
sent again up to ``max_retries`` times, waiting what ``Retry-After`` (or
``retry-after-ms``) says, else ``backoff`` seconds doubled per attempt (with a little
jitter, at most ``max_backoff``). A stream is retried only until its answer arrives:
once a 2xx answer has begun, its events are never asked for again.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable, Mapping
from typing import IO, Final, Literal, TypeAlias

import attrs
import httpx

__all__ = [
    "DEFAULT_TIMEOUT",
    "RETRY_STATUSES",
    "Auth",
    "Options",
    "Reconnect",
    "RecordTo",
    "resolve_base_url",
    "retry_delay",
]

Auth: TypeAlias = Literal["bearer", "api-key"]
Reconnect: TypeAlias = Literal["poll", "off"]
RecordTo: TypeAlias = (
    "str | os.PathLike[str] | Callable[[httpx.Response], str | os.PathLike[str] | IO[bytes]]"
)

#: Ten minutes for a read (a stream may be quiet that long), five seconds to connect.
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0)
#: The answers worth asking again: the server did not act on the request.
RETRY_STATUSES: Final = frozenset({408, 409, 429})
#: The longest ``Retry-After`` honoured, in seconds; a longer one is not waited for.
MAX_RETRY_AFTER: Final = 60.0

_BASE_URL_VARS: Final = ("STREAMKIT_BASE_URL", "OPENAI_BASE_URL")
_API_KEY_VARS: Final = ("STREAMKIT_API_KEY", "OPENAI_API_KEY")


def resolve_base_url(base_url: str | httpx.URL | None) -> str:
    """The base URL: the argument, else the environment; a ValueError when neither."""
    if base_url is None:
        for name in _BASE_URL_VARS:
            if value := os.environ.get(name):
                base_url = value
                break
    if base_url is None:
        raise ValueError(
            "no base_url: pass Client(base_url=...) or set STREAMKIT_BASE_URL or "
            "OPENAI_BASE_URL (the hosted Assistants API is retired, so there is no default; "
            "`streamkit emulator` serves one locally at http://127.0.0.1:8000/v1)"
        )
    url = str(base_url).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http:// or https:// URL, not {url!r}")
    return url


def _api_key(api_key: str | None) -> str | None:
    if api_key is not None:
        return api_key
    return next((os.environ[name] for name in _API_KEY_VARS if os.environ.get(name)), None)


@attrs.frozen
class Options:
    """Everything a request needs besides its own path, body and query."""

    base_url: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    timeout: httpx.Timeout
    max_retries: int
    backoff: float
    max_backoff: float
    reconnect: Reconnect
    poll_interval: float
    poll_timeout: float
    record_to: RecordTo | None

    @classmethod
    def make(
        cls,
        *,
        base_url: str | httpx.URL | None,
        api_key: str | None,
        auth: Auth,
        default_headers: Mapping[str, str] | None,
        default_query: Mapping[str, str] | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        backoff: float,
        max_backoff: float,
        reconnect: Reconnect,
        poll_interval: float,
        poll_timeout: float,
        record_to: RecordTo | None,
    ) -> Options:
        if auth not in ("bearer", "api-key"):
            raise ValueError(f"auth must be 'bearer' or 'api-key', not {auth!r}")
        if reconnect not in ("poll", "off"):
            raise ValueError(f"reconnect must be 'poll' or 'off', not {reconnect!r}")
        if max_retries < 0 or backoff < 0 or max_backoff < 0:
            raise ValueError("max_retries, backoff and max_backoff must be >= 0")
        if not poll_interval > 0 or not poll_timeout > 0:
            raise ValueError("poll_interval and poll_timeout must be > 0")
        headers = {"accept": "application/json"}
        key = _api_key(api_key)
        if key:
            if auth == "bearer":
                headers["authorization"] = f"Bearer {key}"
            else:
                headers["api-key"] = key
        headers.update({name.lower(): value for name, value in (default_headers or {}).items()})
        return cls(
            base_url=resolve_base_url(base_url),
            headers=headers,
            query=dict(default_query or {}),
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
            reconnect=reconnect,
            poll_interval=poll_interval,
            poll_timeout=poll_timeout,
            record_to=record_to,
        )

    def retryable(self, status: int) -> bool:
        """Whether an answer with ``status`` is worth asking again."""
        return status in RETRY_STATUSES or status >= 500


def _retry_after(headers: httpx.Headers) -> float | None:
    """What the server asks us to wait, in seconds (None: nothing usable)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw.strip() else None
        if parsed is None:
            return None
        return parsed.timestamp() - time.time()


def retry_delay(options: Options, attempt: int, headers: httpx.Headers | None) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
    if headers is not None:
        asked = _retry_after(headers)
        if asked is not None and 0 <= asked <= MAX_RETRY_AFTER:
            return asked
    delay = min(options.backoff * 2.0**attempt, options.max_backoff)
    return delay * (1 - 0.25 * random.random())
