"""The ``streamkit`` command line: replay, inspect, validate, record, demo and emulator.

``replay``, ``inspect`` and ``validate`` read a streamkit recording or a plain
``text/event-stream`` body (the format is detected from content) a chunk at a time,
through one :class:`~streamkit.Driver` (tolerant decoding, lenient fold, parser
diagnostics), and show the result; ``record`` does the same with a live response while
writing it. Either protocol is read, told from the first event: an Assistants run, or a
Responses stream (summarised as its responses and output items). ``demo`` runs a
conversation through the client against the emulator, which ``emulator`` serves
(``demo --serve``: a chat page in the browser, ``_demo_serve.py``). Errors are one line
on stderr prefixed ``streamkit:``; exit status 0 on success, 1 when
``validate`` found problems, 2 for usage, input and network errors, 130 when interrupted.
See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import stat
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import attrs
import orjson

from . import _changes as c
from ._driver import DEFAULT_LIMITS, Driver
from ._version import __version__
from .events import Event, RecoveredEventWarning
from .fold import State
from .record import (
    REDACTED,
    Recording,
    RecordingError,
    TruncatedRecordingWarning,
    load_recording,
    replay,
    tee,
)
from .record._format import FileChunks
from .record._redact import Scrubber, is_secret, redact_url
from .sse import SSEError
from .sse import __compiled__ as _compiled

__all__ = ["main"]

#: Plain bodies are replayed in chunks of this size, so long files show progress.
PLAIN_CHUNK = 64 * 1024
_EVENT_LINE = re.compile(r"^event(:|$)")


class CLIError(Exception):
    """A failure reported as one ``streamkit: ...`` line on stderr."""

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see 'streamkit --help')")


# --- the pipeline: bytes -> events -> changes ---------------------------------------------


@attrs.define
class Report:
    """One problem found by ``validate``: where (1-based body line), what kind, and why."""

    line: int
    kind: str
    message: str


class Pipeline:
    """The CLI's :class:`~streamkit.Driver` (either protocol, told from the first event;
    tolerant decoding, lenient fold, parser diagnostics), fed chunk by chunk; and what
    ``validate`` reports beyond the fold's problems: the server's ``error`` events, and
    where the data of a bad event was.

    It holds the snapshots and what it reports, never the stream: memory follows the
    final state, not the size of the input.
    """

    def __init__(
        self,
        name: str = "<stream>",
        *,
        max_line_bytes: int = DEFAULT_LIMITS["max_line_bytes"],
        max_event_bytes: int = DEFAULT_LIMITS["max_event_bytes"],
    ) -> None:
        self.name = name
        self.driver = Driver(
            protocol="auto",
            strict=False,
            tolerant=True,
            diagnostics=True,
            max_line_bytes=max_line_bytes,
            max_event_bytes=max_event_bytes,
        )
        #: The server's ``error`` events, with the error each carried.
        self.errors: list[tuple[Event, Any]] = []
        #: The first and last ``data`` line of each event a Problem was reported for.
        self.data_lines: dict[int, tuple[int, int]] = {}
        #: The number of the input's last line, known once closed.
        self.last_line = 0

    @property
    def state(self) -> State:
        """The fold (a :class:`~streamkit.protocols.responses.ResponsesState` for a
        Responses stream: the first event decides)."""
        return self.driver.state  # type: ignore[no-any-return]

    @property
    def responses(self) -> bool:
        """Whether the stream is a Responses API stream."""
        return self.driver.protocol.name == "responses"

    @property
    def events(self) -> int:
        """How many events were decoded."""
        return self.driver.events

    def feed(self, chunk: bytes) -> list[list[c.Change]]:
        """Changes of each event the chunk completed."""
        out = []
        lines = self.driver.parser.data_lines
        try:
            for event, changes in self.driver.feed(chunk):
                for change in changes:
                    if change.__class__ is c.ErrorReceived:
                        self.errors.append((event, change.error))
                if changes and changes[0].__class__ is c.Problem and event.sse is not None:
                    offset = event.sse.offset
                    if offset is not None and offset in lines:
                        self.data_lines[offset] = lines[offset]
                out.append(changes)
        except SSEError as e:
            raise CLIError(
                f"{self.name}: not an event stream ({e}; see --max-line-bytes and "
                "--max-event-bytes)"
            ) from None
        finally:
            lines.clear()
        return out

    def close(self) -> list[c.Change]:
        """End of the stream: the driver's verdict (a "truncated" Problem, or nothing)."""
        self.last_line = self.driver.parser.last_line
        return self.driver.close()

    def require_events(self) -> None:
        """Fail when the input held no event at all (a PNG, a JSON document...)."""
        if not self.driver.events:
            raise CLIError(
                f"{self.name}: no events found (not a text/event-stream body or a "
                "streamkit recording)"
            )


@contextlib.contextmanager
def _reading(path: str) -> Iterator[None]:
    """Turn the errors of reading ``path`` into one-line CLI errors."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TruncatedRecordingWarning)
            yield
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: is a directory") from None
    except OSError as e:
        raise CLIError(f"{path}: cannot read ({e.strerror or e})") from None
    except RecordingError as e:
        if e.line == 1:
            raise CLIError(
                f"{path}: neither an event stream nor a streamkit recording (line 1: {e.reason})"
            ) from None
        raise CLIError(f"malformed recording: {e}") from None


def _load(path: str) -> Recording:
    with _reading(path):
        return load_recording(path, plain_chunk_size=PLAIN_CHUNK)
    raise AssertionError("unreachable")  # pragma: no cover (for type checkers)


def _fold(path: str, args: argparse.Namespace) -> tuple[bool, Pipeline]:
    """Stream ``path`` through a pipeline, reading it a chunk at a time (a recording a
    line at a time); return whether it is a recording cut short, and the pipeline."""
    pipeline = Pipeline(name=path, **_limits(args))
    with _reading(path):
        chunks = FileChunks(path, PLAIN_CHUNK)
        try:
            for chunk in chunks:
                pipeline.feed(chunk)
        finally:
            chunks.close()
    pipeline.close()
    pipeline.require_events()
    return chunks.truncated, pipeline


def _limits(args: argparse.Namespace) -> dict[str, int]:
    return {
        "max_line_bytes": getattr(args, "max_line_bytes", DEFAULT_LIMITS["max_line_bytes"]),
        "max_event_bytes": getattr(args, "max_event_bytes", DEFAULT_LIMITS["max_event_bytes"]),
    }


# --- rendering a stream live ---------------------------------------------------------------


def _render(chunks: Iterable[bytes], pipeline: Pipeline, *, total: int | None, plain: bool) -> None:
    from rich.console import Console

    from ._render import LiveRenderer, PlainRenderer, Renderer

    console = Console()
    renderer: Renderer
    if console.is_terminal and not plain:
        renderer = LiveRenderer(console, lambda: pipeline.state, total=total)
    else:
        renderer = PlainRenderer(sys.stdout)
    done = 0
    try:
        for chunk in chunks:
            for changes in pipeline.feed(chunk):
                renderer.update(changes)
            done += len(chunk)
            renderer.progress(done)
        ending = pipeline.close()
        if ending and pipeline.events:  # with no event at all, require_events() says so
            renderer.update(ending)
    finally:
        renderer.close()


def _speed(args: argparse.Namespace, timed: bool) -> float | None:
    if args.instant:
        return None
    if args.speed is not None:
        if not args.speed > 0:
            raise CLIError(f"--speed must be > 0, got {args.speed}")
        return float(args.speed)
    return 1.0 if timed else None


def _play(recording: Recording, args: argparse.Namespace, name: str) -> int:
    timed = any(chunk.t is not None for chunk in recording.chunks)
    speed = _speed(args, timed)
    pipeline = Pipeline(name=name, **_limits(args))
    total = sum(len(chunk.data) for chunk in recording.chunks)
    _render(replay(recording, speed=speed), pipeline, total=total, plain=args.plain)
    pipeline.require_events()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Render a recorded run live, at its recorded pace (or ``--speed`` / ``--instant``)."""
    return _play(_load(args.file), args, args.file)


def cmd_demo(args: argparse.Namespace) -> int:
    """Talk to the local emulator over HTTP with the client (a tool call included) and
    render the run live; ``--save`` writes the streams as one recording."""
    try:
        from ._demo import DEMO_TOKENS_PER_SECOND, run_demo
        from .emulator import create_app  # noqa: F401 - the emulator's dependencies
    except ImportError as e:
        raise CLIError(
            f"the demo needs the cli extra: pip install 'streamkit[cli]' ({e})"
        ) from None
    speed = _speed(args, True)
    tokens_per_second = None if speed is None else DEMO_TOKENS_PER_SECOND * speed
    if args.serve:
        from ._demo_serve import serve_demo

        if args.save:
            raise CLIError("demo: --save records the terminal demo; it does not go with --serve")

        try:
            return serve_demo(
                host=args.host,
                port=args.port,
                tokens_per_second=tokens_per_second,
                open_browser=not args.no_browser,
            )
        except OSError as e:
            raise CLIError(f"demo --serve: {args.host}:{args.port}: {e.strerror or e}") from None
    try:
        return run_demo(tokens_per_second=tokens_per_second, plain=args.plain, save=args.save)
    except OSError as e:
        raise CLIError(f"{args.save or 'demo'}: {e.strerror or e}") from None


# --- inspect ---------------------------------------------------------------------------------


def _snapshot_json(pipeline: Pipeline, reports: list[Report]) -> dict[str, Any]:
    state: Any = pipeline.state
    if pipeline.responses:
        return {
            "responses": [response.to_dict() for response in state.responses.values()],
            "items": [item.to_dict() for item in state.items.values()],
            "problems": [attrs.asdict(report) for report in reports],
        }
    return {
        "runs": [run.to_dict() for run in state.runs.values()],
        "steps": [step.to_dict() for step in state.steps.values()],
        "messages": [message.to_dict() for message in state.messages.values()],
        "problems": [attrs.asdict(report) for report in reports],
    }


def _summary(path: str, pipeline: Pipeline, reports: list[Report]) -> Iterator[str]:
    from ._render import usage_text

    if pipeline.responses:
        yield from _responses_summary(path, pipeline, reports)
        return
    state = pipeline.state
    yield (
        f"{path}: {pipeline.events} events, {len(state.runs)} run(s), "
        f"{len(state.steps)} step(s), {len(state.messages)} message(s), "
        f"{len(reports)} problem(s)"
    )
    if state.thread is not None:
        yield f"thread {state.thread.id}"
    for run in state.runs.values():
        usage = usage_text(run)
        model = f"  {run.model}" if run.model else ""
        yield f"run {run.id}  {run.status}{model}" + (f"  ({usage})" if usage else "")
        if run.last_error is not None:
            yield f"  last error: {run.last_error.code}: {run.last_error.message}"
        for step in state.steps.values():
            if step.run_id == run.id:
                yield from _step_summary(step)
    for message in state.messages.values():
        yield f"message {message.id}  {message.role}  {message.status}"
        for part in message.content or []:
            raw = part.to_dict()
            if raw.get("type") == "text":
                text = raw.get("text") or {}
                for line in str(text.get("value") or "").splitlines() or [""]:
                    yield f"  | {line}"
                for note in text.get("annotations") or []:
                    yield f"  [{note.get('type')}] {note.get('text')}"
            else:
                yield f"  [{raw.get('type')}]"
    if reports:
        yield "problems:"
        for report in reports:
            yield f"  line {report.line}: {report.kind}: {report.message}"


def _responses_summary(path: str, pipeline: Pipeline, reports: list[Report]) -> Iterator[str]:
    from ._render import run_error, usage_text

    state: Any = pipeline.state
    yield (
        f"{path}: {pipeline.events} events (Responses API), {len(state.responses)} "
        f"response(s), {len(state.items)} item(s), {len(reports)} problem(s)"
    )
    for response in state.responses.values():
        usage = usage_text(response)
        model = f"  {response.model}" if response.model else ""
        yield f"response {response.id}  {response.status}{model}" + (
            f"  ({usage})" if usage else ""
        )
        error = run_error(response)
        if error is not None:
            yield f"  error: {error[0]}: {error[1]}"
        details = response.incomplete_details
        if details is not None:
            yield f"  incomplete: {details.to_dict().get('reason')}"
    for item in state.items.values():
        yield from _item_summary(item.to_dict())
    if reports:
        yield "problems:"
        for report in reports:
            yield f"  line {report.line}: {report.kind}: {report.message}"


def _item_summary(raw: dict[str, Any]) -> Iterator[str]:
    """One output item of a response, as the API's JSON."""
    kind = raw.get("type")
    status = f"  {raw['status']}" if raw.get("status") else ""
    if kind == "message":
        yield f"message {raw.get('id')}  {raw.get('role')}{status}"
        for part in raw.get("content") or []:
            if part.get("type") == "output_text":
                for line in str(part.get("text") or "").splitlines() or [""]:
                    yield f"  | {line}"
                for note in part.get("annotations") or []:
                    where = note.get("url") or note.get("file_id") or note.get("filename")
                    yield f"  [{note.get('type')}] {where}"
            elif part.get("type") == "refusal":
                yield f"  [refusal] {part.get('refusal')}"
            else:
                yield f"  [{part.get('type')}]"
    elif kind == "reasoning":
        yield f"reasoning {raw.get('id')}{status}"
        for part in raw.get("summary") or []:
            for line in str(part.get("text") or "").splitlines():
                yield f"  ~ {line}"
    elif kind in ("function_call", "custom_tool_call", "mcp_call"):
        text = raw.get("arguments") if kind != "custom_tool_call" else raw.get("input")
        yield f"{kind} {raw.get('id')}{status}"
        yield f"  {raw.get('name')}({text or ''})" + (
            f"  call_id {raw['call_id']}" if raw.get("call_id") else ""
        )
        if raw.get("output") is not None:
            yield f"    -> {raw.get('output')}"
    elif kind == "code_interpreter_call":
        yield f"{kind} {raw.get('id')}{status}"
        for line in str(raw.get("code") or "").splitlines():
            yield f"  >>> {line}"
        for out in raw.get("outputs") or []:
            for line in str(out.get("logs") or f"[{out.get('type')}]").splitlines():
                yield f"  {line}"
    else:
        yield f"{kind} {raw.get('id')}{status}"


def _step_summary(step: Any) -> Iterator[str]:
    details = step.step_details.to_dict() if step.step_details is not None else {}
    yield f"  step {step.id}  {step.type}  {step.status}"
    for call in details.get("tool_calls") or []:
        kind = call.get("type")
        body = call.get(kind) or {}
        if kind == "function":
            yield f"    function {body.get('name')}({body.get('arguments') or ''})"
            if body.get("output") is not None:
                yield f"      -> {body.get('output')}"
        elif kind == "code_interpreter":
            for line in str(body.get("input") or "").splitlines():
                yield f"    >>> {line}"
            for out in body.get("outputs") or []:
                for line in str(out.get("logs") or f"[{out.get('type')}]").splitlines():
                    yield f"    {line}"
        else:
            yield f"    {kind}"


def cmd_inspect(args: argparse.Namespace) -> int:
    """Print the final runs, steps and messages (``--json``: the API's shapes)."""
    truncated, pipeline = _fold(args.file, args)
    reports = _reports(truncated, pipeline)
    if args.json:
        sys.stdout.write(
            orjson.dumps(_snapshot_json(pipeline, reports), option=orjson.OPT_INDENT_2).decode()
        )
        sys.stdout.write("\n")
    else:
        for line in _summary(args.file, pipeline, reports):
            print(line)
    return 0


# --- validate --------------------------------------------------------------------------------


def _event_line(pipeline: Pipeline, event: Event | None, kind: str) -> int:
    """The line a report about ``event`` points at: the first ``data`` line of a malformed
    event, the last of a recovered one (the junk follows the JSON), else the event's
    first line; the stream's last line for a truncation."""
    if kind == "truncated" or event is None or event.sse is None:
        return pipeline.last_line
    sse = event.sse
    data = pipeline.data_lines.get(sse.offset) if sse.offset is not None else None
    if data is not None:
        if kind == "recovered":
            return data[1]
        if kind == "malformed":
            return data[0]
    return sse.line or 0


def _reports(truncated_recording: bool, pipeline: Pipeline) -> list[Report]:
    """Every problem, by line: the fold's (the driver's truncation included), the server's
    ``error`` events, what the parser noticed, and a recording cut before its end line.
    ``inspect`` and ``validate`` list the same."""
    reports = [
        Report(_event_line(pipeline, p.event, p.kind), p.kind, p.message)
        for p in pipeline.state.problems
    ]
    for event, error in pipeline.errors:
        reports.append(
            Report(
                _event_line(pipeline, event, ""), "server_error", f"{error.code}: {error.message}"
            )
        )
    diagnostics = pipeline.driver.parser.diagnostics
    lost: set[int | None] = set()  # blocks whose data line lost its "data:" prefix
    for diag in diagnostics:
        if diag.kind == "unknown_field" and diag.text.lstrip()[:1] in ("{", "["):
            lost.add(diag.block_line)
            reports.append(
                Report(
                    diag.line,
                    "missing_data",
                    "a JSON line without its 'data:' prefix: the field is ignored and the "
                    "event's data is lost",
                )
            )
    for diag in diagnostics:
        if diag.kind == "dataless_block" and _EVENT_LINE.match(diag.text):
            if diag.line not in lost:  # already reported as missing_data
                reports.append(Report(diag.line, "dataless_block", diag.message))
        elif diag.kind == "unterminated_block":
            reports.append(Report(diag.line, "unterminated_block", diag.message))
    if truncated_recording:
        reports.append(
            Report(
                pipeline.last_line,
                "truncated_recording",
                "the recording has no end line: it was cut short",
            )
        )
    reports.sort(key=lambda r: r.line)
    return reports


def cmd_validate(args: argparse.Namespace) -> int:
    """Report every problem as ``FILE:LINE: kind: message``; 0 clean, 1 problems."""
    truncated, pipeline = _fold(args.file, args)
    reports = _reports(truncated, pipeline)
    try:
        for report in reports:
            print(f"{args.file}:{report.line}: {report.kind}: {report.message}")
        if not reports:
            print(f"{args.file}: clean: {pipeline.events} events, no problem found")
    except BrokenPipeError:  # the reader stopped early: the problems are still there
        pass
    if reports:
        print(
            f"{args.file}: {len(reports)} problem(s) in {pipeline.events} events",
            file=sys.stderr,
        )
        return 1
    return 0


# --- record ----------------------------------------------------------------------------------


def _headers(values: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for number, value in enumerate(values, 1):
        name, colon, rest = value.partition(":")
        if not colon or not name.strip():
            # No name to judge the value by: quote it only when nothing in it says secret.
            shown = "(not shown: it names a secret)" if is_secret(value) else repr(value)
            raise CLIError(f"bad header #{number} {shown}: expected 'Name: value'")
        name, rest = name.strip(), rest.strip()
        shown = repr(f"{name}: {REDACTED if is_secret(name) else rest}")
        if not value.isascii():  # httpx sends header names and values as ASCII
            raise CLIError(f"bad header {shown}: not ASCII")
        if any(ch < " " or ch == "\x7f" for ch in value):
            raise CLIError(f"bad header {shown}: control character")
        pairs.append((name, rest))
    return pairs


def _request_body(data: str | None) -> bytes | None:
    if data is None:
        return None
    if data.startswith("@"):
        try:
            return Path(data[1:]).read_bytes()
        except OSError as e:
            raise CLIError(f"{data[1:]}: cannot read ({e.strerror or e})") from None
    return data.encode()


def _remove_file(path: str) -> None:
    """Remove ``path`` if it is a regular file (never what a link such as /dev/stdout
    points at)."""
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.lstat(path).st_mode):
            os.remove(path)


def cmd_record(args: argparse.Namespace) -> int:
    """Record a live stream to ``-o FILE`` while rendering it like ``replay``.

    Secrets never reach the recording or the terminal: the URL is shown and kept without
    its user information and with its secret query parameters redacted, secret headers
    (by name, see ``docs/record.md``) are redacted, and every error message is scrubbed of
    the request's secrets. A response that is not an event stream, or any failure before
    the first byte of the body, leaves no output file.
    """
    import httpx  # the HTTP stack loads only for the command that sends a request

    from . import _http

    headers = _headers(args.header)
    body = _request_body(args.data)
    method = (args.request or ("POST" if body is not None else "GET")).upper()
    names = {name.lower() for name, _ in headers}
    if body is not None and "content-type" not in names and body.lstrip()[:1] in (b"{", b"["):
        headers.append(("Content-Type", "application/json"))
    if "accept" not in names:
        headers.append(("Accept", "text/event-stream"))
    scrub = Scrubber.for_request(args.url, headers)
    shown = redact_url(args.url)
    try:
        url = httpx.URL(args.url)
    except httpx.InvalidURL as e:
        raise CLIError(f"{shown}: invalid URL ({scrub(str(e))})") from None
    metadata = {
        "request": {
            "method": method,
            "url": redact_url(str(url)),
            "headers": [[name, REDACTED if is_secret(name) else value] for name, value in headers],
        }
    }
    pipeline = Pipeline(name=shown, **_limits(args))
    try:
        with (
            _http.client_factory() as client,
            client.stream(method, url, headers=headers, content=body) as response,
        ):
            problem = _http.event_stream_problem(response)
            if problem is not None:
                raise CLIError(f"{method} {shown}: {scrub(str(problem))}")
            received = 0

            def source() -> Iterator[bytes]:
                nonlocal received
                for chunk in response.iter_bytes():
                    received += len(chunk)
                    yield chunk

            recorder = _http.response_recorder(response, args.output, metadata=metadata)
            try:
                # Closing the tee before the recorder writes the chunk in hand, if any.
                with recorder, contextlib.closing(tee(source(), recorder)) as chunks:
                    _render(chunks, pipeline, total=None, plain=args.plain)
                pipeline.require_events()
            except BaseException:
                if not received:  # nothing of the stream was recorded: leave no file
                    _remove_file(args.output)
                raise
    except httpx.HTTPError as e:
        raise CLIError(f"{method} {shown}: {type(e).__name__}: {scrub(str(e))}") from None
    except BrokenPipeError:
        raise
    except OSError as e:
        raise CLIError(f"{args.output}: cannot write ({e.strerror or e})") from None
    print(f"recorded {pipeline.events} events to {args.output}", file=sys.stderr)
    return 0


# --- entry point -----------------------------------------------------------------------------


def cmd_emulator(args: argparse.Namespace) -> int:
    """Serve the local emulator of the API (``streamkit.emulator``) until interrupted."""
    try:
        from .emulator import Emulator, create_app, serve
    except ImportError as e:
        raise CLIError(
            f"the emulator needs the server extra: pip install 'streamkit[server]' ({e})"
        ) from None
    recordings = {Path(path).stem: path for path in args.recording}
    try:
        emulator = Emulator(
            api_key=args.api_key or None,
            prefix=args.prefix,
            tokens_per_second=args.tokens_per_second or None,
            recordings=recordings,
            serve_recording=args.serve,
            recording_speed=args.recording_speed or None,
        )
    except (OSError, RecordingError, ValueError) as e:
        raise CLIError(str(e)) from None
    key = f"API key {args.api_key!r}" if args.api_key else "no API key"
    print(
        f"streamkit emulator: http://{args.host}:{args.port}{emulator.prefix} ({key}); "
        "Ctrl-C stops it",
        file=sys.stderr,
    )
    serve(create_app(emulator), host=args.host, port=args.port)
    return 0


def _add_speed(command: argparse.ArgumentParser) -> None:
    group = command.add_mutually_exclusive_group()
    group.add_argument(
        "--speed", type=float, help="replay speed factor (default 1.0 for timed recordings)"
    )
    group.add_argument("--instant", action="store_true", help="no waiting between chunks")
    command.add_argument(
        "--plain", action="store_true", help="print a plain transcript, even on a terminal"
    )


def _size(text: str) -> int:
    """A byte count: ``1048576``, ``64K``, ``8M``, ``1G``."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    value = text.strip().upper().removesuffix("B")
    factor = units.get(value[-1:], 1)
    number = value[:-1] if factor > 1 else value
    if not number.isdigit() or int(number) * factor < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive size (e.g. 1048576, 8M)")
    return int(number) * factor


def _add_limits(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-line-bytes",
        type=_size,
        default=DEFAULT_LIMITS["max_line_bytes"],
        metavar="SIZE",
        help="the longest line read (default 1M; e.g. 8M)",
    )
    command.add_argument(
        "--max-event-bytes",
        type=_size,
        default=DEFAULT_LIMITS["max_event_bytes"],
        metavar="SIZE",
        help="the largest event read (default 16M)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``streamkit`` command."""
    parser = _Parser(
        prog="streamkit",
        description=(
            "Replay, inspect, validate and record Assistants and Responses API event "
            "streams; "
            "run the demo; serve the local emulator of the API."
        ),
    )
    path = "compiled C speedups" if _compiled else "pure Python"
    parser.add_argument("--version", action="version", version=f"streamkit {__version__} ({path})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    command = commands.add_parser("replay", help="render a recorded run live")
    command.add_argument("file", metavar="FILE", help="a streamkit recording or an .sse body")
    _add_speed(command)
    _add_limits(command)
    command.set_defaults(func=cmd_replay)

    command = commands.add_parser("inspect", help="final runs, steps and messages")
    command.add_argument("file", metavar="FILE")
    command.add_argument("--json", action="store_true", help="machine-readable JSON")
    _add_limits(command)
    command.set_defaults(func=cmd_inspect)

    command = commands.add_parser("validate", help="report every problem with its line")
    command.add_argument("file", metavar="FILE")
    _add_limits(command)
    command.set_defaults(func=cmd_validate)

    command = commands.add_parser("record", help="record a live stream while rendering it")
    command.add_argument("url", metavar="URL")
    command.add_argument("-X", "--request", metavar="METHOD", help="default: GET, POST with -d")
    command.add_argument("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'")
    command.add_argument("-d", "--data", metavar="BODY", help="request body, or @FILE")
    command.add_argument("-o", "--output", required=True, metavar="FILE")
    command.add_argument("--plain", action="store_true", help="plain transcript output")
    _add_limits(command)
    command.set_defaults(func=cmd_record)

    command = commands.add_parser("demo", help="a run with a tool call, live from the emulator")
    _add_speed(command)
    command.add_argument("--save", metavar="FILE", help="also write the streams as a recording")
    command.add_argument(
        "--serve", action="store_true", help="serve a chat page in the browser (the relay)"
    )
    command.add_argument("--host", default="127.0.0.1", help="with --serve: default 127.0.0.1")
    command.add_argument(
        "--port", type=int, default=0, help="with --serve: default 0 (a free port)"
    )
    command.add_argument(
        "--no-browser", action="store_true", help="with --serve: do not open a browser"
    )
    command.set_defaults(func=cmd_demo)

    command = commands.add_parser("emulator", help="serve a local emulator of the API")
    command.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    command.add_argument("--port", type=int, default=8000, help="default: 8000")
    command.add_argument(
        "--api-key", default="sk-emulator", metavar="KEY", help="default: sk-emulator; '' for none"
    )
    command.add_argument("--prefix", default="/v1", help="where the API is mounted (/v1)")
    command.add_argument(
        "--tokens-per-second", type=float, default=None, metavar="N", help="pace token deltas"
    )
    command.add_argument(
        "--recording",
        action="append",
        default=[],
        metavar="FILE",
        help="a recording to serve, named by its file stem (repeatable)",
    )
    command.add_argument("--serve", metavar="NAME", help="serve this recording to every stream")
    command.add_argument(
        "--recording-speed",
        type=float,
        default=None,
        metavar="X",
        help="1 is the recorded pace (default: instant)",
    )
    command.set_defaults(func=cmd_emulator)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``streamkit`` command; return its exit status."""
    try:
        args = build_parser().parse_args(argv)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RecoveredEventWarning)
            status: int = args.func(args)
        return status
    except CLIError as e:
        _fail(str(e))
        return e.status
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        return 0


def _fail(message: str, stream: IO[str] | None = None) -> None:
    print(f"streamkit: {message}", file=stream or sys.stderr)
