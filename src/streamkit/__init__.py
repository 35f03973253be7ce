"""streamkit: turn streamed assistant runs (Server-Sent Events) into live, exact, typed state.

The pipeline, each layer usable on its own: :mod:`streamkit.sse` (bytes to Server-Sent
Events), :mod:`streamkit.events` (to typed events), :mod:`streamkit.fold` (to snapshots
and Changes), :class:`Driver` (the three for one stream, sans-IO), then :func:`stream` /
:func:`astream` with :class:`EventHandler` callbacks and iterators;
:mod:`streamkit.record` records and replays raw streams. See ``docs/architecture.md``.

Names are loaded when first used: ``import streamkit`` imports no HTTP, async or terminal
library, and the core (parser, models, events, fold, driver) needs only attrs and orjson.
``__compiled__`` says whether the optional C speedups are active (see ``docs/speedups.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._driver import Driver
    from ._errors import MalformedEventError, ProtocolError, ResponseError, StreamkitError
    from ._handler import AsyncEventHandler, EventHandler
    from ._stream import (
        AsyncStream,
        Stream,
        StreamTruncated,
        StreamTruncatedWarning,
        astream,
        stream,
    )
    from .client import AsyncClient, Client
    from .events import Event, decode
    from .fold import State
    from .record import (
        Recorder,
        RecordingError,
        TruncatedRecordingWarning,
        areplay,
        load_recording,
        replay,
    )
    from .sse import ServerSentEvent, SSEError, SSEParser

    __compiled__: bool

#: Each public name and the module that defines it.
_WHERE: dict[str, str] = {
    "AsyncEventHandler": "._handler",
    "AsyncClient": ".client",
    "AsyncStream": "._stream",
    "Client": ".client",
    "Driver": "._driver",
    "Event": ".events",
    "EventHandler": "._handler",
    "MalformedEventError": "._errors",
    "ProtocolError": "._errors",
    "Recorder": ".record",
    "RecordingError": ".record",
    "ResponseError": "._errors",
    "SSEError": ".sse",
    "SSEParser": ".sse",
    "ServerSentEvent": ".sse",
    "State": ".fold",
    "Stream": "._stream",
    "StreamTruncated": "._stream",
    "StreamTruncatedWarning": "._stream",
    "StreamkitError": "._errors",
    "TruncatedRecordingWarning": ".record",
    "areplay": ".record",
    "astream": "._stream",
    "decode": ".events",
    "load_recording": ".record",
    "replay": ".record",
    "stream": "._stream",
}

__all__ = [
    "AsyncClient",
    "AsyncEventHandler",
    "AsyncStream",
    "Client",
    "Driver",
    "Event",
    "EventHandler",
    "MalformedEventError",
    "ProtocolError",
    "Recorder",
    "RecordingError",
    "ResponseError",
    "SSEError",
    "SSEParser",
    "ServerSentEvent",
    "State",
    "Stream",
    "StreamTruncated",
    "StreamTruncatedWarning",
    "StreamkitError",
    "TruncatedRecordingWarning",
    "__version__",
    "areplay",
    "astream",
    "decode",
    "load_recording",
    "replay",
    "stream",
]


def __getattr__(name: str) -> Any:
    if name == "__compiled__":  # whether the C speedups are active: known once sse is loaded
        value = importlib.import_module(".sse", __name__).__compiled__
        globals()[name] = value
        return value
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'streamkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value  # later look-ups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE, "__compiled__"})
