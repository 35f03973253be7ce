"""The Responses API's stream events: payload models, event classes, the table, decode.

Every event of the streaming union has a class here (``ResponseOutputTextDelta`` for
``response.output_text.delta`` ...) whose ``data`` is its payload model; every payload
has ``type`` and ``sequence_number``. :data:`EVENTS` is the protocol's table (see
:class:`~streamkit.protocols.EventSpec`): the fold routes by it.

:func:`decode` reads one Server-Sent Event. The name comes from the ``event:`` line, or,
when a frame has none (some servers send only ``data:``), from the JSON's ``type``.
``data: [DONE]`` is the terminator (:class:`~streamkit.events.DoneEvent`). An event
outside the union (``keepalive``, ``response.rate_limits.updated``) is an
:class:`~streamkit.events.UnknownEvent` holding its name and parsed data. Bad data raises
:class:`~streamkit.MalformedEventError` naming the event, where it was and the raw text
(``tolerant=True``: a :class:`~streamkit.events.MalformedEvent` value instead).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs
import orjson

from ..._errors import MalformedEventError
from ..._model import (
    InexactNumber,
    Model,
    ShapeError,
    check_json,
    exact_numbers,
    integer,
    one,
    string,
    union,
)
from ...events import DoneEvent, Event, MalformedEvent, UnknownEvent
from ...models.responses import ANNOTATION, CONTENT, OUTPUT_ITEM, Response, ResponseError
from .. import EventSpec

if TYPE_CHECKING:
    from ...models.responses import OutputAnnotation, OutputContent, OutputItem
    from ...sse import ServerSentEvent

__all__ = [
    "EVENTS",
    "AnnotationAddedData",
    "ArgumentsDoneData",
    "CodeDoneData",
    "ContentPartData",
    "ErrorData",
    "InputDoneData",
    "ItemDeltaData",
    "ItemStatusData",
    "LifecycleData",
    "OutputItemData",
    "PartialImageData",
    "ReasoningTextDeltaData",
    "ReasoningTextDoneData",
    "RefusalDeltaData",
    "RefusalDoneData",
    "ResponseCancelled",
    "ResponseCodeInterpreterCallCodeDelta",
    "ResponseCodeInterpreterCallCodeDone",
    "ResponseCodeInterpreterCallCompleted",
    "ResponseCodeInterpreterCallInProgress",
    "ResponseCodeInterpreterCallInterpreting",
    "ResponseCompleted",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreated",
    "ResponseCustomToolCallInputDelta",
    "ResponseCustomToolCallInputDone",
    "ResponseErrorEvent",
    "ResponseFailed",
    "ResponseFileSearchCallCompleted",
    "ResponseFileSearchCallInProgress",
    "ResponseFileSearchCallSearching",
    "ResponseFunctionCallArgumentsDelta",
    "ResponseFunctionCallArgumentsDone",
    "ResponseImageGenerationCallCompleted",
    "ResponseImageGenerationCallGenerating",
    "ResponseImageGenerationCallInProgress",
    "ResponseImageGenerationCallPartialImage",
    "ResponseInProgress",
    "ResponseIncomplete",
    "ResponseMcpCallArgumentsDelta",
    "ResponseMcpCallArgumentsDone",
    "ResponseMcpCallCompleted",
    "ResponseMcpCallFailed",
    "ResponseMcpCallInProgress",
    "ResponseMcpListToolsCompleted",
    "ResponseMcpListToolsFailed",
    "ResponseMcpListToolsInProgress",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseOutputTextAnnotationAdded",
    "ResponseOutputTextDelta",
    "ResponseOutputTextDone",
    "ResponseQueued",
    "ResponseReasoningSummaryPartAdded",
    "ResponseReasoningSummaryPartDone",
    "ResponseReasoningSummaryTextDelta",
    "ResponseReasoningSummaryTextDone",
    "ResponseReasoningTextDelta",
    "ResponseReasoningTextDone",
    "ResponseRefusalDelta",
    "ResponseRefusalDone",
    "ResponseWebSearchCallCompleted",
    "ResponseWebSearchCallInProgress",
    "ResponseWebSearchCallSearching",
    "SummaryPartData",
    "SummaryTextDeltaData",
    "SummaryTextDoneData",
    "TextDeltaData",
    "TextDoneData",
    "decode",
]


# --- payloads -------------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class LifecycleData(Model):
    """The payload of ``response.created`` ... ``response.failed``: the whole ``response``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    response: Response = one(Response, required=True)


@attrs.define(slots=True, kw_only=True, eq=False)
class OutputItemData(Model):
    """The payload of ``response.output_item.added`` / ``.done``: the ``item`` at
    ``output_index``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    output_index: int | None = integer()
    item: OutputItem = union(OUTPUT_ITEM, required=True)


@attrs.define(slots=True, kw_only=True, eq=False)
class ContentPartData(Model):
    """The payload of ``response.content_part.added`` / ``.done``: the ``part`` at
    ``content_index`` of item ``item_id``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    part: OutputContent = union(CONTENT, required=True)


@attrs.define(slots=True, kw_only=True, eq=False)
class TextDeltaData(Model):
    """The payload of ``response.output_text.delta``: the ``delta`` text (and its
    ``logprobs``, as sent) for the part at ``content_index`` of item ``item_id``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    delta: str | None = string()
    logprobs: list[Any] | None = None
    obfuscation: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class TextDoneData(Model):
    """The payload of ``response.output_text.done``: the part's whole ``text``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    text: str | None = string()
    logprobs: list[Any] | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class AnnotationAddedData(Model):
    """The payload of ``response.output_text.annotation.added``: the ``annotation`` at
    ``annotation_index`` of the text part at ``content_index``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    annotation_index: int | None = integer()
    annotation: OutputAnnotation = union(ANNOTATION, required=True)

    @property
    def delta(self) -> str:
        """No text ("", as ``on_text_delta`` reads ``delta.delta`` of any text event)."""
        return ""


@attrs.define(slots=True, kw_only=True, eq=False)
class RefusalDeltaData(Model):
    """The payload of ``response.refusal.delta``: a piece (``delta``) of a refusal."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    delta: str | None = string()
    obfuscation: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class RefusalDoneData(Model):
    """The payload of ``response.refusal.done``: the whole ``refusal``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    refusal: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class SummaryPartData(Model):
    """The payload of ``response.reasoning_summary_part.added`` / ``.done``: the summary
    ``part`` at ``summary_index`` of reasoning item ``item_id``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    summary_index: int | None = integer()
    part: OutputContent = union(CONTENT, required=True)


@attrs.define(slots=True, kw_only=True, eq=False)
class SummaryTextDeltaData(Model):
    """The payload of ``response.reasoning_summary_text.delta``: a piece of summary."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    summary_index: int | None = integer()
    delta: str | None = string()
    obfuscation: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class SummaryTextDoneData(Model):
    """The payload of ``response.reasoning_summary_text.done``: the summary part's text."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    summary_index: int | None = integer()
    text: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ReasoningTextDeltaData(Model):
    """The payload of ``response.reasoning_text.delta``: a piece of reasoning text."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    delta: str | None = string()
    obfuscation: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ReasoningTextDoneData(Model):
    """The payload of ``response.reasoning_text.done``: the reasoning part's whole text."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    content_index: int | None = integer()
    text: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ItemDeltaData(Model):
    """The payload of an item's text delta (function or MCP arguments, custom tool input,
    code interpreter code): the ``delta`` piece for item ``item_id``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    delta: str | None = string()
    obfuscation: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ArgumentsDoneData(Model):
    """The payload of ``response.function_call_arguments.done`` and
    ``response.mcp_call_arguments.done``: the whole ``arguments``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    arguments: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class InputDoneData(Model):
    """The payload of ``response.custom_tool_call_input.done``: the whole ``input``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    input: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class CodeDoneData(Model):
    """The payload of ``response.code_interpreter_call_code.done``: the whole ``code``."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    code: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ItemStatusData(Model):
    """The payload of a hosted tool's status event (``...searching``, ``...completed``):
    which item (``item_id``, ``output_index``); the event's name says the status."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()


@attrs.define(slots=True, kw_only=True, eq=False)
class PartialImageData(Model):
    """The payload of ``response.image_generation_call.partial_image``: partial image
    number ``partial_image_index``, base64-encoded."""

    type: str | None = string()
    sequence_number: int | None = integer()
    item_id: str | None = string()
    output_index: int | None = integer()
    partial_image_index: int | None = integer()
    partial_image_b64: str | None = string()


@attrs.define(slots=True, kw_only=True, eq=False)
class ErrorData(Model):
    """The payload of ``error``: ``code``, ``message`` and ``param`` at the top level, or
    nested in ``error`` (as the live service sends it); :attr:`details` reads either."""

    type: str | None = string()
    sequence_number: int | None = integer()
    code: str | None = None
    message: str | None = string()
    param: str | None = None
    error: ResponseError | None = one(ResponseError)

    @property
    def details(self) -> ResponseError:
        """The error: the nested object when there is one, else the top-level fields."""
        if self.error is not None:
            return self.error
        return ResponseError(code=self.code, message=self.message, param=self.param)


# --- events ---------------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True)
class ResponseCreated(Event):
    """``response.created``: a new response."""

    EVENT = "response.created"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseQueued(Event):
    """``response.queued``: the response waits to start."""

    EVENT = "response.queued"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseInProgress(Event):
    """``response.in_progress``: the response is being generated."""

    EVENT = "response.in_progress"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseCompleted(Event):
    """``response.completed``: the response completed."""

    EVENT = "response.completed"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseIncomplete(Event):
    """``response.incomplete``: the response ended incomplete."""

    EVENT = "response.incomplete"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseCancelled(Event):
    """``response.cancelled``: a background response was cancelled (not in the service's
    published union; the emulator ends a cancelled background stream with it, and a
    service that sends it is read as sent)."""

    EVENT = "response.cancelled"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseFailed(Event):
    """``response.failed``: the response failed."""

    EVENT = "response.failed"
    data: LifecycleData


@attrs.define(slots=True, kw_only=True)
class ResponseOutputItemAdded(Event):
    """``response.output_item.added``: a new output item."""

    EVENT = "response.output_item.added"
    data: OutputItemData


@attrs.define(slots=True, kw_only=True)
class ResponseOutputItemDone(Event):
    """``response.output_item.done``: an output item is complete."""

    EVENT = "response.output_item.done"
    data: OutputItemData


@attrs.define(slots=True, kw_only=True)
class ResponseContentPartAdded(Event):
    """``response.content_part.added``: a new content part of a message."""

    EVENT = "response.content_part.added"
    data: ContentPartData


@attrs.define(slots=True, kw_only=True)
class ResponseContentPartDone(Event):
    """``response.content_part.done``: a content part is complete."""

    EVENT = "response.content_part.done"
    data: ContentPartData


@attrs.define(slots=True, kw_only=True)
class ResponseOutputTextDelta(Event):
    """``response.output_text.delta``: a piece of text."""

    EVENT = "response.output_text.delta"
    data: TextDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseOutputTextDone(Event):
    """``response.output_text.done``: a text part's whole text."""

    EVENT = "response.output_text.done"
    data: TextDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseOutputTextAnnotationAdded(Event):
    """``response.output_text.annotation.added``: an annotation of a text part."""

    EVENT = "response.output_text.annotation.added"
    data: AnnotationAddedData


@attrs.define(slots=True, kw_only=True)
class ResponseRefusalDelta(Event):
    """``response.refusal.delta``: a piece of a refusal."""

    EVENT = "response.refusal.delta"
    data: RefusalDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseRefusalDone(Event):
    """``response.refusal.done``: a refusal's whole text."""

    EVENT = "response.refusal.done"
    data: RefusalDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningSummaryPartAdded(Event):
    """``response.reasoning_summary_part.added``: a new reasoning summary part."""

    EVENT = "response.reasoning_summary_part.added"
    data: SummaryPartData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningSummaryPartDone(Event):
    """``response.reasoning_summary_part.done``: a reasoning summary part is complete."""

    EVENT = "response.reasoning_summary_part.done"
    data: SummaryPartData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningSummaryTextDelta(Event):
    """``response.reasoning_summary_text.delta``: a piece of a reasoning summary."""

    EVENT = "response.reasoning_summary_text.delta"
    data: SummaryTextDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningSummaryTextDone(Event):
    """``response.reasoning_summary_text.done``: a reasoning summary part's whole text."""

    EVENT = "response.reasoning_summary_text.done"
    data: SummaryTextDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningTextDelta(Event):
    """``response.reasoning_text.delta``: a piece of reasoning text."""

    EVENT = "response.reasoning_text.delta"
    data: ReasoningTextDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseReasoningTextDone(Event):
    """``response.reasoning_text.done``: a reasoning text part's whole text."""

    EVENT = "response.reasoning_text.done"
    data: ReasoningTextDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseFunctionCallArgumentsDelta(Event):
    """``response.function_call_arguments.delta``: a piece of a function call's arguments."""

    EVENT = "response.function_call_arguments.delta"
    data: ItemDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseFunctionCallArgumentsDone(Event):
    """``response.function_call_arguments.done``: a function call's whole arguments."""

    EVENT = "response.function_call_arguments.done"
    data: ArgumentsDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseCustomToolCallInputDelta(Event):
    """``response.custom_tool_call_input.delta``: a piece of a custom tool call's input."""

    EVENT = "response.custom_tool_call_input.delta"
    data: ItemDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseCustomToolCallInputDone(Event):
    """``response.custom_tool_call_input.done``: a custom tool call's whole input."""

    EVENT = "response.custom_tool_call_input.done"
    data: InputDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpCallArgumentsDelta(Event):
    """``response.mcp_call_arguments.delta``: a piece of an MCP call's arguments."""

    EVENT = "response.mcp_call_arguments.delta"
    data: ItemDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpCallArgumentsDone(Event):
    """``response.mcp_call_arguments.done``: an MCP call's whole arguments."""

    EVENT = "response.mcp_call_arguments.done"
    data: ArgumentsDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseCodeInterpreterCallCodeDelta(Event):
    """``response.code_interpreter_call_code.delta``: a piece of a code interpreter's code."""

    EVENT = "response.code_interpreter_call_code.delta"
    data: ItemDeltaData


@attrs.define(slots=True, kw_only=True)
class ResponseCodeInterpreterCallCodeDone(Event):
    """``response.code_interpreter_call_code.done``: the whole code a code interpreter runs."""

    EVENT = "response.code_interpreter_call_code.done"
    data: CodeDoneData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpCallInProgress(Event):
    """``response.mcp_call.in_progress``: an MCP call started."""

    EVENT = "response.mcp_call.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpCallCompleted(Event):
    """``response.mcp_call.completed``: an MCP call completed."""

    EVENT = "response.mcp_call.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpCallFailed(Event):
    """``response.mcp_call.failed``: an MCP call failed."""

    EVENT = "response.mcp_call.failed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpListToolsInProgress(Event):
    """``response.mcp_list_tools.in_progress``: listing an MCP server's tools started."""

    EVENT = "response.mcp_list_tools.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpListToolsCompleted(Event):
    """``response.mcp_list_tools.completed``: an MCP server's tools were listed."""

    EVENT = "response.mcp_list_tools.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseMcpListToolsFailed(Event):
    """``response.mcp_list_tools.failed``: listing an MCP server's tools failed."""

    EVENT = "response.mcp_list_tools.failed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseFileSearchCallInProgress(Event):
    """``response.file_search_call.in_progress``: a file search started."""

    EVENT = "response.file_search_call.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseFileSearchCallSearching(Event):
    """``response.file_search_call.searching``: a file search is searching."""

    EVENT = "response.file_search_call.searching"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseFileSearchCallCompleted(Event):
    """``response.file_search_call.completed``: a file search completed."""

    EVENT = "response.file_search_call.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseWebSearchCallInProgress(Event):
    """``response.web_search_call.in_progress``: a web search started."""

    EVENT = "response.web_search_call.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseWebSearchCallSearching(Event):
    """``response.web_search_call.searching``: a web search is searching."""

    EVENT = "response.web_search_call.searching"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseWebSearchCallCompleted(Event):
    """``response.web_search_call.completed``: a web search completed."""

    EVENT = "response.web_search_call.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseCodeInterpreterCallInProgress(Event):
    """``response.code_interpreter_call.in_progress``: a code interpreter call started."""

    EVENT = "response.code_interpreter_call.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseCodeInterpreterCallInterpreting(Event):
    """``response.code_interpreter_call.interpreting``: a code interpreter is running its code."""

    EVENT = "response.code_interpreter_call.interpreting"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseCodeInterpreterCallCompleted(Event):
    """``response.code_interpreter_call.completed``: a code interpreter call completed."""

    EVENT = "response.code_interpreter_call.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseImageGenerationCallInProgress(Event):
    """``response.image_generation_call.in_progress``: an image generation started."""

    EVENT = "response.image_generation_call.in_progress"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseImageGenerationCallGenerating(Event):
    """``response.image_generation_call.generating``: an image is being generated."""

    EVENT = "response.image_generation_call.generating"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseImageGenerationCallCompleted(Event):
    """``response.image_generation_call.completed``: an image generation completed."""

    EVENT = "response.image_generation_call.completed"
    data: ItemStatusData


@attrs.define(slots=True, kw_only=True)
class ResponseImageGenerationCallPartialImage(Event):
    """``response.image_generation_call.partial_image``: a partial image, base64-encoded."""

    EVENT = "response.image_generation_call.partial_image"
    data: PartialImageData


@attrs.define(slots=True, kw_only=True)
class ResponseErrorEvent(Event):
    """``error``: the server reports an error (a ``response.failed`` usually follows)."""

    EVENT = "error"
    data: ErrorData


#: The Responses protocol's event table: one row per event name.
EVENTS: dict[str, EventSpec] = {
    spec.name: spec
    for spec in (
        EventSpec("response.created", ResponseCreated, LifecycleData, "response"),
        EventSpec("response.queued", ResponseQueued, LifecycleData, "response", "queued"),
        EventSpec(
            "response.in_progress", ResponseInProgress, LifecycleData, "response", "in_progress"
        ),
        EventSpec("response.completed", ResponseCompleted, LifecycleData, "response", "completed"),
        EventSpec(
            "response.incomplete", ResponseIncomplete, LifecycleData, "response", "incomplete"
        ),
        EventSpec("response.failed", ResponseFailed, LifecycleData, "response", "failed"),
        EventSpec("response.cancelled", ResponseCancelled, LifecycleData, "response", "cancelled"),
        EventSpec("response.output_item.added", ResponseOutputItemAdded, OutputItemData, "item"),
        EventSpec("response.output_item.done", ResponseOutputItemDone, OutputItemData, "item"),
        EventSpec("response.content_part.added", ResponseContentPartAdded, ContentPartData, "part"),
        EventSpec("response.content_part.done", ResponseContentPartDone, ContentPartData, "part"),
        EventSpec(
            "response.output_text.delta", ResponseOutputTextDelta, TextDeltaData, "part", delta=True
        ),
        EventSpec("response.output_text.done", ResponseOutputTextDone, TextDoneData, "part"),
        EventSpec(
            "response.output_text.annotation.added",
            ResponseOutputTextAnnotationAdded,
            AnnotationAddedData,
            "part",
            delta=True,
        ),
        EventSpec(
            "response.refusal.delta", ResponseRefusalDelta, RefusalDeltaData, "part", delta=True
        ),
        EventSpec("response.refusal.done", ResponseRefusalDone, RefusalDoneData, "part"),
        EventSpec(
            "response.reasoning_summary_part.added",
            ResponseReasoningSummaryPartAdded,
            SummaryPartData,
            "summary",
        ),
        EventSpec(
            "response.reasoning_summary_part.done",
            ResponseReasoningSummaryPartDone,
            SummaryPartData,
            "summary",
        ),
        EventSpec(
            "response.reasoning_summary_text.delta",
            ResponseReasoningSummaryTextDelta,
            SummaryTextDeltaData,
            "summary",
            delta=True,
        ),
        EventSpec(
            "response.reasoning_summary_text.done",
            ResponseReasoningSummaryTextDone,
            SummaryTextDoneData,
            "summary",
        ),
        EventSpec(
            "response.reasoning_text.delta",
            ResponseReasoningTextDelta,
            ReasoningTextDeltaData,
            "part",
            delta=True,
        ),
        EventSpec(
            "response.reasoning_text.done", ResponseReasoningTextDone, ReasoningTextDoneData, "part"
        ),
        EventSpec(
            "response.function_call_arguments.delta",
            ResponseFunctionCallArgumentsDelta,
            ItemDeltaData,
            "item",
            delta=True,
        ),
        EventSpec(
            "response.function_call_arguments.done",
            ResponseFunctionCallArgumentsDone,
            ArgumentsDoneData,
            "item",
        ),
        EventSpec(
            "response.custom_tool_call_input.delta",
            ResponseCustomToolCallInputDelta,
            ItemDeltaData,
            "item",
            delta=True,
        ),
        EventSpec(
            "response.custom_tool_call_input.done",
            ResponseCustomToolCallInputDone,
            InputDoneData,
            "item",
        ),
        EventSpec(
            "response.mcp_call_arguments.delta",
            ResponseMcpCallArgumentsDelta,
            ItemDeltaData,
            "item",
            delta=True,
        ),
        EventSpec(
            "response.mcp_call_arguments.done",
            ResponseMcpCallArgumentsDone,
            ArgumentsDoneData,
            "item",
        ),
        EventSpec(
            "response.code_interpreter_call_code.delta",
            ResponseCodeInterpreterCallCodeDelta,
            ItemDeltaData,
            "item",
            delta=True,
        ),
        EventSpec(
            "response.code_interpreter_call_code.done",
            ResponseCodeInterpreterCallCodeDone,
            CodeDoneData,
            "item",
        ),
        EventSpec(
            "response.mcp_call.in_progress",
            ResponseMcpCallInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.mcp_call.completed",
            ResponseMcpCallCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.mcp_call.failed", ResponseMcpCallFailed, ItemStatusData, "item", "failed"
        ),
        EventSpec(
            "response.mcp_list_tools.in_progress",
            ResponseMcpListToolsInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.mcp_list_tools.completed",
            ResponseMcpListToolsCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.mcp_list_tools.failed",
            ResponseMcpListToolsFailed,
            ItemStatusData,
            "item",
            "failed",
        ),
        EventSpec(
            "response.file_search_call.in_progress",
            ResponseFileSearchCallInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.file_search_call.searching",
            ResponseFileSearchCallSearching,
            ItemStatusData,
            "item",
            "searching",
        ),
        EventSpec(
            "response.file_search_call.completed",
            ResponseFileSearchCallCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.web_search_call.in_progress",
            ResponseWebSearchCallInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.web_search_call.searching",
            ResponseWebSearchCallSearching,
            ItemStatusData,
            "item",
            "searching",
        ),
        EventSpec(
            "response.web_search_call.completed",
            ResponseWebSearchCallCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.code_interpreter_call.in_progress",
            ResponseCodeInterpreterCallInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.code_interpreter_call.interpreting",
            ResponseCodeInterpreterCallInterpreting,
            ItemStatusData,
            "item",
            "interpreting",
        ),
        EventSpec(
            "response.code_interpreter_call.completed",
            ResponseCodeInterpreterCallCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.image_generation_call.in_progress",
            ResponseImageGenerationCallInProgress,
            ItemStatusData,
            "item",
            "in_progress",
        ),
        EventSpec(
            "response.image_generation_call.generating",
            ResponseImageGenerationCallGenerating,
            ItemStatusData,
            "item",
            "generating",
        ),
        EventSpec(
            "response.image_generation_call.completed",
            ResponseImageGenerationCallCompleted,
            ItemStatusData,
            "item",
            "completed",
        ),
        EventSpec(
            "response.image_generation_call.partial_image",
            ResponseImageGenerationCallPartialImage,
            PartialImageData,
            "item",
            delta=True,
        ),
        EventSpec("error", ResponseErrorEvent, ErrorData, "error"),
        EventSpec("done", DoneEvent, None, "done"),
    )
}

_new = object.__new__
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_TABLE: dict[str, tuple[type[Event], Any]] = {
    name: (spec.event_class, spec.model._decoder())
    for name, spec in EVENTS.items()
    if spec.model is not None
}
#: The name of an SSE frame without an ``event:`` line.
_UNNAMED = "message"


def _malformed(sse: ServerSentEvent, name: str, reason: str, path: str | None = None) -> Any:
    return MalformedEventError(
        reason,
        event=name,
        data=sse.data,
        id=sse.id,
        offset=getattr(sse, "offset", None),
        line=getattr(sse, "line", None),
        path=path,
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_EXACT = json.JSONDecoder(parse_constant=_no_constant)


def _parse(text: str) -> tuple[Any, bool]:
    """Parse ``text`` (orjson, or exactly by the standard library when orjson reads a
    number inexactly or refuses the text); return the value and whether it was exact."""
    try:
        value = _loads(text)
    except _JSONDecodeError:
        return _EXACT.decode(text), True
    try:
        check_json(value)
    except InexactNumber:
        return _EXACT.decode(text), True
    return value, False


def decode(sse: ServerSentEvent, *, tolerant: bool = False) -> Event:
    """Decode one Server-Sent Event of a Responses stream into a typed event.

    Raises :class:`~streamkit.MalformedEventError` when the data is not JSON or not of its
    event's shape; ``tolerant=True`` returns a :class:`~streamkit.events.MalformedEvent`
    instead.
    """
    name = sse.event
    entry = _TABLE.get(name)
    if entry is not None:
        try:
            data = entry[1](_loads(sse.data))
        except (_JSONDecodeError, InexactNumber):
            return _slow(sse, name, tolerant)
        except ShapeError as e:
            return _bad(sse, name, e.reason, e.where(), tolerant)
        event = _new(entry[0])
        event.data = data
        event.sse = sse
        event.warning = None
        return event
    return _slow(sse, name, tolerant)


def _bad(sse: ServerSentEvent, name: str, reason: str, path: str | None, tolerant: bool) -> Event:
    error = _malformed(sse, name, reason, path)
    if tolerant:
        return MalformedEvent(name=name, raw=sse.data, error=error, sse=sse)
    raise error from None


def _slow(sse: ServerSentEvent, name: str, tolerant: bool) -> Event:
    """Off the hot path: an unnamed frame, ``[DONE]``, an event outside the table, or
    data orjson could not read exactly."""
    text = sse.data
    if text.strip() == "[DONE]" or (name == "done" and name not in _TABLE):
        return DoneEvent(sse=sse)
    try:
        payload, exact = _parse(text)
    except (ValueError, RecursionError) as e:  # json.JSONDecodeError is a ValueError
        if name in _TABLE:
            reason = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            return _bad(sse, name, f"data is not valid JSON: {reason}", None, tolerant)
        return UnknownEvent(name=name, raw=text, data=None, sse=sse)
    tag = payload.get("type") if payload.__class__ is dict else None
    if name == _UNNAMED and tag.__class__ is str:
        name = tag
    entry = _TABLE.get(name)
    if entry is None:
        try:
            with exact_numbers():
                check_json(payload)
        except ShapeError:
            payload = None
        return UnknownEvent(name=name, raw=text, data=payload, sse=sse)
    try:
        if exact:
            with exact_numbers():
                data = entry[1](payload)
        else:
            data = entry[1](payload)
    except ShapeError as e:
        return _bad(sse, name, e.reason, e.where(), tolerant)
    return entry[0](data=data, sse=sse)
