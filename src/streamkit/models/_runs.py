"""Runs: status, required action, errors, usage, truncation."""

from __future__ import annotations

from typing import Any

import attrs

from .._model import Model, many, one, string, union, union_list
from ._common import IncompleteDetails, LastError, Metadata, Usage
from ._steps import FunctionToolCallFunction
from ._tools import RESPONSE_FORMAT, TOOL, TOOL_CHOICE, AssistantTool

__all__ = [
    "RequiredAction",
    "RequiredActionFunctionToolCall",
    "RequiredActionSubmitToolOutputs",
    "Run",
    "TruncationStrategy",
]


@attrs.define(slots=True, kw_only=True, eq=False)
class RequiredActionFunctionToolCall(Model):
    """A function call the run waits for: ``id``, ``function.name``, ``function.arguments``."""

    id: str | None = string()
    type: str = string(default="function")
    function: FunctionToolCallFunction | None = one(FunctionToolCallFunction)


@attrs.define(slots=True, kw_only=True, eq=False)
class RequiredActionSubmitToolOutputs(Model):
    """The tool calls whose outputs the run needs."""

    tool_calls: list[RequiredActionFunctionToolCall] | None = many(RequiredActionFunctionToolCall)


@attrs.define(slots=True, kw_only=True, eq=False)
class RequiredAction(Model):
    """What a run in ``requires_action`` waits for."""

    type: str | None = string()
    submit_tool_outputs: RequiredActionSubmitToolOutputs | None = one(
        RequiredActionSubmitToolOutputs
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class TruncationStrategy(Model):
    """How the thread is truncated before the run."""

    type: str | None = string()
    last_messages: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class Run(Model):
    """An execution of an assistant on a thread (``object``: ``thread.run``)."""

    id: str = string(required=True)
    object: str | None = string()
    created_at: int | None = None
    thread_id: str | None = string()
    assistant_id: str | None = string()
    status: str | None = string()
    required_action: RequiredAction | None = one(RequiredAction)
    last_error: LastError | None = one(LastError)
    expires_at: int | None = None
    started_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    incomplete_details: IncompleteDetails | None = one(IncompleteDetails)
    model: str | None = None
    instructions: str | None = None
    tools: list[AssistantTool] | None = union_list(TOOL)
    metadata: Metadata | None = None
    usage: Usage | None = one(Usage)
    temperature: float | None = None
    top_p: float | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_strategy: TruncationStrategy | None = one(TruncationStrategy)
    response_format: Any = union(RESPONSE_FORMAT)
    tool_choice: Any = union(TOOL_CHOICE)
    parallel_tool_calls: bool | None = None
