"""The exception hierarchy. Every error streamkit raises derives from StreamkitError."""

from __future__ import annotations

__all__ = ["StreamkitError"]


class StreamkitError(Exception):
    """Root of every exception streamkit raises on purpose."""
