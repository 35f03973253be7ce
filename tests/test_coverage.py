"""Every type and field in the API reference's "Domain Types" sections has a model.

The reference lists each type as ``### Title`` then ``- `TypeName` `` (or
``- `TypeName = A | B | ...` `` for unions and enums) and its fields as nested lines
``- `name?: Type` ``, two spaces per level, with inline objects and union variants nested
under their field. This test walks that tree next to the models: a type maps to the class
of the same name in ``streamkit.models`` (stream event types to ``streamkit.events``), a
field to the attribute with the same JSON name, and a nested inline object to the class
its field is declared with (``one``/``many``) or, for a union, to the variant its ``type``
tag selects. Skipped when the reference (``../shared/seed``) is absent.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import attrs
import pytest

from streamkit import events, models
from streamkit._model import Model, Union

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed"
REFERENCE = SEED / "000_610aa6d5ea4566f7.txt"

pytestmark = [
    pytest.mark.external,
    pytest.mark.skipif(not REFERENCE.is_file(), reason="API reference absent"),
]

#: Documented names that are unions of other types, enums of strings or aliases rather
#: than objects, and what stands for them (their variants are checked by name all the same).
ALIASES: dict[str, object] = {
    "AssistantStreamEvent": events.Event,  # any of events.EVENT_TYPES
    "MessageStreamEvent": events.Event,
    "RunStepStreamEvent": events.Event,
    "RunStreamEvent": events.Event,
    "ThreadStreamEvent": events.ThreadCreated,  # documented as thread.created's event
    "AssistantResponseFormatOption": "Run.response_format: 'auto' or a ResponseFormat*",
    "AssistantToolChoiceOption": "Run.tool_choice: 'none', 'auto', 'required' or a choice",
    "MessageContentPartParam": "the content parts of a create-message request",
    "RunStatus": "Run.status (a string)",
    "RunStepInclude": "a request option (a string)",
}

#: Gaps in the models as of issue 3, as this test reports them: "Type" for a missing type,
#: "Class.field" for a missing attribute of a class, "Class.field (free-form)" for a
#: documented object kept as a plain dict, "Class.field (no variant for 'tag')" for a union
#: variant without a class. Remove an entry when it is fixed (a stale entry fails the test).
KNOWN_GAPS: frozenset[str] = frozenset(
    {
        # "Whether to enable input audio transcription": a stray field of thread.created.
        "ThreadCreated.enabled",
    }
)


@dataclass
class Node:
    """One ``- `...` `` line of the reference and the lines nested under it."""

    text: str
    line: int
    children: list[Node] = field(default_factory=list)

    @functools.cached_property
    def field(self) -> tuple[str, bool, str] | None:
        """(name, optional, type) when this line documents a field."""
        m = re.fullmatch(r"(\w+)(\?)?: (.+)", self.text)
        return (m[1], bool(m[2]), m[3]) if m else None

    @property
    def fields(self) -> list[Node]:
        return [c for c in self.children if c.field is not None]

    @property
    def variants(self) -> list[Node]:
        """Children that name an object variant (a name with fields under it)."""
        return [c for c in self.children if c.field is None and c.fields]


_ITEM = re.compile(r"( *)- `([^`]+)`")


@functools.cache
def domain_types() -> tuple[Node, ...]:
    """The top-level entries of every "## Domain Types" section of the reference."""
    return parse(REFERENCE.read_text(encoding="utf-8"))


def parse(text: str) -> tuple[Node, ...]:
    """The top-level entries of every "## Domain Types" section of a markdown text."""
    roots: list[Node] = []
    inside = False
    stack: list[tuple[int, Node]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if line.startswith("#") and not line.startswith("### "):
            inside = line == "## Domain Types"
            stack = []
            continue
        m = _ITEM.fullmatch(line)
        if not inside or m is None:
            continue
        indent, node = len(m[1]), Node(m[2], number)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            stack[-1][1].children.append(node)
        elif indent == 0:
            roots.append(node)
        else:
            continue  # a list in a description, outside any type
        stack.append((indent, node))
    return tuple(roots)


def json_fields(cls: type[Model]) -> dict[str, tuple[str, Any]]:
    """JSON key -> (kind, argument) of every field of a model."""
    out = {}
    for a in attrs.fields(cls):
        if a.name not in ("_extra", "_absent"):
            kind, arg, key = a.metadata.get("streamkit", ("plain", None, None))
            out[key or a.alias or a.name] = (kind, arg)
    return out


def tag_values(variant: Node, tag: str) -> list[str]:
    """The literal values of a variant's ``tag`` field (``type: "a" | "b"``)."""
    for f in variant.fields:
        assert f.field is not None
        if f.field[0] == tag:
            return re.findall(r'"([^"]*)"', f.field[2])
    return []


class Walker:
    """Compares documented types with models and collects the gaps."""

    def __init__(self) -> None:
        self.gaps: dict[str, list[str]] = {}  # gap -> documented paths where it shows
        self.checked_types = 0
        self.checked_fields = 0

    def resolve(self, name: str) -> object | None:
        for namespace in (models, events):
            if hasattr(namespace, name):
                return getattr(namespace, name)
        return ALIASES.get(name)

    def check_root(self, root: Node) -> None:
        name, _, union_of = root.text.partition(" = ")
        self.checked_types += 1
        target = self.resolve(name)
        if target is None:
            self.gap(name, name)
        if union_of:
            for variant in root.children:
                if variant.field is None and not variant.text.startswith('"'):
                    self.check_named(variant, variant.text)
        elif isinstance(target, type):
            self.check_object(root, target, name)

    def check_named(self, node: Node, name: str) -> None:
        target = self.resolve(name)
        if not isinstance(target, type):
            self.gap(name, name)
        else:
            self.check_object(node, target, name)

    def check_object(self, node: Node, cls: type, where: str) -> None:
        if issubclass(cls, events.Event):
            self.check_event(node, cls, where)
            return
        if not issubclass(cls, Model):
            self.gap(f"{cls.__name__} (not a model)", where)
            return
        known = json_fields(cls)
        for child in node.fields:
            assert child.field is not None
            name = child.field[0]
            self.checked_fields += 1
            if name not in known:
                self.gap(f"{cls.__name__}.{name}", f"{where}.{name}")
                continue
            kind, arg = known[name]
            self.check_value(child, f"{cls.__name__}.{name}", kind, arg, f"{where}.{name}")

    def check_event(self, node: Node, cls: type[events.Event], where: str) -> None:
        for child in node.fields:
            assert child.field is not None
            name = child.field[0]
            self.checked_fields += 1
            if name == "data":
                annotation = cls.__annotations__.get("data")
                data_cls = getattr(models, annotation) if isinstance(annotation, str) else None
                if isinstance(data_cls, type):
                    self.check_object(child, data_cls, f"{where}.data")
                else:
                    self.gap(f"{cls.__name__}.data", f"{where}.data")
            elif name == "event":
                literals = re.findall(r'"([^"]*)"', child.field[2])
                if literals != [cls.EVENT]:
                    self.gap(f"{cls.__name__}.event ({literals} != {cls.EVENT!r})", where)
            else:
                self.gap(f"{cls.__name__}.{name}", f"{where}.{name}")

    def gap(self, gap: str, where: str) -> None:
        self.gaps.setdefault(gap, []).append(where)

    def check_value(self, node: Node, owner: str, kind: str, arg: Any, where: str) -> None:
        """A documented field's nested structure against how ``owner`` declares it."""
        if not node.fields and not node.variants:
            return
        if kind in ("one", "many"):
            if node.fields:
                self.check_object(node, arg, where)
            for variant in node.variants:
                self.check_object(variant, arg, f"{where}<{variant.text}>")
        elif kind in ("union", "union_list"):
            self.check_union(node, owner, arg, where)
        else:
            self.gap(f"{owner} (free-form)", where)

    def check_union(self, node: Node, owner: str, u: Union, where: str) -> None:
        variants = node.variants or [node]  # a single documented object
        for variant in variants:
            label = f"{where}<{variant.text}>" if variant is not node else where
            tags = tag_values(variant, u.tag)
            if not tags:
                self.gap(f"{owner} (a variant without {u.tag!r})", label)
            for tag in tags:
                cls = u.variants.get(tag)
                if cls is None:
                    self.gap(f"{owner} (no variant for {tag!r})", label)
                else:
                    self.check_object(variant, cls, label)


@functools.cache
def walk() -> Walker:
    walker = Walker()
    for root in domain_types():
        walker.check_root(root)
    return walker


def test_reference_is_parsed() -> None:
    roots = domain_types()
    names = [r.text.partition(" = ")[0] for r in roots]
    assert len(names) == len(set(names)) > 80
    assert {"ChatKitWorkflow", "ChatSession", "Assistant", "Run", "RunStep", "Message"} <= set(
        names
    )
    walker = walk()
    assert walker.checked_fields > 1000


def test_every_documented_type_and_field_has_a_model() -> None:
    gaps = walk().gaps
    new = [f"{gap}: at {', '.join(gaps[gap][:3])}" for gap in sorted(gaps.keys() - KNOWN_GAPS)]
    assert not new, "documented but not modelled:\n" + "\n".join(new)


def test_known_gaps_are_still_gaps() -> None:
    stale = sorted(KNOWN_GAPS - walk().gaps.keys())
    assert not stale, "fixed, remove from KNOWN_GAPS:\n" + "\n".join(stale)


SAMPLE = """\
# Sample

## Domain Types

### Nope

- `Nope`

  - `id: string`

### Run

- `Run`

  A description with a list:

  - `a line that only looks like a field`

  - `id: string`

  - `colour?: string`

  - `truncation_strategy: TruncationStrategy`

    - `type: "auto"`

    - `keep?: number`

  - `tools: Array<AssistantTool>`

    - `FunctionTool`

      - `type: "function"`

      - `function: FunctionDefinition`

        - `name: string`

        - `cost?: number`

    - `ShellTool`

      - `type: "shell"`

  - `usage: Usage`

## Run it
"""


def test_the_walker_finds_gaps() -> None:
    roots = parse(SAMPLE)
    assert [root.text for root in roots] == ["Nope", "Run"]
    assert [f.text for f in roots[1].fields][:2] == ["id: string", "colour?: string"]
    walker = Walker()
    for root in roots:
        walker.check_root(root)
    assert walker.gaps == {
        "Nope": ["Nope"],
        "Run.colour": ["Run.colour"],
        "TruncationStrategy.keep": ["Run.truncation_strategy.keep"],
        "FunctionDefinition.cost": ["Run.tools<FunctionTool>.function.cost"],
        "Run.tools (no variant for 'shell')": ["Run.tools<ShellTool>"],
    }
