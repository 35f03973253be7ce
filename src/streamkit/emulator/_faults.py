"""Fault injection: what ``X-Emulator-Fault`` asks for, applied to a stream's bytes.

A fault header is a comma-separated list (``slow:20, drop:5``); each item is a name and
a number. Events are counted from 1, the final ``done`` event included:

- ``drop:N``: send N events, then end the response (no ``done``: the client sees a
  stream cut short);
- ``malformed:N``: event N's data is cut in half, so it is not valid JSON;
- ``error:N``: instead of event N, send an ``error`` event and end the response (the
  run is marked ``failed`` with that error);
- ``stall:S`` or ``stall:S@N``: after N events (default 1; 0 is before the first) send
  nothing for S seconds;
- ``status:CODE``: answer CODE with an error body before doing anything (a ``429``
  carries ``Retry-After: 1``);
- ``slow:MS``: wait MS milliseconds before each event.

:func:`parse_faults` reads the header (a 400 naming it when malformed);
:func:`with_faults` wraps an iterator of SSE blocks (each with the delay to wait before
it) into the bytes to send.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

import anyio
import orjson

from ._store import ApiError

__all__ = ["FAULT_HEADER", "Block", "Faults", "parse_faults", "with_faults"]

FAULT_HEADER = "X-Emulator-Fault"
_ITEM = re.compile(r"^(drop|malformed|error|stall|status|slow):(\d+(?:\.\d+)?)(?:@(\d+))?$")

Block = tuple[bytes, float]
"""One SSE event block and the seconds to wait before sending it."""


@dataclass(frozen=True)
class Faults:
    """The faults asked for one request (None: not asked)."""

    drop: int | None = None
    malformed: int | None = None
    error: int | None = None
    stall: float | None = None
    stall_after: int = 1
    status: int | None = None
    slow: float | None = None

    @property
    def any(self) -> bool:
        return self != Faults()


def _bad(value: str, why: str) -> ApiError:
    return ApiError(
        400,
        f"Invalid {FAULT_HEADER} header {value!r}: {why}. Use a comma-separated list of "
        "drop:N, malformed:N, error:N, stall:S[@N], status:CODE, slow:MS.",
        param=FAULT_HEADER,
        code="invalid_fault",
    )


def parse_faults(value: str | None) -> Faults:
    """The faults of a header value (None or empty: none)."""
    if not value or not value.strip():
        return Faults()
    fields: dict[str, float | int] = {}
    for item in value.split(","):
        item = item.strip().lower()
        match = _ITEM.match(item)
        if match is None:
            raise _bad(value, f"{item!r} is not a known fault")
        name, number, after = match.group(1), match.group(2), match.group(3)
        if after is not None and name != "stall":
            raise _bad(value, f"only stall takes @N, not {name}")
        if name in fields:
            raise _bad(value, f"{name} is given twice")
        if name == "stall":
            fields["stall"] = float(number)
            if after is not None:
                fields["stall_after"] = int(after)
        elif name == "slow":
            fields["slow"] = float(number) / 1000
        else:
            if "." in number:
                raise _bad(value, f"{name} takes a whole number")
            fields[name] = int(number)
            if name in ("malformed", "error") and fields[name] < 1:
                raise _bad(value, f"{name} counts events from 1")
            if name == "status" and not 400 <= fields[name] <= 599:
                raise _bad(value, "status must be an error status, 400 to 599")
    return Faults(**fields)  # type: ignore[arg-type]


def corrupt(block: bytes) -> bytes:
    """The block with its data cut in half (the ``event:`` line is kept)."""
    lines = block.split(b"\n")
    for i, line in enumerate(lines):
        if line.startswith(b"data:"):
            lines[i] = line[: max(len(b"data: ") + 1, len(line) // 2)]
            break
    return b"\n".join(lines)


def error_block(message: str) -> bytes:
    """An ``error`` event as the reference shows it (an ErrorObject)."""
    data = orjson.dumps(
        {"code": "server_error", "message": message, "param": None, "type": "server_error"}
    )
    return b"event: error\ndata: " + data + b"\n\n"


async def with_faults(
    blocks: Iterable[Block],
    faults: Faults,
    *,
    on_error: Callable[[str], None],
    sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
) -> AsyncIterator[bytes]:
    """The bytes to send for ``blocks``, with ``faults`` applied (see the module doc)."""
    sent = 0
    if faults.stall is not None and faults.stall_after == 0:
        await sleep(faults.stall)
    for block, delay in blocks:
        number = sent + 1
        if faults.drop is not None and sent >= faults.drop:
            return
        wait = delay + (faults.slow or 0.0)
        if wait > 0:
            await sleep(wait)
        if faults.error is not None and number == faults.error:
            message = f"The server had an error while processing your request (event {number})."
            on_error(message)
            yield error_block(message)
            return
        if faults.malformed is not None and number == faults.malformed:
            block = corrupt(block)
        yield block
        sent = number
        if faults.stall is not None and sent == faults.stall_after:
            await sleep(faults.stall)
