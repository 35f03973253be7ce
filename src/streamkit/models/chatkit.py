"""ChatKit: sessions and their configuration, threads, thread items, attachments, pages.

A public submodule of its own (``streamkit.models.chatkit``): ChatKit is a separate API
from the Assistants stream. Every name here is also importable from ``streamkit.models``,
as in 0.1.0.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .._model import Model, Union, UnknownVariant, many, one, union, union_list

__all__ = [
    "ChatKitAttachment",
    "ChatKitClientToolCall",
    "ChatKitResponseOutputText",
    "ChatKitResponseOutputTextAnnotation",
    "ChatKitResponseOutputTextAnnotationFile",
    "ChatKitResponseOutputTextAnnotationFileSource",
    "ChatKitResponseOutputTextAnnotationURL",
    "ChatKitResponseOutputTextAnnotationURLSource",
    "ChatKitTask",
    "ChatKitTaskGroup",
    "ChatKitTaskGroupTask",
    "ChatKitThread",
    "ChatKitThreadAssistantMessageItem",
    "ChatKitThreadDeleted",
    "ChatKitThreadItem",
    "ChatKitThreadItemList",
    "ChatKitThreadList",
    "ChatKitThreadStatus",
    "ChatKitThreadStatusActive",
    "ChatKitThreadStatusClosed",
    "ChatKitThreadStatusLocked",
    "ChatKitThreadUserMessageItem",
    "ChatKitThreadUserMessageItemContent",
    "ChatKitThreadUserMessageItemContentInputText",
    "ChatKitThreadUserMessageItemContentQuotedText",
    "ChatKitThreadUserMessageItemInferenceOptions",
    "ChatKitThreadUserMessageItemInferenceOptionsToolChoice",
    "ChatKitWidgetItem",
    "ChatKitWorkflow",
    "ChatKitWorkflowTracing",
    "ChatSession",
    "ChatSessionAutomaticThreadTitling",
    "ChatSessionChatKitConfiguration",
    "ChatSessionChatKitConfigurationParam",
    "ChatSessionChatKitConfigurationParamAutomaticThreadTitling",
    "ChatSessionChatKitConfigurationParamFileUpload",
    "ChatSessionChatKitConfigurationParamHistory",
    "ChatSessionExpiresAfterParam",
    "ChatSessionFileUpload",
    "ChatSessionHistory",
    "ChatSessionRateLimits",
    "ChatSessionRateLimitsParam",
    "ChatSessionStatus",
    "ChatSessionWorkflowParam",
    "ChatSessionWorkflowParamTracing",
    "UnknownChatKitAnnotation",
    "UnknownChatKitThreadItem",
    "UnknownChatKitThreadStatus",
    "UnknownChatKitUserMessageContent",
]

#: The documented session statuses (``ChatSession.status`` may hold others later).
ChatSessionStatus = Literal["active", "expired", "cancelled"]


# --- workflow -----------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitWorkflowTracing(Model):
    """Tracing settings applied to a workflow: ``enabled``."""

    enabled: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitWorkflow(Model):
    """The workflow behind a session: ``id``, ``version``, state variables, tracing."""

    id: str
    state_variables: dict[str, Any] | None = None
    tracing: ChatKitWorkflowTracing | None = one(ChatKitWorkflowTracing)
    version: str | None = None


# --- sessions -----------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionAutomaticThreadTitling(Model):
    """Whether threads get titles generated automatically."""

    enabled: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionFileUpload(Model):
    """Upload permissions and limits of a session (sizes in megabytes)."""

    enabled: bool | None = None
    max_file_size: int | None = None
    max_files: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionHistory(Model):
    """History retention of a session; ``recent_threads`` is null when all is kept."""

    enabled: bool | None = None
    recent_threads: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionChatKitConfiguration(Model):
    """The resolved ChatKit features of a session."""

    automatic_thread_titling: ChatSessionAutomaticThreadTitling | None = one(
        ChatSessionAutomaticThreadTitling
    )
    file_upload: ChatSessionFileUpload | None = one(ChatSessionFileUpload)
    history: ChatSessionHistory | None = one(ChatSessionHistory)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionRateLimits(Model):
    """The resolved per-minute request limit of a session."""

    max_requests_per_1_minute: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSession(Model):
    """A ChatKit session and its resolved configuration (``object``: ``chatkit.session``).

    ``status`` is one of :data:`ChatSessionStatus` (or a newer value, kept as is).
    """

    id: str | None = None
    chatkit_configuration: ChatSessionChatKitConfiguration | None = one(
        ChatSessionChatKitConfiguration
    )
    client_secret: str | None = None
    expires_at: int | None = None
    max_requests_per_1_minute: int | None = None
    object: str | None = None
    rate_limits: ChatSessionRateLimits | None = one(ChatSessionRateLimits)
    status: str | None = None
    user: str | None = None
    workflow: ChatKitWorkflow | None = one(ChatKitWorkflow)


# --- session parameters (request bodies) --------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionChatKitConfigurationParamAutomaticThreadTitling(Model):
    """Requested automatic thread titling: ``enabled`` (default true)."""

    enabled: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionChatKitConfigurationParamFileUpload(Model):
    """Requested upload settings (default: disabled, 10 files, 512 MB)."""

    enabled: bool | None = None
    max_file_size: int | None = None
    max_files: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionChatKitConfigurationParamHistory(Model):
    """Requested history retention (default: enabled, unlimited ``recent_threads``)."""

    enabled: bool | None = None
    recent_threads: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionChatKitConfigurationParam(Model):
    """Per-session overrides of ChatKit features, as sent when creating a session."""

    automatic_thread_titling: ChatSessionChatKitConfigurationParamAutomaticThreadTitling | None = (
        one(ChatSessionChatKitConfigurationParamAutomaticThreadTitling)
    )
    file_upload: ChatSessionChatKitConfigurationParamFileUpload | None = one(
        ChatSessionChatKitConfigurationParamFileUpload
    )
    history: ChatSessionChatKitConfigurationParamHistory | None = one(
        ChatSessionChatKitConfigurationParamHistory
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionExpiresAfterParam(Model):
    """When a session expires: ``seconds`` after ``anchor`` (``created_at``)."""

    anchor: str | None = None
    seconds: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionRateLimitsParam(Model):
    """Requested per-minute request limit (default 10)."""

    max_requests_per_1_minute: int | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionWorkflowParamTracing(Model):
    """Requested tracing of the workflow: ``enabled`` (default true)."""

    enabled: bool | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatSessionWorkflowParam(Model):
    """The workflow a new session runs, with optional version, state and tracing."""

    id: str
    state_variables: dict[str, Any] | None = None
    tracing: ChatSessionWorkflowParamTracing | None = one(ChatSessionWorkflowParamTracing)
    version: str | None = None


# --- threads ------------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadStatusActive(Model):
    """The thread is active."""

    type: str = "active"


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadStatusLocked(Model):
    """The thread is locked and accepts no new input; ``reason`` may say why."""

    type: str = "locked"
    reason: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadStatusClosed(Model):
    """The thread was closed; ``reason`` may say why."""

    type: str = "closed"
    reason: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownChatKitThreadStatus(UnknownVariant):
    """A thread status of a type this version does not know; ``raw`` keeps it whole."""


ChatKitThreadStatus = (
    ChatKitThreadStatusActive
    | ChatKitThreadStatusLocked
    | ChatKitThreadStatusClosed
    | UnknownChatKitThreadStatus
)
THREAD_STATUS = Union(
    "type",
    {
        "active": ChatKitThreadStatusActive,
        "locked": ChatKitThreadStatusLocked,
        "closed": ChatKitThreadStatusClosed,
    },
    UnknownChatKitThreadStatus,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThread(Model):
    """A ChatKit thread and its status (``object``: ``chatkit.thread``)."""

    id: str
    created_at: int | None = None
    object: str | None = None
    status: ChatKitThreadStatus | None = union(THREAD_STATUS)
    title: str | None = None
    user: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadDeleted(Model):
    """The answer to deleting a ChatKit thread (``object``: ``chatkit.thread.deleted``)."""

    id: str
    deleted: bool | None = None
    object: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadList(Model):
    """A page of ChatKit threads (``object``: ``list``)."""

    data: list[ChatKitThread] | None = many(ChatKitThread)
    first_id: str | None = None
    has_more: bool | None = None
    last_id: str | None = None
    object: str | None = None


# --- thread item parts --------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitAttachment(Model):
    """An attachment of a thread item (``type``: ``image`` or ``file``)."""

    id: str
    mime_type: str | None = None
    name: str | None = None
    preview_url: str | None = None
    type: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitResponseOutputTextAnnotationFileSource(Model):
    """The uploaded file an annotation references."""

    filename: str | None = None
    type: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitResponseOutputTextAnnotationFile(Model):
    """An annotation that references an uploaded file."""

    type: str = "file"
    source: ChatKitResponseOutputTextAnnotationFileSource | None = one(
        ChatKitResponseOutputTextAnnotationFileSource
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitResponseOutputTextAnnotationURLSource(Model):
    """The URL an annotation references."""

    type: str | None = None
    url: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitResponseOutputTextAnnotationURL(Model):
    """An annotation that references a URL."""

    type: str = "url"
    source: ChatKitResponseOutputTextAnnotationURLSource | None = one(
        ChatKitResponseOutputTextAnnotationURLSource
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownChatKitAnnotation(UnknownVariant):
    """A ChatKit annotation of a type this version does not know."""


ChatKitResponseOutputTextAnnotation = (
    ChatKitResponseOutputTextAnnotationFile
    | ChatKitResponseOutputTextAnnotationURL
    | UnknownChatKitAnnotation
)
CHATKIT_ANNOTATION = Union(
    "type",
    {
        "file": ChatKitResponseOutputTextAnnotationFile,
        "url": ChatKitResponseOutputTextAnnotationURL,
    },
    UnknownChatKitAnnotation,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitResponseOutputText(Model):
    """A segment of an assistant's answer: ``text`` and its ``annotations``."""

    type: str | None = None
    text: str | None = None
    annotations: list[ChatKitResponseOutputTextAnnotation] | None = union_list(CHATKIT_ANNOTATION)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadUserMessageItemContentInputText(Model):
    """Text a user contributed."""

    type: str = "input_text"
    text: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadUserMessageItemContentQuotedText(Model):
    """A snippet the user quoted."""

    type: str = "quoted_text"
    text: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownChatKitUserMessageContent(UnknownVariant):
    """User message content of a type this version does not know."""


ChatKitThreadUserMessageItemContent = (
    ChatKitThreadUserMessageItemContentInputText
    | ChatKitThreadUserMessageItemContentQuotedText
    | UnknownChatKitUserMessageContent
)
USER_MESSAGE_CONTENT = Union(
    "type",
    {
        "input_text": ChatKitThreadUserMessageItemContentInputText,
        "quoted_text": ChatKitThreadUserMessageItemContentQuotedText,
    },
    UnknownChatKitUserMessageContent,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadUserMessageItemInferenceOptionsToolChoice(Model):
    """The tool a user message asks for: its ``id``."""

    id: str


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadUserMessageItemInferenceOptions(Model):
    """Inference overrides of a user message: ``model`` and ``tool_choice``."""

    model: str | None = None
    tool_choice: ChatKitThreadUserMessageItemInferenceOptionsToolChoice | None = one(
        ChatKitThreadUserMessageItemInferenceOptionsToolChoice
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitTaskGroupTask(Model):
    """One task of a task group (``type``: ``custom`` or ``thought``)."""

    heading: str | None = None
    summary: str | None = None
    type: str | None = None


# --- thread items -------------------------------------------------------------------


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadUserMessageItem(Model):
    """A message a user wrote, with attachments and inference overrides."""

    id: str
    type: str = "chatkit.user_message"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    content: list[ChatKitThreadUserMessageItemContent] | None = union_list(USER_MESSAGE_CONTENT)
    attachments: list[ChatKitAttachment] | None = many(ChatKitAttachment)
    inference_options: ChatKitThreadUserMessageItemInferenceOptions | None = one(
        ChatKitThreadUserMessageItemInferenceOptions
    )


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadAssistantMessageItem(Model):
    """A message the assistant wrote: its ``content`` segments."""

    id: str
    type: str = "chatkit.assistant_message"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    content: list[ChatKitResponseOutputText] | None = many(ChatKitResponseOutputText)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitWidgetItem(Model):
    """A thread item that renders a widget; ``widget`` is the serialized payload."""

    id: str
    type: str = "chatkit.widget"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    widget: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitClientToolCall(Model):
    """A client-side tool call the assistant made: JSON ``arguments`` and ``output``."""

    id: str
    type: str = "chatkit.client_tool_call"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    status: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitTask(Model):
    """A task the workflow reports (``task_type``: ``custom`` or ``thought``)."""

    id: str
    type: str = "chatkit.task"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    heading: str | None = None
    summary: str | None = None
    task_type: str | None = None


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitTaskGroup(Model):
    """Workflow tasks grouped together in a thread."""

    id: str
    type: str = "chatkit.task_group"
    object: str | None = None
    created_at: int | None = None
    thread_id: str | None = None
    tasks: list[ChatKitTaskGroupTask] | None = many(ChatKitTaskGroupTask)


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownChatKitThreadItem(UnknownVariant):
    """A thread item of a type this version does not know; ``raw`` keeps it whole."""


ChatKitThreadItem = (
    ChatKitThreadUserMessageItem
    | ChatKitThreadAssistantMessageItem
    | ChatKitWidgetItem
    | ChatKitClientToolCall
    | ChatKitTask
    | ChatKitTaskGroup
    | UnknownChatKitThreadItem
)
THREAD_ITEM = Union(
    "type",
    {
        "chatkit.user_message": ChatKitThreadUserMessageItem,
        "chatkit.assistant_message": ChatKitThreadAssistantMessageItem,
        "chatkit.widget": ChatKitWidgetItem,
        "chatkit.client_tool_call": ChatKitClientToolCall,
        "chatkit.task": ChatKitTask,
        "chatkit.task_group": ChatKitTaskGroup,
    },
    UnknownChatKitThreadItem,
)


@attrs.define(slots=True, kw_only=True, eq=False)
class ChatKitThreadItemList(Model):
    """A page of thread items (``object``: ``list``)."""

    data: list[ChatKitThreadItem] | None = union_list(THREAD_ITEM)
    first_id: str | None = None
    has_more: bool | None = None
    last_id: str | None = None
    object: str | None = None
