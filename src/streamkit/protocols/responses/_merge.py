"""The Responses protocol's merge rules: what a delta appends to, and how a folded item is
compared with the server's final one.

Streamed strings are growable (:class:`~streamkit._model.GrowableStr`): a delta appends
in O(len(delta)). :data:`GROWS` says, per item class, which slot an item-level delta
(arguments, input, code) appends to. :func:`differences` lists the JSON paths where the
folded value and the server's differ; numbers are compared to within
:data:`FLOAT_TOLERANCE` (the service rounds the logprobs of its final objects to six
decimals), and a list or object the server leaves empty or out stands for "not repeated"
(``content_part.done`` sends ``"logprobs": []`` after deltas that carried them), and a
field the folded object lacks was never streamed (a call's ``name`` when its
``output_item.added`` never came, a web search's ``action``): only the server says it.
"""

from __future__ import annotations

from typing import Any

from ...models.responses import (
    CodeInterpreterCall,
    CustomToolCall,
    FunctionCall,
    McpCall,
    OutputMessage,
    OutputRefusal,
    OutputText,
    ReasoningItem,
    ReasoningText,
    SummaryText,
)

__all__ = ["FLOAT_TOLERANCE", "GROWS", "PART_KIND", "differences", "kind_of_item"]

#: Per item class: the slot an item-level delta appends to, and the event family's name.
GROWS: dict[type, str] = {
    FunctionCall: "_arguments",
    McpCall: "_arguments",
    CustomToolCall: "_input",
    CodeInterpreterCall: "_code",
}

#: The Change ``kind`` of each content part class.
PART_KIND: dict[type, str] = {
    OutputText: "text",
    OutputRefusal: "refusal",
    ReasoningText: "reasoning",
    SummaryText: "reasoning",
}

#: How far two numbers may be apart and still be the same (see the module docstring).
FLOAT_TOLERANCE = 5e-6


def kind_of_item(item: Any) -> str:
    """``"message"`` (a message or a reasoning item: an item with content parts) or
    ``"call"`` (every other item, a known tool call or not)."""
    return "message" if item.__class__ in (OutputMessage, ReasoningItem) else "call"


def _blank(value: Any) -> bool:
    return value is None or value == [] or value == {}


def differences(mine: Any, theirs: Any, path: str) -> list[str]:
    """The JSON paths (under ``path``) where the folded value ``mine`` and the server's
    ``theirs`` differ (see the module docstring for what counts as the same)."""
    found: list[str] = []
    stack = [(mine, theirs, path)]
    while stack:
        a, b, where = stack.pop()
        if a.__class__ is dict and b.__class__ is dict:
            for key in sorted(a.keys() | b.keys(), key=str):
                at = f"{where}.{key}"
                if key not in b:
                    if not _blank(a[key]) and a[key] != "":
                        found.append(at)
                elif key not in a:
                    continue  # nothing streamed said it (a call's name, a search's results)
                elif _blank(a[key]) and _blank(b[key]):
                    continue
                elif _blank(b[key]) and not _blank(a[key]) and a[key].__class__ is list:
                    continue  # the server did not repeat a list it streamed
                else:
                    stack.append((a[key], b[key], at))
        elif a.__class__ is list and b.__class__ is list:
            if len(a) != len(b):
                found.append(f"{where} (length {len(a)} folded, {len(b)} final)")
            stack.extend(
                (x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(a, b, strict=False))
            )
        elif (
            a.__class__ in (int, float)
            and b.__class__ in (int, float)
            and (a.__class__ is float or b.__class__ is float)
        ):
            if abs(a - b) > FLOAT_TOLERANCE:
                found.append(where)
        elif a != b or a.__class__ is not b.__class__:
            found.append(where)
    return sorted(found)
