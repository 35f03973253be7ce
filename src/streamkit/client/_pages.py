"""List answers: one page of typed objects, and iteration over every page.

The reference paginates with cursors: a list answers ``{"object": "list", "data",
"first_id", "last_id", "has_more"}``, and the next page is the same request with
``after=last_id``. :class:`Page` holds one answer (``data`` decoded with the model's
``from_dict``); iterating it yields every object of this page and the pages after it,
fetching each when it is reached. :class:`AsyncPage` is the same with ``async for`` and
``await page.next_page()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, Generic, TypeVar

import httpx

from .._errors import ResponseError
from ..models import Model, ShapeError
from ..record._redact import redact_url

__all__ = ["AsyncPage", "Page", "decode_model", "shape_error"]

M = TypeVar("M", bound=Model)
Query = dict[str, Any]


def shape_error(
    body: Any, what: str, exc: Exception | str, request: httpx.Request
) -> ResponseError:
    """The error for a 2xx JSON answer that is not the object the call returns."""
    text = repr(body)
    reason = f"the answer is not {what} ({exc})"
    url = redact_url(str(request.url))
    return ResponseError(
        f"{request.method} {url}: HTTP 200: {reason}",
        status_code=200,
        content_type="application/json",
        request_id=None,
        body=text[:4096],
        error=None,
        method=request.method,
        url=url,
        reason=reason,
    )


def decode_model(model: type[M], body: Any, request: httpx.Request) -> M:
    """``model.from_dict(body)``; a :class:`ResponseError` when it is not that shape."""
    try:
        return model.from_dict(body)
    except ShapeError as exc:
        raise shape_error(body, f"a {model.__name__}", exc, request) from None


def _fields(model: type[M], body: Any, request: httpx.Request) -> tuple[list[M], bool, Any, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise shape_error(body, "a list (an object with a data array)", "no data", request)
    data = [decode_model(model, item, request) for item in body["data"]]
    return data, bool(body.get("has_more")), body.get("first_id"), body.get("last_id")


class _PageBase(Generic[M]):
    def __init__(self, model: type[M], query: Query, body: Any, request: httpx.Request) -> None:
        #: The objects of this page.
        self.data: list[M]
        self.data, self.has_more, self.first_id, self.last_id = _fields(model, body, request)
        self._model = model
        self._query = query

    def has_next_page(self) -> bool:
        """Whether the server says more objects follow this page."""
        return self.has_more and bool(self.last_id or self.data)

    def _next_query(self) -> Query:
        last = self.last_id or getattr(self.data[-1], "id", None)
        query = {k: v for k, v in self._query.items() if k != "before"}
        query["after"] = last
        return query

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} of {len(self.data)} {self._model.__name__}"
            f"{'' if len(self.data) == 1 else 's'}, has_more={self.has_more}>"
        )


class Page(_PageBase[M]):
    """One page of a list; iterate it for every object, following the cursor."""

    def __init__(
        self,
        model: type[M],
        query: Query,
        body: Any,
        request: httpx.Request,
        fetch: Callable[[Query], tuple[Any, httpx.Request]],
    ) -> None:
        super().__init__(model, query, body, request)
        self._fetch = fetch

    def next_page(self) -> Page[M]:
        """The page after this one (a RuntimeError if there is none)."""
        if not self.has_next_page():
            raise RuntimeError("this is the last page (has_more is false)")
        query = self._next_query()
        body, request = self._fetch(query)
        return Page(self._model, query, body, request, self._fetch)

    def iter_pages(self) -> Iterator[Page[M]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.next_page()

    def __iter__(self) -> Iterator[M]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_PageBase[M]):
    """One page of a list; ``async for`` it for every object, following the cursor."""

    def __init__(
        self,
        model: type[M],
        query: Query,
        body: Any,
        request: httpx.Request,
        fetch: Callable[[Query], Awaitable[tuple[Any, httpx.Request]]],
    ) -> None:
        super().__init__(model, query, body, request)
        self._fetch = fetch

    async def next_page(self) -> AsyncPage[M]:
        """The page after this one (a RuntimeError if there is none)."""
        if not self.has_next_page():
            raise RuntimeError("this is the last page (has_more is false)")
        query = self._next_query()
        body, request = await self._fetch(query)
        return AsyncPage(self._model, query, body, request, self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[M]]:
        """This page and every page after it."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.next_page()

    async def __aiter__(self) -> AsyncIterator[M]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item
