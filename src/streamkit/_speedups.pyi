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
    absent: tuple[tuple[str, ...], ...],
    /,
) -> Callable[..., Any]: ...
def install_fold(
    classes: tuple[type[Any], ...], /
) -> tuple[type[TextFolder], type[CallFolder]]: ...

class TextFolder:
    def __init__(self, state: Any, python_fold: Callable[[Any], Any], /) -> None: ...
    def __call__(self, event: Any, /) -> Any: ...

class CallFolder:
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
    def run(self, sses: list[Any], /) -> None: ...
    @property
    def at(self) -> int: ...

class TextDeltaHook:
    def __init__(
        self, hook: Callable[..., Any], python_dispatch: Callable[[Any], Any], /
    ) -> None: ...
    def __call__(self, change: Any, /) -> Any: ...

class ApplyRouter:
    def __init__(self, state: Any, route: Callable[[Any], Any], /) -> None: ...
    def __call__(self, event: Any, /) -> Any: ...

class CallDeltaHook:
    def __init__(
        self, hook: Callable[..., Any], python_dispatch: Callable[[Any], Any], /
    ) -> None: ...
    def __call__(self, change: Any, /) -> Any: ...
