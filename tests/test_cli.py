"""The ``streamkit`` command line: every command, in process and once as a subprocess."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from streamkit import _cli
from streamkit._cli import main
from streamkit._demo import demo_body, demo_recording
from streamkit.events import RecoveredEventWarning, decode
from streamkit.fold import State
from streamkit.models import Message, Run, RunStep
from streamkit.record import Recorder, load_recording
from streamkit.sse import SSEParser

SHARED = Path(__file__).resolve().parents[2] / "shared"
RECORDINGS = sorted((SHARED / "recordings" / "openai-dotnet").glob("*.sse"))
SEED = SHARED / "seed" / "000_610aa6d5ea4566f7.txt"
needs_recordings = pytest.mark.skipif(not RECORDINGS, reason="no openai-dotnet recordings")
needs_seed = pytest.mark.skipif(not SEED.exists(), reason="no reference seed")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def fold(body: bytes) -> State:
    """The fold's own snapshots, to compare the commands' output with."""
    parser, state = SSEParser(), State(strict=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecoveredEventWarning)
        for sse in parser.feed(body):
            state.apply(decode(sse, tolerant=True))
    parser.close()
    return state


def assert_one_error_line(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamkit: ")
    assert "Traceback" not in err


def reference_streams() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    blocks = re.findall(r"^#### Response\n\n```json\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [b for b in blocks if re.search(r"^event: ", b, re.MULTILINE)]


@pytest.fixture
def demo_file(tmp_path: Path) -> Path:
    path = tmp_path / "demo.sse"
    path.write_bytes(demo_body())
    return path


# --- demo -----------------------------------------------------------------------------------


def test_demo_instant(capsys: pytest.CaptureFixture[str]) -> None:
    """The emulator, the client over HTTP and the tool loop, rendered as a transcript."""
    status, out, err = run(capsys, "demo", "--instant")
    assert status == 0, err
    assert '{"location": "Paris"}' in out and '{"location": "Rome"}' in out
    assert "requires action" in out
    assert "get_current_weather output: 18 °C, light rain" in out  # the local function ran
    assert "- Paris: 18 °C, light rain\n- Rome: 24 °C, sunny" in out
    assert "print((18 + 24) / 2)" in out and "The result is 21.0." in out
    assert out.count("completed · tokens:") == 2
    assert "!" not in out  # no problems


def test_demo_save_is_a_clean_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "demo.jsonl"
    assert run(capsys, "demo", "--instant", "--save", str(saved))[0] == 0
    status, out, _ = run(capsys, "validate", str(saved))
    assert status == 0 and out.startswith(f"{saved}: clean: ")
    recording = load_recording(saved)
    assert recording.complete and recording.header.metadata["streams"] == 3
    state = fold(recording.body)
    assert [r.status for r in state.runs.values()] == ["completed", "completed"]
    assert "sk-demo" not in saved.read_text()


def test_demo_speed_paces_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    from streamkit._demo import DEMO_TOKENS_PER_SECOND

    started = time.monotonic()
    status, out, _ = run(capsys, "demo", "--speed", "20")
    assert status == 0 and "The result is 21.0." in out
    tokens = 20  # far fewer than the demo's token deltas, each 1 / (25 * 20) s apart
    assert time.monotonic() - started >= tokens / (DEMO_TOKENS_PER_SECOND * 20)


def test_demo_in_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamkit", "demo", "--instant", "--plain"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "The result is 21.0." in done.stdout


# --- replay ---------------------------------------------------------------------------------


@needs_recordings
@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_replay_recordings(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "replay", str(path))  # plain body: instant by default
    assert status == 0, err
    state = fold(path.read_bytes())
    for run_ in state.runs.values():
        assert f"run {run_.id}" in out
    for message in state.messages.values():
        for part in message.content or []:
            assert part.to_dict()["text"]["value"] in out
    assert out.rstrip().endswith("done")


def test_replay_timed_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "timed.jsonl"
    with Recorder(path) as recorder:
        for i, chunk in enumerate(demo_recording().chunks[:6]):
            recorder.write(chunk.data, t=i * 0.001)
        recorder.end(t=0.01)
    status, out, _ = run(capsys, "replay", str(path), "--speed", "2")
    assert status == 0
    assert "run run_demo: queued -> in_progress" in out


def test_replay_live_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the rich view is drawn; its final frame shows the finished run."""
    import rich.console

    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    status, out, err = run(capsys, "demo", "--instant")
    assert status == 0, err
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)  # the terminal's styles
    assert "completed" in out and "tokens: " in out and "get_current_weather" in out
    assert "Rome: 24 °C, sunny" in out


# --- inspect --------------------------------------------------------------------------------


def check_inspect_json(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    status, out, err = run(capsys, "inspect", "--json", str(path))
    assert status == 0, err
    data: dict[str, Any] = json.loads(out)
    assert set(data) == {"runs", "steps", "messages", "problems"}
    state = fold(load_recording(path).body)
    runs = [Run.from_dict(r) for r in data["runs"]]
    steps = [RunStep.from_dict(s) for s in data["steps"]]
    messages = [Message.from_dict(m) for m in data["messages"]]
    assert [r.to_dict() for r in runs] == [r.to_dict() for r in state.runs.values()]
    assert [s.to_dict() for s in steps] == [s.to_dict() for s in state.steps.values()]
    assert [m.to_dict() for m in messages] == [m.to_dict() for m in state.messages.values()]
    assert [p["kind"] for p in data["problems"]] == [p.kind for p in state.problems]
    return data


@needs_recordings
@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_inspect_recordings(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = check_inspect_json(path, capsys)
    assert data["runs"]
    # The file search recordings' completed message omits the citation's empty "quote"
    # that its delta sent; that is no disagreement, so every recording folds cleanly.
    assert data["problems"] == []
    status, out, _ = run(capsys, "inspect", str(path))
    assert status == 0
    for r in data["runs"]:
        assert f"run {r['id']}  {r['status']}" in out


def test_inspect_demo(demo_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = check_inspect_json(demo_file, capsys)
    assert data["runs"][0]["usage"]["total_tokens"] == 498
    text = data["messages"][0]["content"][0]["text"]
    assert text["annotations"][0]["file_citation"] == {"file_id": "file_packing"}
    status, out, _ = run(capsys, "inspect", str(demo_file))
    assert status == 0
    assert "function get_weather(" in out and ">>> temps = [18, 17, 16, 15, 17]" in out


# --- validate -------------------------------------------------------------------------------


@needs_recordings
@pytest.mark.parametrize("path", RECORDINGS, ids=[p.name for p in RECORDINGS])
def test_validate_recordings(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 0 and out.startswith(f"{path}: clean: ") and out.count("\n") == 1


def _expected_reference_lines(text: str) -> tuple[list[int], list[int]]:
    """Independently: data lines with a junk-suffixed JSON value, and unprefixed JSON lines."""
    junk, unprefixed = [], []
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("data: ") and line.endswith("}}"):
            try:
                json.loads(line[6:])
            except ValueError:
                json.loads(line[6:-1])  # a JSON value followed by one stray '}'
                junk.append(number)
        elif line.startswith("{"):
            unprefixed.append(number)
    return junk, unprefixed


@needs_seed
def test_validate_reference_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    streams = reference_streams()
    assert len(streams) == 5
    kinds: dict[str, int] = {}
    for i, stream in enumerate(streams):
        path = tmp_path / f"example{i}.sse"
        text = stream + "\n"  # the fenced block ends without the final blank line
        path.write_text(text, encoding="utf-8")
        status, out, _ = run(capsys, "validate", str(path))
        assert status == 1
        reports = [
            re.match(rf"^{re.escape(str(path))}:(\d+): (\w+): ", r) for r in out.splitlines()
        ]
        assert all(reports), out
        found = [(int(m[1]), m[2]) for m in reports if m]
        junk, unprefixed = _expected_reference_lines(text)
        assert sorted(n for n, k in found if k == "recovered") == junk
        assert sorted(n for n, k in found if k == "missing_data") == unprefixed
        for _, kind in found:
            kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds["recovered"] == 15
    assert kinds["missing_data"] == 1
    # The examples elide deltas with '...': the completed message differs from the deltas.
    assert set(kinds) <= {"recovered", "missing_data", "mismatch"}


def test_validate_generated_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_ = orjson.dumps({"id": "run_1", "object": "thread.run", "status": "completed"}).decode()
    queued = orjson.dumps({"id": "run_1", "object": "thread.run", "status": "queued"}).decode()
    delta = orjson.dumps({"id": "msg_x", "object": "thread.message.delta", "delta": {}}).decode()
    body = (
        f"event: thread.run.created\ndata: {queued}\n\n"  # 1-2
        "event: thread.run.in_progress\ndata: {not json\n\n"  # 4-5
        f"event: thread.message.delta\ndata: {delta}\n\n"  # 7-8
        f"event: thread.run.completed\ndata: {run_}\n\n"  # 10-11
        f'event: thread.run.in_progress\ndata: {queued[:-1]}, "status": "in_progress"}}\n\n'
        "event: thread.run.failed\n\n"  # 16: a block whose data vanished
        'event: error\ndata: {"code": "server_error", "message": "boom"}\n\n'  # 18
    )
    path = tmp_path / "bad.sse"
    path.write_text(body, encoding="utf-8")
    status, out, err = run(capsys, "validate", str(path))
    assert status == 1
    found = [(line.split(": ")[0].split(":")[1], line.split(": ")[1]) for line in out.splitlines()]
    kinds = {(int(n), k) for n, k in found}
    assert (5, "malformed") in kinds
    assert (7, "unknown_object") in kinds
    assert (13, "illegal_transition") in kinds
    assert (16, "dataless_block") in kinds
    assert (18, "server_error") in kinds
    assert "problem(s)" in err


def test_validate_truncated_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = demo_body()
    cut = body[: body.index(b"event: thread.run.requires_action")]
    path = tmp_path / "cut.sse"
    path.write_bytes(cut)
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 1
    assert out.count(": truncated: ") == 1


def test_validate_into_a_closed_pipe_still_reports_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def flush(self) -> None:
            raise BrokenPipeError

    path = tmp_path / "cut.sse"
    body = demo_body()
    path.write_bytes(body[: body.index(b"event: thread.run.requires_action")])
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["validate", str(path)]) == 1  # `streamkit validate x | head -0` found problems


def test_validate_truncated_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cut.jsonl"
    with Recorder(path) as recorder:  # closed without end(): truncated
        for chunk in demo_recording().chunks[:10]:
            recorder.write(chunk.data, t=chunk.t)
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 1
    assert "recording has no end line" in out
    assert run(capsys, "replay", "--instant", str(path))[0] == 0  # still replayable


# --- errors ---------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.mark.parametrize("command", ["replay", "inspect", "validate"])
@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("missing.sse", None, "no such file"),
        ("image.png", PNG, "no events found"),
        ("doc.json", b'{"id": "run_1", "status": "completed"}\n', "neither an event stream"),
        ("bad.jsonl", None, "malformed recording"),
        ("empty.sse", b"", "no events found"),
    ],
)
def test_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    name: str,
    content: bytes | None,
    phrase: str,
) -> None:
    path = tmp_path / name
    if name == "bad.jsonl":
        with Recorder(path) as recorder:
            recorder.write(b"data: {}\n\n", t=0.5)
            recorder.end(t=1.0)
        path.write_bytes(path.read_bytes().replace(b'"t":0.5', b'"t":"soon"'))
    elif content is not None:
        path.write_bytes(content)
    status, out, err = run(capsys, command, str(path))
    assert status == 2
    assert out == ""
    assert_one_error_line(err)
    assert phrase in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (
        ["frobnicate"],
        [],
        ["replay"],
        ["demo", "--speed", "0"],
        ["replay", "x", "--instant", "--speed", "2"],
    ):
        status, _, err = run(capsys, *argv)
        assert status == 2, argv
        assert_one_error_line(err)
    assert run(capsys, "--version")[0] == 0


# --- record ---------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        _Handler.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        if self.path.startswith("/denied"):
            self.send_response(401)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "bad key"}}')
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        for chunk in demo_recording().chunks:
            self.wfile.write(chunk.data)
            self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_record(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "live.jsonl"
    status, out, err = run(
        capsys,
        "record",
        f"{server}/v1/threads/runs?secret=q",
        "-H",
        "Authorization: Bearer sk-secret",
        "-H",
        "OpenAI-Beta: assistants=v2",
        "-d",
        '{"assistant_id": "asst_demo", "stream": true}',
        "-o",
        str(out_file),
    )
    assert status == 0, err
    assert "Pack an umbrella" in out
    assert "recorded 47 events" in err
    method, path, headers, body = _Handler.seen[-1]
    assert (method, path) == ("POST", "/v1/threads/runs?secret=q")
    assert headers["Authorization"] == "Bearer sk-secret"  # sent...
    assert json.loads(body)["stream"] is True
    text = out_file.read_text(encoding="utf-8")
    assert "sk-secret" not in text and "secret=q" not in text  # ...but never recorded
    assert "[REDACTED]" in text
    assert run(capsys, "validate", str(out_file))[0] == 0
    check_inspect_json(out_file, capsys)


def test_record_errors(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "x.jsonl"
    status, _, err = run(capsys, "record", f"{server}/denied", "-d", "{}", "-o", str(out_file))
    assert status == 2 and "HTTP 401" in err and "bad key" in err
    assert_one_error_line(err)
    status, _, err = run(capsys, "record", "http://127.0.0.1:9/", "-o", str(out_file))
    assert status == 2
    assert_one_error_line(err)
    status, _, err = run(capsys, "record", server, "-H", "no colon", "-o", str(out_file))
    assert status == 2 and "bad header" in err


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["http://example.invalid:abc/"], "invalid URL"),
        (["http://127.0.0.1:9/", "-H", "Xé: v"], "bad header"),
        (["http://127.0.0.1:9/", "-H", "X: é"], "bad header"),
    ],
)
def test_record_bad_url_or_header_is_one_error_line(
    argv: list[str], phrase: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "record", *argv, "-o", str(tmp_path / "x.jsonl"))
    assert status == 2
    assert_one_error_line(err)
    assert phrase in err


def test_record_injected_transport(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        return httpx.Response(200, content=iter([c.data for c in demo_recording().chunks]))

    monkeypatch.setattr(
        _cli, "client_factory", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    out_file = tmp_path / "mock.jsonl"
    assert run(capsys, "record", "https://api.example/stream", "-o", str(out_file))[0] == 0
    assert run(capsys, "validate", str(out_file))[0] == 0


def test_record_redacts_every_secret_request_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([c.data for c in demo_recording().chunks]))

    monkeypatch.setattr(
        _cli, "client_factory", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    out_file = tmp_path / "mock.jsonl"
    secrets = ["OpenAI-Api-Key: s1", "Cookie: s2", "X_Api_Key: s3", "Client-Secret: s4"]
    argv = ["record", "https://api.example/stream", "-o", str(out_file)]
    for header in secrets:
        argv += ["-H", header]
    assert run(capsys, *argv)[0] == 0
    header = load_recording(out_file).header
    assert header is not None
    sent = dict(header.metadata["request"]["headers"])
    for name in ("OpenAI-Api-Key", "Cookie", "X_Api_Key", "Client-Secret"):
        assert sent[name] == "[REDACTED]", name


# --- a real process -------------------------------------------------------------------------


def test_subprocess(demo_file: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamkit", "inspect", "--json", str(demo_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"][0]["status"] == "completed"
    done = subprocess.run(
        [sys.executable, "-m", "streamkit", "validate", str(demo_file.with_suffix(".nope"))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("streamkit: ") and done.stderr.count("\n") == 1


def test_record_keeps_no_credentials_from_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([c.data for c in demo_recording().chunks]))

    monkeypatch.setattr(
        _cli, "client_factory", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )
    out_file = tmp_path / "creds.jsonl"
    url = "https://user:hunter2@api.example/v1/stream?key=q"
    assert run(capsys, "record", url, "-o", str(out_file))[0] == 0
    header = load_recording(out_file).header
    assert header is not None
    saved = header.metadata["request"]["url"]
    assert "hunter2" not in saved and "user" not in saved and "key=q" not in saved
    assert saved == "https://api.example/v1/stream"


def test_live_view_survives_hostile_stream_data() -> None:
    """Markup-like names and absurdly nested arguments are shown, not interpreted."""
    import io

    from rich.console import Console

    from streamkit._render import LiveRenderer
    from streamkit.events import decode
    from streamkit.fold import State
    from streamkit.sse import ServerSentEvent

    nested = "[" * 5000 + "]" * 5000
    events = [
        (
            "thread.run.step.created",
            {
                "id": "step_1",
                "object": "thread.run.step",
                "status": "in_progress",
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": "[/bold]evil[red",
                                "arguments": nested,
                                "output": None,
                            },
                        }
                    ],
                },
            },
        ),
        (
            "thread.message.created",
            {
                "id": "msg_1",
                "object": "thread.message",
                "status": "in_progress",
                "role": "[/]assistant",
                "content": [],
            },
        ),
    ]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    state = State()
    renderer = LiveRenderer(console, state)
    for name, payload in events:
        sse = ServerSentEvent(event=name, data=json.dumps(payload))
        renderer.update(state.apply(decode(sse)))
    renderer.close()
    assert "[/bold]evil[red" in out.getvalue()
