"""Assistants: the assistant object and the answer to deleting one."""

from __future__ import annotations

from typing import Any

import attrs

from .._model import Model, one, union, union_list
from ._common import Metadata
from ._threads import ToolResources
from ._tools import RESPONSE_FORMAT, TOOL, AssistantTool

__all__ = ["Assistant", "AssistantDeleted"]


@attrs.define(slots=True, kw_only=True, eq=False)
class Assistant(Model):
    """An assistant that can call the model and use tools (``object``: ``assistant``).

    ``response_format`` is ``"auto"`` or a response format object (see ``Run``).
    """

    id: str
    object: str | None = None
    created_at: int | None = None
    name: str | None = None
    description: str | None = None
    model: str | None = None
    instructions: str | None = None
    tools: list[AssistantTool] | None = union_list(TOOL)
    tool_resources: ToolResources | None = one(ToolResources)
    metadata: Metadata | None = None
    temperature: float | None = None
    top_p: float | None = None
    response_format: Any = union(RESPONSE_FORMAT)


@attrs.define(slots=True, kw_only=True, eq=False)
class AssistantDeleted(Model):
    """The answer to deleting an assistant (``object``: ``assistant.deleted``)."""

    id: str
    deleted: bool | None = None
    object: str | None = None
