"""Types of the optional C extension built from ``_speedups.c`` (see docs/speedups.md)."""

from collections.abc import Callable
from typing import Any

def install(
    parser_class: type[Any], event_class: type[Any], python_feed: Callable[..., Any], /
) -> Any: ...
def install_decode(
    classes: tuple[type[Any], ...],
    python_decode: Callable[..., Any],
    loads: Callable[[str], Any],
    /,
) -> Callable[..., Any]: ...
def install_fold(classes: tuple[type[Any], ...], /) -> type[TextFolder]: ...

class TextFolder:
    def __init__(self, state: Any, python_fold: Callable[[Any], Any], /) -> None: ...
    def __call__(self, event: Any, /) -> Any: ...

class EventStep:
    def __init__(
        self,
        driver: Any,
        decode: Callable[..., Any],
        apply: Callable[[Any], Any],
        tolerant: bool,
        on_event: Callable[[Any], Any] | None,
        dispatch: dict[type, Callable[[Any], Any]],
        sinks: list[Any],
        /,
    ) -> None: ...
    def __call__(self, sse: Any, /) -> Any: ...

class TextDeltaHook:
    def __init__(
        self, hook: Callable[..., Any], python_dispatch: Callable[[Any], Any], /
    ) -> None: ...
    def __call__(self, change: Any, /) -> Any: ...
