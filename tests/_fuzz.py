"""A structured fuzzer for the whole pipeline: bytes -> Driver -> stream() -> handler.

Each case starts from a seed stream (generated ones covering every delta kind, and the real
recordings under ``../shared/recordings`` when present), applies one to four mutations,
encodes the events as bytes and reads them with :func:`streamkit.stream` in one of four
modes (strict or lenient fold, strict or tolerant decoding). It then checks what users
rely on:

1. only :class:`~streamkit.StreamkitError` escapes; in the most forgiving mode (lenient
   fold, tolerant decoding) nothing escapes but an over-limit ``SSEError``;
2. every snapshot stays readable, whatever happened: ``to_dict()`` of every run, step and
   message works and is valid JSON (orjson refuses lone surrogates), and every streamed
   string reads;
3. created and done fire at most once per object, and nothing is done that was not
   created;
4. the truncation verdict agrees with the problem list, and a stream that ends with its
   ``done`` is never truncated.

Mutations: type confusion at any JSON path (null, bool, numbers huge, negative and
non-finite, strings with lone surrogates, lists, objects, deep nesting), removed and
unknown keys, unknown variant types, sparse, negative and huge indices, other objects'
ids, any status; and on the stream: duplicated, dropped, swapped and late events, an early
``done``, ``error`` events of both shapes, a BOM, junk after the JSON, a cut at any byte,
a surrogate pair split across two deltas.

Run as a script for a long campaign: ``python tests/_fuzz.py --cases 1000000 --jobs 2``
(``--seed`` to reproduce). ``tests/test_fuzz.py`` runs a CI budget.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import streamkit
from streamkit import _changes as c
from streamkit.sse import SSEParser

RECORDINGS = Path(__file__).resolve().parents[2] / "shared" / "recordings" / "openai-dotnet"
MODES = [(True, False), (False, True), (True, True), (False, False)]  # (strict, tolerant)
STATUSES = [
    "queued",
    "in_progress",
    "requires_action",
    "cancelling",
    "cancelled",
    "failed",
    "completed",
    "incomplete",
    "expired",
    "weird",
]

Event = tuple[str, Any]  # (event name, payload: a JSON value, or Raw text)


class Raw:
    """Payload text written as is (not JSON-encoded): junk, NaN, deep nesting ..."""

    def __init__(self, text: str) -> None:
        self.text = text


# --- seeds ------------------------------------------------------------------------------------

IDS = {"thread_id": "thread_1", "assistant_id": "asst_1"}


def _run(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "run_1", "object": "thread.run", "status": status, **IDS, **extra}


def _step(step_id: str, status: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "run_id": "run_1",
        "status": status,
        "type": details["type"],
        "step_details": details,
        **IDS,
    }


def _message(status: str, content: list[Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "object": "thread.message",
        "run_id": "run_1",
        "role": "assistant",
        "status": status,
        "content": content,
        **IDS,
    }


def _text_seed() -> list[Event]:
    creation = {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}
    pieces = ["The ", "answer", " is ", "42", " 【0†source】", "."]
    deltas: list[Event] = [
        (
            "thread.message.delta",
            {
                "id": "msg_1",
                "object": "thread.message.delta",
                "delta": {"content": [{"index": 0, "type": "text", "text": {"value": piece}}]},
            },
        )
        for piece in pieces
    ]
    annotation = {
        "index": 0,
        "type": "file_citation",
        "text": "【0†source】",
        "start_index": 11,
        "end_index": 22,
        "file_citation": {"file_id": "file_1", "quote": ""},
    }
    deltas.insert(
        5,
        (
            "thread.message.delta",
            {
                "id": "msg_1",
                "delta": {
                    "content": [{"index": 0, "type": "text", "text": {"annotations": [annotation]}}]
                },
            },
        ),
    )
    final = [{"type": "text", "text": {"value": "".join(pieces), "annotations": [annotation]}}]
    final[0]["text"]["annotations"][0].pop("index")  # type: ignore[index]
    return [
        ("thread.created", {"id": "thread_1", "object": "thread", "created_at": 1}),
        ("thread.run.created", _run("queued")),
        ("thread.run.in_progress", _run("in_progress")),
        ("thread.run.step.created", _step("step_1", "in_progress", creation)),
        ("thread.message.created", _message("in_progress", [])),
        *deltas,
        (
            "thread.message.delta",
            {
                "id": "msg_1",
                "delta": {"content": [{"index": 1, "type": "refusal", "refusal": "no"}]},
            },
        ),
        ("thread.message.completed", _message("completed", final)),
        ("thread.run.step.completed", _step("step_1", "completed", creation)),
        ("thread.run.completed", _run("completed", usage={"total_tokens": 3})),
        ("done", Raw("[DONE]")),
    ]


def _tools_seed() -> list[Event]:
    def call_delta(call: dict[str, Any]) -> Event:
        return (
            "thread.run.step.delta",
            {
                "id": "step_2",
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": [call]}},
            },
        )

    empty = {"type": "tool_calls", "tool_calls": []}
    calls: list[Event] = [
        call_delta(
            {
                "index": 0,
                "id": "call_a",
                "type": "function",
                "function": {"name": "get_weather", "arguments": ""},
            }
        ),
        call_delta({"index": 0, "type": "function", "function": {"arguments": '{"city":'}}),
        call_delta(
            {
                "index": 1,
                "id": "call_b",
                "type": "function",
                "function": {"name": "get_time", "arguments": "{}"},
            }
        ),
        call_delta({"index": 0, "type": "function", "function": {"arguments": ' "Oslo"}'}}),
        call_delta(
            {
                "index": 2,
                "id": "ci_1",
                "type": "code_interpreter",
                "code_interpreter": {"input": "print(", "outputs": []},
            }
        ),
        call_delta(
            {
                "index": 2,
                "type": "code_interpreter",
                "code_interpreter": {
                    "input": "1)",
                    "outputs": [{"index": 0, "type": "logs", "logs": "1\n"}],
                },
            }
        ),
        call_delta(
            {
                "index": 2,
                "type": "code_interpreter",
                "code_interpreter": {
                    "outputs": [{"index": 1, "type": "image", "image": {"file_id": "file_img"}}]
                },
            }
        ),
        call_delta({"index": 3, "id": "fs_1", "type": "file_search", "file_search": {}}),
        call_delta(
            {
                "index": 3,
                "type": "file_search",
                "file_search": {"ranking_options": {"ranker": "auto", "score_threshold": 0.5}},
            }
        ),
    ]
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                }
            ]
        },
    }
    return [
        ("thread.run.created", _run("queued")),
        ("thread.run.step.created", _step("step_2", "in_progress", empty)),
        *calls,
        ("thread.run.requires_action", _run("requires_action", required_action=required)),
        ("thread.run.queued", _run("queued")),
        ("thread.run.in_progress", _run("in_progress")),
        ("thread.run.step.completed", _step("step_2", "completed", empty)),
        ("error", {"error": {"message": "boom", "type": "server_error", "code": None}}),
        (
            "thread.run.failed",
            _run("failed", last_error={"code": "server_error", "message": "boom"}),
        ),
    ]


def _recorded_seeds() -> list[list[Event]]:
    seeds = []
    for path in sorted(RECORDINGS.glob("*.sse")) if RECORDINGS.is_dir() else []:
        parser = SSEParser()
        events = parser.feed(path.read_bytes())
        seed: list[Event] = []
        for sse in events:
            try:
                seed.append((sse.event, json.loads(sse.data)))
            except ValueError:
                seed.append((sse.event, Raw(sse.data)))
        seeds.append(seed)
    return seeds


def seeds() -> list[list[Event]]:
    """Every seed stream."""
    return [_text_seed(), _tools_seed(), *_recorded_seeds()]


# --- mutations ---------------------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*path, i))
    return out


def _replace(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = root
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return root


def _deep(depth: int) -> Raw:
    return Raw("[" * depth + "]" * depth)


def _confusion(rng: random.Random) -> Any:
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            1.5,
            2**64,
            -(2**63) - 1,
            10**30,
            "",
            "x",
            [],
            {},
            {"type": "mystery"},
            [1, "a", None],
            "\ud83d",
            "a\ude00",
            "é" * 3,
            Raw("NaN"),
            Raw("Infinity"),
            Raw("1e400"),
            Raw("-0.0"),
            _deep(600),
            Raw("9" * 5000),
            "x" * 5000,
        ]
    )


def _mutate_payload(rng: random.Random, payload: Any) -> Any:
    if isinstance(payload, Raw):
        return payload
    payload = copy.deepcopy(payload)
    paths = _paths(payload)
    path = rng.choice(paths)
    action = rng.randrange(9)
    if action <= 2:  # type confusion anywhere
        return _replace(payload, path, _confusion(rng))
    if action == 3 and path:  # remove a key
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return payload
    keyed = [p for p in paths if p and p[-1] in ("index", "id", "status", "type")]
    if not keyed:
        return _replace(payload, path, _confusion(rng))
    path = rng.choice(keyed)
    key = path[-1]
    if key == "index":
        value: Any = rng.choice([0, 1, 2, 3, 7, -1, 2**31, 10**30, "0", None])
    elif key == "id":
        value = rng.choice(["run_1", "step_1", "step_2", "msg_1", "msg_2", "call_a", None, 7])
    elif key == "status":
        value = rng.choice(STATUSES)
    else:
        value = rng.choice(["text", "function", "logs", "mystery_type", "image_url", None])
    return _replace(payload, path, value)


def mutate(rng: random.Random, events: list[Event]) -> tuple[list[Event], list[str]]:
    """Apply one to four mutations; return the events and what was done (for reports)."""
    events = list(events)
    done: list[str] = []
    for _ in range(rng.randint(1, 4)):
        if not events:
            break
        i = rng.randrange(len(events))
        action = rng.randrange(12)
        name, payload = events[i]
        if action <= 4:
            events[i] = (name, _mutate_payload(rng, payload))
            done.append(f"payload of #{i} {name}")
        elif action == 5:
            events.insert(i, events[i])
            done.append(f"duplicate #{i}")
        elif action == 6:
            del events[i]
            done.append(f"drop #{i}")
        elif action == 7:
            j = rng.randrange(len(events))
            events[i], events[j] = events[j], events[i]
            done.append(f"swap #{i} #{j}")
        elif action == 8:
            events.insert(i, ("done", Raw("[DONE]")))
            done.append(f"early done at #{i}")
        elif action == 9:
            error: Any = rng.choice([{"error": {"message": "x", "type": "t"}}, {"message": "y"}])
            events.insert(i, ("error", error))
            done.append(f"error at #{i}")
        elif action == 10 and isinstance(payload, dict):
            text = _dump(payload) + rng.choice(["}", "]", " junk", "{}"])
            events[i] = (name, Raw(text))
            done.append(f"junk after #{i}")
        else:
            events.insert(i, (rng.choice(["thread.run.step.delta", "mystery.event"]), {"x": 1}))
            done.append(f"insert unknown at #{i}")
    return events, done


def _dump(payload: Any) -> str:
    if isinstance(payload, Raw):
        return payload.text
    raws: list[str] = []

    def default(value: Any) -> Any:
        raise TypeError(value)

    def swap(value: Any) -> Any:
        if isinstance(value, Raw):
            raws.append(value.text)
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(payload), default=default)
    for n, raw in enumerate(raws):
        text = text.replace(f'"\\u0000RAW{n}\\u0000"', raw)
    return text


def encode(rng: random.Random, events: list[Event]) -> bytes:
    """Events as an SSE body, with the odd byte-level mutation."""
    body = b"".join(
        f"event: {name}\ndata: {_dump(payload)}\n\n".encode("utf-8", "surrogatepass")
        for name, payload in events
    )
    roll = rng.randrange(10)
    if roll == 0 and body:
        body = body[: rng.randrange(len(body) + 1)]  # cut anywhere
    elif roll == 1 and body:
        at = body.find(b"event:", rng.randrange(len(body)))
        if at >= 0:
            body = body[:at] + b"\xef\xbb\xbf" + body[at:]  # a BOM in mid-stream
    elif roll == 2:
        body = body.replace(b"\n", b"\r\n")
    return body


# --- the checks -----------------------------------------------------------------------------


class Violation(AssertionError):
    """An invariant the fuzzer found broken."""


def _key(change: c.Change) -> tuple[str, Any] | None:
    if isinstance(change, c.RunCreated | c.RunFinished):
        return ("run", change.run.id)
    if isinstance(change, c.StepCreated | c.StepDone):
        return ("step", change.step.id)
    if isinstance(change, c.MessageCreated | c.MessageDone):
        return ("message", change.message.id)
    if isinstance(change, c.ToolCallCreated | c.ToolCallDone):
        return ("call", change.step.id, change.index)
    if isinstance(change, c.ContentPartCreated | c.ContentPartDone):
        return ("part", change.message.id, change.index)
    return None


_CREATED = (c.RunCreated, c.StepCreated, c.MessageCreated, c.ToolCallCreated, c.ContentPartCreated)
_DONE = (c.RunFinished, c.StepDone, c.MessageDone, c.ToolCallDone, c.ContentPartDone)


class _Hooks(streamkit.EventHandler):
    """Overrides hooks so the dispatch path runs; reads what each hook is given."""

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        snapshot.value  # noqa: B018

    def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        snapshot.to_dict()

    def on_message_done(self, message: Any) -> None:
        message.to_dict()


def check_changes_once(created: list[Any], finished: list[Any], *, complete: bool = True) -> None:
    """Created and done at most once per object; nothing done that was not created (a
    run may be finished by a stream that did not create it)."""
    made, ended = Counter(created), Counter(finished)
    twice = [k for k, n in (made + ended).items() if made[k] > 1 or ended[k] > 1]
    if twice:
        raise Violation(f"created or done more than once: {twice[:3]}")
    orphans = [k for k in ended if k not in made and k[0] != "run"]
    if orphans and complete:
        raise Violation(f"done without created: {orphans[:3]}")


def check(body: bytes, strict: bool, tolerant: bool) -> None:
    """Read ``body`` in one mode; raise :class:`Violation` when an invariant breaks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = streamkit.stream(
            body, handler=_Hooks(), strict=strict, tolerant=tolerant, on_truncated="ignore"
        )
        changes = s.changes()
        seen: list[c.Change] = []
        error: BaseException | None = None
        try:
            for change in changes:
                seen.append(change)
        except streamkit.StreamkitError as e:
            error = e
        except Exception as e:
            raise Violation(f"{type(e).__name__} escaped: {e}") from e
    if error is not None and not strict and tolerant and not isinstance(error, streamkit.SSEError):
        raise Violation(f"the forgiving mode raised {type(error).__name__}: {error}")
    state = s.state
    try:
        for group in (state.runs, state.steps, state.messages):
            for snapshot in group.values():
                json.dumps(snapshot.to_dict())
        if state.thread is not None:
            json.dumps(state.thread.to_dict())
    except Exception as e:
        raise Violation(f"a snapshot does not read: {type(e).__name__}: {e}") from e
    created = [_key(ch) for ch in seen if isinstance(ch, _CREATED)]
    finished = [_key(ch) for ch in seen if isinstance(ch, _DONE)]
    check_changes_once(created, finished, complete=error is None)
    truncated = any(p.kind == "truncated" for p in state.problems)
    if s.truncated != truncated:
        raise Violation(f"truncated is {s.truncated} but the problems say {truncated}")
    last = s.driver.last_event
    if error is None and s.truncated and last is not None and last.event == "done":
        raise Violation("a stream that ends with its done event is truncated")


def run_case(seed_events: list[list[Event]], case: int, base_seed: int) -> str | None:
    """One case; None, or a report of the violation with what reproduces it."""
    rng = random.Random(base_seed * 1_000_003 + case)
    events, done = mutate(rng, rng.choice(seed_events))
    body = encode(rng, events)
    strict, tolerant = MODES[case % len(MODES)]
    try:
        check(body, strict, tolerant)
    except Violation as e:
        return (
            f"case {case} (seed {base_seed}, strict={strict}, tolerant={tolerant}): {e}\n"
            f"  mutations: {done}\n  body: {body[:600]!r}\n"
            + "".join(traceback.format_exception(e.__cause__ or e)[-3:])
        )
    return None


def campaign(cases: int, base_seed: int, start: int = 0) -> list[str]:
    """Run ``cases`` cases from ``start``; the reports of the violations found."""
    seed_events = seeds()
    reports = []
    for case in range(start, start + cases):
        report = run_case(seed_events, case, base_seed)
        if report is not None:
            reports.append(report)
    return reports


def _work(args: tuple[int, int, int]) -> list[str]:
    return campaign(*args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz streamkit's pipeline.")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1)
    options = parser.parse_args(argv)
    start = time.perf_counter()
    batch = 10_000
    work = [
        (min(batch, options.cases - i), options.seed, i) for i in range(0, options.cases, batch)
    ]
    reports: list[str] = []
    runner: Callable[..., Any]
    with Pool(options.jobs) as pool:
        runner = pool.imap_unordered if options.jobs > 1 else map
        for done, found in enumerate(runner(_work, work), 1):
            reports += found
            print(
                f"{min(done * batch, options.cases):,} cases, {len(reports)} violation(s), "
                f"{time.perf_counter() - start:.0f} s",
                file=sys.stderr,
            )
    for report in reports[:20]:
        print(report)
    print(
        f"{options.cases:,} cases in {time.perf_counter() - start:.1f} s: {len(reports)} violations"
    )
    return 1 if reports else 0


if __name__ == "__main__":
    raise SystemExit(main())
