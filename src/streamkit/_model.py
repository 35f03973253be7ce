"""The machinery behind every model: fast decoding from JSON dicts, exact encoding back.

Models are attrs classes (slots, keyword-only) that subclass :class:`Model`. Each field is
described once, by its annotation and, where it holds other models, by one of the helpers
below (:func:`one`, :func:`many`, :func:`union`, :func:`union_list`). From that description a
decoder and an encoder are generated per class, the first time the class is used, as plain
Python functions: no reflection on the hot path.

Exactness rules, relied on by ``to_dict()``:

- A field absent from the input reads as ``None`` and is remembered as absent, so
  ``to_dict()`` leaves it out again. A field present with ``null`` is kept as ``null``.
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


@attrs.define(slots=True, kw_only=True)
class Model:
    """Base of every typed object. Keeps unknown keys and which known keys were absent."""

    _extra: dict[str, Any] | None = attrs.field(default=None, repr=False, alias="extra")
    _absent: tuple[str, ...] = attrs.field(default=(), repr=False, alias="absent")

    _codec: ClassVar[tuple[Callable[[Any], Any], Callable[[Any], Any]] | None] = None

    @property
    def extra(self) -> dict[str, Any]:
        """Fields the server sent that this version of streamkit does not know."""
        return self._extra or {}

    @property
    def absent(self) -> frozenset[str]:
        """JSON names of known fields that were not in the decoded JSON."""
        return frozenset(self._absent)

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


@attrs.define(slots=True, kw_only=True)
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
    # Provisional codec so that a (theoretical) cycle terminates.
    _IN_PROGRESS.add(cls)
    try:
        for i, (_, _, kind, arg, _) in enumerate(fields):
            if kind in (_ONE, _MANY):
                if arg in _IN_PROGRESS:
                    ns[f"_d{i}"] = arg.from_dict
                else:
                    ns[f"_d{i}"] = arg._decoder()
                    arg._encoder()
            elif kind in (_UNION, _UNION_LIST):
                ns[f"_d{i}"] = arg.decoder()
                ns[f"_t{i}"] = arg.table()
                ns[f"_u{i}"] = arg.unknown.from_dict
    finally:
        _IN_PROGRESS.discard(cls)

    nfields = len(fields)
    dec = ["def decode(d):"]
    dec.append("    if d.__class__ is not _dict:")
    dec.append("        raise ShapeError('expected an object, got ' + _tn(d))")
    dec.append("    o = _new(_cls)")
    dec.append("    absent = ()")
    for i, (attr, key, kind, arg, required) in enumerate(fields):
        k = repr(key)
        dec.append(f"    if {k} in d:")
        if kind in (_PLAIN, _GROW):
            dec.append(f"        o.{attr} = d[{k}]")
        elif kind == _ONE:
            dec.append(f"        v = d[{k}]")
            dec.append("        if v is not None:")
            dec.append("            try:")
            dec.append(f"                v = _d{i}(v)")
            dec.append("            except ShapeError as e:")
            dec.append(f"                raise e.at({k}) from None")
            dec.append(f"        o.{attr} = v")
        elif kind == _UNION:
            # The variant is picked inline (one call less per value); anything that is
            # not an object goes through the union's own decoder (scalars, errors).
            tag = repr(arg.tag)
            dec.append(f"        v = d[{k}]")
            dec.append("        if v is not None:")
            dec.append("            try:")
            dec.append("                if v.__class__ is _dict:")
            dec.append(f"                    f = v.get({tag})")
            dec.append(f"                    f = _t{i}.get(f) if f.__class__ is _str else None")
            dec.append(f"                    v = f(v) if f is not None else _u{i}(v)")
            dec.append("                else:")
            dec.append(f"                    v = _d{i}(v)")
            dec.append("            except ShapeError as e:")
            dec.append(f"                raise e.at({k}) from None")
            dec.append(f"        o.{attr} = v")
        else:
            # A loop, not a comprehension: on 3.11 a comprehension costs a call.
            dec.append(f"        v = d[{k}]")
            dec.append("        if v is not None:")
            dec.append("            if v.__class__ is not _list:")
            dec.append(
                f"                raise ShapeError('expected an array, got ' + _tn(v)).at({k})"
            )
            dec.append("            items = []")
            dec.append("            try:")
            dec.append("                for x in v:")
            if kind == _UNION_LIST:
                tag = repr(arg.tag)
                dec.append("                    if x.__class__ is _dict:")
                dec.append(f"                        f = x.get({tag})")
                dec.append(
                    f"                        f = _t{i}.get(f) if f.__class__ is _str else None"
                )
                dec.append(
                    f"                        items.append(f(x) if f is not None else _u{i}(x))"
                )
                dec.append("                    else:")
                dec.append(f"                        items.append(_d{i}(x))")
            else:
                dec.append(f"                    items.append(_d{i}(x))")
            dec.append("            except ShapeError:")
            dec.append(f"                raise _list_err(_d{i}, v, {k}) from None")
            dec.append("        else:")
            dec.append("            items = None")
            dec.append(f"        o.{attr} = items")
        dec.append("    else:")
        if required:
            dec.append(f"        raise ShapeError('missing required field ' + {k!r})")
        else:
            dec.append(f"        o.{attr} = None")
            dec.append(f"        absent += ({k},)")
    dec.append("    o._absent = absent")
    dec.append(f"    if len(d) + len(absent) != {nfields}:")
    dec.append("        o._extra = {k: v for k, v in d.items() if k not in _known}")
    dec.append("    else:")
    dec.append("        o._extra = None")
    dec.append("    return o")

    enc = ["def encode(o):"]
    enc.append("    a = o._absent")
    enc.append("    d = {}")
    for attr, key, kind, _, _ in fields:
        k = repr(key)
        enc.append(f"    if {k} not in a:")
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
    enc.append("    if o._extra:")
    enc.append("        for k, v in o._extra.items():")
    enc.append("            d[k] = _copy(v)")
    enc.append("    return d")

    source = "\n".join(dec) + "\n\n" + "\n".join(enc) + "\n"
    exec(compile(source, f"<streamkit codec for {cls.__qualname__}>", "exec"), ns)
    codec = (ns["decode"], ns["encode"])
    cls._codec = codec
    return codec


def _list_error(decode: Callable[[Any], Any], values: list[Any], key: str) -> ShapeError:
    """Find which item of a list failed to decode and say so, with the full path."""
    for index, item in enumerate(values):
        try:
            decode(item)
        except ShapeError as e:
            return e.at(index).at(key)
    return ShapeError("a list item failed to decode").at(key)  # pragma: no cover
