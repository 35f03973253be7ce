"""Recording every stream the client opens (``record_to=``), in the recording format.

``record_to`` is a directory (each stream gets a new file in it, named by time, a
counter and the request: ``20250101T120000-001-POST-threads-runs.jsonl``) or a function
given the ``httpx.Response`` that returns a path or a binary file object. A recorder
(:class:`streamkit.record.Recorder`) is made when the answer arrives, with the method,
path and status, the response headers redacted and ``redact_body_secrets`` on; its
chunks are written by :func:`~streamkit.record.tee` / :func:`~streamkit.record.atee` as
they pass to the fold, and the end line when the body ends. Request headers (the key) are
never written, nor the query string.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path

import httpx

from ..record import Recorder, atee, tee
from ._options import RecordTo

__all__ = ["arecorded", "recorded"]

_COUNTER = itertools.count(1)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_name(response: httpx.Response) -> str:
    request = response.request
    path = _UNSAFE.sub("-", request.url.path.strip("/"))[-80:]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{next(_COUNTER):03d}-{request.method}-{path}.jsonl"


def _recorder(record_to: RecordTo, response: httpx.Response) -> Recorder:
    if callable(record_to):
        target = record_to(response)
    else:
        directory = Path(os.fspath(record_to))
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / _file_name(response)
    request = response.request
    return Recorder(
        target,
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        headers=response.headers.multi_items(),
        metadata={"source": "streamkit.Client"},
        redact_body_secrets=True,
    )


def recorded(response: httpx.Response, record_to: RecordTo | None) -> Iterator[bytes]:
    """The response's body chunks, recorded when ``record_to`` is set."""
    if record_to is None:
        yield from response.iter_bytes()
        return
    with _recorder(record_to, response) as recorder:
        yield from tee(response.iter_bytes(), recorder)


async def arecorded(
    response: httpx.Response, record_to: RecordTo | None
) -> AsyncGenerator[bytes, None]:
    """The async twin of :func:`recorded`."""
    if record_to is None:
        async for chunk in response.aiter_bytes():
            yield chunk
        return
    with _recorder(record_to, response) as recorder:
        async for chunk in atee(response.aiter_bytes(), recorder):
            yield chunk
