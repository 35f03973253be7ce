"""A differential fuzzer of the whole pipeline: bytes to events, Changes and snapshots with
the C speedups on (``Driver(speedups=True)``) and off (``speedups=False``, the pure-Python
reference), in one process.

Each case is an Assistants stream rich in text deltas, most of them of the plain shape the
compiled decoder and fold take (one text part, a value), the rest near misses of it (a
role, annotations, ``object`` null, an unknown key, an index of the wrong type or beyond
2**31, a value that is empty, null or a number, two parts, a refusal part, junk after the
JSON, a cut payload), around message events that change what the fast path may assume (a
message completed, created again, in progress again, deltas for an unknown message, a
``done`` and events after it); or a hostile stream of ``tests/_fuzz.py``. The body goes
through byte-level mutations now and then, random chunkings, random limits, each strict /
tolerant mode. Both drivers get the same chunks; after every event the event and its
Changes are compared whole, with every snapshot they reach as it is at that moment (every
slot of every object, set or unset, and which objects are the same object); after an
error its type, message and attributes; at the end the whole fold state, the driver's
counts and ``close()``'s outcome; and the warnings either side issued.

Run as a script for a long campaign: ``python tests/test_speedups_pipeline.py --cases
1000000 --jobs 2`` (``--seed`` to reproduce). The test below runs a CI budget
(``STREAMKIT_SPEEDUPS_PIPELINE_CASES``, default 100,000). Skipped when the C extension is
not active.
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
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _fuzz
from streamkit import Driver, _model, events, sse
from streamkit.fold import State
from streamkit.models import Model
from streamkit.protocols.assistants._merge import MessageTrack, StepTrack
from test_speedups_fuzz import _mutate

CASES = int(os.environ.get("STREAMKIT_SPEEDUPS_PIPELINE_CASES", "100000"))
SEED = int(os.environ.get("STREAMKIT_SPEEDUPS_PIPELINE_SEED", "1"))

# --- the inputs ---------------------------------------------------------------------------

_UNSET = "<unset>"
_RUN = {"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "assistant_id": "a"}
_VALUES = ['"hi"', '" there"', '"caf\\u00e9"', '"\u2019s"', '"na\u00efve \U0001f600"', '""']
_VALUES += ["null", "7", '"\\ud83d"', '"x"']
_VALUES += ['"a\\"b"', '"\\n"', '"\x01"', '"\x7f~"', '"tab\there"', '"\\"']
_INDICES = ["0", "0", "0", "0", "1", "2", "-1", "2147483647", "2147483648", "true", '"0"', "0.0"]
_INDICES += ["00", "01", "4294967296", "99999999999", "1e0"]


def _obj(**fields: Any) -> str:
    return json.dumps(fields, separators=(",", ":"))


def _message(mid: str, status: str, text: str | None = None) -> str:
    content = [] if text is None else [{"type": "text", "text": {"value": text, "annotations": []}}]
    return _obj(
        id=mid,
        object="thread.message",
        thread_id="thread_1",
        run_id="run_1",
        role="assistant",
        status=status,
        content=content,
    )


def _plain(rng: random.Random, mid: str, index: str = "0") -> str:
    value = rng.choice(_VALUES[:5]) if rng.random() < 0.9 else rng.choice(_VALUES)
    return (
        f'{{"id":"{mid}","object":"thread.message.delta","delta":{{"content":[{{"index":{index},'
        f'"type":"text","text":{{"value":{value}}}}}]}}}}'
    )


def _near_miss(rng: random.Random, mid: str) -> str:
    """A text delta of a shape that is not quite the plain one (or is, by another way)."""
    index = rng.choice(_INDICES)
    value = rng.choice(_VALUES)
    text = f'{{"value":{value}}}'
    roll = rng.randrange(14)
    if roll == 0:
        text = f'{{"value":{value},"annotations":null}}'
    elif roll == 1:
        text = (
            f'{{"value":{value},"annotations":[{{"index":0,"type":"file_citation",'
            '"text":"[1]","start_index":0,"end_index":3,"file_citation":{"file_id":"f"}}]}'
        )
    elif roll == 2:
        text = f'{{"value":{value},"annotations":[]}}'
    elif roll == 3:
        text = f'{{"value":{value},"extra":1}}'
    elif roll == 4:
        text = "null"
    part = f'{{"index":{index},"type":"text","text":{text}}}'
    roll = rng.randrange(12)
    if roll == 0:
        part = f'{{"index":{index},"type":"refusal","refusal":{value}}}'
    elif roll == 1:
        part = f'{{"type":"text","text":{text}}}'
    elif roll == 2:
        part = f'{{"index":{index},"type":"text","text":{text},"new":[1]}}'
    elif roll == 3:
        part = f'{{"index":{index},"type":"image_file","image_file":{{"file_id":"f"}}}}'
    content = f"[{part}]"
    roll = rng.randrange(8)
    if roll == 0:
        content = f"[{part},{part}]"
    elif roll == 1:
        content = "[]"
    delta = f'{{"content":{content}}}'
    roll = rng.randrange(8)
    if roll == 0:
        delta = f'{{"content":{content},"role":"assistant"}}'
    elif roll == 1:
        delta = f'{{"content":{content},"role":null}}'
    elif roll == 2:
        delta = f'{{"role":null,"content":{content}}}'
    elif roll == 3:
        delta = f'{{"content":{content},"x":{{}}}}'
    obj = '"thread.message.delta"'
    roll = rng.randrange(8)
    if roll == 0:
        obj = "null"
    elif roll == 1:
        obj = "5"
    head = f'"id":"{mid}","object":{obj}'
    roll = rng.randrange(10)
    if roll == 0:
        head = f'"id":"{mid}"'
    elif roll == 1:
        head = f'"id":7,"object":{obj}'
    elif roll == 2:
        head = f'"object":{obj},"id":"{mid}","more":true'
    data = f'{{{head},"delta":{delta}}}'
    roll = rng.randrange(12)
    if roll == 0:
        data += "}"
    elif roll == 1:
        data = data[: rng.randrange(len(data))]
    elif roll == 2:
        data = "[" + data + "]"
    return data


def text_events(rng: random.Random) -> list[tuple[str, str]]:
    """A text run's events, mostly plain deltas, with the moves that matter around them."""
    events: list[tuple[str, str]] = []
    if rng.random() < 0.9:
        events.append(("thread.run.created", _obj(**_RUN, status="queued")))
        events.append(("thread.run.in_progress", _obj(**_RUN, status="in_progress")))
    mids = ["msg_1", "msg_2"] if rng.random() < 0.3 else ["msg_1"]
    for mid in mids:
        if rng.random() < 0.9:
            events.append(("thread.message.created", _message(mid, "in_progress")))
    for _ in range(rng.randrange(1, 16)):
        mid = rng.choice(mids)
        roll = rng.random()
        if roll < 0.75:
            events.append(("thread.message.delta", _plain(rng, mid)))
        elif roll < 0.8:
            events.append(("thread.message.delta", _plain(rng, mid, rng.choice(_INDICES))))
        elif roll < 0.92:
            events.append(("thread.message.delta", _near_miss(rng, mid)))
        elif roll < 0.94:
            events.append(("thread.message.delta", _plain(rng, "msg_9")))
        elif roll < 0.96:
            events.append(("thread.message.in_progress", _message(mid, "in_progress", "so far")))
        elif roll < 0.975:
            events.append(("thread.message.created", _message(mid, "in_progress")))
        elif roll < 0.99:
            events.append(("thread.message.completed", _message(mid, "completed", "hi")))
        else:
            events.append(("done", "[DONE]"))
    if rng.random() < 0.7:
        for mid in mids:
            events.append(("thread.message.completed", _message(mid, "completed", "hi there")))
        events.append(("thread.run.completed", _obj(**_RUN, status="completed")))
        events.append(("done", "[DONE]"))
    return events


def _step(sid: str, status: str, calls: list[Any] | None = None) -> str:
    details = {"type": "tool_calls", "tool_calls": [] if calls is None else calls}
    return _obj(
        id=sid,
        object="thread.run.step",
        run_id="run_1",
        type="tool_calls",
        status=status,
        step_details=details,
    )


def _call_created(sid: str, index: int) -> str:
    call = {
        "index": index,
        "id": f"call_{index}",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "", "output": None},
    }
    details = {"type": "tool_calls", "tool_calls": [call]}
    return _obj(id=sid, object="thread.run.step.delta", delta={"step_details": details})


def _plain_args(rng: random.Random, sid: str, index: str = "0") -> str:
    value = rng.choice(_VALUES[:5]) if rng.random() < 0.9 else rng.choice(_VALUES)
    return (
        f'{{"id":"{sid}","object":"thread.run.step.delta","delta":{{"step_details":'
        f'{{"type":"tool_calls","tool_calls":[{{"index":{index},"type":"function",'
        f'"function":{{"arguments":{value}}}}}]}}}}}}'
    )


def _near_miss_args(rng: random.Random, sid: str) -> str:
    """An arguments delta of a shape that is not quite the plain one (or is, another way)."""
    index = rng.choice(_INDICES)
    value = rng.choice(_VALUES)
    function = f'{{"arguments":{value}}}'
    roll = rng.randrange(10)
    if roll == 0:
        function = f'{{"name":"f","arguments":{value}}}'
    elif roll == 1:
        function = f'{{"arguments":{value},"output":null}}'
    elif roll == 2:
        function = f'{{"arguments":{value},"output":"done"}}'
    elif roll == 3:
        function = f'{{"arguments":{value},"extra":[1]}}'
    elif roll == 4:
        function = "null"
    call = f'{{"index":{index},"type":"function","function":{function}}}'
    roll = rng.randrange(10)
    if roll == 0:
        call = f'{{"index":{index},"id":"call_0","type":"function","function":{function}}}'
    elif roll == 1:
        call = f'{{"index":{index},"id":null,"type":"function","function":{function}}}'
    elif roll == 2:
        call = f'{{"type":"function","function":{function}}}'
    elif roll == 3:
        code = f'{{"input":{value}}}'
        call = f'{{"index":{index},"type":"code_interpreter","code_interpreter":{code}}}'
    elif roll == 4:
        call = f'{{"index":{index},"type":"mystery","x":{value}}}'
    calls = f"[{call}]"
    roll = rng.randrange(8)
    if roll == 0:
        calls = f"[{call},{call}]"
    elif roll == 1:
        calls = "[]"
    details = f'{{"type":"tool_calls","tool_calls":{calls}}}'
    roll = rng.randrange(8)
    if roll == 0:
        details = '{"type":"message_creation","message_creation":{"message_id":"msg_1"}}'
    elif roll == 1:
        details = f'{{"type":"tool_calls","tool_calls":{calls},"x":1}}'
    elif roll == 2:
        details = "null"
    obj = '"thread.run.step.delta"'
    if rng.random() < 0.2:
        obj = rng.choice(["null", "5"])
    head = f'"id":"{sid}","object":{obj}'
    roll = rng.randrange(10)
    if roll == 0:
        head = f'"id":"{sid}"'
    elif roll == 1:
        head = f'"object":{obj},"id":"{sid}","more":true'
    data = f'{{{head},"delta":{{"step_details":{details}}}}}'
    roll = rng.randrange(12)
    if roll == 0:
        data += "}"
    elif roll == 1:
        data = data[: rng.randrange(len(data))]
    elif roll == 2:
        data = f'{{{head},"delta":{{"step_details":{details}}} }}'
    return data


def tool_events(rng: random.Random) -> list[tuple[str, str]]:
    """A tool-call run's events, mostly plain arguments deltas, with the moves that matter
    around them (a second call, a full step event, the step's end, a run requiring action)."""
    events: list[tuple[str, str]] = []
    if rng.random() < 0.9:
        events.append(("thread.run.created", _obj(**_RUN, status="queued")))
        events.append(("thread.run.in_progress", _obj(**_RUN, status="in_progress")))
    sids = ["step_1", "step_2"] if rng.random() < 0.3 else ["step_1"]
    for sid in sids:
        if rng.random() < 0.9:
            events.append(("thread.run.step.created", _step(sid, "in_progress")))
        if rng.random() < 0.9:
            events.append(("thread.run.step.delta", _call_created(sid, 0)))
    for _ in range(rng.randrange(1, 16)):
        sid = rng.choice(sids)
        roll = rng.random()
        if roll < 0.72:
            events.append(("thread.run.step.delta", _plain_args(rng, sid)))
        elif roll < 0.77:
            events.append(("thread.run.step.delta", _plain_args(rng, sid, rng.choice(_INDICES))))
        elif roll < 0.8:
            events.append(("thread.run.step.delta", _call_created(sid, 1)))
        elif roll < 0.9:
            events.append(("thread.run.step.delta", _near_miss_args(rng, sid)))
        elif roll < 0.92:
            events.append(("thread.run.step.delta", _plain_args(rng, "step_9")))
        elif roll < 0.94:
            events.append(("thread.run.step.in_progress", _step(sid, "in_progress")))
        elif roll < 0.96:
            events.append(("thread.run.step.created", _step(sid, "in_progress")))
        elif roll < 0.975:
            events.append(("thread.run.step.completed", _step(sid, "completed")))
        elif roll < 0.99:
            events.append(("thread.run.requires_action", _obj(**_RUN, status="requires_action")))
        else:
            events.append(("done", "[DONE]"))
    if rng.random() < 0.7:
        for sid in sids:
            events.append(("thread.run.step.completed", _step(sid, "completed")))
        events.append(("thread.run.completed", _obj(**_RUN, status="completed")))
        events.append(("done", "[DONE]"))
    return events


_SEEDS: list[list[Any]] = []


def make_body(rng: random.Random) -> bytes:
    if rng.random() < 0.1:  # a hostile stream of the pipeline fuzzer
        if not _SEEDS:
            _SEEDS.extend(_fuzz.seeds()[:4])
        events, _ = _fuzz.mutate(rng, rng.choice(_SEEDS))
        body = _fuzz.encode(rng, events)
    else:
        events = text_events(rng) if rng.random() < 0.6 else tool_events(rng)
        body = b"".join(
            f"event: {name}\ndata: {data}\n\n".encode("utf-8", "surrogatepass")
            for name, data in events
        )
        if rng.random() < 0.1:
            body = body.replace(b"\n", b"\r\n")
    if rng.random() < 0.1:
        body = _mutate(rng, body)
    return body


def make_chunks(rng: random.Random, body: bytes) -> list[bytes]:
    roll = rng.randrange(6)
    if roll == 0:
        return [body]
    if roll == 1:
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, 12)))
    else:
        cuts = list(range(0, len(body), rng.randrange(20, 400)))[1:]
    chunks, start = [], 0
    for cut in [*cuts, len(body)]:
        chunks.append(body[start:cut])
        start = cut
    return chunks


def make_options(rng: random.Random) -> dict[str, Any]:
    strict, tolerant = _fuzz.MODES[rng.randrange(len(_fuzz.MODES))]
    options: dict[str, Any] = {"strict": strict, "tolerant": tolerant}
    if rng.random() < 0.05:
        options["max_line_bytes"] = rng.randrange(60, 400)
        options["max_event_bytes"] = rng.randrange(60, 800)
    return options


# --- the comparison ---------------------------------------------------------------------------


class Canon:
    """Writes objects as plain nested tuples: every slot of every object (or that it is
    unset; a model's record of absent and unknown keys as the model reads it), numbered
    in the order first met. An object met before (in an earlier call, or earlier in this
    one) is written as its number only, so two runs compare equal only when they built
    the same objects, shared the same way; what an earlier object holds
    now is compared through the snapshots written out in full (see :func:`_run`)."""

    def __init__(self, *, flat_dicts: bool = False) -> None:
        self.seen: dict[int, int] = {}
        self.alive: list[Any] = []  # keeps the ids valid
        #: Dicts (JSON as received, in ``_absent`` and free-form fields) compared by ``==``.
        self.flat_dicts = flat_dicts

    def __call__(self, obj: Any) -> Any:
        cls = obj.__class__
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _KINDS[cls] = _kind(cls)
        if kind is _SCALAR:
            return obj
        if kind.__class__ is str:  # bool, float, type: tagged so that 1 != True != 1.0
            return (kind, repr(obj))
        key = id(obj)
        found = self.seen.get(key)
        if found is not None:
            return ("ref", found)
        n = self.seen[key] = len(self.seen)
        self.alive.append(obj)
        if kind is _SEQ:
            return (cls, n, tuple([self(x) for x in obj]))
        if kind is _DICT:
            if self.flat_dicts:
                return (cls, n, obj)
            return (cls, n, tuple([(self(k), self(v)) for k, v in obj.items()]))
        if kind is _SET:
            return (cls, n, tuple(sorted(repr(x) for x in obj)))
        if kind is _ERROR:
            fields = tuple([(k, self(v)) for k, v in sorted(vars(obj).items())])
            return (cls, str(obj), fields)
        if kind is _VARS:
            return (cls, n, tuple([(k, self(v)) for k, v in sorted(vars(obj).items())]))
        return (cls, n, tuple([self(get(obj)) for get in kind]))


_SCALAR, _SEQ, _DICT, _SET, _ERROR, _VARS = (object() for _ in range(6))
_KINDS: dict[type, Any] = {c: _SCALAR for c in (type(None), int, str, bytes)}
_KINDS.update({bool: "bool", float: "float"})


def _kind(cls: type) -> Any:
    if issubclass(cls, type):
        return "type"
    if issubclass(cls, list | tuple):
        return _SEQ
    if issubclass(cls, dict):
        return _DICT
    if issubclass(cls, set | frozenset):
        return _SET
    if issubclass(cls, BaseException):
        return _ERROR
    names = [s for c in cls.__mro__ for s in c.__dict__.get("__slots__", ())]
    slots = tuple(s for s in names if s != "__weakref__")
    if not slots:
        return _VARS
    getters = [_slot(cls, s) for s in slots]
    return tuple(getters)


def _slot(cls: type, name: str) -> Any:
    """How a slot is read for the comparison. A model's record of absent and unknown keys
    has two forms its class reads alike (the input dict, or an explicit tuple and dict:
    the compiled decoder builds the second without the input dicts), so it is compared as
    the model reads it: ``absent`` (sorted) and ``extra``."""
    if issubclass(cls, Model):
        if name == "_absent":
            return lambda o: tuple(sorted(o.absent))
        if name == "_extra":
            return lambda o: o.extra
    return lambda o: getattr(o, name, _UNSET)


_NOT_COMPARED = frozenset(
    ("text_tails", "call_tails", "apply", "_by_class", "_by_name", "_handlers")
)


def _state(driver: Driver, canon: Canon) -> Any:
    s = driver.state
    # Every attribute of the fold (its private tracks too), but the routing tables (bound
    # methods, and the compiled folder on one side) and the offers made to the fast path.
    public = {k: v for k, v in vars(s).items() if k not in _NOT_COMPARED}
    counts = (driver.bytes, driver.events, driver.truncated, driver.closed, driver.ended)
    return canon((public, counts, driver.parser.last_event_id))


def _run(chunks: list[bytes], options: dict[str, Any], speedups: bool) -> list[Any]:
    """What one driver does with the chunks, written down as it happens."""
    canon = Canon(flat_dicts=True)
    log: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        driver = Driver(**options, speedups=speedups)
        try:
            for chunk in chunks:
                for event, changes in driver.feed(chunk):
                    # The event and its Changes as built, then the snapshot they are
                    # about as it is now (to_dict(): every field, unknown ones included).
                    current = driver.state.current_message
                    now = current.to_dict() if current is not None else None
                    log.append((canon((event, changes)), now))
                    if current is not None and len(log) % 3 == 0:
                        for part in current.content or ():  # as a handler reads the text:
                            text = getattr(part, "text", None)  # the chunks are joined
                            if text is not None and hasattr(text, "value"):
                                log.append(text.value)
            log.append(("close", canon(driver.close())))
        except Exception as error:  # compared: type, message, attributes
            log.append(("raised", canon(error)))
        log.append(("state", _state(driver, Canon())))
    log.append(("warnings", [(w.category.__name__, str(w.message)) for w in caught]))
    return log


def _both(run: Callable[[bool], list[Any]]) -> tuple[list[Any], list[Any]]:
    """``run(True)`` then ``run(False)``, both from the same process state. The decoder
    notes, process-wide, that it has seen an escaped surrogate (``_model._SURROGATES``):
    from then on a grown text that is read stays a chunk list instead of becoming a str
    (it reads the same). Two pure-Python runs of one stream that sends one differ in that
    representation when the first set the note; it is put back before the second run."""
    seen = _model._SURROGATES[0]
    fast = run(True)
    _model._SURROGATES[0] = seen
    return fast, run(False)


def differ(chunks: list[bytes], options: dict[str, Any]) -> str | None:
    """Run both paths; describe the first difference, or None."""
    return _first_difference(*_both(lambda speedups: _run(chunks, options, speedups)), "")


def _first_difference(fast: list[Any], ref: list[Any], what: str) -> str | None:
    """Where two logs (the compiled run's, the reference's) first differ, or None."""
    for n, (got, want) in enumerate(zip(fast, ref, strict=False)):
        if got != want:
            return f"{what}step {n}: compiled {got!r}\n   != python {want!r}"
    if len(fast) != len(ref):
        return f"{what}compiled {len(fast)} steps, python {len(ref)}"
    return None


# --- the stream: the compiled per-event step (Driver.event_step) against the Python loop ---

#: Hooks a recording handler may override, with how many arguments each takes.
_HOOKS = {
    "on_event": 1,
    "on_text_delta": 2,
    "on_text_created": 1,
    "on_text_done": 1,
    "on_message_created": 1,
    "on_message_delta": 2,
    "on_message_done": 1,
    "on_run_status": 2,
    "on_run_done": 1,
    "on_refusal_delta": 2,
    "on_problem": 1,
    "on_tool_call_created": 1,
    "on_tool_call_delta": 2,
    "on_tool_call_done": 1,
    "on_run_step_created": 1,
    "on_run_step_delta": 2,
    "on_run_step_done": 1,
    "on_requires_action": 2,
    "on_unknown_event": 1,
    "on_error_event": 1,
    "on_exception": 1,
    "on_end": 0,
}


class _Raised(Exception):
    """What a recording handler raises when told to (to compare how the error travels)."""


def _recorder(hooks: list[str], log: list[Any], canon: Canon, stop: int | None) -> Any:
    from streamkit import EventHandler

    calls = [0]

    def make(name: str) -> Any:
        def hook(self: Any, *args: Any) -> None:
            calls[0] += 1
            stream = self._streamkit_stream
            state = stream.driver.state
            current = getattr(state, "current_message", None)
            step = getattr(state, "current_step", None)
            now = [x.to_dict() if x is not None else None for x in (current, step)]
            text = None
            if name == "on_text_delta":  # the text so far, as a handler reads it
                text = args[1].value
            elif name == "on_tool_call_delta" and args[1].type == "function":
                text = args[1].function.arguments if args[1].function is not None else None
            log.append((name, canon(args), now, text, stream.driver.events))
            if stop is not None and calls[0] == stop:
                raise _Raised(f"stop at call {stop}")

        return hook

    return type("Recorder", (EventHandler,), {name: make(name) for name in hooks})()


def _run_stream(chunks: list[bytes], options: dict[str, Any], plan: Any, speedups: bool) -> Any:
    """What ``stream()`` does with the chunks: every hook call, what the views see, what
    it raises, the state at the end. ``speedups=False`` swaps in a pure-Python driver."""
    from streamkit import stream

    hooks, stop, view, drain, on_truncated = plan
    canon = Canon(flat_dicts=True)
    log: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = _recorder(hooks, log, canon, stop) if hooks is not None else None
        s = stream(list(chunks), handler=handler, on_truncated=on_truncated, **options)
        if not speedups:
            s.driver = Driver(**options, protocol="auto", speedups=False)
        seen = None if view is None else (s.changes() if view == "changes" else s.text_deltas)
        try:
            if drain:
                s.until_done()
            else:
                for event in s:
                    log.append(("event", canon(event)))
                    if seen is not None and len(log) % 2:
                        log.append(("view", canon(next(seen, None))))
            if seen is not None:
                log.append(("view rest", canon(list(seen))))
        except Exception as error:
            log.append(("raised", canon(error)))
        log.append(("state", _state(s.driver, Canon())))
    log.append(("warnings", [(w.category.__name__, str(w.message)) for w in caught]))
    return log


def make_plan(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        hooks = None
    elif roll < 0.35:
        hooks = ["on_text_delta"]
    elif roll < 0.5:
        hooks = ["on_tool_call_delta"]
    else:
        hooks = rng.sample(sorted(_HOOKS), rng.randrange(1, len(_HOOKS) + 1))
    stop = rng.randrange(1, 40) if hooks is not None and rng.random() < 0.15 else None
    view = rng.choice([None, None, "changes", "text"])
    return hooks, stop, view, rng.random() < 0.5, rng.choice(["raise", "warn", "ignore"])


def differ_stream(chunks: list[bytes], options: dict[str, Any], plan: Any) -> str | None:
    """Run ``stream()`` on both paths; describe the first difference, or None."""
    logs = _both(lambda speedups: _run_stream(chunks, options, plan, speedups))
    return _first_difference(*logs, "stream ")


def campaign(cases: int, seed: int, start: int = 0) -> list[str]:
    reports = []
    for case in range(start, start + cases):
        rng = random.Random(seed * 1_000_003 + case)
        body = make_body(rng)
        chunks, options = make_chunks(rng, body), make_options(rng)
        found = differ(chunks, options)
        if found is None and case % 4 == 0:  # a quarter of the cases: through stream() too
            found = differ_stream(chunks, options, make_plan(rng))
        if found is not None:
            reports.append(f"case {case} (seed {seed}) {options} {body!r}:\n  {found[:3000]}")
    return reports


def _work(args: tuple[int, int, int]) -> list[str]:
    return campaign(*args)


def run(cases: int, seed: int, jobs: int, progress: bool = False) -> list[str]:
    batch = max(1, cases // (jobs * 4))
    if progress:  # smaller batches, to say how far it is
        batch = max(1, min(batch, 10_000))
    work = [(min(batch, cases - start), seed, start) for start in range(0, cases, batch)]
    if jobs == 1:
        return [report for item in work for report in _work(item)]
    # An executor, not a Pool: a worker that dies (a sanitizer abort, a segfault) fails
    # the run with BrokenProcessPool instead of hanging it.
    reports: list[str] = []
    done = 0
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
        for item, found in zip(work, pool.map(_work, work), strict=True):
            reports.extend(found)
            done += item[0]
            if progress:
                elapsed = time.perf_counter() - started
                print(
                    f"{done:,} / {cases:,} cases, {len(reports)} differences, {elapsed:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return reports


needs_compiled = pytest.mark.skipif(not sse.__compiled__, reason="the C speedups are not active")


@needs_compiled
@pytest.mark.timeout(900)
def test_the_whole_pipeline_agrees_with_and_without_speedups() -> None:
    reports = run(CASES, SEED, 2)
    assert not reports, f"{len(reports)} differences; first:\n" + "\n".join(reports[:3])


def _sabotaged_offer(self: Any, event: Any) -> Any:
    """The fold's offer, made wrong: a copy of the message's track, so that the fast path
    would count the delta in the wrong place (the differential check must see it)."""
    out = State._message_delta_offering(self, event)
    tail = self.text_tails.get(event.data.id)
    if tail is not None:
        tail.track = MessageTrack(tail.track.parts, tail.track.annotations, tail.track.deltas)
    return out


_STREAM = (
    f"event: thread.message.created\ndata: {_message('msg_1', 'in_progress')}\n\n"
    + "".join(
        f"event: thread.message.delta\ndata: {_plain(random.Random(i), 'msg_1')}\n\n"
        for i in range(3)
    )
).encode()


def test_both_paths_start_from_the_same_process_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream whose text is read before an escaped surrogate arrives compares equal
    from a process that has not seen one yet (the campaign's first finding: the first run
    set the process-wide note, and the second kept its text as a chunk list)."""
    monkeypatch.setattr(_model, "_SURROGATES", [False])
    refusal = '{"index":1,"type":"refusal","refusal":"\\ud83d"}'
    body = (
        f"event: thread.message.created\ndata: {_message('msg_1', 'in_progress')}\n\n"
        f"event: thread.message.delta\ndata: {_plain(random.Random(0), 'msg_1')}\n\n"
        "event: thread.message.delta\ndata: "
        '{"id":"msg_1","object":"thread.message.delta","delta":{"content":'
        '[{"index":0,"type":"text","text":{"value":"na\u00efve"}}]}}\n\n'
        "event: thread.message.delta\ndata: "
        f'{{"id":"msg_1","object":"thread.message.delta","delta":{{"content":[{refusal}]}}}}\n\n'
    ).encode()
    assert differ([body], {"strict": False}) is None
    assert _model._SURROGATES[0]  # the stream did set it


@needs_compiled
def test_the_check_sees_a_fold_that_goes_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    assert differ([_STREAM], {"strict": False}) is None
    monkeypatch.setattr(State, "_message_delta_offering", _sabotaged_offer)
    assert differ([_STREAM], {"strict": False}) is not None


@needs_compiled
def test_the_check_sees_a_decoder_that_goes_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    original = events.python_decode

    def wrong(sse: Any, *, tolerant: bool = False) -> Any:
        event = original(sse, tolerant=tolerant)
        if isinstance(event, events.ThreadMessageDelta):
            event.data.delta.content[0].text._value += "!"
        return event

    monkeypatch.setattr(events, "python_decode", wrong)
    assert differ([_STREAM], {"strict": False}) is not None


@needs_compiled
def test_the_stream_check_sees_a_step_that_goes_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = (["on_text_delta", "on_message_delta"], None, "changes", False, "ignore")
    assert differ_stream([_STREAM], {"strict": False}, plan) is None
    real = Driver.event_step

    def wrong(self: Driver, on_event: Any = None, dispatch: Any = None, sinks: Any = None) -> Any:
        dispatch = {k: v for k, v in (dispatch or {}).items() if "MessageDelta" not in k.__name__}
        return real(self, on_event, dispatch, sinks)  # on_message_delta is never called

    monkeypatch.setattr(Driver, "event_step", wrong)
    assert differ_stream([_STREAM], {"strict": False}, plan) is not None


@needs_compiled
def test_the_stream_check_sees_a_text_hook_that_goes_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamkit import _handler

    plan = (["on_text_delta"], None, None, True, "ignore")
    assert differ_stream([_STREAM], {"strict": False}, plan) is None
    text, call = _handler._hook_types()
    assert text is not None  # the compiled text delta hook is the one in use
    monkeypatch.setattr(_handler, "_HOOKS", [(_twice, call)])
    assert differ_stream([_STREAM], {"strict": False}, plan) is not None


def _twice(hook: Any, python_dispatch: Any) -> Any:
    def dispatch(change: Any) -> Any:
        python_dispatch(change)  # the hook called twice per delta
        return python_dispatch(change)

    return dispatch


_TOOL_STREAM = (
    f"event: thread.run.step.created\ndata: {_step('step_1', 'in_progress')}\n\n"
    f"event: thread.run.step.delta\ndata: {_call_created('step_1', 0)}\n\n"
    + "".join(
        f"event: thread.run.step.delta\ndata: {_plain_args(random.Random(i), 'step_1')}\n\n"
        for i in range(4)
    )
).encode()


def _sabotaged_call_offer(self: State, event: Any) -> Any:
    """The fold's offer, but of a track the state does not hold (a wrong offer)."""
    out = State._step_delta_offering(self, event)
    tail = self.call_tails.get(event.data.id)
    if tail is not None:
        tail.track = StepTrack(tail.track.calls, tail.track.outputs, tail.track.deltas)
    return out


@needs_compiled
def test_the_check_sees_an_arguments_fold_that_goes_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert differ([_TOOL_STREAM], {"strict": False}) is None
    monkeypatch.setattr(State, "_step_delta_offering", _sabotaged_call_offer)
    assert differ([_TOOL_STREAM], {"strict": False}) is not None


@needs_compiled
def test_the_check_sees_an_arguments_decoder_that_goes_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = events.python_decode

    def wrong(sse: Any, *, tolerant: bool = False) -> Any:
        event = original(sse, tolerant=tolerant)
        if isinstance(event, events.ThreadRunStepDelta):
            event.data.delta.step_details.tool_calls[0].function._arguments += "!"
        return event

    monkeypatch.setattr(events, "python_decode", wrong)
    assert differ([_TOOL_STREAM], {"strict": False}) is not None


@needs_compiled
def test_the_stream_check_sees_a_tool_call_hook_that_goes_wrong(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from streamkit import _handler

    plan = (["on_tool_call_delta"], None, None, True, "ignore")
    assert differ_stream([_TOOL_STREAM], {"strict": False}, plan) is None
    text, call = _handler._hook_types()
    assert call is not None  # the compiled tool call delta hook is the one in use
    monkeypatch.setattr(_handler, "_HOOKS", [(text, _twice)])
    assert differ_stream([_TOOL_STREAM], {"strict": False}, plan) is not None


def test_the_plain_arguments_delta_is_folded_by_the_compiled_path() -> None:
    """The tool stream's arguments deltas take the fast path (no Python fold after the
    first), when the speedups are active."""
    from streamkit import stream

    calls = []
    real = State._step_delta_offering

    def counting(self: State, event: Any) -> Any:
        calls.append(event)
        return real(self, event)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(State, "_step_delta_offering", counting)
        s = stream([_TOOL_STREAM], on_truncated="ignore")
        s.until_done()
    step = s.driver.state.steps["step_1"]
    arguments = "".join(_json_value(random.Random(i)) for i in range(4))
    assert step.step_details.tool_calls[0].function.arguments == arguments
    if sse.__compiled__:
        assert len(calls) == 2  # the call created, the first arguments: then the offer
    else:
        assert len(calls) == 0


def _json_value(rng: random.Random) -> str:
    """The arguments text _plain_args(rng, ...) sends."""
    data = _plain_args(rng, "s")
    return str(json.loads(data)["delta"]["step_details"]["tool_calls"][0]["function"]["arguments"])


@needs_compiled
def test_a_hook_error_on_the_compiled_step_names_its_event() -> None:
    from streamkit import stream

    log: list[Any] = []
    handler = _recorder(["on_text_delta"], log, Canon(), 2)
    s = stream([_STREAM], handler=handler, strict=False)
    assert s.driver.event_step() is not None  # the compiled step is the one in use
    with pytest.raises(_Raised) as raised:
        s.until_done()
    event = raised.value.streamkit_event  # type: ignore[attr-defined]
    assert event is s.driver.last_event and event.event == "thread.message.delta"
    assert "thread.message.delta" in raised.value.__notes__[0]
    plan = (["on_text_delta"], 2, None, True, "raise")
    assert differ_stream([_STREAM], {"strict": False}, plan) is None


_ASCII = st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=10)
#: Any text for the value (the data's str is then of a wider kind than ASCII).
_VALUE = _ASCII | st.text(max_size=8)
_INDEX = st.sampled_from(["0", "00", "01", "2147483647", "2147483648", "4294967296", "-1", "1e2"])


def _decoded(decode: Any, sse: Any) -> Any:
    try:
        return Canon()(decode(sse))
    except Exception as error:
        return ("raised", Canon()(error))


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(_ASCII, _ASCII, _INDEX | st.integers(0, 2**31).map(str), _VALUE, st.booleans())
def test_the_compiled_text_delta_scan_reads_what_orjson_reads(
    mid: str, obj: str, index: str, value: str, raw: bool
) -> None:
    """Property: a text delta of the exact shape the decoder scans without orjson (or any
    near miss: raw quotes, backslashes and control characters, escapes, odd indices) is
    decoded to the same objects, the input dicts equal and in the same key order, or fails
    the same way, as the pure-Python decoder with orjson."""

    def js(text: str) -> str:
        return f'"{text}"' if raw else json.dumps(text)

    data = (
        f'{{"id":{js(mid)},"object":{js(obj)},"delta":{{"content":[{{"index":{index},'
        f'"type":"text","text":{{"value":{js(value)}}}}}]}}}}'
    )
    message = sse.ServerSentEvent("thread.message.delta", data)
    assert _decoded(events.decode, message) == _decoded(events.python_decode, message)


@needs_compiled
@settings(max_examples=500, deadline=None)
@given(_ASCII, _ASCII, _INDEX | st.integers(0, 2**31).map(str), _VALUE, st.booleans())
def test_the_compiled_arguments_delta_scan_reads_what_orjson_reads(
    sid: str, obj: str, index: str, value: str, raw: bool
) -> None:
    """Property: the same for a function call's arguments delta."""

    def js(text: str) -> str:
        return f'"{text}"' if raw else json.dumps(text)

    data = (
        f'{{"id":{js(sid)},"object":{js(obj)},"delta":{{"step_details":{{"type":"tool_calls",'
        f'"tool_calls":[{{"index":{index},"type":"function","function":{{"arguments":'
        f"{js(value)}}}}}]}}}}}}"
    )
    message = sse.ServerSentEvent("thread.run.step.delta", data)
    assert _decoded(events.decode, message) == _decoded(events.python_decode, message)


@needs_compiled
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["plain", "plain", "near", "created", "progress", "completed", "done"]),
            st.sampled_from(["msg_1", "msg_2"]),
            st.integers(0, 2**32),
        ),
        max_size=12,
    ),
    st.integers(1, 400),
    st.booleans(),
    st.booleans(),
)
def test_any_sequence_of_text_events_agrees(
    steps: list[tuple[str, str, int]], chunk: int, strict: bool, tolerant: bool
) -> None:
    """Property: for any sequence of text deltas (plain and near misses) and message moves,
    cut anywhere, in any mode, the fast path changes nothing."""
    parts = []
    for kind, mid, seed in steps:
        rng = random.Random(seed)
        if kind == "plain":
            parts.append(("thread.message.delta", _plain(rng, mid)))
        elif kind == "near":
            parts.append(("thread.message.delta", _near_miss(rng, mid)))
        elif kind == "done":
            parts.append(("done", "[DONE]"))
        else:
            status = "completed" if kind == "completed" else "in_progress"
            name = "thread.message.in_progress" if kind == "progress" else f"thread.message.{kind}"
            parts.append((name, _message(mid, status, "so" if kind != "created" else None)))
    body = b"".join(f"event: {n}\ndata: {d}\n\n".encode() for n, d in parts)
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    assert differ(chunks, {"strict": strict, "tolerant": tolerant}) is None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    if not sse.__compiled__:
        print("the C speedups are not active: nothing to compare", file=sys.stderr)
        return 2
    started = time.perf_counter()
    reports = run(args.cases, args.seed, args.jobs, progress=True)
    elapsed = time.perf_counter() - started
    for report in reports[:10]:
        print(report)
    print(f"{args.cases} cases, seed {args.seed}: {len(reports)} differences in {elapsed:.1f}s")
    return 1 if reports else 0


if __name__ == "__main__":
    raise SystemExit(main())
