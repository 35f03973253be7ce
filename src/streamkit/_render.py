"""Terminal rendering of a folded run for the command line (``replay``, ``record``, ``demo``).

Two renderers share one interface (``update(changes)``, ``progress(done)``, ``close()``):

- :class:`LiveRenderer` redraws a :mod:`rich` view of the snapshots (runs with status and
  token usage, tool calls with their growing arguments, code interpreter input and logs,
  streaming message text, a progress line) a dozen times a second.
- :class:`PlainRenderer` prints an incremental transcript, piece by piece, for pipes and
  files: text and arguments appear as they stream, one header line per new item.

Both read Changes and snapshots of either protocol: an Assistants run (runs, steps,
messages) or a Responses stream (the response is the run; its output items are drawn in
order: messages, reasoning summaries, function and hosted tool calls).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from . import _changes as c
from .models import (
    CodeInterpreterLogs,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    CodeInterpreterToolCallLogs,
    FileSearchToolCall,
    FunctionToolCall,
    Message,
    MessageCreationStepDetails,
    RunStep,
    TextContentBlock,
    ToolCallsStepDetails,
)
from .protocols.responses import ResponsesState, ToolCallProgress

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

    from .fold import State

__all__ = ["LiveRenderer", "PlainRenderer", "Renderer", "run_error", "usage_text"]


class Renderer(Protocol):
    """What the commands drive: the changes of each event, then byte progress."""

    def update(self, changes: list[c.Change]) -> None: ...
    def progress(self, done: int) -> None: ...
    def close(self) -> None: ...


def usage_text(run: Any) -> str | None:
    """``run.usage`` (a run's or a response's) as one phrase, or None when it has none yet."""
    usage = run.usage
    if usage is None:
        return None
    if hasattr(usage, "input_tokens"):  # a response's usage
        return (
            f"tokens: {usage.input_tokens or 0} input + {usage.output_tokens or 0} "
            f"output = {usage.total_tokens or 0}"
        )
    return (
        f"tokens: {usage.prompt_tokens or 0} prompt + {usage.completion_tokens or 0} "
        f"completion = {usage.total_tokens or 0}"
    )


def run_error(run: Any) -> tuple[Any, Any] | None:
    """The ``(code, message)`` a run (``last_error``) or a response (``error``) failed
    with, or None."""
    error = getattr(run, "last_error", None) or getattr(run, "error", None)
    if error is None:
        return None
    return getattr(error, "code", None), getattr(error, "message", None)


def _word(run: Any) -> str:
    """What to call the run: ``response`` for a Responses API response."""
    return "response" if getattr(run, "object", None) == "response" else "run"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


_TEXT_PARTS = frozenset({"output_text", "summary_text", "reasoning_text"})


def _text_of(part: Any) -> str:
    if isinstance(part, TextContentBlock) and part.text is not None:
        return part.text.value or ""
    kind = getattr(part, "type", None)
    if kind in _TEXT_PARTS:  # a Responses part
        return str(part.text or "")
    if kind == "refusal" and isinstance(getattr(part, "refusal", None), str):
        return f"[refusal] {part.refusal}"
    return f"[{kind or 'content'}]"


def _annotation_lines(part: Any) -> list[str]:
    if getattr(part, "type", None) == "output_text":  # a Responses part
        lines = []
        for note in part.annotations or []:
            raw = note.to_dict()
            target = raw.get("url") or raw.get("file_id") or raw.get("filename")
            lines.append(
                f"[{raw.get('type')}] {raw.get('title') or raw.get('filename')} -> {target}"
            )
        return lines
    if not isinstance(part, TextContentBlock) or part.text is None:
        return []
    lines = []
    for note in part.text.annotations or []:
        raw = note.to_dict()
        target = raw.get("file_citation") or raw.get("file_path") or {}
        file_id = target.get("file_id") if isinstance(target, dict) else None
        lines.append(f"[{raw.get('type')}] {raw.get('text')!s} -> {file_id}")
    return lines


def _call_title(call: Any) -> str:
    if isinstance(call, FunctionToolCall):
        name = call.function.name if call.function is not None else None
        return f"function {name or '?'}"
    kind = str(getattr(call, "type", None) or "tool call")
    name = getattr(call, "name", None)
    if kind == "function_call":  # a Responses function call
        return f"function {name or '?'}"
    return f"{kind} {name}" if isinstance(name, str) else kind


def _logs_of(call: CodeInterpreterToolCall) -> str:
    ci = call.code_interpreter
    if ci is None:
        return ""
    return "".join(
        out.logs or "" for out in ci.outputs or [] if isinstance(out, CodeInterpreterToolCallLogs)
    )


class _Order:
    """Steps and messages in order of first appearance (message-creation steps skipped)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def update(self, changes: list[c.Change]) -> None:
        for change in changes:
            if isinstance(change, c.StepCreated):
                if not isinstance(change.step.step_details, MessageCreationStepDetails):
                    self.items.append(("step", change.step.id))
            elif isinstance(change, c.MessageCreated):
                self.items.append(("message", change.message.id))


#: Content part kinds the transcript streams (text, a refusal, a reasoning summary).
_SHOWN_PARTS = frozenset({"text", "refusal", "reasoning"})
#: Tool call kinds whose deltas are arguments or input text.
_ARGUMENT_CALLS = frozenset({"function", "function_call", "custom_tool_call", "mcp_call"})


def _part_header(change: c.ContentPartDelta | c.ContentPartDone) -> str:
    message = change.message
    who = getattr(message, "role", None) or getattr(message, "type", None) or "message"
    label = {"refusal": f"{who} refusal", "reasoning": "reasoning"}.get(change.kind, who)
    return f"{label} ({message.id}):"


class PlainRenderer:
    """Prints a transcript as the stream goes: headers on their own line, pieces inline."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._key: tuple[Any, ...] | None = None  # what the current line is streaming
        self._streamed: set[tuple[Any, ...]] = set()
        self._at_line_start = True

    def _line(self, text: str) -> None:
        self._end_piece()
        self._out.write(text + "\n")

    def _end_piece(self) -> None:
        if self._key is not None:
            if not self._at_line_start:
                self._out.write("\n")
            self._key = None

    def _piece(self, key: tuple[Any, ...], header: str, piece: str | None) -> None:
        if not piece:
            return
        if key != self._key:
            self._end_piece()
            self._out.write(header + "\n")
            self._key = key
        self._streamed.add(key)
        self._out.write(piece)
        self._at_line_start = piece.endswith("\n")
        self._out.flush()

    def update(self, changes: list[c.Change]) -> None:
        """Print what ``changes`` added."""
        for change in changes:
            self._one(change)
        self._out.flush()

    def _one(self, change: c.Change) -> None:
        if isinstance(change, c.ThreadStarted):
            self._line(f"thread {change.thread.id}")
        elif isinstance(change, c.RunStatusChanged):
            run = change.run
            if change.previous is None:
                model = f" ({run.model})" if run.model else ""
                self._line(f"{_word(run)} {run.id}{model}: {change.status}")
            else:
                self._line(f"{_word(run)} {run.id}: {change.previous} -> {change.status}")
        elif isinstance(change, c.RunRequiresAction):
            self._line(f"run {change.run.id} requires action:")
            for call in change.tool_calls:
                fn = call.function
                name, args = (fn.name, fn.arguments) if fn is not None else (None, None)
                self._line(f"  submit output for {call.id}: {name}({args or ''})")
        elif isinstance(change, c.RunFinished):
            run = change.run
            usage = usage_text(run)
            self._line(f"{_word(run)} {run.id} {run.status}" + (f" · {usage}" if usage else ""))
            error = run_error(run)
            if error is not None:
                self._line(f"  error: {error[0]}: {error[1]}")
        elif isinstance(change, c.ToolCallDelta):
            self._call_delta(change)
        elif isinstance(change, c.StepDone):
            details = change.step.step_details
            if isinstance(details, ToolCallsStepDetails):
                for done in details.tool_calls or []:
                    fn = done.function if isinstance(done, FunctionToolCall) else None
                    if fn is not None and fn.output is not None:
                        self._line(f"  {fn.name} output: {fn.output}")
        elif isinstance(change, c.ToolCallDone):
            self._call_done(change)
        elif isinstance(change, c.ContentPartDelta):
            if change.kind in _SHOWN_PARTS and change.text:
                key = (change.kind, change.message.id, change.index)
                self._piece(key, _part_header(change), change.text)
        elif isinstance(change, c.ContentPartDone):
            key = (change.kind, change.message.id, change.index)
            if key not in self._streamed:
                self._piece(key, _part_header(change), _text_of(change.part))
            for line in _annotation_lines(change.part):
                self._line(f"  {line}")
        elif isinstance(change, c.ErrorReceived):
            self._line(f"error: {change.error.code}: {change.error.message}")
        elif isinstance(change, c.StreamDone):
            self._line("done")
        elif isinstance(change, c.Problem):
            self._line(f"! {change.kind}: {change.message}")
        elif isinstance(change, ToolCallProgress):
            self._line(f"  {_call_title(change.tool_call)}: {change.status}")

    def _call_delta(self, change: c.ToolCallDelta) -> None:
        delta, step, index = change.delta, change.step.id, change.index
        if change.kind == "code_interpreter_call" and change.text:  # Responses: the code
            self._piece(("input", step, index), "  code_interpreter input:", change.text)
        elif change.kind in _ARGUMENT_CALLS and change.text:
            header = f"  {_call_title(change.tool_call)} arguments:"
            self._piece(("args", step, index), header, change.text)
        elif change.kind == "code_interpreter" and isinstance(delta, CodeInterpreterToolCallDelta):
            if change.text:
                self._piece(("input", step, index), "  code_interpreter input:", change.text)
            ci = delta.code_interpreter
            for out in (ci.outputs if ci is not None else None) or []:
                if isinstance(out, CodeInterpreterLogs):
                    self._piece(("logs", step, index), "  code_interpreter logs:", out.logs)

    def _call_done(self, change: c.ToolCallDone) -> None:
        call, step, index = change.tool_call, change.step.id, change.index
        if isinstance(call, FunctionToolCall) and call.function is not None:
            if ("args", step, index) not in self._streamed:
                header = f"  {_call_title(call)} arguments:"
                self._piece(("args", step, index), header, call.function.arguments)
        elif isinstance(call, CodeInterpreterToolCall) and call.code_interpreter is not None:
            if ("input", step, index) not in self._streamed:
                ci_input = call.code_interpreter.input
                self._piece(("input", step, index), "  code_interpreter input:", ci_input)
            if ("logs", step, index) not in self._streamed:
                self._piece(("logs", step, index), "  code_interpreter logs:", _logs_of(call))
        elif isinstance(call, FileSearchToolCall):
            results = call.file_search.results if call.file_search is not None else None
            self._line(f"  file_search: {len(results or [])} result(s)")
        else:
            self._item_done(call, step, index)
        self._end_piece()

    def _item_done(self, item: Any, step: Any, index: int) -> None:
        """A Responses tool item's end: what it did that no delta showed."""
        kind = getattr(item, "type", None)
        if kind in ("function_call", "custom_tool_call", "mcp_call"):
            text = getattr(item, "arguments", None) or getattr(item, "input", None)
            if ("args", step, index) not in self._streamed and text:
                self._piece(("args", step, index), f"  {_call_title(item)} arguments:", text)
            output = getattr(item, "output", None)
            if output is not None:
                self._line(f"  {_call_title(item)} output: {output}")
        elif kind == "code_interpreter_call":
            if ("input", step, index) not in self._streamed and item.code:
                self._piece(("input", step, index), "  code_interpreter input:", item.code)
            logs = "".join(
                str(out.get("logs") or "") for out in item.outputs or [] if isinstance(out, dict)
            )
            if logs:
                self._piece(("logs", step, index), "  code_interpreter logs:", logs)
        elif kind == "file_search_call":
            self._line(f"  file_search: {len(item.results or [])} result(s)")
        else:
            self._line(f"  {_call_title(item)}: {getattr(item, 'status', None) or 'done'}")

    def progress(self, done: int) -> None:
        """Plain output shows no progress line."""

    def close(self) -> None:
        """End the last streamed line."""
        self._end_piece()
        self._out.flush()


class LiveRenderer:
    """Redraws the folded state with :class:`rich.live.Live`, plus a progress line."""

    def __init__(
        self, console: Console, state: State | Callable[[], Any], *, total: int | None = None
    ) -> None:
        """``state``: the fold to draw, or a function that gives it (the CLI's, whose
        first event decides the protocol, and so the fold)."""
        from rich.live import Live

        self._console = console
        self._state_of: Callable[[], Any] = state if callable(state) else lambda: state
        self._order = _Order()
        self._total = total
        self._done = 0
        self._events = 0
        self._live: Live = Live(
            console=console,
            get_renderable=self._render,
            refresh_per_second=12,
            vertical_overflow="visible",
            transient=False,
        )
        self._live.start()

    def update(self, changes: list[c.Change]) -> None:
        """Note the new steps and messages; the next refresh draws them."""
        self._events += 1
        self._order.update(changes)

    def progress(self, done: int) -> None:
        """Bytes processed so far."""
        self._done = done

    def close(self) -> None:
        """Draw the final state and stop redrawing."""
        self._total = None  # the progress line is for while it runs
        self._live.refresh()
        self._live.stop()

    # -- drawing

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        state: Any = self._state_of()
        parts: list[RenderableType] = []
        if isinstance(state, ResponsesState):
            parts.extend(self._responses(state))
        elif state.thread is not None:
            parts.append(Text(f"thread {state.thread.id}", style="dim"))
        for run in state.runs.values() if not isinstance(state, ResponsesState) else ():
            parts.append(self._run_line(run))
        for kind, ident in self._order.items:
            if kind == "step" and ident in state.steps:
                parts.extend(self._step(state.steps[ident]))
            elif kind == "message" and ident in state.messages:
                parts.extend(self._message(state.messages[ident]))
        for problem in state.problems[-5:]:
            parts.append(Text(f"! {problem.kind}: {problem.message}", style="yellow"))
        if self._total:
            share = min(self._done / self._total, 1.0)
            bar = "█" * int(share * 30) + "░" * (30 - int(share * 30))
            parts.append(
                Text(
                    f"{bar} {share:6.1%}  {_size(self._done)} / {_size(self._total)}"
                    f"  · {self._events} events",
                    style="dim",
                )
            )
        return Group(*parts)

    def _run_line(self, run: Any) -> RenderableType:
        from rich.text import Text

        colour = {
            "completed": "green",
            "requires_action": "yellow",
            "failed": "red",
            "expired": "red",
            "cancelled": "red",
            "incomplete": "red",
        }.get(run.status or "", "cyan")
        line = Text.assemble((f"{_word(run)} ", "bold"), (run.id, "bold"), "  ")
        line.append(run.status or "?", style=f"bold {colour}")
        if run.model:
            line.append(f"  {run.model}", style="dim")
        usage = usage_text(run)
        if usage:
            line.append(f"  {usage}", style="magenta")
        error = run_error(run)
        if error is not None:
            line.append(f"  {error[0]}: {error[1]}", style="red")
        return line

    def _responses(self, state: ResponsesState) -> list[RenderableType]:
        """A Responses stream: each response, then its output items in order."""
        from rich.markup import escape
        from rich.padding import Padding
        from rich.panel import Panel
        from rich.text import Text

        parts: list[RenderableType] = [self._run_line(r) for r in state.responses.values()]
        for item in state.items.values():
            kind = getattr(item, "type", None)
            if kind == "message":
                parts.extend(self._message(item))
                continue
            body = Text()
            if kind == "reasoning":
                body.append("".join(_text_of(p) for p in item.summary or []), style="italic")
            elif kind in _ARGUMENT_CALLS:
                body.append(_pretty_json(getattr(item, "arguments", None) or ""))
            elif kind == "code_interpreter_call":
                body.append(item.code or "")
            title = f"{_call_title(item)} · {getattr(item, 'status', None) or '?'}"
            parts.append(
                Padding(
                    Panel(body, title=escape(title), title_align="left", border_style="blue"),
                    (0, 2),
                )
            )
        return parts

    def _step(self, step: RunStep) -> list[RenderableType]:
        from rich.markup import escape
        from rich.padding import Padding
        from rich.panel import Panel
        from rich.text import Text

        details = step.step_details
        if not isinstance(details, ToolCallsStepDetails):
            return []
        out: list[RenderableType] = []
        for call in details.tool_calls or []:
            body = Text()
            if isinstance(call, FunctionToolCall) and call.function is not None:
                body.append(_pretty_json(call.function.arguments or ""))
                if call.function.output is not None:
                    body.append(f"\n→ {call.function.output}", style="green")
            elif isinstance(call, CodeInterpreterToolCall):
                body.append((call.code_interpreter.input if call.code_interpreter else "") or "")
                logs = _logs_of(call)
                if logs:
                    body.append("\n" + logs.rstrip("\n"), style="green")
            elif isinstance(call, FileSearchToolCall):
                results = call.file_search.results if call.file_search is not None else None
                body.append(f"{len(results or [])} result(s)")
            title = f"{_call_title(call)} · {step.status or '?'}"
            out.append(
                Padding(
                    Panel(body, title=escape(title), title_align="left", border_style="blue"),
                    (0, 2),
                )
            )
        return out

    def _message(self, message: Message | Any) -> list[RenderableType]:
        from rich.markup import escape
        from rich.padding import Padding
        from rich.panel import Panel
        from rich.text import Text

        body = Text()
        for part in message.content or []:
            body.append(_text_of(part))
            for line in _annotation_lines(part):
                body.append("\n" + line, style="dim")
        title = f"{message.role or 'message'} · {message.status or '?'}"
        style = "green" if message.role == "assistant" else "white"
        panel = Panel(body, title=escape(title), title_align="left", border_style=style)
        return [Padding(panel, (0, 2))]


def _pretty_json(text: str) -> str:
    """Indent complete JSON arguments; show partial ones as they are."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
