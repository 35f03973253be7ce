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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from streamkit import _http
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


def test_demo_save_writes_the_three_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "demo.jsonl"
    assert run(capsys, "demo", "--instant", "--save", str(saved))[0] == 0
    status, out, _ = run(capsys, "validate", str(saved))
    # Three answers in one body: the only notes are the two answers that follow a done.
    assert status == 1
    assert [line.split(": ")[1] for line in out.splitlines()] == ["after_done"] * 2
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


SSE = {"content-type": "text/event-stream"}


def demo_response(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, headers=SSE, content=iter([c.data for c in demo_recording().chunks]))


def inject(monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], Any]) -> None:
    """Make ``streamkit record`` send its request to ``handler``."""
    monkeypatch.setattr(
        _http, "client_factory", lambda: httpx.Client(transport=httpx.MockTransport(handler))
    )


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
    assert "recorded 46 events" in err
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
    assert not out_file.exists()
    status, _, err = run(capsys, "record", "http://127.0.0.1:9/", "-o", str(out_file))
    assert status == 2
    assert_one_error_line(err)
    assert not out_file.exists()
    status, _, err = run(capsys, "record", server, "-H", "no colon", "-o", str(out_file))
    assert status == 2 and "bad header" in err


@pytest.mark.parametrize(
    ("argv", "phrase"),
    [
        (["http://example.invalid:abc/"], "invalid URL"),
        (["http://127.0.0.1:9/", "-H", "Xé: v"], "bad header"),
        (["http://127.0.0.1:9/", "-H", "X: é"], "bad header"),
        (["http://127.0.0.1:9/", "-H", "X: a\tb"], "control character"),
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
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "GET"
        return demo_response(request)

    inject(monkeypatch, handler)
    out_file = tmp_path / "mock.jsonl"
    assert run(capsys, "record", "https://api.example/stream", "-o", str(out_file))[0] == 0
    assert run(capsys, "validate", str(out_file))[0] == 0


NOT_EVENT_STREAMS = [
    pytest.param(
        httpx.Response(
            401,
            headers={"content-type": "application/json", "x-request-id": "req_42"},
            json={
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                    "param": None,
                }
            },
        ),
        [
            "HTTP 401 Unauthorized",
            "content type application/json",
            "request id req_42",
            "invalid_request_error / invalid_api_key: Incorrect API key provided",
        ],
        id="401-json-error",
    ),
    pytest.param(
        httpx.Response(
            502,
            headers={"content-type": "text/html"},
            text="<html>\n<body><h1>502 Bad Gateway</h1>\n" + "x" * 5000,
        ),
        ["HTTP 502 Bad Gateway", "content type text/html", "<html> <body><h1>502 Bad Gateway"],
        id="502-html",
    ),
    pytest.param(
        httpx.Response(200, headers={"content-type": "application/json"}, json={"id": "run_1"}),
        ["HTTP 200 OK, but not an event stream", "application/json", '{"id":"run_1"}'],
        id="200-json",
    ),
    pytest.param(
        httpx.Response(200, content=b"event: x\ndata: {}\n\n"),
        ["HTTP 200 OK, but not an event stream (no content type): event: x data: {}"],
        id="200-no-content-type",
    ),
    pytest.param(
        httpx.Response(200, headers={"content-type": "text/plain"}, content=b"\x1b[31mred"),
        ["content type text/plain", "\\x1b[31mred"],  # escaped, never sent to the terminal
        id="200-text-escape",
    ),
    pytest.param(
        httpx.Response(204, headers=SSE),
        ["HTTP 204 No Content (content type text/event-stream)"],
        id="204-empty",
    ),
]


@pytest.mark.parametrize(("response", "phrases"), NOT_EVENT_STREAMS)
@pytest.mark.parametrize("existing", [False, True])
def test_record_of_what_is_not_an_event_stream_leaves_no_file(
    response: httpx.Response,
    phrases: list[str],
    existing: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inject(monkeypatch, lambda request: response)
    out_file = tmp_path / "out.jsonl"
    if existing:  # an earlier recording under that name is left as it was
        out_file.write_bytes(b"earlier")
    status, _, err = run(capsys, "record", "https://api.example/v1/stream", "-o", str(out_file))
    assert status == 2
    assert_one_error_line(err)
    assert err.startswith("streamkit: GET https://api.example/v1/stream: HTTP ")
    for phrase in phrases:
        assert phrase in err
    assert "\x1b" not in err and len(err) < 500
    assert out_file.read_bytes() == b"earlier" if existing else not out_file.exists()


def test_record_of_text_event_stream_with_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = demo_response(request)
        response.headers["content-type"] = "Text/Event-Stream; charset=utf-8"
        return response

    inject(monkeypatch, handler)
    out_file = tmp_path / "out.jsonl"
    status, _, err = run(capsys, "record", "https://api.example/stream", "-o", str(out_file))
    assert status == 0, err


def failing_body(chunks: list[bytes], error: BaseException) -> Iterator[bytes]:
    yield from chunks
    raise error


@pytest.mark.parametrize(
    ("chunks", "error", "phrase"),
    [
        ([], httpx.ReadTimeout("timed out"), "ReadTimeout: timed out"),
        ([], httpx.RemoteProtocolError("peer closed"), "RemoteProtocolError: peer closed"),
        ([b""], httpx.ReadError("reset"), "ReadError: reset"),  # an empty chunk is no byte
        ([], None, "no events found"),  # the server sent a 200 and nothing at all
    ],
)
def test_record_failure_before_the_first_byte_leaves_no_file(
    chunks: list[bytes],
    error: Exception | None,
    phrase: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = failing_body(chunks, error) if error is not None else iter(chunks)
        return httpx.Response(200, headers=SSE, content=body)

    inject(monkeypatch, handler)
    out_file = tmp_path / "out.jsonl"
    status, _, err = run(capsys, "record", "https://api.example/stream", "-o", str(out_file))
    assert status == 2
    assert_one_error_line(err)
    assert phrase in err
    assert not out_file.exists()


def test_record_interrupted_before_the_first_byte_leaves_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inject(
        monkeypatch,
        lambda request: httpx.Response(
            200, headers=SSE, content=failing_body([], KeyboardInterrupt())
        ),
    )
    out_file = tmp_path / "out.jsonl"
    status, _, err = run(capsys, "record", "https://api.example/stream", "-o", str(out_file))
    assert (status, err) == (130, "streamkit: interrupted\n")
    assert not out_file.exists()


def test_record_failure_after_the_first_byte_keeps_a_truncated_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = [c.data for c in demo_recording().chunks[:5]]
    inject(
        monkeypatch,
        lambda request: httpx.Response(
            200, headers=SSE, content=failing_body(first, httpx.ReadError("connection reset"))
        ),
    )
    out_file = tmp_path / "out.jsonl"
    status, _, err = run(capsys, "record", "https://api.example/stream", "-o", str(out_file))
    assert status == 2 and "ReadError: connection reset" in err
    assert_one_error_line(err)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recording = load_recording(out_file)
    assert recording.truncated
    assert [c.data for c in recording.chunks] == first


def test_record_to_a_link_never_removes_the_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like -o /dev/stdout: a failure before the first byte removes regular files only.
    inject(monkeypatch, lambda request: httpx.Response(200, headers=SSE, content=iter([])))
    target = tmp_path / "target.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    status, _, _ = run(capsys, "record", "https://api.example/stream", "-o", str(link))
    assert status == 2
    assert link.is_symlink()


SECRET_REQUEST_HEADERS = [
    "Authorization: Bearer sk-proj-abcdef123456",
    "Proxy-Authorization: Basic dXNlcjpwYXNz",
    "api-key: azure-key-0001",
    "Ocp-Apim-Subscription-Key: apim-key-0002",
    "x-goog-api-key: goog-key-0003",
    "X-Auth-Token: auth-token-0004",
    "OpenAI-Api-Key: openai-key-0005",
    "X_Api_Key: underscored-0006",
    "Cookie: session=cookie-0007",
    "Client-Secret: client-secret-0008",
]


def test_record_redacts_every_secret_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        response = demo_response(request)
        response.headers.update(
            {
                "x-request-token": "resp-token-0009",
                "set-cookie": "__cf_bm=cookie-0010; path=/",
                "x-ratelimit-remaining-tokens": "149984",
                "x-ratelimit-limit-tokens": "150000",
                "openai-processing-ms": "43",
                "x-request-id": "req_123",
            }
        )
        return response

    inject(monkeypatch, handler)
    out_file = tmp_path / "mock.jsonl"
    argv = ["record", "https://api.example/stream", "-o", str(out_file)]
    for header in [*SECRET_REQUEST_HEADERS, "OpenAI-Beta: assistants=v2"]:
        argv += ["-H", header]
    assert run(capsys, *argv)[0] == 0
    text = out_file.read_text(encoding="utf-8")
    for secret in re.findall(r"\w+-\d{4}\b", "\n".join(SECRET_REQUEST_HEADERS)):
        assert secret not in text
    assert "resp-token-0009" not in text and "cookie-0010" not in text
    header = load_recording(out_file).header
    assert header is not None
    sent = dict(header.metadata["request"]["headers"])
    for line in SECRET_REQUEST_HEADERS:
        assert sent[line.partition(":")[0]] == "[REDACTED]", line
    assert sent["OpenAI-Beta"] == "assistants=v2"
    received = dict(header.headers)
    assert received["x-request-token"] == received["set-cookie"] == "[REDACTED]"
    assert received["x-ratelimit-remaining-tokens"] == "149984"  # counts of tokens stay
    assert received["x-ratelimit-limit-tokens"] == "150000"
    assert received["openai-processing-ms"] == "43"
    assert received["x-request-id"] == "req_123"
    assert received["content-type"] == "text/event-stream"


def test_record_keeps_no_credentials_from_the_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    inject(monkeypatch, demo_response)
    out_file = tmp_path / "creds.jsonl"
    url = "https://user:hunter2@api.example/v1/stream?key=q&api-version=2024-05-01&sig=s1g"
    assert run(capsys, "record", url, "-o", str(out_file))[0] == 0
    text = out_file.read_text(encoding="utf-8")
    assert "hunter2" not in text and "user" not in text and "key=q" not in text
    assert "s1g" not in text
    header = load_recording(out_file).header
    assert header is not None
    saved = header.metadata["request"]["url"]
    assert (
        saved
        == "https://api.example/v1/stream?key=[REDACTED]&api-version=2024-05-01&sig=[REDACTED]"
    )


SECRET_URL = "http://alice:hunter2@127.0.0.1:{port}/v1/stream?api_key=sk-q1w2e3&mode=x&sig=s1g2"
URL_SECRETS = ["alice", "hunter2", "sk-q1w2e3", "s1g2"]


def assert_no_url_secrets(err: str) -> None:
    for secret in URL_SECRETS:
        assert secret not in err, err
    assert "api_key=[REDACTED]" in err and "mode=x" in err


def test_record_network_error_shows_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    # A real connection refused on 127.0.0.1:9 (discard: nothing listens there).
    status, _, err = run(
        capsys,
        "record",
        SECRET_URL.format(port=9),
        "-H",
        "Authorization: Bearer sk-live-token-0001",
        "-o",
        "unused.jsonl",
    )
    assert status == 2
    assert_one_error_line(err)
    assert "ConnectError" in err
    assert_no_url_secrets(err)


def test_record_http_error_shows_no_secret(
    server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = server.rsplit(":", 1)[1]
    url = SECRET_URL.format(port=port).replace("/v1/stream", "/denied")
    status, _, err = run(capsys, "record", url, "-d", "{}", "-o", str(tmp_path / "x.jsonl"))
    assert status == 2 and "HTTP 401" in err
    assert_one_error_line(err)
    assert_no_url_secrets(err)


def test_record_error_messages_are_scrubbed_of_the_request_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever a transport puts in its error (here the whole request), no secret is shown.
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url} with {dict(request.headers)}")

    inject(monkeypatch, handler)
    status, _, err = run(
        capsys,
        "record",
        SECRET_URL.format(port=443),
        "-H",
        "Authorization: Bearer sk-live-token-0001",
        "-H",
        "X-Goog-Api-Key: goog-0002",
        "-o",
        str(tmp_path / "x.jsonl"),
    )
    assert status == 2
    assert_one_error_line(err)
    assert_no_url_secrets(err)
    assert "sk-live-token-0001" not in err and "goog-0002" not in err
    assert "ConnectError: cannot reach" in err


@pytest.mark.parametrize(
    ("header", "secret"),
    [
        ("Authorization Bearer sk-nocolon-0001", "sk-nocolon-0001"),
        ("X-Api-Key: é-secret-0002", "secret-0002"),
        ("Authorization: Bearer sk-\x01-0003", "0003"),
    ],
)
def test_record_bad_secret_header_is_not_shown(
    header: str, secret: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "record", "http://127.0.0.1:9/", "-H", header, "-o", "x.jsonl")
    assert status == 2 and "bad header" in err
    assert_one_error_line(err)
    assert secret not in err


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


# --- hostile input: bounded memory, limits, and no quadratic path (issue 11) -----------------


def test_validate_dev_zero_stops_at_the_line_limit(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "validate", "/dev/zero")
    assert status == 2 and out == ""
    assert "longer than max_line_bytes=1048576" in err and "--max-line-bytes" in err


def test_the_limits_are_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = "x" * (2 << 20)
    path = tmp_path / "big.sse"
    payload = json.dumps({"id": "run_1", "status": "queued", "note": big})
    path.write_text(f"event: thread.run.created\ndata: {payload}\n\nevent: done\ndata: [DONE]\n\n")
    for command in ("validate", "inspect", "replay"):
        extra = ["--instant", "--plain"] if command == "replay" else []
        assert run(capsys, command, *extra, str(path))[0] == 2
        status, _, err = run(capsys, command, *extra, "--max-line-bytes", "4M", str(path))
        assert status == 0, err
    status, _, err = run(capsys, "validate", "--max-line-bytes", "lots", str(path))
    assert status == 2 and "not a positive size" in err


def test_validate_reads_a_file_as_it_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The reports come from the driver's line numbers, not from the whole body in memory:
    # the recording's lines are those of its body, and a cut recording says so.
    path = tmp_path / "cut.jsonl"
    with Recorder(path) as recorder:  # closed without end(): truncated
        recorder.write(
            b'event: thread.run.created\ndata: {"id": "run_1", "status": "queued"}}\n', t=0.1
        )
        recorder.write(b"\nevent: thread.run.in_progress\n", t=0.2)
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"{path}:2: recovered: ")
    assert any(line.startswith(f"{path}:4: truncated: ") for line in lines)
    assert any(line.startswith(f"{path}:4: truncated_recording: ") for line in lines)


def test_many_blocks_without_data_prefix_are_each_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    block = 'event: thread.run.completed\n{"id": "run_1", "status": "completed"}\n\n'
    path = tmp_path / "lost.sse"
    path.write_text(block * 500 + "event: done\ndata: [DONE]\n\n")
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 1
    kinds = [line.split(": ")[1] for line in out.splitlines()]
    assert kinds.count("missing_data") == 500 and "dataless_block" not in kinds


# --- Responses API recordings (issue 14) ---------------------------------------------------

RESPONSES = sorted((SHARED / "recordings" / "responses").glob("*.sse"))
needs_responses = pytest.mark.skipif(not RESPONSES, reason="no Responses recordings")


def responses_fold(path: Path) -> Any:
    import streamkit

    stream = streamkit.stream(path.read_bytes(), protocol="responses", strict=False)
    stream.until_done()
    return stream.state


@needs_responses
@pytest.mark.parametrize("path", RESPONSES, ids=[p.name for p in RESPONSES])
def test_inspect_responses_recordings(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = responses_fold(path)
    status, out, err = run(capsys, "inspect", str(path))
    assert status == 0, err
    lines = out.splitlines()
    assert "(Responses API), 1 response(s)" in lines[0] and "0 problem(s)" in lines[0]
    response = state.current_run
    usage = response.usage
    assert lines[1] == (
        f"response {response.id}  completed  {response.model}  (tokens: "
        f"{usage.input_tokens} input + {usage.output_tokens} output = {usage.total_tokens})"
    )
    for item in state.items.values():
        assert any(line.startswith(f"{item.type} {item.id}") for line in lines), item.id
        if item.type == "function_call":
            assert f"  {item.name}({item.arguments})  call_id {item.call_id}" in lines
        if item.type == "message":
            text = item.content[0].text
            assert all(f"  | {line}" in lines for line in text.splitlines())

    status, out, err = run(capsys, "inspect", "--json", str(path))
    assert status == 0, err
    data = json.loads(out)
    assert set(data) == {"responses", "items", "problems"} and data["problems"] == []
    assert data["responses"] == [r.to_dict() for r in state.responses.values()]
    assert data["items"] == [i.to_dict() for i in state.items.values()]
    assert data["items"] == data["responses"][0]["output"]  # the fold equals the final output


@needs_responses
@pytest.mark.parametrize("path", RESPONSES, ids=[p.name for p in RESPONSES])
def test_validate_and_replay_responses_recordings(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = responses_fold(path)
    status, out, err = run(capsys, "validate", str(path))
    assert status == 0 and "clean" in out, out + err
    status, out, err = run(capsys, "replay", "--instant", "--plain", str(path))
    assert status == 0, err
    response = state.current_run
    assert out.splitlines()[-1].startswith(f"response {response.id} completed · tokens: ")
    for item in state.items.values():
        if item.type == "message":  # the text streamed whole, under its header
            assert f"assistant ({item.id}):\n{item.content[0].text}\n" in out
        elif item.type == "function_call":
            assert f"  function {item.name} arguments:\n{item.arguments}\n" in out
        elif item.type == "reasoning" and item.summary:
            assert f"reasoning ({item.id}):\n{item.summary[0].text}" in out


@needs_responses
def test_replay_responses_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rich.console

    path = SHARED / "recordings" / "responses" / "function_call_reasoning_phase.sse"
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    status, out, err = run(capsys, "replay", "--instant", str(path))
    assert status == 0, err
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out)
    assert "response resp_0fabc13af1ee" in out and "completed" in out
    assert "tokens: 63 input + 69 output = 132" in out
    assert "function get_capital" in out and '"country": "PotatoLand"' in out
    assert "check the capital lookup tool" in out


def test_validate_responses_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def sse(event: dict[str, Any]) -> str:
        return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"

    response = {"id": "resp_1", "object": "response", "status": "in_progress", "output": []}
    item = {"id": "msg_1", "type": "message", "role": "assistant", "content": []}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events = [
        {"type": "response.created", "response": response, "sequence_number": 0},
        {"type": "response.output_item.added", "output_index": 0, "item": item,
         "sequence_number": 1},
        {"type": "response.output_text.delta", **where, "delta": "Hi", "sequence_number": 3},
        {"type": "error", "error": {"type": "server_error", "code": "server_error",
         "message": "boom"}, "sequence_number": 4},
    ]  # fmt: skip
    path = tmp_path / "bad.sse"
    path.write_text("".join(sse(event) for event in events))
    status, out, _ = run(capsys, "validate", str(path))
    assert status == 1
    assert (
        f"{path}:7: sequence_gap: response.output_text.delta has sequence_number 3 after 1" in out
    )
    assert f"{path}:10: server_error: server_error: boom" in out
    cut = tmp_path / "cut.sse"
    cut.write_text("".join(sse(event) for event in events[:3]))
    status, out, _ = run(capsys, "inspect", str(cut))
    assert status == 0 and "response resp_1  in_progress" in out
    assert "  | Hi" in out and "truncated" in out
