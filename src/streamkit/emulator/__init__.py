"""A local emulator of the Assistants API (and ChatKit sessions) for development and tests.

``create_app(...)`` returns a Starlette ASGI app serving the reference's endpoints under a
prefix (``/v1``): assistants, threads, messages, runs and run steps (with ``stream:
true`` and false, cursor pagination), tool outputs, cancellation, ChatKit sessions and
threads. A deterministic scripted assistant answers runs (echo, the weather
function-calling example, code interpreter, file search, refusals, plain text), or a
recording is served; the ``X-Emulator-Fault`` header injects faults. ``serve_in_thread``
runs it on a free 127.0.0.1 port; ``streamkit emulator`` runs it from the command line;
the ``emulator`` pytest fixture gives each test one. See docs/emulator.md.

This package needs the ``server`` extra (Starlette and uvicorn); ``import streamkit``
never imports it, and its names load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import (
        DEFAULT_API_KEY,
        RECORDING_HEADER,
        RECORDING_SPEED_HEADER,
        TOKENS_PER_SECOND_HEADER,
        Emulator,
        create_app,
    )
    from ._chatkit import ChatKit
    from ._faults import FAULT_HEADER, Faults, parse_faults
    from ._script import SCRIPTS, Script, choose
    from ._serve import serve, serve_in_thread

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_HEADER",
    "RECORDING_HEADER",
    "RECORDING_SPEED_HEADER",
    "SCRIPTS",
    "TOKENS_PER_SECOND_HEADER",
    "ChatKit",
    "Emulator",
    "Faults",
    "Script",
    "choose",
    "create_app",
    "parse_faults",
    "serve",
    "serve_in_thread",
]

_WHERE = {
    "DEFAULT_API_KEY": "_app",
    "RECORDING_HEADER": "_app",
    "RECORDING_SPEED_HEADER": "_app",
    "TOKENS_PER_SECOND_HEADER": "_app",
    "Emulator": "_app",
    "create_app": "_app",
    "ChatKit": "_chatkit",
    "FAULT_HEADER": "_faults",
    "Faults": "_faults",
    "parse_faults": "_faults",
    "SCRIPTS": "_script",
    "Script": "_script",
    "choose": "_script",
    "serve": "_serve",
    "serve_in_thread": "_serve",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'streamkit.emulator' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
