"""Cursor pagination: the API's list rule, shared by the emulator's lists and
:func:`streamkit.chatkit.page`.

How it works. Given the ids in creation order, ``order="desc"`` walks them newest first
and ``"asc"`` oldest first; ``after`` starts the page just past its cursor; ``before``
alone takes the ``limit`` items nearest before its cursor (with ``after`` too, the page
starts past ``after`` and stops before ``before``); ``has_more`` says whether more items
lie beyond the page in its direction of travel. A cursor that is not in the list is an
:class:`UnknownCursor`, which each caller turns into its own error.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["UnknownCursor", "window"]


class UnknownCursor(ValueError):
    """``cursor``, given as ``name`` (``"after"`` or ``"before"``), is not in the list."""

    def __init__(self, name: str, cursor: str) -> None:
        self.name = name
        self.cursor = cursor
        super().__init__(f"{name}={cursor!r} is not in the list")


def window(
    ids: Sequence[str], *, after: str | None, before: str | None, limit: int, order: str
) -> tuple[list[int], bool]:
    """The page: positions in ``ids`` of its items, in page order, and ``has_more``."""
    positions = list(range(len(ids))) if order == "asc" else list(range(len(ids) - 1, -1, -1))
    ordered = [ids[i] for i in positions]
    start, end = 0, len(ordered)
    if after is not None:
        start = _index(ordered, after, "after") + 1
    if before is not None:
        end = _index(ordered, before, "before")
    span = positions[start:end] if start < end else []
    page = span[-limit:] if before is not None and after is None else span[:limit]
    return page, len(span) > len(page)


def _index(ids: list[str], cursor: str, name: str) -> int:
    try:
        return ids.index(cursor)
    except ValueError:
        raise UnknownCursor(name, cursor) from None
