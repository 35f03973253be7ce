"""ChatKit over a real socket: session defaults, expiry, cancellation, rate limits, threads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from streamkit import models
from streamkit.emulator.pytest_plugin import EmulatorFixture


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"clock": Clock()}


@pytest.fixture
def clock(emulator: EmulatorFixture) -> Clock:
    found = emulator.emulator.clock
    assert isinstance(found, Clock)
    return found


@pytest.fixture
def api(emulator: EmulatorFixture) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.base_url, headers=emulator.headers, timeout=10) as client:
        yield client


def session(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = api.post(
        "/chatkit/sessions", json={"user": "u1", "workflow": {"id": "wf"}, **fields}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def as_secret(emulator: EmulatorFixture, secret: str) -> httpx.Client:
    return httpx.Client(
        base_url=emulator.base_url, headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )


def test_session_defaults(api: httpx.Client, clock: Clock) -> None:
    created = session(api)
    models.ChatSession.from_dict(created)
    assert created["object"] == "chatkit.session" and created["status"] == "active"
    assert created["client_secret"].startswith("ek_")
    assert created["expires_at"] == int(clock.now) + 600
    assert created["max_requests_per_1_minute"] == 10
    assert created["rate_limits"] == {"max_requests_per_1_minute": 10}
    assert created["chatkit_configuration"] == {
        "automatic_thread_titling": {"enabled": True},
        "file_upload": {"enabled": False, "max_file_size": 512, "max_files": 10},
        "history": {"enabled": True, "recent_threads": None},
    }
    assert created["workflow"] == {
        "id": "wf",
        "state_variables": None,
        "tracing": {"enabled": True},
        "version": None,
    }
    assert created["user"] == "u1"


def test_session_options(api: httpx.Client, clock: Clock) -> None:
    created = session(
        api,
        expires_after={"anchor": "created_at", "seconds": 30},
        rate_limits={"max_requests_per_1_minute": 3},
        chatkit_configuration={"file_upload": {"enabled": True, "max_files": 2}},
        workflow={"id": "wf", "version": "7", "state_variables": {"a": 1}},
    )
    assert created["expires_at"] == int(clock.now) + 30
    assert created["max_requests_per_1_minute"] == 3
    upload = created["chatkit_configuration"]["file_upload"]
    assert upload == {"enabled": True, "max_file_size": 512, "max_files": 2}
    assert created["workflow"]["version"] == "7"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"workflow": {"id": "wf"}}, "user"),
        ({"user": "u"}, "workflow"),
        ({"user": "u", "workflow": {}}, "workflow.id"),
        (
            {"user": "u", "workflow": {"id": "w"}, "expires_after": {"seconds": 5}},
            "expires_after.anchor",
        ),
        (
            {
                "user": "u",
                "workflow": {"id": "w"},
                "expires_after": {"anchor": "now", "seconds": 5},
            },
            "expires_after.anchor",
        ),
        (
            {"user": "u", "workflow": {"id": "w"}, "rate_limits": {"max_requests_per_1_minute": 0}},
            "rate_limits.max_requests_per_1_minute",
        ),
    ],
)
def test_session_validation(api: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = api.post("/chatkit/sessions", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_secret_works_until_cancelled(api: httpx.Client, emulator: EmulatorFixture) -> None:
    created = session(api)
    with as_secret(emulator, created["client_secret"]) as client:
        assert client.get("/chatkit/threads").status_code == 200
        assert client.get("/assistants").status_code == 401  # a secret is not the API key
        cancelled = api.post(f"/chatkit/sessions/{created['id']}/cancel").json()
        assert cancelled["status"] == "cancelled" and cancelled["id"] == created["id"]
        response = client.get("/chatkit/threads")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "session_cancelled"
    again = api.post(f"/chatkit/sessions/{created['id']}/cancel").json()
    assert again["status"] == "cancelled"
    assert api.post("/chatkit/sessions/cksess_nope/cancel").status_code == 404


def test_secret_expires(api: httpx.Client, emulator: EmulatorFixture, clock: Clock) -> None:
    created = session(api, expires_after={"anchor": "created_at", "seconds": 60})
    with as_secret(emulator, created["client_secret"]) as client:
        clock.now += 59
        assert client.get("/chatkit/threads").status_code == 200
        clock.now += 1
        response = client.get("/chatkit/threads")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "session_expired"
    assert api.post(f"/chatkit/sessions/{created['id']}/cancel").json()["status"] == "expired"


def test_rate_limit_per_minute(api: httpx.Client, emulator: EmulatorFixture, clock: Clock) -> None:
    created = session(api, rate_limits={"max_requests_per_1_minute": 3})
    with as_secret(emulator, created["client_secret"]) as client:
        for _ in range(3):
            assert client.get("/chatkit/threads").status_code == 200
            clock.now += 10
        response = client.get("/chatkit/threads")
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limit_exceeded"
        assert response.headers["retry-after"] == "30"
        clock.now += 30  # the first request leaves the window
        assert client.get("/chatkit/threads").status_code == 200
        assert client.get("/chatkit/threads").status_code == 429
    for _ in range(5):  # the API key is not limited
        assert api.get("/chatkit/threads").status_code == 200


def test_threads_and_items(api: httpx.Client, emulator: EmulatorFixture) -> None:
    chatkit = emulator.emulator.chatkit
    mine = chatkit.add_thread("u1", title="Mine", items=[("user", "hi"), ("assistant", "hello")])
    for i in range(3):
        chatkit.add_item(mine["id"], "user", f"more {i}")
    theirs = chatkit.add_thread("u2", title="Theirs")
    listed = api.get("/chatkit/threads").json()
    assert [t["id"] for t in listed["data"]] == [theirs["id"], mine["id"]]
    models.ChatKitThreadList.from_dict(listed)
    assert [t["id"] for t in api.get("/chatkit/threads", params={"user": "u2"}).json()["data"]] == [
        theirs["id"]
    ]
    page = api.get(f"/chatkit/threads/{mine['id']}/items", params={"limit": 2, "order": "asc"})
    body = page.json()
    assert [item["type"] for item in body["data"]] == [
        "chatkit.user_message",
        "chatkit.assistant_message",
    ]
    assert body["has_more"] is True
    models.ChatKitThreadItemList.from_dict(body)
    rest = api.get(
        f"/chatkit/threads/{mine['id']}/items",
        params={"limit": 10, "order": "asc", "after": body["last_id"]},
    ).json()
    assert [item["content"][0]["text"] for item in rest["data"]] == ["more 0", "more 1", "more 2"]
    assert rest["has_more"] is False
    created = session(api)
    with as_secret(emulator, created["client_secret"]) as client:
        assert [t["id"] for t in client.get("/chatkit/threads").json()["data"]] == [mine["id"]]
        assert client.get(f"/chatkit/threads/{theirs['id']}").status_code == 404
        assert client.get(f"/chatkit/threads/{mine['id']}").json()["title"] == "Mine"
        deleted = client.delete(f"/chatkit/threads/{mine['id']}").json()
        assert deleted == {"id": mine["id"], "object": "chatkit.thread.deleted", "deleted": True}
        assert client.get(f"/chatkit/threads/{mine['id']}").status_code == 404
    assert api.get(f"/chatkit/threads/{mine['id']}/items").status_code == 404
