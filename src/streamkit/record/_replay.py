"""Replaying recordings: :func:`replay` (sync) and :func:`areplay` (anyio).

A recording (or a path, or bytes) is loaded when ``replay`` is called, so load errors and
the truncation warning surface there, and the longest wait it implies is checked then
too. Iteration yields the chunks exactly; with a ``speed``, chunk *i* is due ``t_i /
speed`` seconds after iteration starts, every wait computed from that start so sleep
overshoot does not accumulate. anyio is imported by ``areplay`` when it is called, not
when this module is.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence

from ._format import MAX_TIME, Chunk, Recording, Source, load

__all__ = ["areplay", "replay"]


def _chunks(
    recording: Recording | Source, speed: float | None, plain_chunk_size: int | None
) -> Sequence[Chunk]:
    """The chunks to replay, loaded and checked (stacklevel: see ``load``)."""
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be > 0 or None, got {speed!r}")
    if isinstance(recording, Recording):
        chunks: Sequence[Chunk] = recording.chunks
    else:
        chunks = load(recording, None, plain_chunk_size, stacklevel=5).chunks
    if speed is not None:
        # A loaded recording's times are at most MAX_TIME; a Recording built in memory, or
        # a slow speed, could still ask for a wait no sleep function accepts.
        for chunk in chunks:
            if chunk.t is not None and not chunk.t / speed <= MAX_TIME:  # also NaN
                raise ValueError(
                    f"chunk time {chunk.t} at speed {speed} is a wait of {chunk.t / speed} s,"
                    f" more than the {MAX_TIME:g} s a replay can wait"
                )
    return chunks


def replay(
    recording: Recording | Source,
    *,
    speed: float | None = None,
    plain_chunk_size: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> Iterator[bytes]:
    """Yield the recorded chunks in order, exactly.

    ``speed=None`` replays instantly; otherwise chunk *i* is yielded at ``t_i / speed``
    seconds after iteration starts (1.0 real time, 2.0 twice as fast), scheduled from the
    start so delays don't accumulate. Chunks without timing (plain bodies) never wait. The
    recording is loaded when this is called, so load errors surface here.
    """
    return _replay(_chunks(recording, speed, plain_chunk_size), speed, clock, sleep)


def _replay(
    chunks: Sequence[Chunk],
    speed: float | None,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
) -> Iterator[bytes]:
    if speed is None:
        for chunk in chunks:
            yield chunk.data
        return
    start = clock()
    for chunk in chunks:
        if chunk.t is not None:
            delay = start + chunk.t / speed - clock()
            if delay > 0:
                sleep(delay)
        yield chunk.data


def areplay(
    recording: Recording | Source,
    *,
    speed: float | None = None,
    plain_chunk_size: int | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> AsyncIterator[bytes]:
    """Async twin of ``replay`` (anyio: asyncio or trio); checkpoints before every chunk.

    ``clock`` and ``sleep`` default to ``anyio.current_time`` and ``anyio.sleep``.
    """
    return _areplay(_chunks(recording, speed, plain_chunk_size), speed, clock, sleep)


async def _areplay(
    chunks: Sequence[Chunk],
    speed: float | None,
    clock: Callable[[], float] | None,
    sleep: Callable[[float], Awaitable[object]] | None,
) -> AsyncIterator[bytes]:
    import anyio
    import anyio.lowlevel

    checkpoint = anyio.lowlevel.checkpoint
    if speed is None:
        for chunk in chunks:
            await checkpoint()
            yield chunk.data
        return
    clock = clock or anyio.current_time
    sleep = sleep or anyio.sleep
    start = clock()
    for chunk in chunks:
        delay = 0.0 if chunk.t is None else start + chunk.t / speed - clock()
        if delay > 0:
            await sleep(delay)
        else:
            await checkpoint()
        yield chunk.data
