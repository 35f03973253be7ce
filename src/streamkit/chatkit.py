"""ChatKit threads from streamkit snapshots: thread items, the thread, and their pages.

A backend that runs Assistants-style runs (or Responses) and serves a ChatKit front end
maps the fold's snapshots onto the API reference's ChatKit objects (the typed models of
:mod:`streamkit.models.chatkit`):

- :func:`thread_items` reads a :class:`~streamkit.fold.State` (or a
  :class:`~streamkit.protocols.responses.ResponsesState`) and returns its thread items in
  conversation order. A message is a ``chatkit.user_message`` or a
  ``chatkit.assistant_message`` (its text parts as ``output_text`` segments, file
  citations and file paths as ``file`` annotations, URL citations as ``url``
  annotations); a function call is a ``chatkit.client_tool_call``, ``in_progress`` until
  its output is known; a code interpreter, file search or other hosted tool call is a
  ``chatkit.task`` (or, with ``group_tasks=True``, the hosted calls of one run step are a
  ``chatkit.task_group``), and a Responses reasoning item is a ``thought`` task.
- :func:`thread` gives the ``chatkit.thread``: ``locked`` while a run is active (the
  thread takes no new input then), else ``active``.
- :func:`page` cuts a list of items into the reference's list object with ``limit``,
  ``after``, ``before`` and ``order``, by the emulator's rule.

How it works: the mapping is a pure function of the snapshot, recomputed on each call
(no state is kept here). An item's id is its source object's id (the message's, the tool
call's, the step's for a task group), so the same object gives the same item on every
call, mid-stream or at the end, and the list only grows or updates items in place as
the stream goes on. Items are ordered as the conversation went: the ``history`` messages
given, then messages of no run, then each run's steps in the order they appeared (a
``message_creation`` step places its message, a ``tool_calls`` step its calls), then
messages of the run that no step names. Nothing is invented: what ChatKit has no field
for (images in an assistant message, a run's error) is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._errors import StreamkitError
from ._paging import UnknownCursor, window
from .models import (
    CodeInterpreterLogs,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallLogs,
    FileCitationAnnotation,
    FilePathAnnotation,
    FileSearchToolCall,
    FunctionToolCall,
    ImageFileContentBlock,
    ImageURLContentBlock,
    Message,
    MessageCreationStepDetails,
    RefusalContentBlock,
    RunStep,
    TextContentBlock,
    ToolCallsStepDetails,
    UnknownToolCall,
)
from .models.chatkit import (
    ChatKitAttachment,
    ChatKitClientToolCall,
    ChatKitResponseOutputText,
    ChatKitResponseOutputTextAnnotation,
    ChatKitResponseOutputTextAnnotationFile,
    ChatKitResponseOutputTextAnnotationFileSource,
    ChatKitResponseOutputTextAnnotationURL,
    ChatKitResponseOutputTextAnnotationURLSource,
    ChatKitTask,
    ChatKitTaskGroup,
    ChatKitTaskGroupTask,
    ChatKitThread,
    ChatKitThreadAssistantMessageItem,
    ChatKitThreadItem,
    ChatKitThreadItemList,
    ChatKitThreadStatusActive,
    ChatKitThreadStatusLocked,
    ChatKitThreadUserMessageItem,
    ChatKitThreadUserMessageItemContent,
    ChatKitThreadUserMessageItemContentInputText,
    UnknownChatKitThreadItem,
)
from .protocols.assistants import RUN_TERMINAL, STEP_TERMINAL, State

if TYPE_CHECKING:  # loaded when a Responses state is mapped (it costs an import)
    from .protocols.responses import ResponsesState

__all__ = ["ChatKitMappingError", "PageError", "item_id", "page", "thread", "thread_items"]

#: The ``object`` of every thread item.
ITEM_OBJECT = "chatkit.thread_item"
#: The default and the largest ``limit`` of a page, as the reference and the emulator.
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class ChatKitMappingError(StreamkitError):
    """A snapshot that cannot be mapped as asked (e.g. no thread id known or given)."""


class PageError(StreamkitError, ValueError):
    """A page request the list cannot answer; ``param`` names the parameter (``limit``,
    ``order``, ``after`` or ``before``) and ``value`` is what was given. A server answers
    it with a 400 naming ``param``."""

    def __init__(self, message: str, *, param: str, value: object) -> None:
        super().__init__(message)
        self.param = param
        self.value = value


# --- the thread -----------------------------------------------------------------------


def thread(
    state: State | ResponsesState,
    *,
    user: str,
    thread_id: str | None = None,
    title: str | None = None,
) -> ChatKitThread:
    """The ``chatkit.thread`` of ``state``, owned by ``user``.

    Its id is ``thread_id``, else the thread's (for Responses: the conversation's, else
    the first response's).
    Its status is ``locked`` (reason: which run, in which status) while a run or response
    has not ended, since the thread takes no new message then; otherwise ``active``.
    """
    runs: Iterable[Any]
    if isinstance(state, State):
        runs, terminal = state.runs.values(), RUN_TERMINAL
        created = state.thread.created_at if state.thread is not None else None
        if created is None:
            created = next((run.created_at for run in state.runs.values()), None)
    else:
        from .protocols.responses import RESPONSE_TERMINAL

        runs, terminal = state.responses.values(), RESPONSE_TERMINAL
        created = next((run.created_at for run in state.responses.values()), None)
    active = [run for run in runs if run.status is not None and run.status not in terminal]
    status: ChatKitThreadStatusActive | ChatKitThreadStatusLocked
    if active:
        run = active[-1]
        status = ChatKitThreadStatusLocked(reason=f"run {run.id} is {run.status}")
    else:
        status = ChatKitThreadStatusActive()
    return ChatKitThread(
        id=_thread_id(state, thread_id),
        object="chatkit.thread",
        created_at=created or 0,
        status=status,
        title=title,
        user=user,
    )


def _thread_id(state: State | ResponsesState, given: str | None) -> str:
    if given is not None:
        return given
    if isinstance(state, State):
        if state.thread is not None:
            return state.thread.id
        for group in (state.runs, state.steps, state.messages):
            for obj in group.values():
                if obj.thread_id:
                    return str(obj.thread_id)
    else:
        for response in state.responses.values():
            conversation = response.extra.get("conversation")
            if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
                return str(conversation["id"])
            return response.id
    raise ChatKitMappingError(
        "no thread id: the snapshot names no thread (no thread, run, step or message with "
        "a thread_id, no response); pass thread_id="
    )


# --- thread items ---------------------------------------------------------------------


def thread_items(
    state: State | ResponsesState,
    *,
    thread_id: str | None = None,
    history: Iterable[Message] = (),
    outputs: Mapping[str, str] | None = None,
    group_tasks: bool = False,
    citation_markers: bool = True,
) -> list[ChatKitThreadItem]:
    """The ChatKit thread items of ``state``, in conversation order.

    ``thread_id`` defaults to the snapshot's thread (see :func:`thread`). ``history``:
    messages of the thread listed from the API (oldest first), for what the snapshot does
    not hold, such as the user's question: they come first, except one of a run the
    snapshot holds (placed as the run's own), and a message the snapshot holds is taken
    from the snapshot. ``outputs``: tool outputs by call id,
    for calls whose output the snapshot does not hold (a Responses function call's output
    is in the next request, not in the stream). ``group_tasks``: the hosted tool calls of
    one run step become one ``chatkit.task_group`` (id: the step's) instead of one
    ``chatkit.task`` each. ``citation_markers=False`` removes a file citation's marker
    (``【4:0†notes.txt】``) from the text: ChatKit's annotations carry no position.
    """
    if not isinstance(state, State):
        return _Responses(state, thread_id, outputs or {}).items()
    mapping = _Assistants(state, thread_id, history, outputs or {}, group_tasks, citation_markers)
    return mapping.items()


def item_id(item: ChatKitThreadItem) -> str:
    """The id of a thread item (also of one of a type this version does not know)."""
    if isinstance(item, UnknownChatKitThreadItem):
        value = item.raw.get("id")
        if not isinstance(value, str):
            raise PageError(
                f"a thread item of type {item.type!r} has no string id: {item.raw!r}",
                param="data",
                value=item,
            )
        return value
    return item.id


class _Assistants:
    """One mapping of an Assistants :class:`State`."""

    def __init__(
        self,
        state: State,
        thread_id: str | None,
        history: Iterable[Message],
        outputs: Mapping[str, str],
        group_tasks: bool,
        citation_markers: bool,
    ) -> None:
        self.state = state
        self.given_thread_id = thread_id
        self.history = list(history)
        self.outputs = outputs
        self.group_tasks = group_tasks
        self.citation_markers = citation_markers
        self._thread_id: str | None = None
        self._filenames: dict[str, str] | None = None
        self.pool: dict[str, Message] = {}

    @property
    def thread_id(self) -> str:
        if self._thread_id is None:
            self._thread_id = _thread_id(self.state, self.given_thread_id)
        return self._thread_id

    def items(self) -> list[ChatKitThreadItem]:
        state = self.state
        steps_of: dict[str, list[RunStep]] = {}
        for step in state.steps.values():
            steps_of.setdefault(step.run_id or "", []).append(step)
        # A history message of a run the snapshot holds is placed as the snapshot's are;
        # the others (the user's questions, earlier runs) come first, as given.
        self.pool = dict(state.messages)
        out: list[ChatKitThreadItem] = []
        for message in self.history:
            if message.id in self.pool:
                continue
            if message.run_id and (message.run_id in state.runs or message.run_id in steps_of):
                self.pool[message.id] = message
            else:
                out.append(self.message(message))
        named: set[str] = set()
        for step in state.steps.values():
            details = step.step_details
            if isinstance(details, MessageCreationStepDetails):
                creation = details.message_creation
                if creation is not None and creation.message_id:
                    named.add(creation.message_id)
        loose: dict[str, list[Message]] = {}
        for message in self.pool.values():
            if message.id not in named:
                loose.setdefault(message.run_id or "", []).append(message)
        out.extend(self.message(m) for m in loose.pop("", ()))
        runs = list(state.runs)
        runs += [run_id for run_id in steps_of if run_id not in state.runs]
        runs += [run_id for run_id in loose if run_id not in steps_of and run_id not in runs]
        for run_id in runs:
            for step in steps_of.get(run_id, ()):
                self.step(step, out)
            out.extend(self.message(m) for m in loose.get(run_id, ()))
        return out

    # -- messages

    def message(self, message: Message) -> ChatKitThreadItem:
        thread_id = message.thread_id or self.thread_id
        created = message.created_at or 0
        if message.role == "user":
            content: list[ChatKitThreadUserMessageItemContent] = []
            attachments: list[ChatKitAttachment] = []
            for part in message.content or ():
                if isinstance(part, TextContentBlock) and part.text is not None:
                    content.append(
                        ChatKitThreadUserMessageItemContentInputText(text=part.text.value or "")
                    )
                elif isinstance(part, ImageFileContentBlock) and part.image_file is not None:
                    file_id = part.image_file.file_id or ""
                    attachments.append(_attachment(file_id, "image", file_id))
                elif isinstance(part, ImageURLContentBlock) and part.image_url is not None:
                    url = part.image_url.url or ""
                    attachments.append(_attachment(url, "image", url, preview_url=url))
            for attached in message.attachments or ():
                file_id = attached.file_id or ""
                attachments.append(_attachment(file_id, "file", file_id))
            return ChatKitThreadUserMessageItem(
                id=message.id,
                object=ITEM_OBJECT,
                created_at=created,
                thread_id=thread_id,
                content=content,
                attachments=attachments,
                inference_options=None,
            )
        segments: list[ChatKitResponseOutputText] = []
        for part in message.content or ():
            if isinstance(part, TextContentBlock) and part.text is not None:
                found = part.text.annotations or ()
                annotations = [a for a in map(self.annotation, found) if a is not None]
                text = part.text.value or ""
                if not self.citation_markers:
                    for note in found:
                        if isinstance(note, FileCitationAnnotation) and note.text:
                            text = text.replace(note.text, "", 1)
                segments.append(_segment(text, annotations))
            elif isinstance(part, RefusalContentBlock):
                segments.append(_segment(part.refusal or "", []))
        return ChatKitThreadAssistantMessageItem(
            id=message.id,
            object=ITEM_OBJECT,
            created_at=created,
            thread_id=thread_id,
            content=segments,
        )

    def annotation(self, annotation: Any) -> ChatKitResponseOutputTextAnnotation | None:
        if isinstance(annotation, FileCitationAnnotation):
            file_id = annotation.file_citation.file_id if annotation.file_citation else None
            name = self.filenames().get(file_id or "") or _marker_name(annotation.text)
            return _file_annotation(name or file_id or "")
        if isinstance(annotation, FilePathAnnotation):
            file_id = annotation.file_path.file_id if annotation.file_path else None
            text = annotation.text or ""
            name = text.rsplit("/", 1)[-1] if "/" in text else None
            return _file_annotation(name or file_id or text)
        return None

    def filenames(self) -> dict[str, str]:
        """File names by file id, from the file search results in the snapshot."""
        if self._filenames is None:
            self._filenames = {}
            for step in self.state.steps.values():
                details = step.step_details
                if not isinstance(details, ToolCallsStepDetails):
                    continue
                for call in details.tool_calls or ():
                    if isinstance(call, FileSearchToolCall) and call.file_search is not None:
                        for result in call.file_search.results or ():
                            if result.file_id and result.file_name:
                                self._filenames[result.file_id] = result.file_name
        return self._filenames

    # -- steps

    def step(self, step: RunStep, out: list[ChatKitThreadItem]) -> None:
        details = step.step_details
        if isinstance(details, MessageCreationStepDetails):
            creation = details.message_creation
            message_id = creation.message_id if creation is not None else None
            message = self.pool.get(message_id or "")
            if message is not None:
                out.append(self.message(message))
            return
        if not isinstance(details, ToolCallsStepDetails):
            return
        ended = step.status in STEP_TERMINAL
        tasks: list[ChatKitTaskGroupTask] | None = None
        for position, call in enumerate(details.tool_calls or ()):
            call_id = _call_id(call) or f"{step.id}_call_{position}"
            if isinstance(call, FunctionToolCall):
                function = call.function
                output = function.output if function is not None else None
                if output is None:
                    output = self.outputs.get(call_id)
                out.append(
                    ChatKitClientToolCall(
                        id=call_id,
                        object=ITEM_OBJECT,
                        created_at=step.created_at or 0,
                        thread_id=step.thread_id or self.thread_id,
                        call_id=call_id,
                        name=(function.name if function is not None else None) or "",
                        arguments=(function.arguments if function is not None else None) or "",
                        output=output,
                        status="completed" if output is not None or ended else "in_progress",
                    )
                )
                continue
            heading, summary = _task_text(call, step)
            if not self.group_tasks:
                out.append(
                    ChatKitTask(
                        id=call_id,
                        object=ITEM_OBJECT,
                        created_at=step.created_at or 0,
                        thread_id=step.thread_id or self.thread_id,
                        heading=heading,
                        summary=summary,
                        task_type="custom",
                    )
                )
                continue
            if tasks is None:
                tasks = []
                group = ChatKitTaskGroup(
                    id=step.id,
                    object=ITEM_OBJECT,
                    created_at=step.created_at or 0,
                    thread_id=step.thread_id or self.thread_id,
                    tasks=tasks,
                )
                out.append(group)
            tasks.append(ChatKitTaskGroupTask(heading=heading, summary=summary, type="custom"))


def _call_id(call: Any) -> str | None:
    if isinstance(call, UnknownToolCall):
        value = call.raw.get("id")
        return value if isinstance(value, str) and value else None
    value = getattr(call, "id", None)
    return value if isinstance(value, str) and value else None


#: Headings of a hosted tool's task: (while it runs, once it is done), and on failure.
_HEADINGS = {
    "code_interpreter": ("Running code", "Ran code"),
    "file_search": ("Searching files", "Searched files"),
    "web_search": ("Searching the web", "Searched the web"),
}


def _heading(kind: str, status: str | None, ended: bool) -> str:
    working, done = _HEADINGS.get(kind, (f"Using {kind}", f"Used {kind}"))
    if status in ("failed", "incomplete"):
        return f"{working} failed"
    if status in ("cancelled", "expired"):
        return f"{working} stopped ({status})"
    return done if ended else working


def _task_text(call: Any, step: RunStep) -> tuple[str, str | None]:
    """Heading and summary of a hosted tool call's task, from the call and its step."""
    ended = step.status in STEP_TERMINAL
    parts: list[str] = []
    if isinstance(call, CodeInterpreterToolCall):
        kind = "code_interpreter"
        code = call.code_interpreter
        if code is not None:
            if code.input:
                parts.append(code.input)
            for output in code.outputs or ():
                logs = (
                    output.logs
                    if isinstance(output, (CodeInterpreterToolCallLogs, CodeInterpreterLogs))
                    else None
                )
                if logs:
                    parts.append(logs)
    elif isinstance(call, FileSearchToolCall):
        kind = "file_search"
        search = call.file_search
        for result in (search.results if search is not None else None) or ():
            name = result.file_name or result.file_id or "a file"
            score = f" (score {result.score:.2f})" if result.score is not None else ""
            parts.append(f"{name}{score}")
    else:
        kind = str(getattr(call, "type", None) or "a tool")
    if step.last_error is not None and step.last_error.message:
        parts.append(step.last_error.message)
    return _heading(kind, step.status, ended), "\n\n".join(parts) or None


def _marker_name(text: str | None) -> str | None:
    """The file name in a citation marker such as ``【4:0†notes.txt】``."""
    if not text or "†" not in text:
        return None
    name = text.split("†", 1)[1].rstrip("】").strip()
    return name or None


def _segment(text: str, annotations: list[ChatKitResponseOutputTextAnnotation]) -> Any:
    return ChatKitResponseOutputText(type="output_text", text=text, annotations=annotations)


def _file_annotation(filename: str) -> ChatKitResponseOutputTextAnnotationFile:
    source = ChatKitResponseOutputTextAnnotationFileSource(type="file", filename=filename)
    return ChatKitResponseOutputTextAnnotationFile(type="file", source=source)


def _url_annotation(url: str) -> ChatKitResponseOutputTextAnnotationURL:
    source = ChatKitResponseOutputTextAnnotationURLSource(type="url", url=url)
    return ChatKitResponseOutputTextAnnotationURL(type="url", source=source)


def _attachment(
    id: str, kind: Literal["image", "file"], name: str, *, preview_url: str | None = None
) -> ChatKitAttachment:
    # The snapshot knows a file's id, not its media type: a generic one is given.
    mime = "image/*" if kind == "image" else "application/octet-stream"
    return ChatKitAttachment(id=id, mime_type=mime, name=name, preview_url=preview_url, type=kind)


# --- Responses ------------------------------------------------------------------------


class _Responses:
    """One mapping of a :class:`ResponsesState`: each response's output items in order."""

    def __init__(
        self, state: ResponsesState, thread_id: str | None, outputs: Mapping[str, str]
    ) -> None:
        self.state = state
        self.thread_id = _thread_id(state, thread_id) if state.items else ""
        self.outputs = outputs
        self.created = next((x.created_at for x in state.responses.values() if x.created_at), 0)

    def items(self) -> list[ChatKitThreadItem]:
        out: list[ChatKitThreadItem] = []
        for key, item in self.state.items.items():
            mapped = self.item(getattr(item, "id", None) or key, item)
            if mapped is not None:
                out.append(mapped)
        return out

    def base(self, item_id: str) -> dict[str, Any]:
        return {
            "id": item_id,
            "object": ITEM_OBJECT,
            "created_at": self.created or 0,
            "thread_id": self.thread_id,
        }

    def item(self, key: str, item: Any) -> ChatKitThreadItem | None:
        from .models import responses as r

        if isinstance(item, r.OutputMessage):
            segments = []
            for part in item.content or ():
                if isinstance(part, r.OutputText):
                    notes = [a for a in map(_responses_annotation, part.annotations or ()) if a]
                    segments.append(_segment(part.text or "", notes))
                elif isinstance(part, r.OutputRefusal):
                    segments.append(_segment(part.refusal or "", []))
            return ChatKitThreadAssistantMessageItem(**self.base(key), content=segments)
        if isinstance(item, r.FunctionCall):
            call_id = item.call_id or key
            output = self.outputs.get(call_id)
            return ChatKitClientToolCall(
                **self.base(key),
                call_id=call_id,
                name=item.name or "",
                arguments=item.arguments or "",
                output=output,
                status="completed" if output is not None else "in_progress",
            )
        ended = item.status in ("completed", "incomplete", "failed") or self._response_ended()
        if isinstance(item, r.ReasoningItem):
            texts = [
                p.text
                for p in item.summary or ()
                if isinstance(p, (r.SummaryText, r.ReasoningText)) and p.text
            ]
            return ChatKitTask(
                **self.base(key),
                heading="Thought" if ended else "Thinking",
                summary="\n\n".join(texts) or None,
                task_type="thought",
            )
        parts: list[str] = []
        kind = str(getattr(item, "type", None) or "a tool")
        if isinstance(item, r.CodeInterpreterCall):
            kind = "code_interpreter"
            if item.code:
                parts.append(item.code)
            for output in item.outputs or ():
                if isinstance(output, dict) and isinstance(output.get("logs"), str):
                    parts.append(output["logs"])
        elif isinstance(item, r.FileSearchCall):
            kind = "file_search"
            parts.extend(q for q in item.queries or () if isinstance(q, str))
        elif isinstance(item, r.WebSearchCall):
            kind = "web_search"
            query = (item.action or {}).get("query")
            if isinstance(query, str):
                parts.append(query)
        elif kind.endswith("_call"):
            kind = kind[: -len("_call")]
        return ChatKitTask(
            **self.base(key),
            heading=_heading(kind, getattr(item, "status", None), ended),
            summary="\n\n".join(parts) or None,
            task_type="custom",
        )

    def _response_ended(self) -> bool:
        from .protocols.responses import RESPONSE_TERMINAL

        run = self.state.current_run
        return run is not None and run.status in RESPONSE_TERMINAL


def _responses_annotation(annotation: Any) -> ChatKitResponseOutputTextAnnotation | None:
    from .models import responses as r

    if isinstance(annotation, r.URLCitation):
        return _url_annotation(annotation.url or "")
    if isinstance(annotation, (r.FileCitation, r.ContainerFileCitation)):
        return _file_annotation(annotation.filename or annotation.file_id or "")
    if isinstance(annotation, r.FilePath):
        return _file_annotation(annotation.file_id or "")
    return None


# --- pages ----------------------------------------------------------------------------


def page(
    items: Sequence[ChatKitThreadItem],
    *,
    limit: int = DEFAULT_LIMIT,
    after: str | None = None,
    before: str | None = None,
    order: str = "desc",
) -> ChatKitThreadItemList:
    """One page of ``items`` (given oldest first) as the reference's list object.

    ``order`` is ``"desc"`` (newest first, the default) or ``"asc"``; ``after`` and
    ``before`` are item ids (cursors) in that order: the page holds the ``limit`` (1 to
    100) items after ``after``, or, with only ``before``, the ``limit`` items nearest
    before it. ``has_more`` says whether more items lie beyond the page in its direction
    of travel (past the far end for ``after``, before the page for ``before``);
    ``first_id`` / ``last_id`` are the page's ends (null when empty). An unknown cursor or
    a bad ``limit`` or ``order`` raises :class:`PageError`.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise PageError(
            f"invalid 'limit': {limit!r}; it must be an integer from 1 to {MAX_LIMIT}",
            param="limit",
            value=limit,
        )
    if order not in ("asc", "desc"):
        raise PageError(
            f"invalid 'order': {order!r}; it must be 'asc' or 'desc'", param="order", value=order
        )
    try:
        positions, has_more = window(
            [item_id(item) for item in items], after=after, before=before, limit=limit, order=order
        )
    except UnknownCursor as exc:
        raise PageError(
            f"invalid {exc.name!r}: no thread item with id {exc.cursor!r} in this list",
            param=exc.name,
            value=exc.cursor,
        ) from None
    chosen = [items[i] for i in positions]
    return ChatKitThreadItemList(
        object="list",
        data=chosen,
        first_id=item_id(chosen[0]) if chosen else None,
        last_id=item_id(chosen[-1]) if chosen else None,
        has_more=has_more,
    )
