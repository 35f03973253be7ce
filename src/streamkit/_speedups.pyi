"""Types of the optional C extension built from ``_speedups.c`` (see docs/speedups.md)."""

from collections.abc import Callable
from typing import Any

def install(
    parser_class: type[Any], event_class: type[Any], python_feed: Callable[..., Any], /
) -> Any: ...
