"""Threads and the resources their tools use."""

from __future__ import annotations

import attrs

from .._model import Model, one, string
from ._common import Metadata

__all__ = [
    "Thread",
    "ThreadDeleted",
    "ToolResources",
    "ToolResourcesCodeInterpreter",
    "ToolResourcesFileSearch",
]


@attrs.define(slots=True, kw_only=True, eq=False)
class ToolResourcesCodeInterpreter(Model):
    """Files available to code_interpreter."""

    file_ids: list[str] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ToolResourcesFileSearch(Model):
    """Vector stores available to file_search."""

    vector_store_ids: list[str] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ToolResources(Model):
    """Resources made available to the tools of a thread or assistant."""

    code_interpreter: ToolResourcesCodeInterpreter | None = one(ToolResourcesCodeInterpreter)
    file_search: ToolResourcesFileSearch | None = one(ToolResourcesFileSearch)


@attrs.define(slots=True, kw_only=True, eq=False)
class Thread(Model):
    """A conversation session (``object``: ``thread``)."""

    id: str = string(required=True)
    object: str | None = string()
    created_at: int | None = None
    metadata: Metadata | None = None
    tool_resources: ToolResources | None = one(ToolResources)


@attrs.define(slots=True, kw_only=True, eq=False)
class ThreadDeleted(Model):
    """The answer to deleting a thread."""

    id: str = string(required=True)
    deleted: bool | None = None
    object: str | None = string()
