"""The scripted assistant: which script answers a run, and what it says (a plan).

A script is pure data: :func:`choose` reads the run's instructions, the last user
message and the run's tools, and returns a :class:`Script`, a list of steps (a text
reply, a refusal, function calls, a code interpreter run, a file search) and, for
function calls, how to continue once the tool outputs are submitted. The engine
(:mod:`._engine`) turns a plan into events; nothing here knows about events or HTTP.

How a script is chosen (documented in docs/emulator.md):

1. A marker ``[script:NAME]`` in the last user message, else in the run's instructions
   (the run's ``instructions`` or the assistant's, then ``additional_instructions``),
   chooses NAME (the last marker wins): ``plain``, ``echo``, ``weather``,
   ``code_interpreter``, ``file_search``, ``refusal``.
2. Otherwise the last user message (case-insensitive): starting with ``echo:`` → echo;
   the word "weather" and a function tool whose name contains "weather" → weather;
   "calculate", "compute" or "code" and the ``code_interpreter`` tool → code interpreter;
   "file", "files", "document" or "search" and the ``file_search`` tool → file search;
   "refuse" or "forbidden" → refusal.
3. Anything else gets a plain text answer.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._store import ApiError

__all__ = [
    "PLAIN_TEXT",
    "REFUSAL_TEXT",
    "SCRIPTS",
    "Citation",
    "CodeRun",
    "FileSearchCall",
    "FunctionCall",
    "FunctionCalls",
    "RefusalReply",
    "Script",
    "Step",
    "TextReply",
    "choose",
    "pieces",
]

SCRIPTS = ("plain", "echo", "weather", "code_interpreter", "file_search", "refusal")
PLAIN_TEXT = (
    "Hello! I'm the streamkit emulator's scripted assistant. Ask me about the weather, "
    'a calculation or your files, or start a message with "echo:" to hear it back.'
)
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
SEARCH_FILE_ID = "file-EmulatorNotes0000000001"
SEARCH_FILE_NAME = "emulator_notes.txt"
SEARCH_PASSAGE = (
    "The streamkit emulator keeps every thread, message, run and step in memory, "
    "and forgets them when it stops."
)
_MARKER = re.compile(r"\[script:([a-z_]+)\]")
_MARKER_WITH_SPACE = re.compile(r"\s*\[script:[a-z_]+\]")
_PIECE = re.compile(r"\s*\S+|\s+")
_LOCATIONS = re.compile(r"\bin\s+([^?!.]+)", re.IGNORECASE)
# a comma splits before a capitalised word ("Paris, Tokyo, Rome") but not before a state
# code ("San Francisco, CA")
_SPLIT_LOCATIONS = re.compile(r"\s*(?:;|,?\s+and\s+|,\s*(?=[A-Z][a-z]+(?:[\s,;.?!]|$)))\s*")
_UNITS = re.compile(r"\s*\bin\s+(?:celsius|fahrenheit)\b", re.IGNORECASE)
_EXPRESSION = re.compile(r"[\d(][\d\s+\-*/%().]*")


@dataclass(frozen=True)
class Citation:
    """A ``file_citation`` marker inside a text reply."""

    text: str
    file_id: str
    quote: str = ""


@dataclass(frozen=True)
class TextReply:
    """A message_creation step whose message streams ``parts`` (text and citations)."""

    parts: tuple[str | Citation, ...]


@dataclass(frozen=True)
class RefusalReply:
    """A message_creation step whose message is a refusal."""

    refusal: str


@dataclass(frozen=True)
class FunctionCall:
    """One function call: the tool's name and its arguments (JSON text)."""

    name: str
    arguments: str


@dataclass(frozen=True)
class FunctionCalls:
    """A tool_calls step of parallel function calls; the run then requires action."""

    calls: tuple[FunctionCall, ...]


@dataclass(frozen=True)
class CodeRun:
    """A tool_calls step running code: streamed ``input``, then ``logs``."""

    input: str
    logs: str


@dataclass(frozen=True)
class FileSearchCall:
    """A tool_calls step searching files; results arrive with the completed step."""

    results: tuple[dict[str, Any], ...]


Step = TextReply | RefusalReply | FunctionCalls | CodeRun | FileSearchCall
Continuation = Callable[[Sequence[tuple[FunctionCall, str]]], list[Step]]


@dataclass(frozen=True)
class Script:
    """A plan: ``steps`` in order; ``then`` continues after tool outputs are submitted
    (given each call with its output, in call order)."""

    name: str
    steps: list[Step]
    then: Continuation | None = field(default=None, compare=False)


def pieces(text: str) -> list[str]:
    """``text`` cut as a model streams it: each word with the spaces before it."""
    return _PIECE.findall(text)


def choose(instructions: str, message: str, tools: Sequence[Mapping[str, Any]]) -> Script:
    """The script that answers a run (see the module docstring for the rules)."""
    markers = _MARKER.findall(message) or _MARKER.findall(instructions)
    text = _MARKER_WITH_SPACE.sub("", message).strip()
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    function_names = [
        tool["function"]["name"]
        for tool in tools
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict)
    ]
    weather_tool = next((name for name in function_names if "weather" in name.lower()), None)
    kinds = {tool.get("type") for tool in tools}
    if markers:
        name = markers[-1]
        if name not in SCRIPTS:
            raise ApiError(
                400,
                f"Unknown emulator script {name!r} in a [script:...] marker; "
                f"the scripts are: {', '.join(SCRIPTS)}.",
                param="instructions",
                code="unknown_script",
            )
    elif lowered.startswith("echo:"):
        name = "echo"
    elif "weather" in words and weather_tool is not None:
        name = "weather"
    elif words & {"calculate", "compute", "code"} and "code_interpreter" in kinds:
        name = "code_interpreter"
    elif words & {"file", "files", "document", "search"} and "file_search" in kinds:
        name = "file_search"
    elif words & {"refuse", "forbidden"}:
        name = "refusal"
    else:
        name = "plain"
    if name == "echo":
        said = text[5:].strip() if lowered.startswith("echo:") else text
        return Script(name, [TextReply((said or "(empty message)",))])
    if name == "weather":
        return _weather(text, weather_tool or "get_current_weather")
    if name == "code_interpreter":
        return _code(text)
    if name == "file_search":
        return _file_search()
    if name == "refusal":
        return Script(name, [RefusalReply(REFUSAL_TEXT)])
    return Script(name, [TextReply((PLAIN_TEXT,))])


# --- weather: the reference's function-calling example, with parallel calls -------------


def _weather(text: str, tool: str) -> Script:
    found = _LOCATIONS.search(_UNITS.sub("", text))
    places = _SPLIT_LOCATIONS.split(found.group(1).strip()) if found else []
    locations = [place.strip(" ,") for place in places if place.strip(" ,")]
    locations = locations[:8] or ["San Francisco, CA"]
    lowered = text.lower()
    unit = "celsius" if "celsius" in lowered else "fahrenheit" if "fahrenheit" in lowered else None
    calls = []
    for location in locations:
        arguments: dict[str, str] = {"location": location}
        if unit is not None:
            arguments["unit"] = unit
        calls.append(FunctionCall(tool, json.dumps(arguments)))
    return Script("weather", [FunctionCalls(tuple(calls))], then=_weather_answer)


def _weather_answer(answered: Sequence[tuple[FunctionCall, str]]) -> list[Step]:
    lines = []
    for call, output in answered:
        try:
            location = json.loads(call.arguments)["location"]
        except (ValueError, KeyError, TypeError):
            location = call.name
        lines.append((location, output))
    if len(lines) == 1:
        text = f"The weather in {lines[0][0]}: {lines[0][1]}."
    else:
        text = "Here is the current weather:\n" + "\n".join(
            f"- {location}: {output}" for location, output in lines
        )
    return [TextReply((text,))]


# --- code interpreter: streamed input, logs, then the answer ----------------------------

_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def _evaluate(node: ast.AST) -> int | float:
    """Arithmetic only, with bounded powers; ValueError for anything else."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ValueError("not arithmetic")
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        result: int | float = _OPERATORS[type(node.op)](_evaluate(node.operand))
        return result
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 10**6):
            raise ValueError("power too large")
        result = _OPERATORS[type(node.op)](left, right)
        return result
    raise ValueError("not arithmetic")


def _code(text: str) -> Script:
    expression = None
    for candidate in sorted(_EXPRESSION.findall(text), key=len, reverse=True):
        candidate = candidate.strip()
        if any(op in candidate for op in "+-*/%") and len(candidate) <= 200:
            try:
                _evaluate(ast.parse(candidate, mode="eval"))
            except ZeroDivisionError:
                pass
            except (ValueError, SyntaxError, OverflowError):
                continue
            expression = candidate
            break
    if expression is None:
        expression = "sum(range(1, 11))"
        code, logs, answer = f"print({expression})", "55\n", "The result is 55."
    else:
        code = f"print({expression})"
        try:
            result = _evaluate(ast.parse(expression, mode="eval"))
        except ZeroDivisionError:
            logs = (
                "Traceback (most recent call last):\n"
                '  File "<stdin>", line 1, in <module>\n'
                "ZeroDivisionError: division by zero\n"
            )
            answer = "The calculation failed: division by zero."
        else:
            logs, answer = f"{result}\n", f"The result is {result}."
    return Script("code_interpreter", [CodeRun(code, logs), TextReply((answer,))])


# --- file search: a search step, then a reply with a file_citation ----------------------


def _file_search() -> Script:
    result = {
        "file_id": SEARCH_FILE_ID,
        "file_name": SEARCH_FILE_NAME,
        "score": 0.68,
        "attributes": {},
        "content": [{"type": "text", "text": SEARCH_PASSAGE}],
    }
    marker = Citation(f"【4:0†{SEARCH_FILE_NAME}】", SEARCH_FILE_ID)
    reply = TextReply(("The emulator keeps everything in memory", marker, "."))
    return Script("file_search", [FileSearchCall((result,)), reply])
