"""streamkit: turn streamed assistant runs (Server-Sent Events) into live, exact, typed state.

The pipeline, each layer usable on its own: :mod:`streamkit.sse` (bytes to Server-Sent
Events), :mod:`streamkit.events` (to typed events), :mod:`streamkit.fold` (to snapshots
and Changes), then :func:`stream` / :func:`astream` with :class:`EventHandler` callbacks
and iterators; :mod:`streamkit.record` records and replays raw streams.
"""

from __future__ import annotations

from ._errors import MalformedEventError, ProtocolError, StreamkitError
from ._handler import AsyncEventHandler, EventHandler
from ._stream import (
    AsyncStream,
    Stream,
    StreamTruncated,
    StreamTruncatedWarning,
    astream,
    stream,
)
from ._version import __version__
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

__all__ = [
    "AsyncEventHandler",
    "AsyncStream",
    "Event",
    "EventHandler",
    "MalformedEventError",
    "ProtocolError",
    "Recorder",
    "RecordingError",
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
