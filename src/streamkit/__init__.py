"""streamkit: turn streamed assistant runs (Server-Sent Events) into live, exact, typed state.

The pipeline, each layer usable on its own: :mod:`streamkit.sse` (bytes to Server-Sent
Events), :mod:`streamkit.events` (to typed events), :mod:`streamkit.fold` (to snapshots
and Changes).
"""

from __future__ import annotations

from ._errors import MalformedEventError, ProtocolError, StreamkitError
from ._version import __version__
from .events import Event, decode
from .fold import State
from .sse import ServerSentEvent, SSEError, SSEParser, encode

__all__ = [
    "Event",
    "MalformedEventError",
    "ProtocolError",
    "SSEError",
    "SSEParser",
    "ServerSentEvent",
    "State",
    "StreamkitError",
    "__version__",
    "decode",
    "encode",
]
