"""The relay's hubs: fan-out latency and throughput, MemoryHub and RedisHub.

Starts its own redis-server on 127.0.0.1 (tests/_redis_server.py; Debian's
``redis-server`` must be installed) and measures, in this process (asyncio):

* (a) fan-out latency: an upstream SSE delta handed to the relay (the source yields its
  bytes) to a viewer's receipt of its relay frame (``Subscription.next()`` returns it),
  p50 / p99, for 1, 10 and 100 viewers of one run (a delta every 5 ms) and for 100
  concurrent runs with one viewer each (a delta every 50 ms per run, 2,000 a second in
  all). The whole path is timed: SSE parse, fold, encode, number, keep, fan out (on Redis:
  MULTI/EXEC, then XREAD BLOCK on the viewers' side). The HTTP write is not included.
* (b) throughput: one run relayed as fast as the hub takes it, read to its end by one
  viewer: relay events per second, vs raw redis-py on the same server in the same run
  (one awaited XADD per event of the same frame bytes, or 100 XADDs per pipelined round
  trip; one reader in XREAD BLOCK), and the memory hub. The hub writes what was published
  during its previous write in one MULTI/EXEC (a group commit), so it can beat one XADD
  per round trip; the pipelined figure is the ceiling for redis-py here.

Run: python benchmarks/bench_relay.py [--quick]   (about 60 s; --quick about 20 s)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import orjson

import streamkit
from streamkit.relay import Hub, MemoryHub, RedisHub, Subscription

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _redis_server import REDIS_MISSING, redis_server, redis_server_binary

HEAD = (
    b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"t","status":"queued"}\n\n'
    b'event: thread.message.created\ndata: {"id":"m1","object":"thread.message",'
    b'"role":"assistant","status":"in_progress","content":[]}\n\n'
)
TAIL = (
    b'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"t","status":"completed"}\n\nevent: done\ndata: [DONE]\n\n'
)


def delta(i: int) -> bytes:
    return (
        b'event: thread.message.delta\ndata: {"id":"m1","delta":{"content":[{"index":0,'
        b'"type":"text","text":{"value":" w%d"}}]}}\n\n' % i
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def paced(
    n: int, pace: float, sent: dict[int, float], go: anyio.Event
) -> AsyncIterator[bytes]:
    yield HEAD
    await go.wait()
    begin = time.perf_counter()
    for i in range(n):
        # a steady pace (not a sleep after each): late deltas do not push the others back
        await anyio.sleep(max(0.0, begin + i * pace - time.perf_counter()))
        sent[i] = time.perf_counter()
        yield delta(i)
    yield TAIL


async def receive(subscription: Subscription, sent: dict[int, float], out: list[float]) -> None:
    async for data in subscription:
        now = time.perf_counter()
        payload = orjson.loads(data[data.index(b"data: ") + 6 :])
        if payload["type"] == "text.delta":
            out.append(now - sent[int(payload["text"][2:])])


async def fan_out(
    make_hub: Callable[[], Hub], runs: int, viewers: int, n: int, pace: float
) -> list[float]:
    """Latencies (seconds) of ``n`` deltas of ``runs`` runs, each with ``viewers`` viewers."""
    hub = make_hub()
    latencies: list[float] = []
    go = anyio.Event()
    async with hub, anyio.create_task_group() as group:
        for r in range(runs):
            sent: dict[int, float] = {}
            run_id = f"bench-{uuid.uuid4().hex[:8]}-{r}"
            await hub.start(run_id, streamkit.astream(paced(n, pace, sent, go)))
            for _ in range(viewers):
                group.start_soon(receive, await hub.subscribe(run_id), sent, latencies)
        await anyio.sleep(0.05)
        go.set()
    return latencies


async def hub_throughput(make_hub: Callable[[], Hub], n: int) -> float:
    body = HEAD + b"".join(delta(i) for i in range(n)) + TAIL
    hub = make_hub()
    got: list[float] = []
    async with hub, anyio.create_task_group() as group:
        run_id = f"bench-{uuid.uuid4().hex[:8]}"
        go = anyio.Event()

        async def source() -> AsyncIterator[bytes]:
            await go.wait()
            yield body

        await hub.start(run_id, streamkit.astream(source()))
        subscription = await hub.subscribe(run_id)

        async def read() -> None:
            count = 0
            async for _ in subscription:
                count += 1
            got.append(count)

        group.start_soon(read)
        begin = time.perf_counter()
        go.set()
    took = time.perf_counter() - begin
    assert got and got[0] >= n, got
    return got[0] / took


def xadd_args(i: int) -> dict[str, Any]:
    return {"id": f"{i + 1}-0", "maxlen": 10_000, "approximate": False}


async def raw_throughput(url: str, n: int, batch: int = 1) -> float:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    key = f"bench-raw-{uuid.uuid4().hex[:8]}"
    frames = [
        b'id: %d\ndata: {"v":1,"type":"text.delta","message_id":"m1","index":0,'
        b'"text":" w%d"}\n\n' % (i + 1, i)
        for i in range(n)
    ]
    count = 0

    async def read() -> None:
        nonlocal count
        last = "0-0"
        while count < n:
            answer = await redis.xread({key: last}, count=1000, block=1000)
            for _, entries in answer or ():
                count += len(entries)
                last = entries[-1][0]

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            begin = time.perf_counter()
            for start in range(0, n, batch):
                if batch == 1:
                    await redis.xadd(key, {"f": frames[start]}, **xadd_args(start))
                    continue
                async with redis.pipeline(transaction=False) as pipe:
                    for i in range(start, min(n, start + batch)):
                        pipe.xadd(key, {"f": frames[i]}, **xadd_args(i))
                    await pipe.execute()
        took = time.perf_counter() - begin
    finally:
        await redis.delete(key)
        await redis.aclose()
    return n / took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events (about 20 s)")
    args = parser.parse_args()
    if redis_server_binary() is None:
        raise SystemExit(REDIS_MISSING)
    scale = 0.4 if args.quick else 1.0
    one_run = max(50, int(300 * scale))  # deltas per run, 5 ms apart
    many = max(10, int(40 * scale))  # deltas per run of the 100, 50 ms apart
    bulk = max(2000, int(20_000 * scale))

    with redis_server() as url:
        hubs: dict[str, Callable[[], Hub]] = {
            "memory": MemoryHub,
            "redis": lambda: RedisHub(url, prefix=f"bench:{uuid.uuid4().hex[:6]}:"),
        }
        print("(a) fan-out latency, upstream delta -> viewer receipt (ms)")
        print(f"{'scenario':<26}{'hub':<8}{'events':>8}{'p50':>9}{'p99':>9}")
        results: dict[tuple[str, str], tuple[float, float]] = {}
        scenarios = [
            ("1 run, 1 viewer", 1, 1, one_run, 0.005),
            ("1 run, 10 viewers", 1, 10, one_run, 0.005),
            ("1 run, 100 viewers", 1, 100, one_run, 0.005),
            ("100 runs, 1 viewer each", 100, 1, many, 0.05),
        ]
        for name, runs, viewers, n, pace in scenarios:
            for hub_name, make in hubs.items():
                lat = anyio.run(fan_out, make, runs, viewers, n, pace)
                assert len(lat) == runs * viewers * n, (name, hub_name, len(lat))
                p50, p99 = percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3
                results[(name, hub_name)] = (p50, p99)
                print(f"{name:<26}{hub_name:<8}{len(lat):>8}{p50:>9.2f}{p99:>9.2f}")
        print()
        print(f"(b) throughput, one run of {bulk:,} deltas relayed and read to its end (events/s)")
        big: dict[str, Callable[[], Hub]] = {  # queues that hold the whole run: none dropped
            "memory": lambda: MemoryHub(queue_size=bulk + 10),
            "redis": lambda: RedisHub(
                url, prefix=f"bench:{uuid.uuid4().hex[:6]}:", queue_size=bulk + 10
            ),
        }
        rates = {
            "raw redis-py XADD/XREAD": anyio.run(raw_throughput, url, bulk),
            "raw, XADD pipelined x100": anyio.run(raw_throughput, url, bulk, 100),
            "RedisHub": anyio.run(hub_throughput, big["redis"], bulk),
            "MemoryHub": anyio.run(hub_throughput, big["memory"], bulk),
        }
        raw = rates["raw redis-py XADD/XREAD"]
        for name, rate in rates.items():
            print(f"{name:<26}{rate:>12,.0f}{rate / raw:>8.2f}x raw")
        print()
        for name, *_ in scenarios:
            (m50, m99), (r50, r99) = results[(name, "memory")], results[(name, "redis")]
            print(f"redis / memory, {name}: p50 {r50 / m50:.1f}x, p99 {r99 / m99:.1f}x")
        print(f"({os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
