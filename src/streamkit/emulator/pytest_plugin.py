"""The ``emulator`` pytest fixture: a live emulator on a free 127.0.0.1 port per test.

Installed with streamkit as a pytest plugin (entry point ``pytest11``). The fixture
yields an :class:`EmulatorFixture`: ``base_url`` (the prefix included), ``api_key``,
``headers`` (the auth header), ``emulator`` (the :class:`~streamkit.emulator.Emulator`:
its store, ChatKit threads, recordings) and helpers to inject faults and serve
recordings. Its options come from the ``emulator_options`` fixture (override it in a
``conftest.py``) and the ``emulator`` marker (``@pytest.mark.emulator(tokens_per_second=
50)``), the marker winning. Importing this module imports neither Starlette nor
uvicorn: the emulator is loaded when the fixture is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from . import Emulator

__all__ = ["EmulatorFixture", "emulator", "emulator_options"]


class EmulatorFixture:
    """A running emulator, as the ``emulator`` fixture gives it."""

    def __init__(self, emulator: Emulator, base_url: str) -> None:
        #: The emulator's options and state (``.store``, ``.chatkit``, ``.recordings``).
        self.emulator = emulator
        #: Where the API is, e.g. ``http://127.0.0.1:53124/v1``.
        self.base_url = base_url
        #: The key requests must carry (None: any request is accepted).
        self.api_key = emulator.api_key

    @property
    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header for the key (empty without a key)."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def inject_fault(self, spec: str, *, times: int = 1) -> None:
        """Fault the next requests it fits (``X-Emulator-Fault`` syntax, e.g. ``drop:5``)."""
        self.emulator.inject_fault(spec, times=times)

    def serve_recording(self, name: str, source: Any = None) -> None:
        """Answer every streaming request with recording ``name`` (loaded from ``source``
        first when given); ``serve_recording(None)`` goes back to the scripts."""
        if source is not None:
            self.emulator.add_recording(name, source)
        if name is not None and name not in self.emulator.recordings:
            raise KeyError(f"no recording {name!r}; add it with a source")
        self.emulator.serve_recording = name


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator(**options): options of the streamkit emulator fixture "
        "(api_key, prefix, tokens_per_second, recordings, recording_speed, ...)",
    )


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Options of the ``emulator`` fixture (override this fixture to change them)."""
    return {}


@pytest.fixture
def emulator(
    request: pytest.FixtureRequest, emulator_options: dict[str, Any]
) -> Iterator[EmulatorFixture]:
    """A streamkit emulator serving on a free 127.0.0.1 port for this test."""
    from . import Emulator, create_app, serve_in_thread

    options = dict(emulator_options)
    marker = request.node.get_closest_marker("emulator")
    if marker is not None:
        options.update(marker.kwargs)
    instance = Emulator(**options)
    with serve_in_thread(create_app(instance)) as base_url:
        yield EmulatorFixture(instance, base_url)
