"""The payload of the stream's ``error`` event."""

from __future__ import annotations

import attrs

from .._model import Model, string

__all__ = ["ErrorObject"]


@attrs.define(slots=True, kw_only=True, eq=False)
class ErrorObject(Model):
    """An API error: ``message``, ``type``, ``code`` and ``param``."""

    code: str | None = None
    message: str | None = string()
    param: str | None = None
    type: str | None = string()
