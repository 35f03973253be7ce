"""The Assistants protocol's merge rules: how deltas change content parts and tool calls.

Lists of content parts, annotations, tool calls and code interpreter outputs are merged
by their ``index``, in any order, with gaps (:class:`~streamkit.fold._core.Indexed`).
Strings that stream in pieces are appended in O(len(piece)) (text ``value``,
``refusal``, function ``arguments``, code interpreter ``input`` and ``logs``); every other
field is replaced when the delta has its key. See :mod:`streamkit.fold` for what ``null``
means in a delta.
"""

from __future__ import annotations

from typing import Any

import attrs

from ..._model import Model, UnknownVariant, append_to, copy_json, set_extra, set_field
from ...fold._core import Indexed, index_of
from ...models import (
    CodeInterpreter,
    CodeInterpreterDelta,
    CodeInterpreterImage,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    CodeInterpreterToolCallImage,
    CodeInterpreterToolCallLogs,
    FileCitationAnnotation,
    FileCitationDeltaAnnotation,
    FilePathAnnotation,
    FilePathDeltaAnnotation,
    FileSearch,
    FileSearchToolCall,
    FileSearchToolCallDelta,
    FunctionToolCall,
    FunctionToolCallDelta,
    FunctionToolCallFunction,
    ImageFile,
    ImageFileContentBlock,
    ImageFileDeltaBlock,
    ImageURL,
    ImageURLContentBlock,
    ImageURLDeltaBlock,
    RefusalContentBlock,
    RefusalDeltaBlock,
    Text,
    TextContentBlock,
    TextDeltaBlock,
)

__all__ = [
    "CALL_FOR",
    "PART_FOR",
    "CallTail",
    "MessageTrack",
    "StepTrack",
    "TextTail",
    "differences",
    "merge_call_fields",
    "merge_part",
    "new_call",
    "new_part",
    "set_fields",
]


@attrs.define(slots=True)
class MessageTrack:
    """What the fold keeps beside a message snapshot: its parts by index, each text
    part's annotations by index, and how many deltas it got."""

    parts: Indexed
    annotations: dict[int, Indexed] = attrs.field(factory=dict)
    deltas: int = 0


@attrs.define(slots=True)
class TextTail:
    """The fold's offer to a fast path (the compiled one: see docs/speedups.md): the text
    part at ``index`` of ``message``, whose ``text`` grows by a chunk list.

    While the fold keeps this offer (in ``State.text_tails``, by message id) and while it
    holds (``message.status`` is "in_progress", ``part.text`` is ``text``, ``text``'s value
    is a chunk list), a *plain* text delta for that message (one text part at ``index``
    with a non-empty value, no annotations, no role, no decoding warning) is folded by:
    adding one to ``track.deltas``, making ``message`` the current one, appending the value
    to the chunk list, and reporting ``[ContentPartDelta, MessageDeltaApplied]``, exactly as
    :meth:`State.apply` does. The fold withdraws the offer whenever anything else may change
    the message (a full message event, its end)."""

    message: Any
    track: MessageTrack
    index: int
    part: Any
    text: Any


@attrs.define(slots=True)
class CallTail:
    """The fold's offer to a fast path for a function call's arguments (see
    :class:`TextTail`): the call at ``index`` of ``step``, whose ``function``'s arguments
    grow by a chunk list.

    While the fold keeps this offer (in ``State.call_tails``, by step id) and while it holds
    (``step.status`` is "in_progress", ``step.step_details`` is ``details``,
    ``call.function`` is ``function``, its arguments a chunk list), a *plain* arguments
    delta for that step (one function call delta at ``index`` whose function has non-empty
    arguments and nothing else: no id, no name, no output, no unknown key, no decoding
    warning) is folded by: adding one to ``track.deltas``, making ``step`` the current one,
    appending the arguments to the chunk list, and reporting
    ``[ToolCallDelta, StepDeltaApplied]``, exactly as :meth:`State.apply` does. The fold
    withdraws the offer whenever anything else may change the step (a full step event, its
    end, new step details)."""

    step: Any
    details: Any
    track: StepTrack
    index: int
    call: Any
    function: Any


@attrs.define(slots=True)
class StepTrack:
    """What the fold keeps beside a step snapshot: its tool calls by index, each code
    interpreter call's outputs by index, and how many deltas it got."""

    calls: Indexed
    outputs: dict[int, Indexed] = attrs.field(factory=dict)
    deltas: int = 0


_has = Model.has


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def differences(mine: Any, theirs: Any, path: str) -> list[str]:
    """The JSON paths (under ``path``) where two JSON values differ, beyond a key that one
    side leaves out and the other has empty (servers drop a ``"quote": ""`` they streamed
    from the final object)."""
    found: list[str] = []
    _differences(mine, theirs, path, found)
    return found


def _differences(mine: Any, theirs: Any, path: str, found: list[str]) -> None:
    # Iterative enough for JSON the decoder accepted; the depth is the payload's depth.
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in sorted(mine.keys() | theirs.keys(), key=str):
            where = f"{path}.{key}"
            if key not in theirs:
                if not _is_blank(mine[key]):
                    found.append(where)
            elif key not in mine:
                if not _is_blank(theirs[key]):
                    found.append(where)
            else:
                _differences(mine[key], theirs[key], where, found)
    elif isinstance(mine, list) and isinstance(theirs, list):
        if len(mine) != len(theirs):
            found.append(f"{path} (length {len(mine)} folded, {len(theirs)} final)")
        for i, (a, b) in enumerate(zip(mine, theirs, strict=False)):
            _differences(a, b, f"{path}[{i}]", found)
    elif mine != theirs:
        found.append(path)


# --- building and merging parts ----------------------------------------------------------

#: The snapshot class each delta class merges into.
PART_FOR: dict[type, type] = {
    TextDeltaBlock: TextContentBlock,
    ImageFileDeltaBlock: ImageFileContentBlock,
    ImageURLDeltaBlock: ImageURLContentBlock,
    RefusalDeltaBlock: RefusalContentBlock,
}
CALL_FOR: dict[type, type] = {
    FunctionToolCallDelta: FunctionToolCall,
    CodeInterpreterToolCallDelta: CodeInterpreterToolCall,
    FileSearchToolCallDelta: FileSearchToolCall,
}


def new_part(delta: Any) -> Any:
    """An empty content part of the delta's type (merged with the delta right after)."""
    if isinstance(delta, TextDeltaBlock):
        return TextContentBlock(type="text", text=Text(value="", annotations=[]))
    if isinstance(delta, ImageFileDeltaBlock):
        return ImageFileContentBlock(
            type="image_file", image_file=ImageFile(absent=("file_id", "detail"))
        )
    if isinstance(delta, ImageURLDeltaBlock):
        return ImageURLContentBlock(type="image_url", image_url=ImageURL(absent=("url", "detail")))
    if isinstance(delta, RefusalDeltaBlock):
        return RefusalContentBlock(type="refusal", refusal="")
    return type(delta)(type=delta.type, raw={})


_set = set_field


def set_fields(target: Model, delta: Model, names: tuple[str, ...]) -> None:
    """Replace each named field of ``target`` whose key the delta has."""
    for name in names:
        if delta.has(name):
            _set(target, name, getattr(delta, name))


def _merge_raw(target: UnknownVariant, delta: UnknownVariant) -> None:
    for key, value in delta.raw.items():
        if key != "index":
            target.raw[key] = copy_json(value)


def merge_part(part: Any, delta: Any, track: MessageTrack, index: int) -> str:
    """Merge content part ``delta`` into ``part`` (at ``index``); return the text it
    appended (a text or refusal piece), "" when none."""
    if delta.__class__ is TextDeltaBlock:  # the hot path: one text delta
        text_delta = delta.text
        if text_delta is None:
            return ""
        text = part.text
        if text is None:
            text = Text(value="", annotations=[])
            _set(part, "text", text)
            track.annotations[index] = Indexed.of(text.annotations)  # type: ignore[arg-type]
        chunk = text_delta._value  # the slot behind ``value``: a str for a decoded delta
        if chunk.__class__ is not str:
            chunk = text_delta.value
        if chunk:
            grown = text._value
            if grown.__class__ is list:  # the common case, inlined: one more chunk
                grown.append(chunk)
            else:
                append_to(text, "_value", chunk)
        if text_delta.annotations:
            annotations = track.annotations[index]
            for ann_delta in text_delta.annotations:
                _merge_annotation(annotations, ann_delta)
        return chunk or ""
    if isinstance(delta, RefusalDeltaBlock):
        chunk = delta.refusal
        if chunk:
            append_to(part, "_refusal", chunk)
            return chunk
    elif isinstance(delta, ImageFileDeltaBlock):
        if delta.image_file is not None:
            set_fields(part.image_file, delta.image_file, ("file_id", "detail"))
    elif isinstance(delta, ImageURLDeltaBlock):
        if delta.image_url is not None:
            set_fields(part.image_url, delta.image_url, ("url", "detail"))
    elif isinstance(delta, UnknownVariant) and isinstance(part, UnknownVariant):
        _merge_raw(part, delta)
    return ""


#: For each annotation delta class: the snapshot class, the key of its file object and the
#: file object's fields.
_ANNOTATIONS: dict[type, tuple[type[Model], str, tuple[str, ...]]] = {
    FileCitationDeltaAnnotation: (FileCitationAnnotation, "file_citation", ("file_id", "quote")),
    FilePathDeltaAnnotation: (FilePathAnnotation, "file_path", ("file_id",)),
}


def _merge_annotation(annotations: Indexed, delta: Any) -> None:
    index = index_of(delta, annotations)
    ann = annotations.by_index.get(index)
    known = _ANNOTATIONS.get(delta.__class__)
    if known is not None:
        cls, key, file_fields = known
        if ann is None or ann.__class__ is not cls:
            # New, or the delta says the annotation at this index is now of another type.
            absent = ("text", key, "start_index", "end_index")
            fresh = cls(type=delta.type, absent=absent)  # type: ignore[call-arg]
            if ann is None:
                annotations.put(index, fresh)
            else:
                annotations.replace(index, fresh)
            ann = fresh
        set_fields(ann, delta, ("text", "start_index", "end_index"))
        if _has(delta, key):
            source, target = getattr(delta, key), getattr(ann, key)
            if source is None or target is None:
                _set(ann, key, source.clone() if source is not None else None)
            else:
                set_fields(target, source, file_fields)
    elif isinstance(delta, UnknownVariant):
        if ann is None:
            ann = type(delta)(type=delta.type, raw={})
            annotations.put(index, ann)
        if isinstance(ann, UnknownVariant):
            _merge_raw(ann, delta)


# --- building and merging tool calls -------------------------------------------------------


def new_call(delta: Any) -> Any:
    if isinstance(delta, FunctionToolCallDelta):
        return FunctionToolCall(
            id=None,
            type="function",
            function=FunctionToolCallFunction(arguments="", absent=("name", "output")),
            absent=("id",),
        )
    if isinstance(delta, CodeInterpreterToolCallDelta):
        return CodeInterpreterToolCall(
            id=None,
            type="code_interpreter",
            code_interpreter=CodeInterpreter(input="", outputs=[]),
            absent=("id",),
        )
    if isinstance(delta, FileSearchToolCallDelta):
        return FileSearchToolCall(
            id=None,
            type="file_search",
            file_search=FileSearch(absent=("ranking_options", "results")),
            absent=("id",),
        )
    return type(delta)(type=delta.type, raw={})


def merge_call_fields(call: Any, delta: Any, track: StepTrack, index: int) -> str:
    """Merge tool call ``delta`` into ``call`` (at ``index``); return the text it appended
    (a function's arguments or a code interpreter's input), "" when none."""
    if isinstance(delta, UnknownVariant):
        if isinstance(call, UnknownVariant):
            _merge_raw(call, delta)
        return ""
    if _has(delta, "id"):
        _set(call, "id", delta.id)
    if isinstance(delta, FunctionToolCallDelta):
        fn = delta.function
        if fn is None:
            return ""
        target = call.function
        if target is None:
            target = FunctionToolCallFunction(arguments="", absent=("name", "output"))
            _set(call, "function", target)
        set_fields(target, fn, ("name", "output"))
        chunk = fn.arguments
        if chunk:
            append_to(target, "_arguments", chunk)
        extra = fn.extra
        if extra:
            set_extra(target, copy_json(extra))
        return chunk or ""
    if isinstance(delta, CodeInterpreterToolCallDelta):
        ci: CodeInterpreterDelta | None = delta.code_interpreter
        if ci is None:
            return ""
        target = call.code_interpreter
        chunk = ci.input
        if chunk:
            append_to(target, "_input", chunk)
        if ci.outputs:
            outputs = track.outputs.get(index)
            if outputs is None:
                if target.outputs is None:
                    set_field(target, "outputs", [])
                outputs = track.outputs[index] = Indexed.of(target.outputs)
            for out_delta in ci.outputs:
                _merge_output(outputs, out_delta)
        return chunk or ""
    if isinstance(delta, FileSearchToolCallDelta) and not _is_empty(delta.file_search):
        update = delta.file_search
        if isinstance(update, dict):
            _merge_file_search(call, update)
    return ""


def _merge_file_search(call: Any, update: dict[str, Any]) -> None:
    """Merge a file_search delta (free-form: its keys replace the call's) in O(delta):
    only the delta's keys are decoded; the rest of the call is not touched."""
    partial = FileSearch.from_dict(copy_json(update))
    target = call.file_search
    if target is None:
        set_field(call, "file_search", partial)
        return
    for name in ("ranking_options", "results"):
        if partial.has(name):
            set_field(target, name, getattr(partial, name))
    if partial.extra:
        set_extra(target, partial.extra)


def _is_empty(value: Any) -> bool:
    return value == {} or value is None


def _put_output(outputs: Indexed, index: int, old: Any, item: Any) -> Any:
    """Put ``item`` at ``index``: new, or in place of an output of another type (a delta
    says the output at this index is now of its type, as for annotations)."""
    if old is None:
        outputs.put(index, item)
    else:
        outputs.replace(index, item)
    return item


def _merge_output(outputs: Indexed, delta: Any) -> None:
    index = index_of(delta, outputs)
    item = outputs.by_index.get(index)
    if delta.type == "logs" and not isinstance(delta, UnknownVariant):
        if item.__class__ is not CodeInterpreterToolCallLogs:
            new = CodeInterpreterToolCallLogs(type="logs", logs="")
            item = _put_output(outputs, index, item, new)
        chunk = delta.logs
        if chunk:
            append_to(item, "_logs", chunk)
    elif delta.type == "image" and not isinstance(delta, UnknownVariant):
        if item.__class__ is not CodeInterpreterToolCallImage:
            new_image = CodeInterpreterToolCallImage(
                type="image", image=CodeInterpreterImage(absent=("file_id",))
            )
            item = _put_output(outputs, index, item, new_image)
        if delta.image is not None:
            image = item.image
            if image is None:
                image = CodeInterpreterImage(absent=("file_id",))
                _set(item, "image", image)
            set_fields(image, delta.image, ("file_id",))
    else:
        if not isinstance(item, UnknownVariant):
            item = _put_output(outputs, index, item, type(delta)(type=delta.type, raw={}))
        _merge_raw(item, delta)
