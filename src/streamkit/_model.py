"""The machinery behind every model: fast decoding from JSON dicts, exact encoding back.

Models are attrs classes (slots, keyword-only) that subclass :class:`Model`. Each field is
described once, by its annotation and, where it holds other models, by one of the helpers
below (:func:`one`, :func:`many`, :func:`union`, :func:`union_list`). From that description a
decoder and an encoder are generated per class, the first time the class is used, as plain
Python functions: no reflection on the hot path.

Exactness rules, relied on by ``to_dict()``:

- A field absent from the input reads as ``None`` and is remembered as absent, so
  ``to_dict()`` leaves it out again. A field present with ``null`` is kept as ``null``.
  (Decoding does not work this out eagerly: a decoded model keeps a reference to its
  input dict, whose keys say what was present and what was unknown. A model whose fields
  are set afterwards, through :func:`set_field`, switches to an explicit record.)
- Keys the model does not know are kept, in ``extra``, and written back by ``to_dict()``.
- A discriminated value whose tag is unknown (a new content block type, say) becomes the
  union's ``Unknown...`` variant holding the raw dict.
- Scalars are not type-checked (the API documents them; checking costs time on every
  delta). Containers are: a field that holds a model must be an object and a list field
  must be an array, else decoding raises :class:`ShapeError` with the path to the value.

Strings that grow during streaming (message text, tool-call arguments, code, logs) are
stored as a chunk list joined on first read; see :class:`GrowableStr`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Self, overload

import attrs

__all__ = [
    "GrowableStr",
    "Model",
    "ShapeError",
    "UnknownVariant",
    "copy_json",
    "grow",
    "many",
    "one",
    "union",
    "union_list",
]

_META = "streamkit"

# Field kinds.
_PLAIN = "plain"
_ONE = "one"
_MANY = "many"
_UNION = "union"
_UNION_LIST = "union_list"
_GROW = "grow"


class ShapeError(ValueError):
    """A JSON value does not have the shape its model needs; ``path`` says where."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.reason = message
        self.path = path

    def at(self, step: str | int) -> ShapeError:
        """Return the same error one level further out (prefixing ``step`` to the path)."""
        return ShapeError(self.reason, (step, *self.path))

    def where(self) -> str:
        """The path as ``a.b[2].c``."""
        out = ""
        for step in self.path:
            out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
        return out or "(top level)"

    def __str__(self) -> str:
        return f"{self.where()}: {self.reason}"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-shaped value (dicts, lists, scalars)."""
    cls = value.__class__
    if cls is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if cls is list:
        return [copy_json(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------
# Field helpers


def one(cls: Any, *, required: bool = False, key: str | None = None) -> Any:
    """A field holding one nested model of class ``cls`` (or null)."""
    meta = {_META: (_ONE, cls, key)}
    if required:
        return attrs.field(metadata=meta)
    return attrs.field(default=None, metadata=meta)


def many(cls: Any, *, required: bool = False, key: str | None = None) -> Any:
    """A field holding a list of models of class ``cls`` (or null)."""
    meta = {_META: (_MANY, cls, key)}
    if required:
        return attrs.field(metadata=meta)
    return attrs.field(default=None, metadata=meta)


class Union:
    """A discriminated union: the value of ``tag`` picks the class; else ``unknown``."""

    def __init__(
        self,
        tag: str,
        variants: Mapping[str, type[Model]],
        unknown: type[UnknownVariant],
        *,
        scalars: bool = False,
    ) -> None:
        self.tag = tag
        self.variants = dict(variants)
        self.unknown = unknown
        # When true, a non-object value (e.g. "auto" in response_format) is kept as it is.
        self.scalars = scalars
        self._decoder: Callable[[Any], Any] | None = None

    def table(self) -> dict[Any, Callable[[Any], Any]]:
        """Tag value -> decoder of that variant (generated on first use)."""
        table: dict[Any, Callable[[Any], Any]] = {}
        for tag, cls in self.variants.items():
            table[tag] = cls._decoder()
            cls._encoder()
        return table

    def decoder(self) -> Callable[[Any], Any]:
        """The decoding function for this union (built once)."""
        if self._decoder is None:
            table = self.table()
            unknown = self.unknown.from_dict
            tag_key = self.tag
            scalars = self.scalars

            def decode(value: Any) -> Any:
                if value.__class__ is not dict:
                    if scalars and not isinstance(value, list):
                        return value
                    raise ShapeError(f"expected an object, got {_type_name(value)}")
                tag = value.get(tag_key)
                dec = table.get(tag) if tag.__class__ is str else None
                if dec is None:
                    return unknown(value)
                return dec(value)

            self._decoder = decode
        return self._decoder


def union(u: Union, *, required: bool = False, key: str | None = None) -> Any:
    """A field holding one member of the union ``u`` (or null)."""
    meta = {_META: (_UNION, u, key)}
    if required:
        return attrs.field(metadata=meta)
    return attrs.field(default=None, metadata=meta)


def union_list(u: Union, *, required: bool = False, key: str | None = None) -> Any:
    """A field holding a list of members of the union ``u`` (or null)."""
    meta = {_META: (_UNION_LIST, u, key)}
    if required:
        return attrs.field(metadata=meta)
    return attrs.field(default=None, metadata=meta)


def grow(*, key: str) -> Any:
    """A growable string field, stored privately; pair it with a :class:`GrowableStr`."""
    return attrs.field(default=None, alias=key, metadata={_META: (_GROW, None, key)})


class GrowableStr:
    """Descriptor for a string that grows by appends during streaming.

    The value lives in a private slot as ``None``, a ``str``, or a list of chunks; reading
    joins the chunks once and caches the result, so appending a chunk costs O(len(chunk))
    and reading costs O(len(value)) only after something was appended.
    """

    def __init__(self, slot: str) -> None:
        self.slot = slot

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type) -> GrowableStr: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> str | None: ...
    def __get__(self, obj: object | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        value = getattr(obj, self.slot)
        if value.__class__ is list:
            value = "".join(value)
            setattr(obj, self.slot, value)
        return value

    def __set__(self, obj: object, value: str | None) -> None:
        setattr(obj, self.slot, value)


def append_to(obj: object, slot: str, chunk: str) -> None:
    """Append ``chunk`` to the growable string stored in ``obj``'s ``slot``."""
    current = getattr(obj, slot)
    if current is None:
        setattr(obj, slot, chunk)
    elif current.__class__ is list:
        current.append(chunk)
    elif chunk:
        setattr(obj, slot, [current, chunk] if current else chunk)


# ---------------------------------------------------------------------------------------
# The base classes


@attrs.define(slots=True, kw_only=True, eq=False)
class Model:
    """Base of every typed object. Keeps unknown keys and which known keys were absent.

    Two models are equal when they are of the same class and ``to_dict()`` gives equal
    dicts (unknown fields and absent fields included).
    """

    # Either an explicit record (``_extra``: unknown keys, ``_absent``: JSON names of
    # absent known fields) or, for a decoded model, ``_absent`` is the input dict itself.
    _extra: dict[str, Any] | None = attrs.field(default=None, repr=False, alias="extra")
    _absent: tuple[str, ...] | dict[str, Any] = attrs.field(default=(), repr=False, alias="absent")

    _codec: ClassVar[tuple[Callable[[Any], Any], Callable[[Any], Any]] | None] = None

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the server sent that this version of streamkit does not know."""
        raw = self._absent
        if raw.__class__ is dict:
            known = _known_keys(type(self))
            return {k: v for k, v in raw.items() if k not in known}
        return self._extra or {}

    @property
    def absent(self) -> frozenset[str]:
        """JSON names of known fields that were not in the decoded JSON."""
        raw = self._absent
        if raw.__class__ is dict:
            return frozenset(k for k in _known_keys(type(self)) if k not in raw)
        return frozenset(raw)

    def has(self, key: str) -> bool:
        """Whether the known field with JSON name ``key`` is present (even as null)."""
        raw = self._absent
        if raw.__class__ is dict:
            return key in raw
        return key not in raw

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Decode from a JSON-shaped dict; raise :class:`ShapeError` on a wrong shape."""
        result: Self = cls._decoder()(data)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The JSON-shaped dict this model stands for (unknown fields included)."""
        result: dict[str, Any] = type(self)._encoder()(self)
        return result

    def clone(self) -> Self:
        """A deep copy that shares nothing mutable with this one."""
        return type(self).from_dict(self.to_dict())

    def _materialize(self) -> None:
        """Switch from the input dict to an explicit record of absent and unknown keys."""
        raw = self._absent
        if raw.__class__ is dict:
            extra = self.extra
            self._extra = extra or None
            self._absent = tuple(k for k in _known_keys(type(self)) if k not in raw)

    @classmethod
    def _decoder(cls) -> Callable[[Any], Any]:
        codec = cls.__dict__.get("_codec")
        if codec is None:
            codec = _generate(cls)
        return codec[0]

    @classmethod
    def _encoder(cls) -> Callable[[Any], Any]:
        codec = cls.__dict__.get("_codec")
        if codec is None:
            codec = _generate(cls)
        return codec[1]


@attrs.define(slots=True, kw_only=True, eq=False)
class UnknownVariant(Model):
    """A member of a discriminated union whose tag this version does not know.

    ``raw`` is the object exactly as received; ``to_dict()`` returns a copy of it.
    """

    type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        if data.__class__ is not dict:
            raise ShapeError(f"expected an object, got {_type_name(data)}")
        tag = data.get("type")
        return cls(type=tag if isinstance(tag, str) else None, raw=data)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = copy_json(self.raw)
        return result


def set_field(model: Model, name: str, value: Any) -> None:
    """Set a plain or nested field of ``model`` and mark it present."""
    if model._absent.__class__ is dict:
        model._materialize()
    setattr(model, name, value)
    absent = model._absent
    if name in absent:
        model._absent = tuple(x for x in absent if x != name)


def set_extra(model: Model, extra: dict[str, Any]) -> None:
    """Merge unknown keys into ``model``."""
    model._materialize()
    model._extra = {**(model._extra or {}), **extra}


def _known_keys(cls: type[Model]) -> frozenset[str]:
    known = cls.__dict__.get("_known_set")
    if known is None:
        known = frozenset(f[1] for f in _fields(cls))
        cls._known_set = known  # type: ignore[attr-defined]
    return known


# ---------------------------------------------------------------------------------------
# Code generation

_IN_PROGRESS: set[type] = set()


def _fields(cls: type[Model]) -> list[tuple[str, str, str, Any, bool]]:
    """(attribute, json key, kind, argument, required) for every declared field."""
    out = []
    for a in attrs.fields(cls):
        if a.name in ("_extra", "_absent"):
            continue
        kind, arg, key = a.metadata.get(_META, (_PLAIN, None, None))
        json_key = key or a.alias or a.name
        out.append((a.name, json_key, kind, arg, a.default is attrs.NOTHING))
    return out


def _generate(
    cls: type[Model],
) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    fields = _fields(cls)
    ns: dict[str, Any] = {
        "_new": object.__new__,
        "_cls": cls,
        "ShapeError": ShapeError,
        "_tn": _type_name,
        "_copy": copy_json,
        "_dict": dict,
        "_list": list,
        "_str": str,
        "_list_err": _list_error,
        "_known": frozenset(f[1] for f in fields),
    }
    dec = ["def decode(d):"]
    dec.append("    if d.__class__ is not _dict:")
    dec.append("        raise ShapeError('expected an object, got ' + _tn(d))")
    # Mark the class in progress so that a (theoretical) cycle of nested models ends in
    # a call to from_dict instead of endless inlining.
    _IN_PROGRESS.add(cls)
    try:
        _emit_decode(cls, fields, "d", "o", "    ", ns, "", 0, dec)
    finally:
        _IN_PROGRESS.discard(cls)
    dec.append("    return o")

    enc = ["def encode(o):"]
    enc.append("    a = o._absent")
    enc.append("    d = {}")
    enc.append("    if a.__class__ is _dict:")
    enc.append("        raw = a")
    enc.append("        a = ()")
    enc.append("    else:")
    enc.append("        raw = None")
    for attr, key, kind, _, _ in fields:
        k = repr(key)
        enc.append(f"    if ({k} in raw) if raw is not None else ({k} not in a):")
        enc.append(f"        v = o.{attr}")
        if kind in (_ONE, _UNION):
            enc.append("        if v is not None and hasattr(v, 'to_dict'):")
            enc.append("            v = v.to_dict()")
            enc.append("        else:")
            enc.append("            v = _copy(v)")
        elif kind in (_MANY, _UNION_LIST):
            enc.append("        if v is not None:")
            enc.append(
                "            v = [x.to_dict() if hasattr(x, 'to_dict') else _copy(x) for x in v]"
            )
        elif kind == _GROW:
            enc.append("        if v.__class__ is _list:")
            enc.append("            v = ''.join(v)")
        else:
            enc.append("        v = _copy(v)")
        enc.append(f"        d[{k}] = v")
    enc.append("    if raw is not None:")
    enc.append("        if len(raw) != len(d):")
    enc.append("            for k, v in raw.items():")
    enc.append("                if k not in _known:")
    enc.append("                    d[k] = _copy(v)")
    enc.append("    elif o._extra:")
    enc.append("        for k, v in o._extra.items():")
    enc.append("            d[k] = _copy(v)")
    enc.append("    return d")

    source = "\n".join(dec) + "\n\n" + "\n".join(enc) + "\n"
    exec(compile(source, f"<streamkit codec for {cls.__qualname__}>", "exec"), ns)
    codec = (ns["decode"], ns["encode"])
    cls._codec = codec
    return codec


#: How deep single nested models are inlined into their parent's decoder.
_MAX_INLINE = 2


def _emit_decode(
    cls: type[Model],
    fields: list[tuple[str, str, str, Any, bool]],
    src: str,
    dst: str,
    ind: str,
    ns: dict[str, Any],
    tag: str,
    depth: int,
    out: list[str],
) -> None:
    """Emit code that decodes the dict in variable ``src`` into a new ``cls`` in ``dst``.

    Single nested models (``one``) are inlined up to :data:`_MAX_INLINE` levels, which
    saves a call per level on the hot path; lists and unions call their decoders.
    """
    ns[f"_cls{tag}"] = cls
    v, items, x, f = f"v{depth}", f"items{depth}", f"x{depth}", f"f{depth}"
    out.append(f"{ind}{dst} = _new(_cls{tag})")
    for i, (attr, key, kind, arg, required) in enumerate(fields):
        k = repr(key)
        t = f"{tag}_{i}"
        body = ind + "    "
        if kind in (_PLAIN, _GROW) and not required:
            # Absence is read from the input dict itself, so None is all we need here.
            out.append(f"{ind}{dst}.{attr} = {src}.get({k})")
            continue
        out.append(f"{ind}if {k} in {src}:")
        if kind in (_PLAIN, _GROW):
            out.append(f"{body}{dst}.{attr} = {src}[{k}]")
        elif kind == _ONE:
            out.append(f"{body}{v} = {src}[{k}]")
            out.append(f"{body}if {v} is not None:")
            inner = body + "    "
            if depth < _MAX_INLINE and arg not in _IN_PROGRESS:
                arg._encoder()  # its own codec, for from_dict / to_dict on it
                child = f"o{depth + 1}"
                out.append(f"{inner}if {v}.__class__ is not _dict:")
                out.append(
                    f"{inner}    raise ShapeError('expected an object, got ' + _tn({v})).at({k})"
                )
                out.append(f"{inner}try:")
                _IN_PROGRESS.add(arg)
                try:
                    _emit_decode(arg, _fields(arg), v, child, inner + "    ", ns, t, depth + 1, out)
                finally:
                    _IN_PROGRESS.discard(arg)
                out.append(f"{inner}except ShapeError as e:")
                out.append(f"{inner}    raise e.at({k}) from None")
                out.append(f"{inner}{v} = {child}")
            else:
                ns[f"_d{t}"] = arg.from_dict if arg in _IN_PROGRESS else arg._decoder()
                out.append(f"{inner}try:")
                out.append(f"{inner}    {v} = _d{t}({v})")
                out.append(f"{inner}except ShapeError as e:")
                out.append(f"{inner}    raise e.at({k}) from None")
            out.append(f"{body}{dst}.{attr} = {v}")
        elif kind == _UNION:
            # The variant is picked inline (one call less per value); anything that is
            # not an object goes through the union's own decoder (scalars, errors).
            ns[f"_d{t}"], ns[f"_t{t}"], ns[f"_u{t}"] = (
                arg.decoder(),
                arg.table(),
                arg.unknown.from_dict,
            )
            out.append(f"{body}{v} = {src}[{k}]")
            out.append(f"{body}if {v} is not None:")
            out.append(f"{body}    try:")
            out.append(f"{body}        if {v}.__class__ is _dict:")
            out.append(f"{body}            {f} = {v}.get({arg.tag!r})")
            out.append(f"{body}            {f} = _t{t}.get({f}) if {f}.__class__ is _str else None")
            out.append(f"{body}            {v} = {f}({v}) if {f} is not None else _u{t}({v})")
            out.append(f"{body}        else:")
            out.append(f"{body}            {v} = _d{t}({v})")
            out.append(f"{body}    except ShapeError as e:")
            out.append(f"{body}        raise e.at({k}) from None")
            out.append(f"{body}{dst}.{attr} = {v}")
        else:
            # A loop, not a comprehension: on 3.11 a comprehension costs a call.
            if kind == _UNION_LIST:
                ns[f"_d{t}"], ns[f"_t{t}"], ns[f"_u{t}"] = (
                    arg.decoder(),
                    arg.table(),
                    arg.unknown.from_dict,
                )
            else:
                ns[f"_d{t}"] = arg.from_dict if arg in _IN_PROGRESS else arg._decoder()
            out.append(f"{body}{v} = {src}[{k}]")
            out.append(f"{body}if {v} is not None:")
            out.append(f"{body}    if {v}.__class__ is not _list:")
            out.append(
                f"{body}        raise ShapeError('expected an array, got ' + _tn({v})).at({k})"
            )
            out.append(f"{body}    {items} = []")
            out.append(f"{body}    try:")
            out.append(f"{body}        for {x} in {v}:")
            loop = body + "            "
            if kind == _UNION_LIST:
                out.append(f"{loop}if {x}.__class__ is _dict:")
                out.append(f"{loop}    {f} = {x}.get({arg.tag!r})")
                out.append(f"{loop}    {f} = _t{t}.get({f}) if {f}.__class__ is _str else None")
                out.append(f"{loop}    {items}.append({f}({x}) if {f} is not None else _u{t}({x}))")
                out.append(f"{loop}else:")
                out.append(f"{loop}    {items}.append(_d{t}({x}))")
            else:
                out.append(f"{loop}{items}.append(_d{t}({x}))")
            out.append(f"{body}    except ShapeError:")
            out.append(f"{body}        raise _list_err(_d{t}, {v}, {k}) from None")
            out.append(f"{body}else:")
            out.append(f"{body}    {items} = None")
            out.append(f"{body}{dst}.{attr} = {items}")
        out.append(f"{ind}else:")
        if required:
            out.append(f"{ind}    raise ShapeError('missing required field ' + {k!r})")
        else:
            out.append(f"{ind}    {dst}.{attr} = None")
    out.append(f"{ind}{dst}._absent = {src}")
    out.append(f"{ind}{dst}._extra = None")


def _list_error(decode: Callable[[Any], Any], values: list[Any], key: str) -> ShapeError:
    """Find which item of a list failed to decode and say so, with the full path."""
    for index, item in enumerate(values):
        try:
            decode(item)
        except ShapeError as e:
            return e.at(index).at(key)
    return ShapeError("a list item failed to decode").at(key)  # pragma: no cover
