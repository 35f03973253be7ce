"""streamkit: turn streamed assistant runs (Server-Sent Events) into live, exact, typed state."""

from __future__ import annotations

from ._errors import StreamkitError
from ._version import __version__

__all__ = ["StreamkitError", "__version__"]
