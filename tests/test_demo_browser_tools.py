"""The demo chat page shows what tools produced, a hosted tool's status and reasoning.

In headless Chromium (as ``test_demo_browser``, whose fixtures and helpers these are): a
code interpreter question shows the call's logs, a file search shows the files found with
their scores, each as the server's snapshot has them; a kept Responses state (reasoning
summary and text, a web search still ``searching``, a partial image) is drawn from the
page's storage after a reload (a screenshot: ``test-artifacts/demo-tools.png``). Skips
when chromium or chromedriver is absent.
"""

from __future__ import annotations

import json
from typing import Any

import test_demo_browser as base
from test_relay_wire_tools import built, events_of, fold

emulator = base.emulator
demo = base.demo
browser = base.browser


def shown(driver: Any, run_id: str) -> dict[str, Any]:
    return dict(
        driver.execute_script(
            """
            const node = document.querySelector(`.turn[data-run="${arguments[0]}"]`);
            const all = (sel) => [...node.querySelectorAll(sel)].map((n) => n.textContent);
            return {
              logs: all(".call pre.logs"),
              results: all(".call ul.results li"),
              badges: all(".call .badge"),
              reasoning: all(".reasoning p"),
              images: [...node.querySelectorAll(".call img.image")].map((i) => i.src),
            };
            """,
            run_id,
        )
    )


def ask(driver: Any, url: str, question: str) -> tuple[str, dict[str, Any]]:
    """Ask on a new conversation; wait for the end; the run id and the server's state."""
    driver.get(f"{url}/")
    run_id = base.send(driver, question)
    final = base.wait_for(
        driver, "the end of the run", base.shows(run_id, lambda t: t["status"] == "completed")
    )
    _, state = base.server_snapshot(url, run_id)
    assert final["state"] == state
    return run_id, state


def test_code_interpreter_logs_and_file_search_results_are_shown(browser: Any, demo: str) -> None:
    driver = browser
    run_id, state = ask(driver, demo, "Calculate (18 + 24) / 2 with code")
    (call,) = [c for c in state["tool_calls"] if c["kind"] == "code_interpreter"]
    logs = [o["logs"] for o in call["outputs"] if o["type"] == "logs"]
    assert logs and logs[0].strip()
    assert shown(driver, run_id)["logs"] == logs

    run_id, state = ask(driver, demo, "Search the files for the release notes")
    (call,) = [c for c in state["tool_calls"] if c["kind"] == "file_search"]
    assert call["results"]
    assert shown(driver, run_id)["results"] == [
        f"{r['file_name']}{r['score']:.2f}" for r in call["results"]
    ]

    # Kept Responses states, cut while the web search searches, then at the first partial
    # image: the reasoning, the hosted tool's status and the image are drawn.
    events = events_of(built()["built/reasoning_and_hosted_tools"])[0]
    searching = next(i for i, e in enumerate(events) if e.get("status") == "searching")
    page = keep_and_reload(driver, run_id, events[: searching + 1])
    assert page["reasoning"] == ["Plan: look it up.", "The user wants a picture."]
    assert page["badges"] == ["searching"]
    image = next(i for i, e in enumerate(events) if e["type"] == "tool_call.outputs")
    page = keep_and_reload(driver, run_id, events[: image + 1])
    assert page["badges"] == ["done", "generating"]
    assert page["images"] == ["data:image/png;base64,UEFSVElBTA0="]
    base.ARTIFACTS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(base.ARTIFACTS / "demo-tools.png"))


def keep_and_reload(driver: Any, run_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep the fold of ``events`` as the page's state of the (ended) run; reload."""
    kept = {**fold(events), "run_id": run_id, "end": {"reason": "completed", "status": None}}
    # after the page's own save on pagehide (listeners run in the order they were added)
    driver.execute_script(
        "const [key, value] = arguments;"
        "addEventListener('pagehide', () => sessionStorage.setItem(key, value));",
        f"streamkit-demo:{run_id}",
        json.dumps({"state": kept, "lastEventId": 10_000}),
    )
    driver.refresh()
    base.wait_for(driver, "the kept run", base.shows(run_id, lambda t: t["state"] == kept))
    return shown(driver, run_id)
