"""``streamkit demo --serve``: the chat page, used in headless Chromium as a user would,
and the command itself served as a subprocess.

The browser tests drive Debian's chromium through its chromedriver (Selenium, with the
driver's path given: Selenium Manager downloads nothing) against the demo app served on
127.0.0.1 in front of the emulator, paced so a run takes a few seconds. A user sends a
question, sees the tool calls and the text stream in, reloads in the middle and sees it
resume after the last event it showed, to the server's final text with nothing twice; a
second tab on the same URL ends with the same text; Stop ends a slow run ``cancelled``,
upstream too. The page's fold equals the server's snapshot. A screenshot is kept in
``test-artifacts/demo-chat.png``. They skip only when chromium or chromedriver is absent.
"""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from streamkit._cli import main
from streamkit._demo_serve import create_demo_app, get_current_weather
from streamkit.emulator import create_app, serve_in_thread
from streamkit.sse import SSEParser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
KEY = "sk-demo-test"
TPS = 8  # the emulator's pace: a weather answer takes a few seconds
WAIT = 20.0  # the longest any single wait in a browser may take
CITIES = ["Paris", "Tokyo", "Rome", "Lima", "Oslo", "Cairo"]


# --- the server side -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    with serve_in_thread(create_app(api_key=KEY)) as url:
        yield url


@pytest.fixture(scope="module")
def demo(emulator: str) -> Iterator[str]:
    app = create_demo_app(emulator, KEY, tokens_per_second=TPS)
    with serve_in_thread(app, lifespan="on") as url:
        yield url


def read_events(url: str, run_id: str, timeout: float = 30.0) -> list[tuple[int, dict[str, Any]]]:
    """Every relay event of a run, from its first snapshot to the response's end."""
    events = []
    with httpx.stream("GET", f"{url}/relay/runs/{run_id}/events", timeout=timeout) as response:
        assert response.status_code == 200, response.status_code
        parser = SSEParser()
        for chunk in response.iter_bytes():
            events += [(int(sse.id or -1), orjson.loads(sse.data)) for sse in parser.feed(chunk)]
    return events


def server_snapshot(url: str, run_id: str) -> tuple[int, dict[str, Any]]:
    """The server's snapshot of an ended run (a new viewer gets just that)."""
    events = read_events(url, run_id)
    assert len(events) == 1 and events[0][1]["type"] == "snapshot", events
    return events[0][0], events[0][1]["state"]


def texts(state: dict[str, Any]) -> list[str]:
    return [part["text"] for m in state["messages"] for part in m["parts"]]


def test_chat_api_continues_the_thread_and_refuses_bad_requests(demo: str) -> None:
    first = httpx.post(f"{demo}/chat", json={"text": "echo: one two"}, timeout=10)
    run_id = first.json()["run_id"]
    read_events(demo, run_id)  # to the end of the run
    _, state = server_snapshot(demo, run_id)
    assert state["end"] == {"reason": "completed", "status": "completed"}
    assert texts(state) == ["one two"]
    answer = httpx.post(f"{demo}/chat", json={"text": "echo: three", "after": run_id}, timeout=10)
    second = answer.json()["run_id"]
    read_events(demo, second)
    _, state2 = server_snapshot(demo, second)
    assert texts(state2) == ["three"]
    assert state2["run"]["thread_id"] == state["run"]["thread_id"]  # one conversation
    turns = httpx.get(f"{demo}/chat/{second}").json()["turns"]
    assert turns == [
        {"run_id": run_id, "text": "echo: one two"},
        {"run_id": second, "text": "echo: three"},
    ]
    for body, status, words in [
        ({"text": ""}, 400, "'text'"),
        ({"text": 3}, 400, "'text'"),
        ({"text": "hi", "after": "nope"}, 404, "'nope'"),
        ([1], 400, "JSON object"),
    ]:
        refused = httpx.post(f"{demo}/chat", json=body, timeout=10)
        assert refused.status_code == status, body
        assert words in refused.json()["error"]["message"]
    assert httpx.get(f"{demo}/chat/nope").status_code == 404
    assert httpx.get(f"{demo}/static/../_demo_serve.py").status_code == 404


def test_a_message_after_a_live_run_is_refused_until_it_ends(demo: str) -> None:
    slow = httpx.post(f"{demo}/chat", json={"text": "echo: " + "word " * 40})
    run_id = slow.json()["run_id"]
    again = httpx.post(f"{demo}/chat", json={"text": "hi", "after": run_id}, timeout=10)
    assert again.status_code == 409
    assert httpx.post(f"{demo}/relay/runs/{run_id}/stop", timeout=30).json()["stopped"]


def test_the_weather_function_answers_every_city() -> None:
    assert get_current_weather("Paris") == "18 °C, light rain"
    assert get_current_weather("Paris, France", unit="fahrenheit") == "64 °F, light rain"
    assert get_current_weather("Nowhere") == "20 °C, clear"


# --- the command ---------------------------------------------------------------------------


def test_demo_serve_runs_as_a_command_until_interrupted() -> None:
    command = [sys.executable, "-m", "streamkit", "demo", "--serve", "--no-browser"]
    process = subprocess.Popen(
        [*command, "--port", "0", "--speed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout
        threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
        try:
            printed = [lines.get(timeout=30).rstrip("\n") for _ in range(2)]
        except queue.Empty:
            raise AssertionError(f"no URL printed in 30 s (exit status {process.poll()})") from None
        match = re.fullmatch(r"streamkit demo chat: (http://127\.0\.0\.1:\d+)/", printed[0])
        assert match, printed
        assert printed[1] == "press Ctrl+C to stop"
        url = match.group(1)
        page = httpx.get(f"{url}/", timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert '<script src="/static/streamkit-relay.js">' in page.text
        for name in ("streamkit-relay.js", "demo.js", "demo.css"):
            assert httpx.get(f"{url}/static/{name}", timeout=10).status_code == 200, name
        question = "What is the weather in Paris and Rome?"
        run_id = httpx.post(f"{url}/chat", json={"text": question}, timeout=10).json()["run_id"]
        events = read_events(url, run_id)
        assert events[0][1]["type"] == "snapshot" and events[-1][1]["type"] == "end"
        ids = [event_id for event_id, _ in events]
        assert ids[1:] == list(range(ids[0] + 1, ids[-1] + 1))
        _, state = server_snapshot(url, run_id)
        assert state["end"] == {"reason": "completed", "status": "completed"}
        assert sorted(call["output"] for call in state["tool_calls"]) == [  # the tool loop
            "18 °C, light rain",
            "24 °C, sunny",
        ]
        assert "Paris: 18 °C, light rain" in texts(state)[0]

        # Ctrl+C while a run goes on: it is cancelled, its viewer gets the end, exit 0
        long = "echo: " + " ".join(f"w{i}" for i in range(600))  # 6 s at this pace
        run_id = httpx.post(f"{url}/chat", json={"text": long}, timeout=10).json()["run_id"]
        seen: list[dict[str, Any]] = []
        interrupted = False
        with httpx.stream("GET", f"{url}/relay/runs/{run_id}/events", timeout=20) as response:
            parser = SSEParser()
            for chunk in response.iter_bytes():
                for sse in parser.feed(chunk):
                    seen.append(orjson.loads(sse.data))
                    if seen[-1]["type"] == "text.delta" and not interrupted:
                        process.send_signal(signal.SIGINT)  # once: a second one forces
                        interrupted = True
        assert seen[-1] == {"v": 1, "type": "end", "reason": "cancelled", "status": "cancelled"}
        _, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert err == "", err  # no traceback, no connection cut at the shutdown
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def test_demo_serve_on_a_busy_port_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        status = main(["demo", "--serve", "--no-browser", "--port", str(port)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"streamkit: demo --serve: 127.0.0.1:{port}: "), err
    assert main(["demo", "--serve", "--save", "x.jsonl"]) == 2
    assert "--save" in capsys.readouterr().err


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.skip(
            f"no {' and '.join(missing)}: the browser tests need Debian's headless Chromium "
            "(apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    with tempfile.TemporaryDirectory(prefix="streamkit-chromium-") as profile:
        for flag in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1000,1040",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SE_OFFLINE", "true")  # Selenium Manager: never the network
            driver = webdriver.Chrome(
                service=Service(executable_path=str(CHROMEDRIVER)), options=options
            )
        driver.set_page_load_timeout(WAIT)
        driver.set_script_timeout(WAIT)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver: Any, what: str, condition: Any, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"waited {timeout} s for {what}; the page says: "
            f"{driver.find_element('id', 'status').text!r}"
        ) from None


def send(driver: Any, text: str) -> str:
    """Type ``text`` into the box, press Send, and return the run id the URL then holds."""
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    before = driver.current_url
    driver.find_element(By.ID, "send").click()
    wait_for(
        driver,
        "a run id in the URL",
        lambda d: d.current_url != before and "#run=" in d.current_url,
    )
    return str(driver.current_url.split("#run=")[1])


def page_turn(driver: Any, run_id: str) -> dict[str, Any]:
    """What the page shows for a run: its texts, tool calls, status; its folded state."""
    return dict(
        driver.execute_script(
            """
            const node = document.querySelector(`.turn[data-run="${arguments[0]}"]`);
            if (!node) return {found: false};
            return {
              found: true,
              status: node.dataset.status,
              resumedAfter: node.dataset.resumedAfter || null,
              fresh: node.dataset.fresh === "true",
              lastEventId: node.dataset.lastEventId,
              user: node.querySelector(".user").textContent,
              parts: [...node.querySelectorAll(".part")].map((p) => p.textContent),
              calls: [...node.querySelectorAll(".call")].map((c) => ({
                name: c.querySelector(".name").textContent,
                args: (c.querySelector(".args") || {}).textContent || "",
                output: (c.querySelector(".output") || {}).textContent || null,
              })),
              state: window.streamkitDemo.state(arguments[0]),
            };
            """,
            run_id,
        )
    )


def shows(run_id: str, predicate: Any) -> Any:
    """A wait condition: the page's turn for ``run_id`` once ``predicate`` holds for it."""

    def condition(driver: Any) -> Any:
        turn = page_turn(driver, run_id)
        return turn if turn["found"] and predicate(turn) else False

    return condition


def test_chat_streams_tool_calls_resumes_after_a_reload_and_stays_in_sync(
    browser: Any, demo: str
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(f"{demo}/")
    assert driver.find_element(By.ID, "examples").is_displayed()
    question = f"What is the weather in {' and '.join(CITIES)}?"  # six parallel calls
    run_id = send(driver, question)
    first_tab = driver.current_window_handle

    # the tool calls appear, their arguments streaming, while the run is live
    shown = wait_for(
        driver,
        "a tool call with its arguments",
        shows(run_id, lambda t: t["calls"] and t["calls"][0]["args"]),
    )
    assert shown["user"] == question
    assert not driver.find_element(By.ID, "examples").is_displayed()
    assert shown["status"] == "live"
    assert shown["calls"][0]["name"] == "get_current_weather"

    # a second tab on the same URL, while the run goes on
    url = driver.current_url
    driver.switch_to.new_window("tab")
    driver.get(url)
    second_tab = driver.current_window_handle
    wait_for(driver, "the run in the second tab", shows(run_id, lambda t: True))
    driver.switch_to.window(first_tab)

    # text streams in; reload in the middle of it
    wait_for(driver, "the answer's first words", shows(run_id, lambda t: any(t["parts"])))
    driver.refresh()
    resumed = wait_for(driver, "the run after the reload", shows(run_id, lambda t: True))
    assert resumed["resumedAfter"] is not None, "the reload did not resume from a kept id"
    assert resumed["user"] == question  # the conversation is shown again

    # the end: the page equals the server's snapshot, in both tabs
    final = wait_for(
        driver,
        "the end of the run",
        shows(run_id, lambda t: t["status"] == "completed"),
    )
    last_id, state = server_snapshot(demo, run_id)
    assert int(resumed["resumedAfter"]) < last_id  # resumed mid-stream, not after the end
    assert int(final["lastEventId"]) == last_id
    assert not final["fresh"]  # the events after the kept id, not a replacing snapshot
    assert final["state"] == state
    assert final["parts"] == texts(state)
    answer = final["parts"][0]
    for city in CITIES:  # every line once: nothing duplicated by the resume
        assert answer.count(f"{city}: {get_current_weather(city)}") == 1, answer
    assert sorted(call["output"] for call in final["calls"]) == sorted(
        get_current_weather(city) for city in CITIES
    )
    assert all(call["name"] == "get_current_weather" for call in final["calls"])
    ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / "demo-chat.png"))

    driver.switch_to.window(second_tab)
    other = wait_for(
        driver,
        "the end in the second tab",
        shows(run_id, lambda t: t["status"] == "completed"),
    )
    assert other["resumedAfter"] is None  # a new tab: a snapshot, then the live events
    assert other["parts"] == final["parts"]
    assert other["state"] == state
    driver.close()
    driver.switch_to.window(first_tab)


def test_stop_cancels_a_slow_run_upstream(browser: Any, demo: str, emulator: str) -> None:
    driver = browser
    driver.get(f"{demo}/")
    words = " ".join(f"word{i}" for i in range(200))  # 25 s at the demo's pace
    run_id = send(driver, f"echo: {words}")
    wait_for(driver, "the echo's first words", shows(run_id, lambda t: any(t["parts"])))
    driver.find_element("id", "stop").click()
    final = wait_for(
        driver,
        "the run to end cancelled",
        shows(run_id, lambda t: t["status"] not in ("live", None)),
    )
    assert final["status"] == "cancelled", final
    assert "ended: cancelled" in driver.find_element("id", "status").text
    _, state = server_snapshot(demo, run_id)
    assert final["state"] == state
    assert state["end"] == {"reason": "cancelled", "status": "cancelled"}
    assert 0 < len(final["parts"][0]) < len(words)  # stopped part way
    run, thread = state["run"]["id"], state["run"]["thread_id"]
    upstream = httpx.get(
        f"{emulator}/threads/{thread}/runs/{run}",
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert upstream.status_code == 200, upstream.text
    assert upstream.json()["status"] == "cancelled"
    assert driver.find_element("id", "send").is_enabled()  # ready for the next message
