"""Run steps, their details (message creation, tool calls) and the deltas streamed for them."""

from __future__ import annotations

from typing import Any

import attrs

from .._model import (
    GrowableStr,
    Model,
    Union,
    UnknownVariant,
    grow,
    index,
    many,
    one,
    string,
    union,
    union_list,
)
from ._common import LastError, Metadata, Usage
from ._tools import FileSearchRankingOptions

__all__ = [
    "CodeInterpreter",
    "CodeInterpreterDelta",
    "CodeInterpreterImage",
    "CodeInterpreterLogs",
    "CodeInterpreterOutputImage",
    "CodeInterpreterOutputImageImage",
    "CodeInterpreterToolCall",
    "CodeInterpreterToolCallDelta",
    "CodeInterpreterToolCallImage",
    "CodeInterpreterToolCallLogs",
    "FileSearch",
    "FileSearchResult",
    "FileSearchResultContent",
    "FileSearchToolCall",
    "FileSearchToolCallDelta",
    "FunctionToolCall",
    "FunctionToolCallDelta",
    "FunctionToolCallFunction",
    "MessageCreation",
    "MessageCreationStepDetails",
    "RunStep",
    "RunStepDelta",
    "RunStepDeltaEvent",
    "RunStepDeltaMessageDelta",
    "StepDetails",
    "StepDetailsDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallDeltaObject",
    "ToolCallsStepDetails",
    "UnknownCodeInterpreterOutput",
    "UnknownStepDetails",
    "UnknownToolCall",
]


# --- code interpreter ---------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterToolCallLogs(Model):
    """Text output (logs) of a code interpreter call."""

    type: str = string(default="logs")
    _logs: str | list[str] | None = grow(key="logs")

    logs = GrowableStr("_logs")


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterImage(Model):
    """The file of an image produced by code interpreter."""

    file_id: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterToolCallImage(Model):
    """An image output of a code interpreter call."""

    type: str = string(default="image")
    image: CodeInterpreterImage | None = one(CodeInterpreterImage)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownCodeInterpreterOutput(UnknownVariant):
    """A code interpreter output of a type this version does not know."""


CODE_OUTPUT = Union(
    "type",
    {"logs": CodeInterpreterToolCallLogs, "image": CodeInterpreterToolCallImage},
    UnknownCodeInterpreterOutput,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreter(Model):
    """Input code and outputs of a code interpreter call."""

    _input: str | list[str] | None = grow(key="input")
    outputs: (
        list[
            CodeInterpreterToolCallLogs
            | CodeInterpreterToolCallImage
            | UnknownCodeInterpreterOutput
        ]
        | None
    ) = union_list(CODE_OUTPUT)

    input = GrowableStr("_input")


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterToolCall(Model):
    """A code interpreter call in a tool_calls step."""

    id: str | None = string()
    type: str = string(default="code_interpreter")
    code_interpreter: CodeInterpreter | None = one(CodeInterpreter)


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterLogs(Model):
    """A piece of logs output at ``index``, streamed in a code interpreter delta."""

    index: int = index()
    type: str = string(default="logs")
    _logs: str | list[str] | None = grow(key="logs")

    logs = GrowableStr("_logs")


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterOutputImageImage(Model):
    """The file of a streamed image output."""

    file_id: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterOutputImage(Model):
    """An image output at ``index``, streamed in a code interpreter delta."""

    index: int = index()
    type: str = string(default="image")
    image: CodeInterpreterOutputImageImage | None = one(CodeInterpreterOutputImageImage)


CODE_OUTPUT_DELTA = Union(
    "type",
    {"logs": CodeInterpreterLogs, "image": CodeInterpreterOutputImage},
    UnknownCodeInterpreterOutput,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterDelta(Model):
    """A piece of input code and outputs by index."""

    _input: str | list[str] | None = grow(key="input")
    outputs: (
        list[CodeInterpreterLogs | CodeInterpreterOutputImage | UnknownCodeInterpreterOutput] | None
    ) = union_list(CODE_OUTPUT_DELTA)

    input = GrowableStr("_input")


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterToolCallDelta(Model):
    """A delta for the code interpreter call at ``index``."""

    index: int = index()
    type: str = string(default="code_interpreter")
    id: str | None = string()
    code_interpreter: CodeInterpreterDelta | None = one(CodeInterpreterDelta)


# --- file search --------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchResultContent(Model):
    """Content of a file search result (only with the ``include`` option)."""

    text: str | None = None
    type: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchResult(Model):
    """One file search result."""

    file_id: str | None = string()
    file_name: str | None = None
    score: float | None = None
    content: list[FileSearchResultContent] | None = many(FileSearchResultContent)


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearch(Model):
    """Ranking options and results of a file search call."""

    ranking_options: FileSearchRankingOptions | None = one(FileSearchRankingOptions)
    results: list[FileSearchResult] | None = many(FileSearchResult)


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchToolCall(Model):
    """A file search call in a tool_calls step."""

    id: str | None = string()
    type: str = string(default="file_search")
    file_search: FileSearch | None = one(FileSearch)


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchToolCallDelta(Model):
    """A delta for the file search call at ``index`` (``file_search`` is free-form)."""

    index: int = index()
    type: str = string(default="file_search")
    id: str | None = string()
    file_search: Any = None


# --- function -----------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionToolCallFunction(Model):
    """Name, JSON arguments and (once submitted) output of a function call."""

    name: str | None = string()
    _arguments: str | list[str] | None = grow(key="arguments")
    output: str | None = string()

    arguments = GrowableStr("_arguments")


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionToolCall(Model):
    """A function call in a tool_calls step."""

    id: str | None = string()
    type: str = string(default="function")
    function: FunctionToolCallFunction | None = one(FunctionToolCallFunction)


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionToolCallDelta(Model):
    """A delta for the function call at ``index``."""

    index: int = index()
    type: str = string(default="function")
    id: str | None = string()
    function: FunctionToolCallFunction | None = one(FunctionToolCallFunction)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownToolCall(UnknownVariant):
    """A tool call of a type this version does not know; ``raw`` keeps it whole."""


ToolCall = CodeInterpreterToolCall | FileSearchToolCall | FunctionToolCall | UnknownToolCall
TOOL_CALL = Union(
    "type",
    {
        "code_interpreter": CodeInterpreterToolCall,
        "file_search": FileSearchToolCall,
        "function": FunctionToolCall,
    },
    UnknownToolCall,
)
ToolCallDelta = (
    CodeInterpreterToolCallDelta | FileSearchToolCallDelta | FunctionToolCallDelta | UnknownToolCall
)
TOOL_CALL_DELTA = Union(
    "type",
    {
        "code_interpreter": CodeInterpreterToolCallDelta,
        "file_search": FileSearchToolCallDelta,
        "function": FunctionToolCallDelta,
    },
    UnknownToolCall,
)


# --- step details -------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class MessageCreation(Model):
    """The message a message_creation step created."""

    message_id: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class MessageCreationStepDetails(Model):
    """Details of a message_creation step."""

    type: str = string(default="message_creation")
    message_creation: MessageCreation | None = one(MessageCreation)


@attrs.define(slots=True, kw_only=True, eq=False)
class ToolCallsStepDetails(Model):
    """Details of a tool_calls step: the calls, in order."""

    type: str = string(default="tool_calls")
    tool_calls: list[ToolCall] | None = union_list(TOOL_CALL)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownStepDetails(UnknownVariant):
    """Step details of a type this version does not know."""


StepDetails = MessageCreationStepDetails | ToolCallsStepDetails | UnknownStepDetails
STEP_DETAILS = Union(
    "type",
    {"message_creation": MessageCreationStepDetails, "tool_calls": ToolCallsStepDetails},
    UnknownStepDetails,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class RunStepDeltaMessageDelta(Model):
    """A delta of a message_creation step."""

    type: str = string(default="message_creation")
    message_creation: MessageCreation | None = one(MessageCreation)


@attrs.define(slots=True, kw_only=True, eq=False)
class ToolCallDeltaObject(Model):
    """A delta of a tool_calls step: tool call deltas by index."""

    type: str = string(default="tool_calls")
    tool_calls: list[ToolCallDelta] | None = union_list(TOOL_CALL_DELTA)


StepDetailsDelta = RunStepDeltaMessageDelta | ToolCallDeltaObject | UnknownStepDetails
STEP_DETAILS_DELTA = Union(
    "type",
    {"message_creation": RunStepDeltaMessageDelta, "tool_calls": ToolCallDeltaObject},
    UnknownStepDetails,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class RunStep(Model):
    """A step of a run (``object``: ``thread.run.step``)."""

    id: str = string(required=True)
    object: str | None = string()
    created_at: int | None = None
    run_id: str | None = string()
    assistant_id: str | None = string()
    thread_id: str | None = string()
    type: str | None = string()
    status: str | None = string()
    cancelled_at: int | None = None
    completed_at: int | None = None
    expired_at: int | None = None
    failed_at: int | None = None
    last_error: LastError | None = one(LastError)
    step_details: StepDetails | None = union(STEP_DETAILS)
    usage: Usage | None = one(Usage)
    metadata: Metadata | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class RunStepDelta(Model):
    """The fields of a run step that changed."""

    step_details: StepDetailsDelta | None = union(STEP_DETAILS_DELTA)


@attrs.define(slots=True, kw_only=True, eq=False)
class RunStepDeltaEvent(Model):
    """The payload of ``thread.run.step.delta``: the step ``id`` and its ``delta``."""

    id: str = string(required=True)
    object: str | None = string()
    delta: RunStepDelta = one(RunStepDelta, required=True)
