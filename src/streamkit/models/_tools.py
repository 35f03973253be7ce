"""Assistant tools, tool choice and response format, as set on assistants and runs."""

from __future__ import annotations

from typing import Any

import attrs

from .._model import Model, Union, UnknownVariant, one

__all__ = [
    "AssistantTool",
    "AssistantToolChoice",
    "AssistantToolChoiceFunction",
    "CodeInterpreterTool",
    "FileSearchRankingOptions",
    "FileSearchTool",
    "FileSearchToolSettings",
    "FunctionDefinition",
    "FunctionTool",
    "ResponseFormatJSONObject",
    "ResponseFormatJSONSchema",
    "ResponseFormatJSONSchemaSpec",
    "ResponseFormatText",
    "UnknownResponseFormat",
    "UnknownTool",
    "UnknownToolChoice",
]


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterTool(Model):
    """The code_interpreter tool."""

    type: str = "code_interpreter"


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchRankingOptions(Model):
    """How file search ranks results: ``ranker`` and ``score_threshold``."""

    ranker: str | None = None
    score_threshold: float | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchToolSettings(Model):
    """Settings of the file_search tool."""

    max_num_results: int | None = None
    ranking_options: FileSearchRankingOptions | None = one(FileSearchRankingOptions)


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchTool(Model):
    """The file_search tool."""

    type: str = "file_search"
    file_search: FileSearchToolSettings | None = one(FileSearchToolSettings)


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionDefinition(Model):
    """A function the model may call: name, description, JSON Schema parameters."""

    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionTool(Model):
    """A function tool."""

    type: str = "function"
    function: FunctionDefinition | None = one(FunctionDefinition)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownTool(UnknownVariant):
    """A tool of a type this version does not know; ``raw`` keeps it whole."""


AssistantTool = CodeInterpreterTool | FileSearchTool | FunctionTool | UnknownTool
TOOL = Union(
    "type",
    {
        "code_interpreter": CodeInterpreterTool,
        "file_search": FileSearchTool,
        "function": FunctionTool,
    },
    UnknownTool,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class AssistantToolChoiceFunction(Model):
    """The function the model must call."""

    name: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class AssistantToolChoice(Model):
    """A specific tool the model must use."""

    type: str | None = None
    function: AssistantToolChoiceFunction | None = one(AssistantToolChoiceFunction)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownToolChoice(UnknownVariant):
    """A tool choice object of a shape this version does not know."""


#: ``tool_choice``: "none", "auto", "required" or an :class:`AssistantToolChoice`.
TOOL_CHOICE = Union(
    "type",
    {
        "function": AssistantToolChoice,
        "code_interpreter": AssistantToolChoice,
        "file_search": AssistantToolChoice,
    },
    UnknownToolChoice,
    scalars=True,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseFormatText(Model):
    """Plain text output."""

    type: str = "text"


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseFormatJSONObject(Model):
    """JSON mode."""

    type: str = "json_object"


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseFormatJSONSchemaSpec(Model):
    """A JSON Schema for structured outputs."""

    name: str | None = None
    description: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseFormatJSONSchema(Model):
    """Structured outputs with a JSON Schema."""

    type: str = "json_schema"
    json_schema: ResponseFormatJSONSchemaSpec | None = one(ResponseFormatJSONSchemaSpec)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownResponseFormat(UnknownVariant):
    """A response format of a type this version does not know."""


#: ``response_format``: "auto" or one of the response format objects.
RESPONSE_FORMAT = Union(
    "type",
    {
        "text": ResponseFormatText,
        "json_object": ResponseFormatJSONObject,
        "json_schema": ResponseFormatJSONSchema,
    },
    UnknownResponseFormat,
    scalars=True,
)
