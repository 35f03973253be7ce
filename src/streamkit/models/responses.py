"""Models of OpenAI's Responses API: the response, its output items, content parts, usage.

Declared like every other model (see :mod:`streamkit._model`): decoding keeps unknown
fields and absent ones, so ``to_dict()`` gives back exactly what came in; an output item,
content part or annotation of a type this version does not know becomes the union's
``Unknown...`` variant holding the raw object. Strings that stream in pieces (text,
refusals, reasoning, function arguments, custom tool input, MCP arguments, code) are
growable: the fold appends to them in O(len(piece)).

The payloads of the stream's events are in :mod:`streamkit.protocols.responses`.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._model import (
    GrowableStr,
    Model,
    Union,
    UnknownVariant,
    grow,
    integer,
    one,
    string,
    union_list,
)
from ._common import IncompleteDetails, Metadata

__all__ = [
    "ANNOTATION",
    "CONTENT",
    "OUTPUT_ITEM",
    "ApplyPatchCall",
    "CodeInterpreterCall",
    "ComputerCall",
    "ContainerFileCitation",
    "CustomToolCall",
    "FileCitation",
    "FilePath",
    "FileSearchCall",
    "FunctionCall",
    "ImageGenerationCall",
    "LocalShellCall",
    "McpApprovalRequest",
    "McpCall",
    "McpListTools",
    "OutputAnnotation",
    "OutputContent",
    "OutputItem",
    "OutputMessage",
    "OutputRefusal",
    "OutputText",
    "ReasoningItem",
    "ReasoningText",
    "Response",
    "ResponseError",
    "ResponseUsage",
    "ShellCall",
    "SummaryText",
    "URLCitation",
    "UnknownAnnotation",
    "UnknownContent",
    "UnknownOutputItem",
    "WebSearchCall",
]


# --- annotations ----------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class FileCitation(Model):
    """A citation of a file (file_search): ``file_id``, ``filename``, ``index`` in the text."""

    type: str = string(default="file_citation")
    file_id: str | None = string()
    filename: str | None = string()
    index: int | None = integer()


@attrs.define(slots=True, kw_only=True, eq=False)
class URLCitation(Model):
    """A citation of a web page (web_search): ``url``, ``title`` and the cited span."""

    type: str = string(default="url_citation")
    url: str | None = string()
    title: str | None = string()
    start_index: int | None = integer()
    end_index: int | None = integer()


@attrs.define(slots=True, kw_only=True, eq=False)
class ContainerFileCitation(Model):
    """A citation of a file in a code interpreter container."""

    type: str = string(default="container_file_citation")
    container_id: str | None = string()
    file_id: str | None = string()
    filename: str | None = string()
    start_index: int | None = integer()
    end_index: int | None = integer()


@attrs.define(slots=True, kw_only=True, eq=False)
class FilePath(Model):
    """A path to a file the model generated."""

    type: str = string(default="file_path")
    file_id: str | None = string()
    index: int | None = integer()


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownAnnotation(UnknownVariant):
    """An annotation of a type this version does not know; ``raw`` keeps it whole."""


OutputAnnotation = FileCitation | URLCitation | ContainerFileCitation | FilePath | UnknownAnnotation
ANNOTATION = Union(
    "type",
    {
        "file_citation": FileCitation,
        "url_citation": URLCitation,
        "container_file_citation": ContainerFileCitation,
        "file_path": FilePath,
    },
    UnknownAnnotation,
)


# --- content parts --------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class OutputText(Model):
    """A text part of a message: ``text``, its ``annotations`` and ``logprobs`` (as sent)."""

    type: str = string(default="output_text")
    _text: str | list[str] | None = grow(key="text")
    annotations: list[OutputAnnotation] | None = union_list(ANNOTATION)
    logprobs: list[Any] | None = None

    text = GrowableStr("_text")


@attrs.define(slots=True, kw_only=True, eq=False)
class OutputRefusal(Model):
    """A refusal part of a message: the model declined, ``refusal`` says why."""

    type: str = string(default="refusal")
    _refusal: str | list[str] | None = grow(key="refusal")

    refusal = GrowableStr("_refusal")


@attrs.define(slots=True, kw_only=True, eq=False)
class ReasoningText(Model):
    """A part of a reasoning item's ``content``: the reasoning ``text``."""

    type: str = string(default="reasoning_text")
    _text: str | list[str] | None = grow(key="text")

    text = GrowableStr("_text")


@attrs.define(slots=True, kw_only=True, eq=False)
class SummaryText(Model):
    """A part of a reasoning item's ``summary``: the summary ``text``."""

    type: str = string(default="summary_text")
    _text: str | list[str] | None = grow(key="text")

    text = GrowableStr("_text")


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownContent(UnknownVariant):
    """A content part of a type this version does not know; ``raw`` keeps it whole."""


OutputContent = OutputText | OutputRefusal | ReasoningText | SummaryText | UnknownContent
CONTENT = Union(
    "type",
    {
        "output_text": OutputText,
        "refusal": OutputRefusal,
        "reasoning_text": ReasoningText,
        "summary_text": SummaryText,
    },
    UnknownContent,
)


# --- output items ---------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class OutputMessage(Model):
    """An assistant message: ``content`` parts (output_text, refusal)."""

    id: str | None = string()
    type: str = string(default="message")
    status: str | None = string()
    role: str | None = string()
    content: list[OutputContent] | None = union_list(CONTENT)


@attrs.define(slots=True, kw_only=True, eq=False)
class ReasoningItem(Model):
    """The model's reasoning: ``summary`` parts, ``content`` (reasoning_text) parts, and
    ``encrypted_content`` when requested."""

    id: str | None = string()
    type: str = string(default="reasoning")
    status: str | None = string()
    summary: list[OutputContent] | None = union_list(CONTENT)
    content: list[OutputContent] | None = union_list(CONTENT)
    encrypted_content: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class FunctionCall(Model):
    """A call of a function tool: ``name``, the JSON ``arguments`` text, ``call_id``."""

    id: str | None = string()
    type: str = string(default="function_call")
    status: str | None = string()
    call_id: str | None = string()
    name: str | None = string()
    _arguments: str | list[str] | None = grow(key="arguments")

    arguments = GrowableStr("_arguments")


@attrs.define(slots=True, kw_only=True, eq=False)
class CustomToolCall(Model):
    """A call of a custom (free-form input) tool: ``name`` and its ``input`` text."""

    id: str | None = string()
    type: str = string(default="custom_tool_call")
    status: str | None = string()
    call_id: str | None = string()
    name: str | None = string()
    _input: str | list[str] | None = grow(key="input")

    input = GrowableStr("_input")


@attrs.define(slots=True, kw_only=True, eq=False)
class FileSearchCall(Model):
    """A hosted file search: its ``queries`` and ``results`` (as sent)."""

    id: str | None = string()
    type: str = string(default="file_search_call")
    status: str | None = string()
    queries: list[Any] | None = None
    results: list[Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class WebSearchCall(Model):
    """A hosted web search: its ``action`` (search, open_page, find; as sent)."""

    id: str | None = string()
    type: str = string(default="web_search_call")
    status: str | None = string()
    action: dict[str, Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeInterpreterCall(Model):
    """A hosted code interpreter run: the ``code`` it ran and its ``outputs`` (as sent)."""

    id: str | None = string()
    type: str = string(default="code_interpreter_call")
    status: str | None = string()
    container_id: str | None = string()
    _code: str | list[str] | None = grow(key="code")
    outputs: list[Any] | None = None

    code = GrowableStr("_code")


@attrs.define(slots=True, kw_only=True, eq=False)
class ImageGenerationCall(Model):
    """A hosted image generation: ``result`` is the image, base64-encoded."""

    id: str | None = string()
    type: str = string(default="image_generation_call")
    status: str | None = string()
    result: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class McpCall(Model):
    """A call of a tool on a remote MCP server: ``server_label``, ``name``, ``arguments``,
    and its ``output`` or ``error``."""

    id: str | None = string()
    type: str = string(default="mcp_call")
    status: str | None = string()
    server_label: str | None = string()
    name: str | None = string()
    _arguments: str | list[str] | None = grow(key="arguments")
    output: str | None = None
    error: Any = None
    approval_request_id: str | None = string()

    arguments = GrowableStr("_arguments")


@attrs.define(slots=True, kw_only=True, eq=False)
class McpListTools(Model):
    """The tools a remote MCP server offers (``tools``, as sent), or its ``error``."""

    id: str | None = string()
    type: str = string(default="mcp_list_tools")
    status: str | None = string()
    server_label: str | None = string()
    tools: list[Any] | None = None
    error: Any = None


@attrs.define(slots=True, kw_only=True, eq=False)
class McpApprovalRequest(Model):
    """A request for the user's approval before an MCP tool call."""

    id: str | None = string()
    type: str = string(default="mcp_approval_request")
    status: str | None = string()
    server_label: str | None = string()
    name: str | None = string()
    arguments: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ComputerCall(Model):
    """A computer-use action to perform (``action``, as sent)."""

    id: str | None = string()
    type: str = string(default="computer_call")
    status: str | None = string()
    call_id: str | None = string()
    action: dict[str, Any] | None = None
    pending_safety_checks: list[Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class LocalShellCall(Model):
    """A command for a local shell tool (``action``, as sent)."""

    id: str | None = string()
    type: str = string(default="local_shell_call")
    status: str | None = string()
    call_id: str | None = string()
    action: dict[str, Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ShellCall(Model):
    """Commands for the shell tool (``action``, as sent)."""

    id: str | None = string()
    type: str = string(default="shell_call")
    status: str | None = string()
    call_id: str | None = string()
    action: dict[str, Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ApplyPatchCall(Model):
    """A file edit for the apply_patch tool (``operation``, as sent)."""

    id: str | None = string()
    type: str = string(default="apply_patch_call")
    status: str | None = string()
    call_id: str | None = string()
    operation: dict[str, Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownOutputItem(UnknownVariant):
    """An output item of a type this version does not know; ``raw`` keeps it whole."""


OutputItem = (
    OutputMessage
    | ReasoningItem
    | FunctionCall
    | CustomToolCall
    | FileSearchCall
    | WebSearchCall
    | CodeInterpreterCall
    | ImageGenerationCall
    | McpCall
    | McpListTools
    | McpApprovalRequest
    | ComputerCall
    | LocalShellCall
    | ShellCall
    | ApplyPatchCall
    | UnknownOutputItem
)
OUTPUT_ITEM = Union(
    "type",
    {
        "message": OutputMessage,
        "reasoning": ReasoningItem,
        "function_call": FunctionCall,
        "custom_tool_call": CustomToolCall,
        "file_search_call": FileSearchCall,
        "web_search_call": WebSearchCall,
        "code_interpreter_call": CodeInterpreterCall,
        "image_generation_call": ImageGenerationCall,
        "mcp_call": McpCall,
        "mcp_list_tools": McpListTools,
        "mcp_approval_request": McpApprovalRequest,
        "computer_call": ComputerCall,
        "local_shell_call": LocalShellCall,
        "shell_call": ShellCall,
        "apply_patch_call": ApplyPatchCall,
    },
    UnknownOutputItem,
)


# --- the response ---------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseUsage(Model):
    """Token usage of a response (``*_details`` as sent)."""

    input_tokens: int | None = None
    input_tokens_details: dict[str, Any] | None = None
    output_tokens: int | None = None
    output_tokens_details: dict[str, Any] | None = None
    total_tokens: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ResponseError(Model):
    """Why a response failed, or an ``error`` event's error: ``code`` and ``message``."""

    code: str | None = None
    message: str | None = string()
    param: str | None = None
    type: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class Response(Model):
    """A response (``object``: ``response``): its ``status`` and ``output`` items.

    Request settings the API echoes back (``tools``, ``reasoning``, ``text`` ...) are kept
    as sent; fields not listed here are kept in ``extra``.
    """

    id: str = string(required=True)
    object: str | None = string()
    created_at: int | None = None
    completed_at: int | None = None
    status: str | None = string()
    background: bool | None = None
    error: ResponseError | None = one(ResponseError)
    incomplete_details: IncompleteDetails | None = one(IncompleteDetails)
    instructions: Any = None
    model: str | None = string()
    output: list[OutputItem] | None = union_list(OUTPUT_ITEM)
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = string()
    reasoning: dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    tool_choice: Any = None
    tools: list[Any] | None = None
    usage: ResponseUsage | None = one(ResponseUsage)
    metadata: Metadata | None = None
