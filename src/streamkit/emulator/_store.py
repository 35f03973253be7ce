"""The in-memory store: objects by id, ordered collections, cursor pagination, errors.

Every object is kept as the JSON dict the API returns, so a response is the dict itself
and a stream event is a serialization of it at that moment. A :class:`Collection` keeps
the objects of one list endpoint (the assistants, a thread's messages or runs, a run's
steps) in creation order, which is ``created_at`` order with ties broken by creation:
:func:`paginate` walks that order forwards (``asc``) or backwards (``desc``).

Pagination follows the reference: ``limit`` (1 to 100, default 20), ``order`` (``asc`` or
``desc``, default ``desc``), ``after`` (the objects after that id in the chosen order) and
``before`` (the objects before it: the ``limit`` nearest to the cursor), and the page
says ``first_id``, ``last_id`` and ``has_more`` (more objects lie beyond the page in the
direction of travel). A cursor that names no object of the list is a 400 naming it.

:class:`ApiError` is the one way a handler fails: a status and the reference's error
object (``{"error": {"message", "type", "param", "code"}}``).
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .._paging import UnknownCursor, window

__all__ = [
    "DEFAULT_LIMIT",
    "ApiError",
    "Collection",
    "Ids",
    "Store",
    "not_found",
    "page_params",
    "paginate",
]

DEFAULT_LIMIT = 20
_ID_CHARS = string.ascii_letters + string.digits

JSON = dict[str, Any]


class ApiError(Exception):
    """An error response: HTTP ``status`` and the API's error object."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        """The response body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def not_found(kind: str, object_id: str) -> ApiError:
    """The 404 the API answers for an id it does not know."""
    return ApiError(404, f"No {kind} found with id '{object_id}'.", code="not_found")


class Ids:
    """Object ids like the service's (a prefix and 24 letters or digits), from a seed."""

    def __init__(self, seed: int | None = 0) -> None:
        self._random = random.Random(seed)

    def new(self, prefix: str, length: int = 24) -> str:
        """A new id such as ``run_Uy45lNz2P7BpJcqWzQkXl1Bu``."""
        return prefix + "".join(self._random.choices(_ID_CHARS, k=length))


class Collection:
    """Objects of one list endpoint, by id, in creation order."""

    def __init__(self) -> None:
        self._items: dict[str, JSON] = {}

    def add(self, obj: JSON) -> JSON:
        self._items[obj["id"]] = obj
        return obj

    def get(self, object_id: str) -> JSON | None:
        return self._items.get(object_id)

    def remove(self, object_id: str) -> JSON | None:
        return self._items.pop(object_id, None)

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._items

    def __iter__(self) -> Iterator[JSON]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def ids(self) -> list[str]:
        return list(self._items)


def page_params(query: Mapping[str, str]) -> tuple[str | None, str | None, int, str]:
    """``after``, ``before``, ``limit`` and ``order`` of a list request, checked."""
    raw_limit = query.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise ApiError(
                400,
                f"Invalid 'limit': expected an integer, but got {raw_limit!r} instead.",
                param="limit",
                code="invalid_type",
            ) from None
        if not 1 <= limit <= 100:
            raise ApiError(
                400,
                f"Invalid 'limit': {limit} is out of range; it must be between 1 and 100.",
                param="limit",
                code="integer_out_of_range",
            )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise ApiError(
            400,
            f"Invalid value for 'order': {order!r}; supported values are 'asc' and 'desc'.",
            param="order",
            code="invalid_value",
        )
    return query.get("after") or None, query.get("before") or None, limit, order


def paginate(
    items: list[JSON],
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = DEFAULT_LIMIT,
    order: str = "desc",
    render: Callable[[JSON], JSON] | None = None,
) -> JSON:
    """One page of ``items`` (given in creation order) as the API's list object."""
    try:
        chosen, has_more = window(
            [item["id"] for item in items], after=after, before=before, limit=limit, order=order
        )
    except UnknownCursor as exc:
        raise ApiError(
            400,
            f"Invalid '{exc.name}': no object with id {exc.cursor!r} in this list.",
            param=exc.name,
            code="invalid_cursor",
        ) from None
    data = [render(items[i]) if render is not None else items[i] for i in chosen]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


class Store:
    """Everything the emulator holds: assistants, threads, their messages and runs, the
    steps of each run, runs waiting for tool outputs and runs being streamed."""

    def __init__(self, ids: Ids, clock: Callable[[], float]) -> None:
        self.ids = ids
        self.clock = clock
        self.assistants = Collection()
        self.threads = Collection()
        self.messages: dict[str, Collection] = {}
        self.runs: dict[str, Collection] = {}
        self.steps: dict[str, Collection] = {}
        #: Runs in requires_action: what continues them once outputs are submitted.
        self.pending: dict[str, Any] = {}
        #: Runs whose events are being produced (streamed, or drained).
        self.live: dict[str, Any] = {}

    def now(self) -> int:
        """The time in whole seconds, as the API's timestamps are."""
        return int(self.clock())

    def new_id(self, prefix: str) -> str:
        return self.ids.new(prefix)

    # -- lookups that answer 404

    def assistant(self, assistant_id: str) -> JSON:
        found = self.assistants.get(assistant_id)
        if found is None:
            raise not_found("assistant", assistant_id)
        return found

    def thread(self, thread_id: str) -> JSON:
        found = self.threads.get(thread_id)
        if found is None:
            raise not_found("thread", thread_id)
        return found

    def message(self, thread_id: str, message_id: str) -> JSON:
        found = self.messages[self.thread(thread_id)["id"]].get(message_id)
        if found is None:
            raise not_found("message", message_id)
        return found

    def run(self, thread_id: str, run_id: str) -> JSON:
        found = self.runs[self.thread(thread_id)["id"]].get(run_id)
        if found is None:
            raise not_found("run", run_id)
        return found

    def step(self, thread_id: str, run_id: str, step_id: str) -> JSON:
        found = self.steps[self.run(thread_id, run_id)["id"]].get(step_id)
        if found is None:
            raise not_found("run step", step_id)
        return found

    # -- adding and removing

    def add_thread(self, thread: JSON) -> JSON:
        self.threads.add(thread)
        self.messages[thread["id"]] = Collection()
        self.runs[thread["id"]] = Collection()
        return thread

    def add_run(self, run: JSON) -> JSON:
        self.runs[run["thread_id"]].add(run)
        self.steps[run["id"]] = Collection()
        return run

    def delete_thread(self, thread_id: str) -> None:
        self.thread(thread_id)
        self.threads.remove(thread_id)
        self.messages.pop(thread_id, None)
        for run in self.runs.pop(thread_id, Collection()):
            self.steps.pop(run["id"], None)
            self.pending.pop(run["id"], None)
