"""The live path: the client against the emulator served by uvicorn in another process.

``streamkit emulator`` runs in a subprocess (its own core on a 2-core machine); this
process is the client.

* (a) 200 concurrent streaming runs (``AsyncClient``, asyncio), each an echo of 40 words
  paced by the emulator at 20 tokens per second (a delta every 50 ms): all complete; time
  to first delta (request sent to the first ``on_text_delta``) and the gap between
  consecutive deltas as the handler sees them (50 ms is the pace: what is above it is
  added latency), p50 / p99.
* (b) the client's overhead: the same unpaced echo stream of 2,000 deltas read to the
  end with a handler counting text deltas, through ``Client.threads.runs.stream`` vs
  plain ``httpx`` + ``streamkit.stream`` (target: within 1.1x); the same for the async
  client vs ``httpx.AsyncClient`` + ``streamkit.astream``; and the Responses API's
  ``Client.responses.stream`` vs ``httpx`` + ``streamkit.stream`` on ``POST /responses``.

Run: python benchmarks/bench_live.py [--streams N] [--repeat R]   (about 30 s)
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx

import streamkit

KEY = "sk-bench"
PACE = 20.0  # tokens per second in (a)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "streamkit", "emulator", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--api-key", KEY], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the emulator did not start")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def words(n: int) -> str:
    return "echo: " + " ".join(f"w{i}" for i in range(n))


class Timing(streamkit.AsyncEventHandler):
    def __init__(self) -> None:
        self.times: list[float] = []

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.times.append(time.perf_counter())


async def concurrent(base_url: str, n: int) -> None:
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    http = httpx.AsyncClient(limits=limits, timeout=60)
    async with streamkit.AsyncClient(
        base_url=base_url, api_key=KEY, http_client=http, max_retries=0
    ) as client:
        assistant = await client.assistants.create(model="gpt-4o")
        first: list[float] = []
        gaps: list[float] = []
        done: list[str] = []

        async def one() -> None:
            handler = Timing()
            started = time.perf_counter()
            s = client.threads.create_and_run_stream(
                assistant_id=assistant.id,
                thread={"messages": [{"role": "user", "content": words(40)}]},
                handler=handler,
                extra_headers={"X-Emulator-Tokens-Per-Second": str(PACE)},
            )
            run = await s.get_final_run()
            assert run is not None and len(handler.times) == 40
            done.append(run.status or "")
            first.append(handler.times[0] - started)
            gaps.extend(b - a for a, b in zip(handler.times, handler.times[1:], strict=False))

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(one)
        wall = time.perf_counter() - started
    await http.aclose()
    assert done == ["completed"] * n, done
    print(
        f"(a) {n} concurrent runs of 40 deltas at {PACE:g} tokens/s: all completed in {wall:.2f} s"
    )
    print(
        f"    time to first delta  p50 {pct(first, 0.5) * 1000:7.1f} ms   "
        f"p99 {pct(first, 0.99) * 1000:7.1f} ms"
    )
    print(
        f"    gap between deltas   p50 {pct(gaps, 0.5) * 1000:7.1f} ms   "
        f"p99 {pct(gaps, 0.99) * 1000:7.1f} ms   (the pace: {1000 / PACE:.0f} ms)"
    )


class Count(streamkit.EventHandler):
    def __init__(self) -> None:
        self.n = 0

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.n += 1


class ACount(streamkit.AsyncEventHandler):
    def __init__(self) -> None:
        self.n = 0

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.n += 1


DELTAS = 2000


def overhead_sync(base_url: str, repeat: int) -> tuple[float, float]:
    body_thread = {"messages": [{"role": "user", "content": words(DELTAS)}]}
    http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    client = streamkit.Client(base_url=base_url, api_key=KEY, timeout=60)
    assistant = client.assistants.create(model="gpt-4o").id

    def plain() -> None:
        handler = Count()
        body = {"assistant_id": assistant, "thread": body_thread, "stream": True}
        with http.stream("POST", "/threads/runs", json=body) as response:
            streamkit.stream(response, handler=handler).until_done()
        assert handler.n == DELTAS

    def ours() -> None:
        handler = Count()
        s = client.threads.create_and_run_stream(
            assistant_id=assistant, thread=body_thread, handler=handler
        )
        s.until_done()
        assert handler.n == DELTAS

    result = compare(plain, ours, repeat)
    http.close()
    client.close()
    return result


def compare(
    plain: Callable[[], None], ours: Callable[[], None], repeat: int
) -> tuple[float, float]:
    plain(), ours()  # warm up
    times: dict[str, list[float]] = {"plain": [], "ours": []}
    for _ in range(repeat):
        for name, run in (("plain", plain), ("ours", ours)):
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return statistics.median(times["plain"]), statistics.median(times["ours"])


def overhead_responses(base_url: str, repeat: int) -> tuple[float, float]:
    body = {"model": "gpt-5", "input": words(DELTAS)}
    http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
    client = streamkit.Client(base_url=base_url, api_key=KEY, timeout=60)

    def plain() -> None:
        handler = Count()
        with http.stream("POST", "/responses", json={**body, "stream": True}) as response:
            streamkit.stream(response, handler=handler).until_done()
        assert handler.n == DELTAS

    def ours() -> None:
        handler = Count()
        client.responses.stream(handler=handler, **body).until_done()
        assert handler.n == DELTAS

    result = compare(plain, ours, repeat)
    http.close()
    client.close()
    return result


async def overhead_async(base_url: str, repeat: int) -> tuple[float, float]:
    body_thread = {"messages": [{"role": "user", "content": words(DELTAS)}]}
    http = httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60
    )
    client = streamkit.AsyncClient(base_url=base_url, api_key=KEY, timeout=60)
    assistant = (await client.assistants.create(model="gpt-4o")).id

    async def plain() -> None:
        handler = ACount()
        body = {"assistant_id": assistant, "thread": body_thread, "stream": True}
        async with http.stream("POST", "/threads/runs", json=body) as response:
            await streamkit.astream(response, handler=handler).until_done()
        assert handler.n == DELTAS

    async def ours() -> None:
        handler = ACount()
        s = client.threads.create_and_run_stream(
            assistant_id=assistant, thread=body_thread, handler=handler
        )
        await s.until_done()
        assert handler.n == DELTAS

    await plain()
    await ours()
    times: dict[str, list[float]] = {"plain": [], "ours": []}
    for _ in range(repeat):
        for name, run in (("plain", plain), ("ours", ours)):
            started = time.perf_counter()
            await run()
            times[name].append(time.perf_counter() - started)
    await http.aclose()
    await client.aclose()
    return statistics.median(times["plain"]), statistics.median(times["ours"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    port = free_port()
    process = start_emulator(port)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        began = time.perf_counter()
        anyio.run(concurrent, base_url, args.streams)
        plain, ours = overhead_sync(base_url, args.repeat)
        print(
            f"(b) sync, {DELTAS} deltas: httpx + streamkit.stream {plain * 1000:7.1f} ms   "
            f"Client {ours * 1000:7.1f} ms   ratio {ours / plain:.3f}x (target <= 1.1x)"
        )
        plain, ours = anyio.run(overhead_async, base_url, args.repeat)
        print(
            f"    async, {DELTAS} deltas: httpx + streamkit.astream {plain * 1000:7.1f} ms   "
            f"AsyncClient {ours * 1000:7.1f} ms   ratio {ours / plain:.3f}x (target <= 1.1x)"
        )
        plain, ours = overhead_responses(base_url, args.repeat)
        print(
            f"(c) Responses, {DELTAS} deltas: httpx + streamkit.stream {plain * 1000:7.1f} ms   "
            f"Client.responses {ours * 1000:7.1f} ms   ratio {ours / plain:.3f}x"
        )
        print(f"total {time.perf_counter() - began:.1f} s")
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
