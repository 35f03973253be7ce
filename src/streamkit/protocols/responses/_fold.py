"""The Responses fold: :class:`ResponsesState`, a response and its output items from events.

It emits the Changes of :mod:`streamkit.fold`, so that handlers, iterators and renderers
read a Responses stream as they read an Assistants one:

- the response is the run: ``RunCreated``, ``RunStatusChanged``, ``RunFinished`` (its
  ``run`` is the :class:`~streamkit.models.responses.Response`, usage included);
- a message item, and a reasoning item, is a message (``MessageCreated`` /
  ``MessageDone``, ``message`` is the item) with content parts (``ContentPartCreated`` /
  ``Delta`` / ``Done``, kind ``"text"`` for output_text, ``"refusal"``, ``"reasoning"``
  for a reasoning item's summary and reasoning_text parts);
- every other item is a tool call (``ToolCallCreated`` / ``Delta`` / ``Done``; ``kind`` is
  the item's type, ``step`` the response, ``index`` its ``output_index``; a delta's
  ``text`` is the piece of arguments, input or code it appended), and a hosted tool's
  status event is a :class:`ToolCallProgress`.

Items are addressed by ``item_id`` (else ``output_index``); an item whose
``output_item.added`` never came is created from its first delta. ``sequence_number``
must grow by one: a gap, a repeat or a step backwards is a violation naming both numbers
(a repeat or a step back is not applied in lenient mode: its data was seen). A stream may
start at any number; the next answer fed to the same state (:meth:`begin_stream`)
continues the numbering (``starting_after``), replays it from the start (the events
already read are skipped), or starts a new response numbered from 0. The folded items
are compared with ``output_item.done`` and the final response: a difference is a
``mismatch`` Problem naming the fields, and the server's object is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import orjson

from ... import _changes as c
from ..._model import UnknownVariant, append_to, set_field
from ...events import DoneEvent, Event, MalformedEvent
from ...fold._core import FoldCore, Indexed, adopt
from ...models.responses import (
    CONTENT,
    OUTPUT_ITEM,
    CodeInterpreterCall,
    CustomToolCall,
    FunctionCall,
    McpCall,
    OutputMessage,
    OutputRefusal,
    OutputText,
    ReasoningItem,
    ReasoningText,
    Response,
    SummaryText,
)
from ._events import EVENTS, LifecycleData
from ._lifecycles import ITEM, RESPONSE
from ._merge import GROWS, PART_KIND, differences, kind_of_item

__all__ = ["ResponsesState", "ToolCallProgress"]

_RESPONSE_TERMINAL = RESPONSE.terminal
_new_item = OUTPUT_ITEM.decoder()
_new_part = CONTENT.decoder()
#: What a content part created from its first delta starts as.
_PART_TEMPLATE: dict[type, dict[str, Any]] = {
    OutputText: {"type": "output_text", "text": "", "annotations": []},
    OutputRefusal: {"type": "refusal", "refusal": ""},
    SummaryText: {"type": "summary_text", "text": ""},
    ReasoningText: {"type": "reasoning_text", "text": ""},
}


_TYPE_OF: dict[type, str] = {
    FunctionCall: "function_call",
    CustomToolCall: "custom_tool_call",
    McpCall: "mcp_call",
    CodeInterpreterCall: "code_interpreter_call",
}


@attrs.define(slots=True, eq=False)
class ToolCallProgress(c.Change):
    """A hosted tool's item moved to ``status`` (``response.web_search_call.searching``,
    ``...interpreting``, ``...generating``, ``...completed``), or sent a partial image
    (``status`` is then ``"partial_image"`` and the event's data holds the image)."""

    step: Any
    index: int
    tool_call: Any
    kind: str
    status: str


class _Every(dict[type, Any]):
    """A routing table that sends every event to one handler (replayed events)."""

    def __init__(self, handler: Callable[[Any], list[c.Change]]) -> None:
        super().__init__()
        self.handler = handler

    def get(self, key: type, default: Any = None) -> Any:
        return self.handler


@attrs.define(slots=True)
class _Track:
    """What the fold keeps beside an item snapshot: its index, its content parts and
    summary parts by index, each text part's annotations, and whether it had deltas."""

    index: int
    key: str
    parts: Indexed
    summary: Indexed
    deltas: int = 0


def _raw_payload(event: Any) -> Any:
    """A malformed event's JSON, when it is JSON of the wrong shape (for its number)."""
    try:
        return orjson.loads(event.raw)
    except orjson.JSONDecodeError:
        return None


def _class(value: Any) -> Any:
    return value.__class__


def _comparable(item: Any) -> Any:
    """An item as JSON, without what no delta builds: its ``status`` (which moves on its
    own) and ``encrypted_content`` (opaque; the service encrypts it afresh each time)."""
    raw = item.to_dict()
    raw.pop("status", None)
    raw.pop("encrypted_content", None)
    return raw


def _list_of(item: Any, field: str) -> list[Any]:
    value: list[Any] | None = getattr(item, field, None)
    if value is None:
        value = []
        set_field(item, field, value)
    return value


class ResponsesState(FoldCore):
    """Folds Responses events into snapshots of responses and their output items.

    ``apply(event)`` returns the Changes the event caused. Snapshots: :attr:`responses`
    by id, :attr:`items` by key (the item id, or ``"#<output_index>"`` without one),
    :attr:`messages` (the message items), :attr:`current_run` (the response), and
    :attr:`current_message` / :attr:`current_item`. :attr:`sequence_number` is the last
    one seen. Pass the same state to a resumed stream to continue it.
    """

    def __init__(self, *, strict: bool = True) -> None:
        super().__init__(strict=strict)
        self.responses: dict[str, Response] = {}
        self.items: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        #: The Assistants-only snapshots, empty here (for code that reads either state).
        self.steps: dict[str, Any] = {}
        self.current_run: Response | None = None
        self.current_message: Any = None
        self.current_step: Any = None
        self.current_item: Any = None
        self.sequence_number: int | None = None
        #: The last sequence_number of the answer before this one (None: no answer yet).
        self._resume_at: int | None = None
        self._replay_until = -1
        self._outputs: Indexed | None = None
        self._tracks: dict[str, _Track] = {}
        self._by_id: dict[str, str] = {}
        route: dict[str, Callable[[Any], list[c.Change]]] = {
            "response.output_item.added": self._item_added,
            "response.output_item.done": self._item_done,
            "response.content_part.added": self._part_added,
            "response.content_part.done": self._part_done,
            "response.output_text.delta": self._text_delta,
            "response.output_text.done": self._text_done,
            "response.output_text.annotation.added": self._annotation_added,
            "response.refusal.delta": self._refusal_delta,
            "response.refusal.done": self._refusal_done,
            "response.reasoning_summary_part.added": self._summary_added,
            "response.reasoning_summary_part.done": self._summary_done,
            "response.reasoning_summary_text.delta": self._summary_delta,
            "response.reasoning_summary_text.done": self._summary_text_done,
            "response.reasoning_text.delta": self._reasoning_delta,
            "response.reasoning_text.done": self._reasoning_done,
            "response.function_call_arguments.delta": self._call_delta,
            "response.custom_tool_call_input.delta": self._call_delta,
            "response.mcp_call_arguments.delta": self._call_delta,
            "response.code_interpreter_call_code.delta": self._call_delta,
            "response.function_call_arguments.done": self._call_done_text,
            "response.custom_tool_call_input.done": self._call_done_text,
            "response.mcp_call_arguments.done": self._call_done_text,
            "response.code_interpreter_call_code.done": self._call_done_text,
            "response.image_generation_call.partial_image": self._progress,
            "error": self._error,
            "done": self._done,
        }
        #: Every event class's handler; ``_by_class`` is what routes now (it is a table
        #: that skips events while a replayed stream repeats what was read).
        self._routes: dict[type, Callable[[Any], list[c.Change]]] = {}
        for name, spec in EVENTS.items():
            handler = route.get(name)
            if handler is None:
                handler = self._lifecycle if spec.kind == "response" else self._progress
            self._routes[spec.event_class] = handler
        self._by_class: dict[type, Callable[[Any], list[c.Change]]] = self._routes

    @property
    def _run(self) -> Any:
        """The current response, as the ``run`` / ``step`` of the Changes."""
        return self.current_run

    # -- entry point

    def apply(self, event: Event) -> list[c.Change]:
        """Fold one event into the state; return the Changes it caused, in order."""
        data = event.data
        try:
            number = data.sequence_number
        except AttributeError:
            if data is None and event.__class__ is MalformedEvent:
                data = _raw_payload(event)
            number = data.get("sequence_number") if data.__class__ is dict else None
        if number.__class__ is int:
            last = self.sequence_number
            if last is not None and number != last + 1:
                problem = self._out_of_order(event, last, number)
                if number <= last:
                    return [problem]
                self.sequence_number = number
                return [problem, *self._route(event)]
            if last is None and self._resume_at is not None:
                return self._first_of_answer(event, number)
            self.sequence_number = number
        handler = self._by_class.get(event.__class__)
        if handler is not None:
            return handler(event)
        return self._route(event)

    def begin_stream(self) -> None:
        """A new answer (one HTTP response's stream) starts feeding this state: a resumed
        stream (``starting_after``), a replay of the same response from its start (what
        the official SDKs do to resume), or the next response of a tool loop."""
        super().begin_stream()
        if self.sequence_number is not None:
            self._resume_at = self.sequence_number
            self.sequence_number = None

    def _first_of_answer(self, event: Event, number: int) -> list[c.Change]:
        """The first numbered event of an answer that follows another: it continues the
        numbering, starts a new response, or replays events already read (skipped)."""
        resume = self._resume_at
        assert resume is not None
        self._resume_at = None
        self.sequence_number = number
        if number > resume:
            if number == resume + 1:
                return self._route(event)
            return [self._out_of_order(event, resume, number), *self._route(event)]
        data = event.data
        run = self.current_run
        if isinstance(data, LifecycleData) and (run is None or data.response.id != run.id):
            return self._route(event)  # a new response, numbered afresh
        self._replay_until = resume
        self._by_class = _Every(self._replayed)
        note = self.note(
            event,
            "replayed",
            f"this stream starts again at sequence_number {number}: the events up to "
            f"{resume}, already read, are skipped",
        )
        return [note, *self._replayed(event)]

    def _replayed(self, event: Event) -> list[c.Change]:
        number = self.sequence_number
        if number is not None and number <= self._replay_until:
            return []
        self._by_class = self._routes
        return self._route(event)

    def _route(self, event: Event) -> list[c.Change]:
        handler = self._routes.get(event.__class__)
        if handler is None:
            if isinstance(event, MalformedEvent):
                return [self.note(event, "malformed", str(event.error), event.error)]
            return [c.UnknownReceived(event=event)]
        return handler(event)

    def _out_of_order(self, event: Event, last: int, number: int) -> c.Problem:
        if number > last + 1:
            kind, what = "sequence_gap", f"skips {number - last - 1} event(s)"
        elif number == last:
            kind, what = "sequence_repeat", "repeats it (not applied again)"
        else:
            kind, what = "sequence_backwards", "goes back (not applied again)"
        return self.violation(
            kind,
            f"{event.event} has sequence_number {number} after {last}: it {what}",
            what="response",
            object_id=self.current_run.id if self.current_run is not None else None,
            status=self.current_run.status if self.current_run is not None else None,
            event=event,
        )

    # -- the response

    def _response(self, event: Event, out: list[c.Change]) -> Response:
        """The response items belong to; a placeholder when the stream began mid-way."""
        response = self.current_run
        if response is None:
            response = Response(id="", object="response", status="in_progress", output=[])
            self.current_run = response
            self._outputs = Indexed.of(response.output)  # type: ignore[arg-type]
            out.append(
                self.note(
                    event,
                    "no_response",
                    f"{event.event} before any response event (the stream began mid-way): "
                    "its items are kept in a placeholder response until one arrives",
                )
            )
        return response

    def _lifecycle(self, event: Event) -> list[c.Change]:
        final: Response = event.data.response.clone()
        out: list[c.Change] = []
        old = self.responses.get(final.id)
        if old is None and self.current_run is not None and self.current_run.id == "":
            old = self.current_run  # the placeholder of a stream that began mid-way
        created = old is None or not old.id
        old_status = old.status if old is not None and not created else None
        self.check_move(
            RESPONSE, EVENTS[event.event], final.id, old_status, final.status, event, out
        )
        terminal = final.status in _RESPONSE_TERMINAL
        outputs = self._outputs if old is not None else None
        if old is not None and outputs is not None and not terminal:
            set_field(final, "output", old.output)
            response = adopt(old, final)
        else:
            response = self._settle(old, final, outputs, event, out)
        self.responses[response.id] = response
        self.current_run = response
        if created:
            out.append(c.RunCreated(event=event, run=response))  # type: ignore[arg-type]
        if old_status != response.status:
            out.append(
                c.RunStatusChanged(
                    event=event,
                    run=response,  # type: ignore[arg-type]
                    previous=old_status,
                    status=response.status,
                )
            )
        if terminal:
            self.endings += 1
            if self.finish_once("response", response.id):
                out.append(c.RunFinished(event=event, run=response))  # type: ignore[arg-type]
        return out

    def _settle(
        self,
        old: Response | None,
        final: Response,
        outputs: Indexed | None,
        event: Event,
        out: list[c.Change],
    ) -> Response:
        """A response event that replaces the output (a final one, or the first): compare
        what was folded, finish what is open, keep the server's items with the identity of
        the folded ones."""
        final_items = final.output if final.output is not None else []
        if outputs is not None and outputs.items and final.status in _RESPONSE_TERMINAL:
            mine = [_comparable(item) for item in outputs.items]
            theirs = [_comparable(item) for item in final_items]
            self._mismatch(event, f"response {final.id}", mine, theirs, "output", out)
        kept: list[Any] = []
        fresh: list[tuple[int, Any]] = []
        dropped = [
            (index, item)
            for index, item in (outputs.by_index.items() if outputs is not None else ())
            if index >= len(final_items)
        ]
        for index, item in enumerate(final_items):
            held = outputs.by_index.get(index) if outputs is not None else None
            if held is not None and held.__class__ is item.__class__:
                kept.append(self._replace_item(held, item))
            else:
                kept.append(item)
                fresh.append((index, item))
        if final.output is not None:
            set_field(final, "output", kept)
        response = adopt(old, final)
        new_outputs = Indexed.of(response.output if response.output is not None else [])
        if outputs is not None:
            new_outputs.done = outputs.done
            new_outputs.known |= outputs.known
        self._outputs = new_outputs
        for index, item in fresh:
            self._created(item, index, event, out)
        if final.status in _RESPONSE_TERMINAL:
            left = []
            new = {index for index, _ in fresh}
            every = [*zip(new_outputs.indices, new_outputs.items, strict=True), *dropped]
            for index, item in every:
                track = self._tracks.get(self._key(item, index))
                if track is not None and not self.is_finished("item", track.key):
                    if index not in new:
                        left.append(f"{getattr(item, 'type', None)} item {track.key}")
                    self._finish(item, track, event, out)
            if left:
                out.append(
                    self.note(
                        event,
                        "left_open",
                        f"response {final.id} ended {final.status!r} leaving "
                        f"{', '.join(left)} without output_item.done: each is done now",
                    )
                )
        return response

    # -- items

    @staticmethod
    def _key(item: Any, index: int) -> str:
        item_id = item.raw.get("id") if isinstance(item, UnknownVariant) else item.id
        return item_id if isinstance(item_id, str) and item_id else f"#{index}"

    def _created(self, item: Any, index: int, event: Event, out: list[c.Change]) -> _Track:
        """Track a new item at ``index`` and say so (its parts too)."""
        key = self._key(item, index)
        parts = Indexed.of(_list_of(item, "content")) if kind_of_item(item) == "message" else None
        summary = Indexed.of(_list_of(item, "summary")) if isinstance(item, ReasoningItem) else None
        track = _Track(index, key, parts or Indexed.of([]), summary or Indexed.of([]))
        self._tracks[key] = track
        self._by_id[key] = key
        self.items[key] = item
        self.current_item = item
        if kind_of_item(item) == "message":
            if isinstance(item, OutputMessage):
                self.messages[key] = item
                self.current_message = item
            out.append(c.MessageCreated(event=event, message=item))
            for where in (track.parts, track.summary):
                for i, part in zip(where.indices, where.items, strict=True):
                    out.append(c.ContentPartCreated(event, item, i, part, self._part_kind(part)))
        else:
            out.append(c.ToolCallCreated(event, self._run, index, item, item.type))
        return track

    @staticmethod
    def _part_kind(part: Any) -> str:
        kind = PART_KIND.get(part.__class__)
        return kind if kind is not None else str(getattr(part, "type", None))

    def _replace_item(self, held: Any, final: Any) -> Any:
        """Make the held snapshot the server's item, keeping the identity of it and of
        its parts."""
        if isinstance(held, UnknownVariant):
            held.raw = final.raw
            return held
        for field in ("content", "summary"):
            old_parts = getattr(held, field, None) if kind_of_item(held) == "message" else None
            new_parts = getattr(final, field, None)
            if old_parts and new_parts:
                set_field(
                    final,
                    field,
                    [
                        adopt(old_parts[i], part) if i < len(old_parts) else part
                        for i, part in enumerate(new_parts)
                    ],
                )
        return adopt(held, final)

    def _lookup(self, data: Any, event: Event, out: list[c.Change], make: str) -> Any:
        """The item a delta or part event addresses; created from it when never added."""
        item_id = data.item_id
        index = data.output_index
        key = self._by_id.get(item_id) if item_id is not None else None
        if key is None and index.__class__ is int and self._outputs is not None:
            held = self._outputs.by_index.get(index)
            if held is not None:
                key = self._key(held, index)
        if key is not None:
            return self.items[key]
        self._response(event, out)
        outputs = self._outputs
        assert outputs is not None
        if index.__class__ is not int:
            index = outputs.indices[-1] + 1 if outputs.indices else 0
        raw: dict[str, Any] = {"type": make, "status": "in_progress"}
        if item_id is not None:
            raw["id"] = item_id
        if make == "message":
            raw.update(role="assistant", content=[])
        elif make == "reasoning":
            raw["summary"] = []
        item = _new_item(raw)
        outputs.put(index, item)
        self._created(item, index, event, out)
        return item

    def _item_added(self, event: Event) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        self._response(event, out)
        outputs = self._outputs
        assert outputs is not None
        item = data.item.clone()
        index = data.output_index
        if index.__class__ is not int:
            index = outputs.indices[-1] + 1 if outputs.indices else 0
        held = outputs.by_index.get(index)
        if held is not None:
            # Created already, from a delta that came first: the item's fields join it,
            # what was folded stays.
            if held.__class__ is item.__class__ and not isinstance(item, UnknownVariant):
                for field in ("content", "summary", "_arguments", "_input", "_code"):
                    if hasattr(held, field):
                        set_field(item, field, getattr(held, field))
                adopt(held, item)
            out.append(
                self.note(
                    event,
                    "created_again",
                    f"{event.event} for output {index}, which already holds an item: "
                    "what was folded so far is kept",
                )
            )
            return out
        outputs.put(index, item)
        self._created(item, index, event, out)
        return out

    def _item_done(self, event: Event) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        self._response(event, out)
        outputs = self._outputs
        assert outputs is not None
        final = data.item.clone()
        index = data.output_index
        if index.__class__ is not int:
            index = outputs.indices[-1] + 1 if outputs.indices else 0
        held = outputs.by_index.get(index)
        if held is None:
            outputs.put(index, final)
            track = self._created(final, index, event, out)
            item = final
        else:
            track = self._tracks[self._key(held, index)]
            old_status = getattr(held, "status", None)
            new_status = getattr(final, "status", None)
            if (
                old_status is not None
                and new_status is not None
                and old_status != new_status
                and not ITEM.allows(old_status, new_status)
            ):
                out.append(
                    self.violation(
                        "illegal_transition",
                        f"item {track.key} in status {old_status!r} cannot move to "
                        f"{new_status!r} on {event.event}",
                        what="item",
                        object_id=track.key,
                        status=old_status,
                        event=event,
                    )
                )
            self._mismatch(
                event, f"item {track.key}", _comparable(held), _comparable(final), "item", out
            )
            if held.__class__ is final.__class__:
                item = self._replace_item(held, final)
            else:
                item = final
                outputs.replace(index, item)
                self.items[track.key] = item
                if track.key in self.messages:
                    self.messages[track.key] = item
            if kind_of_item(item) == "message":
                track.parts = track.parts.restart(_list_of(item, "content"))
                if isinstance(item, ReasoningItem):
                    track.summary = track.summary.restart(_list_of(item, "summary"))
        self.current_item = item
        self._finish(item, track, event, out)
        return out

    def _finish(self, item: Any, track: _Track, event: Event, out: list[c.Change]) -> None:
        """The item is done: its parts not done yet, then the item (each exactly once)."""
        if not self.finish_once("item", track.key):
            return
        if self._outputs is not None:
            self._outputs.done.add(track.index)
        if kind_of_item(item) == "message":
            for where in (track.parts, track.summary):
                for i, part in where.finish():
                    out.append(c.ContentPartDone(event, item, i, part, self._part_kind(part)))
            out.append(c.MessageDone(event=event, message=item))
        else:
            out.append(c.ToolCallDone(event, self._run, track.index, item, item.type))

    def _mismatch(
        self, event: Event, what: str, mine: Any, theirs: Any, path: str, out: list[c.Change]
    ) -> None:
        fields = differences(mine, theirs, path)
        if not fields:
            return
        shown = ", ".join(fields[:5]) + (f" and {len(fields) - 5} more" if len(fields) > 5 else "")
        out.append(
            self.note(
                event,
                "mismatch",
                f"{what}: what the deltas built differs from the server's {event.event} at "
                f"{shown} (the server's is kept)",
                {"folded": mine, "final": theirs, "fields": fields},
            )
        )

    # -- content parts

    def _index_of(self, item: Any) -> int:
        outputs = self._outputs
        assert outputs is not None
        for index, held in outputs.by_index.items():
            if held is item:
                return index
        raise LookupError(item)  # pragma: no cover - every tracked item is in the output

    def _track_of(self, item: Any) -> _Track:
        key = self._by_id.get(getattr(item, "id", None) or "")
        if key is None:
            key = self._key(item, self._index_of(item))
        return self._tracks[key]

    def _part(
        self,
        event: Event,
        out: list[c.Change],
        make_item: str,
        make_part: type,
        index_field: str,
        summary: bool = False,
    ) -> tuple[Any, int, Any, bool]:
        """The item, the part's index and the part a part event addresses (both created
        from the event when they were never announced)."""
        data = event.data
        item = self._lookup(data, event, out, make_item)
        track = self._track_of(item)
        track.deltas += 1
        parts = track.summary if summary else track.parts
        index = getattr(data, index_field)
        if index.__class__ is not int:
            index = parts.indices[-1] + 1 if parts.indices else 0
        part: Any = parts.by_index.get(index)
        created = part is None
        if part is None:
            part = _new_part(dict(_PART_TEMPLATE[make_part]))
            parts.put(index, part)
            out.append(c.ContentPartCreated(event, item, index, part, self._part_kind(part)))
        return item, index, part, created

    def _part_added(self, event: Event) -> list[c.Change]:
        return self._add_part(event, "content_index", summary=False)

    def _summary_added(self, event: Event) -> list[c.Change]:
        return self._add_part(event, "summary_index", summary=True)

    def _add_part(self, event: Event, index_field: str, *, summary: bool) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        item = self._lookup(data, event, out, "reasoning" if summary else "message")
        if kind_of_item(item) != "message":
            return [*out, self._wrong_item(event, item, "content parts")]
        track = self._track_of(item)
        parts = track.summary if summary else track.parts
        index = getattr(data, index_field)
        if index.__class__ is not int:
            index = parts.indices[-1] + 1 if parts.indices else 0
        if index in parts.by_index:
            return out  # created from a delta that came first: what was folded stays
        part = data.part.clone()
        parts.put(index, part)
        self.current_message = item if isinstance(item, OutputMessage) else self.current_message
        out.append(c.ContentPartCreated(event, item, index, part, self._part_kind(part)))
        return out

    def _part_done(self, event: Event) -> list[c.Change]:
        return self._done_part(event, "content_index", summary=False)

    def _summary_done(self, event: Event) -> list[c.Change]:
        return self._done_part(event, "summary_index", summary=True)

    def _done_part(self, event: Event, index_field: str, *, summary: bool) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        final = data.part.clone()
        maker = final.__class__ if final.__class__ in _PART_TEMPLATE else OutputText
        item, index, part, created = self._part(
            event, out, "reasoning" if summary else "message", maker, index_field, summary
        )
        track = self._track_of(item)
        parts = track.summary if summary else track.parts
        if index in parts.done:
            return out
        if not created:
            self._mismatch(
                event,
                f"item {track.key} part {index}",
                part.to_dict(),
                final.to_dict(),
                "part",
                out,
            )
        if part.__class__ is final.__class__:
            logprobs = getattr(part, "logprobs", None)
            part = adopt(part, final)
            if logprobs and not getattr(part, "logprobs", None):
                set_field(part, "logprobs", logprobs)  # the server did not repeat them
        else:
            part = final
            parts.replace(index, part)
        parts.done.add(index)
        out.append(c.ContentPartDone(event, item, index, part, self._part_kind(part)))
        return out

    def _append(
        self,
        event: Event,
        make_item: str,
        make_part: type,
        slot: str,
        index_field: str,
        summary: bool = False,
    ) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        item, index, part, _ = self._part(event, out, make_item, make_part, index_field, summary)
        if _class(part) is not make_part:
            out.append(self._wrong_part(event, item, index, part))
            return out
        text: str | None = data.delta
        if text:
            append_to(part, slot, text)
        logprobs = getattr(data, "logprobs", None)
        if logprobs:
            self._add_logprobs(part, logprobs)
        if isinstance(item, OutputMessage):
            self.current_message = item
        self.current_item = item
        out.append(
            c.ContentPartDelta(event, item, index, part, data, self._part_kind(part), text or "")
        )
        return out

    def _text_delta(self, event: Event) -> list[c.Change]:
        # The common case first: a known item's known text part, by id.
        data = event.data
        key = data.item_id
        track = self._tracks.get(key) if key is not None else None
        if track is not None:
            index = data.content_index
            part: Any = track.parts.by_index.get(index)
            if part is not None and _class(part) is OutputText:
                text = data.delta
                if text:
                    append_to(part, "_text", text)
                logprobs = data.logprobs
                if logprobs:
                    self._add_logprobs(part, logprobs)
                track.deltas += 1
                item = self.items[key]
                self.current_item = item
                if item.__class__ is OutputMessage:
                    self.current_message = item
                return [c.ContentPartDelta(event, item, index, part, data, "text", text or "")]
        return self._append(event, "message", OutputText, "_text", "content_index")

    @staticmethod
    def _add_logprobs(part: Any, logprobs: list[Any]) -> None:
        held = part.logprobs
        if held is None:
            set_field(part, "logprobs", list(logprobs))
        else:
            held.extend(logprobs)

    def _refusal_delta(self, event: Event) -> list[c.Change]:
        return self._append(event, "message", OutputRefusal, "_refusal", "content_index")

    def _summary_delta(self, event: Event) -> list[c.Change]:
        return self._append(event, "reasoning", SummaryText, "_text", "summary_index", True)

    def _reasoning_delta(self, event: Event) -> list[c.Change]:
        return self._append(event, "reasoning", ReasoningText, "_text", "content_index")

    def _text_done(self, event: Event) -> list[c.Change]:
        return self._whole(event, "message", OutputText, "text", "content_index")

    def _refusal_done(self, event: Event) -> list[c.Change]:
        return self._whole(event, "message", OutputRefusal, "refusal", "content_index")

    def _summary_text_done(self, event: Event) -> list[c.Change]:
        return self._whole(event, "reasoning", SummaryText, "text", "summary_index", True)

    def _reasoning_done(self, event: Event) -> list[c.Change]:
        return self._whole(event, "reasoning", ReasoningText, "text", "content_index")

    def _whole(
        self,
        event: Event,
        make_item: str,
        make_part: type,
        field: str,
        index_field: str,
        summary: bool = False,
    ) -> list[c.Change]:
        """A ``*.done`` event with a part's whole text: compared with the folded text; the
        server's is kept."""
        data = event.data
        out: list[c.Change] = []
        item, index, part, _ = self._part(event, out, make_item, make_part, index_field, summary)
        if _class(part) is not make_part:
            out.append(self._wrong_part(event, item, index, part))
            return out
        whole = getattr(data, field)
        if whole is not None and getattr(part, field) != whole:
            track = self._track_of(item)
            if getattr(part, field):
                self._mismatch(
                    event,
                    f"item {track.key} part {index}",
                    {field: getattr(part, field)},
                    {field: whole},
                    "part",
                    out,
                )
            setattr(part, field, whole)
        return out

    def _annotation_added(self, event: Event) -> list[c.Change]:
        data = event.data
        out: list[c.Change] = []
        found: Any = self._part(event, out, "message", OutputText, "content_index")
        item, index, part, _ = found
        if _class(part) is not OutputText:
            out.append(self._wrong_part(event, item, index, part))
            return out
        annotations = _list_of(part, "annotations")
        at = data.annotation_index
        annotation = data.annotation.clone()
        if at.__class__ is int and at < len(annotations):
            annotations[at] = annotation
        else:
            annotations.append(annotation)
        out.append(c.ContentPartDelta(event, item, index, part, data, "text", ""))
        return out

    def _wrong_part(self, event: Event, item: Any, index: int, part: Any) -> c.Problem:
        return self.violation(
            "illegal_transition",
            f"content part {index} of item {self._track_of(item).key} is "
            f"{getattr(part, 'type', None)!r}; {event.event} cannot merge into it",
            what="item",
            object_id=self._track_of(item).key,
            status=getattr(item, "status", None),
            event=event,
        )

    def _wrong_item(self, event: Event, item: Any, what: str) -> c.Problem:
        track = self._track_of(item)
        return self.violation(
            "illegal_transition",
            f"item {track.key} is {getattr(item, 'type', None)!r}; {event.event} is for {what}",
            what="item",
            object_id=track.key,
            status=getattr(item, "status", None),
            event=event,
        )

    # -- tool calls

    _CALL_FOR: ClassVar[dict[str, type]] = {
        "response.function_call_arguments.delta": FunctionCall,
        "response.function_call_arguments.done": FunctionCall,
        "response.custom_tool_call_input.delta": CustomToolCall,
        "response.custom_tool_call_input.done": CustomToolCall,
        "response.mcp_call_arguments.delta": McpCall,
        "response.mcp_call_arguments.done": McpCall,
        "response.code_interpreter_call_code.delta": CodeInterpreterCall,
        "response.code_interpreter_call_code.done": CodeInterpreterCall,
    }

    def _call(self, event: Event, out: list[c.Change]) -> tuple[Any, _Track] | None:
        make = self._CALL_FOR[event.event]
        item = self._lookup(event.data, event, out, _TYPE_OF[make])
        if item.__class__ is not make:
            out.append(self._wrong_item(event, item, make.__name__))
            return None
        self.current_item = item
        track = self._track_of(item)
        track.deltas += 1
        return item, track

    def _call_delta(self, event: Event) -> list[c.Change]:
        data = event.data
        key = data.item_id
        track = self._tracks.get(key) if key is not None else None
        if track is not None:
            item: Any = self.items[key]
            if _class(item) is self._CALL_FOR[event.event]:
                text = data.delta
                if text:
                    append_to(item, GROWS[item.__class__], text)
                track.deltas += 1
                self.current_item = item
                return [
                    c.ToolCallDelta(
                        event, self._run, track.index, item, data, item.type, text or ""
                    )
                ]
        out: list[c.Change] = []
        found = self._call(event, out)
        if found is None:
            return out
        item, track = found
        text = event.data.delta
        if text:
            append_to(item, GROWS[item.__class__], text)
        out.append(
            c.ToolCallDelta(event, self._run, track.index, item, event.data, item.type, text or "")
        )
        return out

    def _call_done_text(self, event: Event) -> list[c.Change]:
        out: list[c.Change] = []
        found = self._call(event, out)
        if found is None:
            return out
        item, track = found
        field = GROWS[item.__class__][1:]
        whole = getattr(event.data, field)
        if whole is not None and getattr(item, field) != whole:
            if getattr(item, field):
                self._mismatch(
                    event,
                    f"item {track.key}",
                    {field: getattr(item, field)},
                    {field: whole},
                    "item",
                    out,
                )
            setattr(item, field, whole)
        return out

    def _progress(self, event: Event) -> list[c.Change]:
        """A hosted tool's status event, or a partial image."""
        out: list[c.Change] = []
        spec = EVENTS[event.event]
        item = self._lookup(event.data, event, out, event.event.split(".")[1])
        track = self._track_of(item)
        status = spec.status
        self.current_item = item
        if status is None:
            status = event.event.rsplit(".", 1)[-1]
        else:
            old = getattr(item, "status", None)
            if old is not None and old != status and not ITEM.allows(old, status):
                out.append(
                    self.violation(
                        "illegal_transition",
                        f"item {track.key} in status {old!r} cannot move to {status!r} on "
                        f"{event.event}",
                        what="item",
                        object_id=track.key,
                        status=old,
                        event=event,
                    )
                )
            if isinstance(item, UnknownVariant):
                item.raw["status"] = status
            else:
                set_field(item, "status", status)
        out.append(ToolCallProgress(event, self._run, track.index, item, item.type, status))
        return out

    # -- errors and the end

    def _error(self, event: Event) -> list[c.Change]:
        self.endings += 1  # the service ends the stream after an error (response.failed)
        return [c.ErrorReceived(event=event, error=event.data.details)]

    def _done(self, event: DoneEvent) -> list[c.Change]:
        self.endings += 1
        return [c.StreamDone(event=event)]
