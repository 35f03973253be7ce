"""Pagination and the store's consistency, as properties.

Pagination on its own (``paginate``): walking ``after`` cursors from the start, or
``before`` cursors from the end, visits every object exactly once, in order, in both
orders. Then over HTTP: any sequence of valid calls (create and delete messages and
assistants, runs without streaming) leaves every list endpoint agreeing with a simple
model of what should exist, page by page, in both orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamkit.emulator import create_app, serve_in_thread
from streamkit.emulator._store import ApiError, paginate


def walk_after(items: list[dict[str, Any]], limit: int, order: str) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(len(items) + 2):
        page = paginate(items, after=after, limit=limit, order=order)
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            return seen
        after = page["last_id"]
    raise AssertionError("has_more never ended")


def walk_before(items: list[dict[str, Any]], limit: int, order: str) -> list[str]:
    """From the far end back to the start, with ``before`` cursors."""
    ordered = items if order == "asc" else items[::-1]
    if not ordered:
        return []
    last = ordered[-1]["id"]
    seen = [last]
    before = last
    for _ in range(len(items) + 2):
        page = paginate(items, before=before, limit=limit, order=order)
        seen = [item["id"] for item in page["data"]] + seen
        if not page["has_more"]:
            return seen
        before = page["first_id"]
    raise AssertionError("has_more never ended")


@given(n=st.integers(0, 40), limit=st.integers(1, 100), order=st.sampled_from(["asc", "desc"]))
def test_pages_cover_each_object_once(n: int, limit: int, order: str) -> None:
    items = [{"id": f"obj_{i:03d}"} for i in range(n)]
    expected = [item["id"] for item in (items if order == "asc" else items[::-1])]
    assert walk_after(items, limit, order) == expected
    assert walk_before(items, limit, order) == expected
    page = paginate(items, limit=limit, order=order)
    assert page["first_id"] == (expected[0] if expected else None)
    assert page["has_more"] == (n > limit)


def test_unknown_cursor_is_a_400() -> None:
    with pytest.raises(ApiError) as caught:
        paginate([{"id": "a"}], after="b")
    assert caught.value.status == 400 and caught.value.param == "after"


# --- over HTTP ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    with (
        serve_in_thread(create_app(api_key=None)) as base_url,
        httpx.Client(base_url=base_url, timeout=10) as client,
    ):
        yield client


def all_ids(api: httpx.Client, path: str, limit: int, order: str) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit, "order": order}
        if after:
            params["after"] = after
        page = api.get(path, params=params).json()
        seen += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            return seen
        after = page["last_id"]
    raise AssertionError("has_more never ended")


operations = st.lists(
    st.one_of(
        st.tuples(st.just("message"), st.text("abc xyz", min_size=1, max_size=8)),
        st.tuples(st.just("delete_message"), st.integers(0, 30)),
        st.tuples(st.just("assistant"), st.none()),
        st.tuples(st.just("delete_assistant"), st.integers(0, 30)),
        st.tuples(st.just("run"), st.none()),
    ),
    max_size=14,
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations, limit=st.integers(1, 4))
def test_any_sequence_of_calls_keeps_lists_consistent(
    api: httpx.Client, ops: list[tuple[str, Any]], limit: int
) -> None:
    for assistant in api.get("/assistants", params={"limit": 100}).json()["data"]:
        api.delete(f"/assistants/{assistant['id']}")
    base_assistant = api.post("/assistants", json={"model": "m"}).json()["id"]
    assistants = [base_assistant]
    thread = api.post("/threads").json()["id"]
    messages: list[str] = []
    runs: list[str] = []
    for name, arg in ops:
        if name == "message":
            messages.append(
                api.post(
                    f"/threads/{thread}/messages", json={"role": "user", "content": arg}
                ).json()["id"]
            )
        elif name == "delete_message" and messages:
            victim = messages.pop(arg % len(messages))
            assert api.delete(f"/threads/{thread}/messages/{victim}").json()["deleted"]
        elif name == "assistant":
            assistants.append(api.post("/assistants", json={"model": "m"}).json()["id"])
        elif name == "delete_assistant" and len(assistants) > 1:
            victim = assistants.pop(1 + arg % (len(assistants) - 1))
            assert api.delete(f"/assistants/{victim}").json()["deleted"]
        elif name == "run":
            run = api.post(f"/threads/{thread}/runs", json={"assistant_id": base_assistant}).json()
            runs.append(run["id"])
            status = api.get(f"/threads/{thread}/runs/{run['id']}").json()["status"]
            assert status == "completed"
            assistant_messages = api.get(
                f"/threads/{thread}/messages", params={"run_id": run["id"]}
            ).json()["data"]
            assert len(assistant_messages) == 1
            messages.append(assistant_messages[0]["id"])
    for order in ("asc", "desc"):
        flip = (lambda ids: ids) if order == "asc" else (lambda ids: ids[::-1])
        assert all_ids(api, f"/threads/{thread}/messages", limit, order) == flip(messages)
        assert all_ids(api, "/assistants", limit, order) == flip(assistants)
        assert all_ids(api, f"/threads/{thread}/runs", limit, order) == flip(runs)
        for run_id in runs:
            steps = all_ids(api, f"/threads/{thread}/runs/{run_id}/steps", limit, order)
            assert len(steps) == 1
    api.delete(f"/threads/{thread}")
