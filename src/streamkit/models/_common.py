"""Small shared pieces: usage, errors, incomplete details, the attrs decorator."""

from __future__ import annotations

from typing import Any

import attrs

from .._model import Model, string

__all__ = ["IncompleteDetails", "LastError", "Metadata", "Usage"]

#: Free-form key/value pairs attached to an object (up to 16 in the API).
Metadata = dict[str, Any]


@attrs.define(slots=True, kw_only=True, eq=False)
class Usage(Model):
    """Token usage of a run or a run step (null while it is in progress)."""

    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    total_tokens: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class LastError(Model):
    """The last error of a run or run step: ``code`` and ``message``."""

    code: str | None = string()
    message: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class IncompleteDetails(Model):
    """Why a run or message ended incomplete."""

    reason: str | None = None
