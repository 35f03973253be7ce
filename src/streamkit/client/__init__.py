"""The HTTP client of the Assistants API, on httpx: ``Client`` and ``AsyncClient``.

Resources and methods are named as openai-python's (``client.threads.runs.stream(...)``,
also reachable as ``client.beta.threads...``). Plain calls return the typed models of
:mod:`streamkit.models` and lists a :class:`Page`; streaming calls return a
:class:`RunStream` / :class:`AsyncRunStream`, which are :class:`streamkit.Stream` /
:class:`streamkit.AsyncStream` carrying one run across its HTTP answers: the tool loop
(:meth:`RunStream.run_tools`), resync after a drop (``reconnect="poll"``), retries
before the first byte only, and recording (``record_to=``). An error answer raises
:class:`streamkit.ResponseError`; a failure below HTTP :class:`APIConnectionError`.
See ``docs/live.md``.

``import streamkit`` does not import this package; ``streamkit.Client`` does, on first use.
"""

from ._client import AsyncClient, Client
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    ToolCallError,
    ToolErrorKind,
    ToolLoopError,
)
from ._live import AsyncRunStream, RunStream
from ._pages import AsyncPage, Page
from ._responses_live import AsyncResponseStream, ResponseStream

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AsyncClient",
    "AsyncPage",
    "AsyncResponseStream",
    "AsyncRunStream",
    "Client",
    "Page",
    "ResponseStream",
    "RunStream",
    "ToolCallError",
    "ToolErrorKind",
    "ToolLoopError",
]
