"""A structured fuzzer for ``streamkit.events.decode``.

It starts from real payloads (the recorded streams under ``../shared/recordings``, when
present, and one hand-written payload per event type) and mutates them: type confusion at
any field (null, booleans, integers at and beyond 64 bits, floats, NaN, strings, lone
surrogates, arrays, objects), deep nesting, unknown variants and keys, removed keys. For
every case, strict and tolerant:

- strict ``decode`` returns an event or raises ``MalformedEventError``, nothing else;
- tolerant ``decode`` never raises;
- for every decoded event, ``to_dict()`` equals the JSON that came in (read exactly, with
  the standard library), and ``to_dict()``, ``clone()`` and every attribute read of every
  model in it never raise, and the text of every string reads as valid UTF-8.

The test runs a budget chosen by the hypothesis profile (``STREAMKIT_FUZZ_PROFILE``: "ci",
the default, about 2,000 cases in well under 30 s; "long" for 50,000). Run this file as a
script for a plain random run of any size: ``python tests/test_decode_fuzz.py --cases
1000000``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamkit import MalformedEventError
from streamkit._model import GrowableStr, Model, exact_numbers
from streamkit.events import EVENT_TYPES, Event, MalformedEvent, UnknownEvent, decode
from streamkit.sse import ServerSentEvent, SSEParser

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "openai-dotnet"

settings.register_profile(
    "ci",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=50_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_RUN = {
    "id": "run_1",
    "object": "thread.run",
    "status": "queued",
    "thread_id": "t",
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "metadata": {},
    "usage": None,
    "temperature": 1.0,
}
_STEP = {
    "id": "step_1",
    "object": "thread.run.step",
    "run_id": "run_1",
    "status": "in_progress",
    "type": "tool_calls",
    "step_details": {
        "type": "tool_calls",
        "tool_calls": [
            {
                "id": "c",
                "type": "function",
                "function": {"name": "f", "arguments": "{}", "output": None},
            }
        ],
    },
}
_MESSAGE = {
    "id": "msg_1",
    "object": "thread.message",
    "status": "in_progress",
    "role": "assistant",
    "content": [
        {
            "type": "text",
            "text": {
                "value": "Hi",
                "annotations": [
                    {
                        "type": "file_citation",
                        "text": "x",
                        "start_index": 0,
                        "end_index": 1,
                        "file_citation": {"file_id": "f"},
                    }
                ],
            },
        }
    ],
    "metadata": {},
}
_MESSAGE_DELTA = {
    "id": "msg_1",
    "object": "thread.message.delta",
    "delta": {
        "content": [
            {
                "index": 0,
                "type": "text",
                "text": {
                    "value": "Hel",
                    "annotations": [
                        {
                            "index": 0,
                            "type": "file_path",
                            "text": "p",
                            "file_path": {"file_id": "f"},
                        }
                    ],
                },
            },
            {"index": 1, "type": "refusal", "refusal": "no"},
            {"index": 2, "type": "image_file", "image_file": {"file_id": "f", "detail": "low"}},
        ]
    },
}
_STEP_DELTA = {
    "id": "step_1",
    "object": "thread.run.step.delta",
    "delta": {
        "step_details": {
            "type": "tool_calls",
            "tool_calls": [
                {
                    "index": 0,
                    "type": "function",
                    "id": "c",
                    "function": {"name": "f", "arguments": "{"},
                },
                {
                    "index": 1,
                    "type": "code_interpreter",
                    "code_interpreter": {
                        "input": "1+",
                        "outputs": [
                            {"index": 0, "type": "logs", "logs": "2"},
                            {"index": 1, "type": "image", "image": {"file_id": "f"}},
                        ],
                    },
                },
                {"index": 2, "type": "file_search", "file_search": {"results": [{"score": 0.5}]}},
            ],
        }
    },
}

#: One payload per event name, from which mutations start (with the recordings).
HANDMADE: dict[str, Any] = {
    "thread.created": {"id": "thread_1", "object": "thread", "metadata": {}},
    "thread.run.step.delta": _STEP_DELTA,
    "thread.message.delta": _MESSAGE_DELTA,
    "error": {"error": {"message": "m", "type": "server_error", "code": None, "param": None}},
}
for _name in EVENT_TYPES:
    if _name not in HANDMADE:
        if _name.startswith("thread.run.step."):
            HANDMADE[_name] = _STEP
        elif _name.startswith("thread.run."):
            HANDMADE[_name] = _RUN
        elif _name.startswith("thread.message."):
            HANDMADE[_name] = _MESSAGE
HANDMADE["error "] = {"message": "m", "type": "server_error"}  # the bare shape (name fixed below)


def seeds() -> list[tuple[str, Any]]:
    """(event name, payload) pairs: the hand-written ones and the recordings' events."""
    out = [(name.strip(), payload) for name, payload in HANDMADE.items()]
    for path in sorted(RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else []:
        parser = SSEParser()
        events = parser.feed(path.read_bytes())
        parser.close()
        for sse in events:
            if sse.event in EVENT_TYPES:
                out.append((sse.event, json.loads(sse.data)))
    out.append(("thread.run.step.reasoning.delta", {"id": "s", "delta": {"n": 1}}))
    return out


SEEDS = seeds()

#: Values put in place of any value (type confusion, edge numbers, strings that hurt).
REPLACEMENTS: list[Callable[[], Any]] = [
    lambda: None,
    lambda: True,
    lambda: 0,
    lambda: -1,
    lambda: 2**31,
    lambda: 2**63,
    lambda: 2**64,
    lambda: -(2**63) - 1,
    lambda: 10**30,
    lambda: 1.5,
    lambda: 1e19,
    lambda: float("nan"),
    lambda: float("inf"),
    lambda: "",
    lambda: "text",
    lambda: "\ud83d",
    lambda: "\ude00x",
    lambda: "\U0001f600",
    lambda: [],
    lambda: [1, "a"],
    lambda: {},
    lambda: {"type": "brand_new", "index": 0},
    lambda: {"type": "text", "index": 0},
    lambda: nest(70),
    lambda: nest(20),
]


def nest(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def containers(value: Any) -> list[Any]:
    """Every dict and list inside ``value`` (iteratively), ``value`` first."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            out.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return out


def mutate(payload: Any, choose: Callable[[int], int]) -> Any:
    """One mutation of a deep copy of ``payload``; ``choose(n)`` picks in range(n)."""
    payload = json.loads(json.dumps(payload))
    places = containers(payload)
    if not places:
        return REPLACEMENTS[choose(len(REPLACEMENTS))]()
    target = places[choose(len(places))]
    if isinstance(target, dict):
        keys = list(target)
        action = choose(4)
        if action == 0 and keys:  # remove a key
            del target[keys[choose(len(keys))]]
        elif action == 1:  # an unknown key
            target["zz_new"] = REPLACEMENTS[choose(len(REPLACEMENTS))]()
        elif keys:  # type confusion at a key
            target[keys[choose(len(keys))]] = REPLACEMENTS[choose(len(REPLACEMENTS))]()
    elif target:
        target[choose(len(target))] = REPLACEMENTS[choose(len(REPLACEMENTS))]()
    else:
        target.append(REPLACEMENTS[choose(len(REPLACEMENTS))]())
    return payload


def read_everything(value: Any) -> None:
    """Read every attribute of every model in ``value``; check strings encode as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Model):
            item.to_dict()
            check_clone(item)
            assert isinstance(item.extra, dict) and isinstance(item.absent, frozenset)
            cls = type(item)
            # Every field a user reads (``extra`` and ``absent`` above stand for the
            # private record ``_extra`` / ``_absent``).
            names = [f.name for f in attrs.fields(cls) if f.name not in ("_extra", "_absent")]
            names += [n for n in dir(cls) if isinstance(getattr(cls, n, None), GrowableStr)]
            for name in names:
                got = getattr(item, name)
                if isinstance(getattr(cls, name, None), GrowableStr) and got is not None:
                    got.encode("utf-8")  # text always reads valid
                stack.append(got)
        elif isinstance(item, list):
            stack.extend(item)


def check_clone(model: Model) -> None:
    """``clone()`` (a generated copier) gives what ``from_dict(to_dict())`` gives, the
    definition of a clone, and shares nothing mutable with the original."""
    copy = model.clone()
    with exact_numbers():
        long_way = type(model).from_dict(model.to_dict())
    assert type(copy) is type(long_way)
    assert copy.to_dict() == long_way.to_dict()
    assert copy.absent == long_way.absent and copy.extra == long_way.extra
    assert not (_mutables(copy) & _mutables(model))


def _mutables(value: Any) -> set[int]:
    """The ids of every mutable object reachable from ``value`` (models, dicts, lists)."""
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list, Model)):
            if id(item) in found:
                continue
            found.add(id(item))
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, Model):
            stack.extend(getattr(item, f.name, None) for f in attrs.fields(type(item)))
    return found


def check_case(name: str, data: str) -> str:
    """Decode ``data`` strictly and tolerantly; check the invariants; return the outcome."""
    sse = ServerSentEvent(event=name, data=data, line=3, offset=99)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            strict: Event | None = decode(sse)
        except MalformedEventError as error:
            assert error.data == data and error.event == name and error.line == 3
            assert error.reason and "0 character(s) of junk" not in error.reason
            strict = None
        tolerant = decode(sse, tolerant=True)
    if strict is None:
        assert isinstance(tolerant, MalformedEvent) and tolerant.raw == data
        return "malformed"
    assert type(tolerant) is type(strict)
    if isinstance(strict, UnknownEvent):
        return "unknown"
    expected = json.loads(data)
    assert strict.to_dict() == expected
    read_everything(strict.data)
    return "decoded"


def to_data(payload: Any) -> str:
    """JSON text for ``payload`` (NaN and infinities as the stdlib writes them)."""
    return json.dumps(payload)


@given(data=st.data())
@settings(settings.get_profile(os.environ.get("STREAMKIT_FUZZ_PROFILE", "ci")))
def test_decode_fuzz(data: st.DataObject) -> None:
    def choose(n: int) -> int:
        return data.draw(st.integers(min_value=0, max_value=n - 1))

    name, payload = SEEDS[choose(len(SEEDS))]
    for _ in range(1 + choose(3)):
        payload = mutate(payload, choose)
    check_case(name, to_data(payload))


def test_decode_fuzz_seeds_decode_as_they_are() -> None:
    outcomes = [check_case(name, to_data(payload)) for name, payload in SEEDS]
    assert set(outcomes) <= {"decoded", "unknown"}


def main() -> None:  # pragma: no cover - run by hand
    ap = argparse.ArgumentParser(description="Fuzz streamkit.events.decode.")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for case in range(args.cases):
        name, payload = SEEDS[rng.randrange(len(SEEDS))]
        for _ in range(1 + rng.randrange(3)):
            payload = mutate(payload, rng.randrange)
        data = to_data(payload)
        try:
            outcome = check_case(name, data)
        except BaseException as error:
            print(f"case {case}: {name} {data[:300]!r}: {error!r}", file=sys.stderr)
            raise
        counts[outcome] = counts.get(outcome, 0) + 1
    seconds = time.perf_counter() - start
    print(f"{args.cases:,} cases in {seconds:.1f} s ({args.cases / seconds:,.0f}/s): {counts}")


if __name__ == "__main__":
    main()
