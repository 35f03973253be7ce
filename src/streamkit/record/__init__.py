"""Record raw response streams byte for byte, with timing, and replay them.

This package works on raw byte chunks only, not on parsed events. The file format is
specified in ``docs/record.md``: JSON Lines, a header line, one line per chunk (seconds
since the start of the response, and the bytes as text or base64), and an end line
written when the stream ended normally. Plain ``.sse`` bodies are accepted wherever a
recording is.

One module per job: ``_format`` (the data types and reading, line by line), ``_redact``
(which names are secret, and redacting values, URLs and bodies), ``_write``
(:class:`Recorder`, :func:`tee`, :func:`atee`) and ``_replay`` (:func:`replay`,
:func:`areplay`). Recording an httpx response (:func:`record_response`,
:func:`arecord_response`) lives with the HTTP code in ``streamkit._http``; it is
re-exported here on first use, so importing this package loads no HTTP, async or
terminal library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._format import (
    FORMAT_VERSION,
    Chunk,
    Recording,
    RecordingError,
    RecordingHeader,
    TruncatedRecordingWarning,
    load_recording,
)
from ._redact import REDACTED
from ._replay import areplay, replay
from ._write import Recorder, atee, tee

if TYPE_CHECKING:
    from .._http import arecord_response, record_response

__all__ = [
    "FORMAT_VERSION",
    "REDACTED",
    "Chunk",
    "Recorder",
    "Recording",
    "RecordingError",
    "RecordingHeader",
    "TruncatedRecordingWarning",
    "arecord_response",
    "areplay",
    "atee",
    "load_recording",
    "record_response",
    "replay",
    "tee",
]

_HTTP_NAMES = frozenset({"record_response", "arecord_response"})


def __getattr__(name: str) -> Any:
    if name in _HTTP_NAMES:
        from .. import _http  # imports httpx: only now that it is asked for

        value = getattr(_http, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
