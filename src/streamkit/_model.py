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
- Containers are type-checked: a field that holds a model must be an object (and not null
  when it is required), a list field must be an array. So are the scalars the fold relies
  on, declared with :func:`string`, :func:`integer` and :func:`index` (ids, statuses,
  indices, every streamed string): each check is one ``is`` test on the common path.
  Other scalars are kept as sent, but every free-form value (unknown keys, metadata,
  unknown variants, unchecked fields) is checked to nest at most :data:`MAX_DEPTH` levels.
  A wrong shape raises :class:`ShapeError` with the path to the value.
- Numbers are exact. orjson reads an integer beyond 64 bits as a float; a float that may
  be one (magnitude 2**63 or more) raises :class:`InexactNumber` where it is met, and the
  caller reads the JSON text again exactly (``events.decode`` does; ``from_dict`` takes the
  float as given) inside :func:`exact_numbers`.

Strings that grow during streaming (message text, tool-call arguments, code, logs) are
stored as a chunk list joined on first read; see :class:`GrowableStr`. Reading one gives
valid text: a UTF-16 surrogate pair split across two chunks comes out joined, a lone
surrogate as U+FFFD (checked only once :func:`note_surrogates` was called, which
``events.decode`` does when it reads a string with an escaped surrogate).

Each generated decoder and encoder has its source registered with :mod:`linecache` under
the file name ``<streamkit codec Module.Class>``, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import linecache
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Self, overload

import attrs

__all__ = [
    "MAX_DEPTH",
    "MAX_INDEX",
    "GrowableStr",
    "InexactNumber",
    "Model",
    "ShapeError",
    "UnknownVariant",
    "check_json",
    "copy_json",
    "exact_numbers",
    "grow",
    "index",
    "integer",
    "many",
    "note_surrogates",
    "one",
    "string",
    "union",
    "union_list",
    "valid_text",
]

#: How deep a free-form JSON value (an unknown key's value, ``metadata``, an unknown
#: variant, a field streamkit does not type) may nest below the field that holds it.
#: Deeper data is malformed: it would take recursive code (``copy.deepcopy``,
#: ``json.dumps``, orjson's encoder at 254 levels) past its limits.
MAX_DEPTH = 64

#: The largest ``index`` a delta item may have (a 32-bit signed int, as in the API's SDKs).
MAX_INDEX = 2**31 - 1

_META = "streamkit"

_CHECK = "streamkit_check"

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

    def __reduce__(self) -> Any:
        return (type(self), (self.reason, self.path))


class InexactNumber(ShapeError):
    """A float that may stand for an integer orjson could not read exactly (beyond 64 bits).

    Raised while decoding JSON parsed by orjson; the caller parses the text again with
    exact integers and decodes inside :func:`exact_numbers`, where it is not raised.
    """

    def at(self, step: str | int) -> ShapeError:
        return InexactNumber(self.reason, (step, *self.path))


class _Mode(threading.local):
    exact = False


_MODE = _Mode()
#: Floats of this magnitude or more may be integers that orjson read as floats.
_BIG = float(2**63)


@contextmanager
def exact_numbers() -> Iterator[None]:
    """Decode with the floats of the input taken as they are (the input came from an exact
    parser), so that :class:`InexactNumber` is not raised."""
    before = _MODE.exact
    _MODE.exact = True
    try:
        yield
    finally:
        _MODE.exact = before


def _float_check(value: float) -> None:
    if value != value or value in (float("inf"), float("-inf")):
        raise ShapeError(f"number {value!r} is not a finite JSON number")
    if (value >= _BIG or value <= -_BIG) and not _MODE.exact:
        raise InexactNumber("a number too large to be read exactly by orjson")


def check_json(value: Any) -> None:
    """Check a free-form JSON value: it nests at most :data:`MAX_DEPTH` levels, its
    numbers are finite, and no float may be an inexactly read integer (see
    :class:`InexactNumber`). Iterative: any depth is safe to check."""
    cls = value.__class__
    if cls is float:
        _float_check(value)
        return
    if cls is not dict and cls is not list:
        return
    stack = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if depth > MAX_DEPTH:
            raise ShapeError(f"a value nested more than {MAX_DEPTH} levels deep")
        for x in item.values() if item.__class__ is dict else item:
            c = x.__class__
            if c is dict or c is list:
                push((x, depth + 1))
            elif c is float:
                _float_check(x)


def _check_extra(d: dict[str, Any], known: frozenset[str]) -> None:
    """Check the values of the keys of ``d`` that are not in ``known`` (if any)."""
    for key, value in d.items():
        if key not in known:
            try:
                check_json(value)
            except ShapeError as e:
                raise e.at(key) from None


_EXPECTED = {"str": "a string", "int": "an integer", "index": "an index"}


def _bad(value: Any, check: str, nullable: bool) -> ShapeError:
    """The error for a checked scalar ``value`` that failed its ``is`` test."""
    if value.__class__ is float and (value >= _BIG or value <= -_BIG) and not _MODE.exact:
        return InexactNumber("a number too large to be read exactly by orjson")
    if check == "index":
        if value.__class__ is int:
            return ShapeError(f"index {value} is out of range (0 to {MAX_INDEX})")
        return ShapeError(f"expected an integer index, got {_type_name(value)}")
    what = _EXPECTED[check] + (" or null" if nullable else "")
    return ShapeError(f"expected {what}, got {_type_name(value)}")


_SURROGATES = [False]


def note_surrogates() -> None:
    """Say that text with UTF-16 surrogates may have been decoded: from now on, reading a
    growable string checks it for surrogates (see :func:`valid_text`)."""
    _SURROGATES[0] = True


def valid_text(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


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
    """A deep copy of a JSON-shaped value (dicts, lists, scalars).

    Recursive: decoded values nest at most :data:`MAX_DEPTH` levels below their field."""
    cls = value.__class__
    if cls is dict:
        return {k: copy_json(v) for k, v in value.items()}
    if cls is list:
        return [copy_json(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------
# Field helpers


def string(*, required: bool = False, default: str | None = None, key: str | None = None) -> Any:
    """A string field, type-checked when decoded: a string, or null unless ``required``."""
    meta: dict[str, Any] = {_CHECK: "str"}
    if key is not None:
        meta[_META] = (_PLAIN, None, key)
    if required:
        return attrs.field(metadata=meta)
    return attrs.field(default=default, metadata=meta)


def integer(*, key: str | None = None) -> Any:
    """An integer field (or null), type-checked when decoded."""
    meta: dict[str, Any] = {_CHECK: "int"}
    if key is not None:
        meta[_META] = (_PLAIN, None, key)
    return attrs.field(default=None, metadata=meta)


def index() -> Any:
    """A delta item's required ``index``: an int from 0 to :data:`MAX_INDEX`."""
    return attrs.field(metadata={_CHECK: "index"})


def one(cls: Any, *, required: bool = False, key: str | None = None) -> Any:
    """A field holding one nested model of class ``cls`` (or null unless ``required``)."""
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
            table[tag] = cls._tagged_decoder() if self.tag == _TAG else cls._decoder()
        return table

    def decoder(self) -> Callable[[Any], Any]:
        """The decoding function for this union (built once)."""
        if self._decoder is None:
            table = self.table()
            unknown = self.unknown.decode_raw
            tag_key = self.tag
            scalars = self.scalars

            def decode(value: Any) -> Any:
                if value.__class__ is not dict:
                    if scalars and not isinstance(value, list):
                        check_json(value)
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
            if _SURROGATES[0] and not value.isascii():
                # Kept as a chunk list, so that to_dict() gives the text as it reads.
                setattr(obj, self.slot, [value])
                return valid_text(value)
            setattr(obj, self.slot, value)
            return value
        if _SURROGATES[0] and value.__class__ is str:
            return valid_text(value)
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
        setattr(obj, slot, [current, chunk] if current else [chunk])


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

    #: Every field's slot name, for pickling (each class's own, made on first use).
    _slot_names: ClassVar[tuple[str, ...] | None] = None
    _codec: ClassVar[
        tuple[
            Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]
        ]
        | None
    ] = None

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

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        # pickle and copy.deepcopy: every field's slot, ``_extra`` read as None while it
        # is unset (a decoded model's input dict is its record then). attrs' own
        # ``__getstate__`` would read the unset slot and fail.
        names = _slot_names(type(self))
        return (_rebuild, (type(self), names, tuple([getattr(self, n, None) for n in names])))

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """Decode from a JSON-shaped dict; raise :class:`ShapeError` on a wrong shape.

        Floats are taken as given (the dict's numbers are what they are)."""
        try:
            result: Self = cls._decoder()(data)
        except InexactNumber:
            with exact_numbers():
                result = cls._decoder()(data)
        return result

    def to_dict(self) -> dict[str, Any]:
        """The JSON-shaped dict this model stands for (unknown fields included)."""
        result: dict[str, Any] = type(self)._encoder()(self)
        return result

    def clone(self) -> Self:
        """A deep copy that shares nothing mutable with this one."""
        codec = type(self).__dict__.get("_codec")
        if codec is None:
            codec = _generate(type(self))
        try:
            result: Self = codec[3](self)
        except _Unusual:
            # A value the copier does not expect (one set by hand): what from_dict
            # makes of to_dict, the definition of a clone.
            with exact_numbers():
                return type(self).from_dict(self.to_dict())
        return result

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
    def _tagged_decoder(cls) -> Callable[[Any], Any]:
        """The decoder a union calls once it has checked the ``type`` tag."""
        codec = cls.__dict__.get("_codec")
        if codec is None:
            codec = _generate(cls)
        return codec[2]

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
        try:
            return cls.decode_raw(data)
        except InexactNumber:
            with exact_numbers():
                return cls.decode_raw(data)

    @classmethod
    def decode_raw(cls, data: Any) -> Self:
        """``from_dict`` as generated decoders call it (:class:`InexactNumber` may escape)."""
        if data.__class__ is not dict:
            raise ShapeError(f"expected an object, got {_type_name(data)}")
        check_json(data)
        tag = data.get("type")
        return cls(type=tag if isinstance(tag, str) else None, raw=data)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = copy_json(self.raw)
        return result

    def clone(self) -> Self:
        return type(self).from_dict(self.to_dict())


def _slot_names(cls: type[Model]) -> tuple[str, ...]:
    names: tuple[str, ...] | None = cls.__dict__.get("_slot_names")
    if names is None:
        names = cls._slot_names = tuple(a.name for a in attrs.fields(cls))
    return names


def _rebuild(cls: type[Model], names: tuple[str, ...], values: tuple[Any, ...]) -> Model:
    """A model from its slots' values (what :meth:`Model.__reduce_ex__` gives)."""
    model = object.__new__(cls)
    for name, value in zip(names, values, strict=True):
        object.__setattr__(model, name, value)
    return model


def set_field(model: Model, name: str, value: Any) -> None:
    """Set a plain or nested field of ``model`` and mark it present."""
    if model._absent.__class__ is dict:
        model._materialize()
    setattr(model, name, value)
    absent = model._absent
    if name in absent:
        model._absent = tuple(x for x in absent if x != name)


def set_extra(model: Model, extra: dict[str, Any]) -> None:
    """Merge unknown keys into ``model``, in O(len(extra)): the model's own record of its
    unknown keys (a dict made by ``_materialize``, never the input's) is updated in place."""
    model._materialize()
    current = model._extra
    if current is None:
        model._extra = dict(extra)
    else:
        current.update(extra)


def _known_keys(cls: type[Model]) -> frozenset[str]:
    known = cls.__dict__.get("_known_set")
    if known is None:
        known = frozenset(f[1] for f in _fields(cls))
        cls._known_set = known  # type: ignore[attr-defined]
    return known


# ---------------------------------------------------------------------------------------
# Code generation

_IN_PROGRESS: set[type] = set()

#: (attribute, json key, kind, argument, required, check) of a field.
_Field = tuple[str, str, str, Any, bool, str | None]


def _fields(cls: type[Model]) -> list[_Field]:
    """(attribute, json key, kind, argument, required, check) for every declared field."""
    out = []
    for a in attrs.fields(cls):
        if a.name in ("_extra", "_absent"):
            continue
        kind, arg, key = a.metadata.get(_META, (_PLAIN, None, None))
        check = a.metadata.get(_CHECK)
        if kind == _GROW:
            check = "str"
        json_key = key or a.alias or a.name
        out.append((a.name, json_key, kind, arg, a.default is attrs.NOTHING, check))
    return out


def _generate(
    cls: type[Model],
) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]]:
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
        "_int": int,
        "_free": check_json,
        "_FREE": frozenset({dict, list, float}),
        "_bad": _bad,
        "_extra_check": _check_extra,
        "_text": valid_text,
        "_list_err": _list_error,
        "_one_of": _one_of,
        "_all_of": _all_of,
        "_known": frozenset(f[1] for f in fields),
    }
    dec = _decoder_source(cls, fields, ns, "decode", None)
    if any(f[1] == _TAG and f[2] == _PLAIN for f in fields):
        dec += ["", *_decoder_source(cls, fields, ns, "decode_tagged", _TAG)]

    enc = ["def encode(o):"]
    enc.append("    a = o._absent")
    enc.append("    d = {}")
    enc.append("    if a.__class__ is _dict:")
    enc.append("        raw = a")
    enc.append("        a = ()")
    enc.append("    else:")
    enc.append("        raw = None")
    for attr, key, kind, _, _, _ in fields:
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
            # A chunk list is text assembled from deltas: give it as it reads.
            enc.append("        if v.__class__ is _list:")
            enc.append("            v = _text(''.join(v))")
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

    cp = _copier_source(fields, ns)
    source = "\n".join(dec) + "\n\n" + "\n".join(enc) + "\n\n" + "\n".join(cp) + "\n"
    filename = f"<streamkit codec {cls.__module__}.{cls.__qualname__}>"
    # Registered so that tracebacks, pdb and inspect show the generated lines; the entry
    # has no modification time, so linecache.checkcache() leaves it alone.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)
    codec = (ns["decode"], ns["encode"], ns.get("decode_tagged", ns["decode"]), ns["clone"])
    cls._codec = codec
    return codec


class _Unusual(Exception):
    """A generated copier met a value decoding would not have put there."""


def _copier_source(fields: list[_Field], ns: dict[str, Any]) -> list[str]:
    """The lines of ``clone(o)``: what ``from_dict(o.to_dict())`` gives, made directly.

    Scalars are shared (immutable), free-form JSON is copied, text grown from deltas is
    joined, nested models are cloned; the copy keeps the explicit record of absent and
    unknown keys (the form Model reads alike with the input dict). A value decoding would
    not have put in a field (set by hand) raises :class:`_Unusual`: the caller then takes
    the long way, through the dict."""
    ns["_Unusual"] = _Unusual
    ns["_Model"] = Model
    ns["_order"] = tuple(f[1] for f in fields)
    ns["_n_known"] = len(fields)
    cp = ["def clone(o):"]
    cp.append("    c = _new(_cls)")
    cp.append("    a = o._absent")
    cp.append("    if a.__class__ is _dict:")
    cp.append("        gone = tuple([k for k in _order if k not in a])")
    cp.append("        c._absent = gone")
    cp.append("        if len(a) + len(gone) != _n_known:")
    cp.append("            x = {k: _copy(v) for k, v in a.items() if k not in _known}")
    cp.append("            c._extra = x or None")
    cp.append("        else:")
    cp.append("            c._extra = None")
    cp.append("    else:")
    cp.append("        c._absent = a")
    cp.append("        x = o._extra")
    cp.append("        c._extra = {k: _copy(v) for k, v in x.items()} if x else None")
    for i, (attr, _key, kind, arg, _required, check) in enumerate(fields):
        cp.append(f"    v = o.{attr}")
        if kind == _PLAIN:
            if check is None:
                cp.append(f"    c.{attr} = _copy(v) if v.__class__ in _FREE else v")
            else:
                cp.append(f"    c.{attr} = v")
        elif kind == _GROW:
            cp.append(f"    c.{attr} = _text(''.join(v)) if v.__class__ is _list else v")
        elif kind == _ONE:
            ns[f"_c{i}"] = arg
            cp.append("    if v is not None:")
            cp.append(f"        if v.__class__ is not _c{i}:")
            cp.append("            raise _Unusual")
            cp.append("        v = v.clone()")
            cp.append(f"    c.{attr} = v")
        elif kind == _UNION:
            # A variant (known or not) is a model; a scalar the union allows is shared.
            cp.append("    if v is not None and v.__class__ not in (_str, _int):")
            cp.append("        if not isinstance(v, _Model):")
            cp.append("            raise _Unusual")
            cp.append("        v = v.clone()")
            cp.append(f"    c.{attr} = v")
        else:  # _MANY, _UNION_LIST
            cp.append("    if v is not None:")
            cp.append("        if v.__class__ is not _list:")
            cp.append("            raise _Unusual")
            cp.append("        items = []")
            cp.append("        for x in v:")
            if kind == _MANY:
                ns[f"_c{i}"] = arg
                cp.append(f"            if x.__class__ is not _c{i}:")
            else:
                cp.append("            if not isinstance(x, _Model):")
            cp.append("                raise _Unusual")
            cp.append("            items.append(x.clone())")
            cp.append("        v = items")
            cp.append(f"    c.{attr} = v")
    cp.append("    return c")
    return cp


#: The tag key of every union: a variant reached through its union has a string there.
_TAG = "type"


def _decoder_source(
    cls: type[Model], fields: list[_Field], ns: dict[str, Any], name: str, trusted: str | None
) -> list[str]:
    """The lines of a decoder function; the field with JSON key ``trusted`` is read as it
    is (a union's table already checked that it is a string)."""
    dec = [f"def {name}(d):"]
    dec.append("    if d.__class__ is not _dict:")
    dec.append("        raise ShapeError('expected an object, got ' + _tn(d))")
    dec.append("    try:")
    # Mark the class in progress so that a (theoretical) cycle of nested models ends in
    # a call to from_dict instead of endless inlining.
    _IN_PROGRESS.add(cls)
    try:
        _emit_decode(cls, fields, "d", "o", "        ", ns, "", 0, dec, trusted)
    finally:
        _IN_PROGRESS.discard(cls)
    dec.append("    except KeyError as e:")
    dec.append("        raise ShapeError('missing required field ' + repr(e.args[0])) from None")
    dec.append("    return o")
    return dec


#: How deep single nested models are inlined into their parent's decoder.
_MAX_INLINE = 2


def _emit_check(check: str | None, v: str, k: str, n: str | None, ind: str, out: list[str]) -> None:
    """Emit the type test of a plain value in ``v`` (one ``is`` test when it passes).

    ``n`` is the present-key counter to decrement when an optional value is None (absent
    or null); None for a required field, which may not be null when it is checked.
    """
    if check == "index":
        out.append(f"{ind}if {v}.__class__ is not _int or {v} >> 31:")
        out.append(f"{ind}    raise _bad({v}, 'index', False).at({k})")
        return
    if check is None:
        out.append(f"{ind}if {v}.__class__ in _FREE:")
        out.append(f"{ind}    try:")
        out.append(f"{ind}        _free({v})")
        out.append(f"{ind}    except ShapeError as e:")
        out.append(f"{ind}        raise e.at({k}) from None")
        if n is not None:
            out.append(f"{ind}elif {v} is None:")
            out.append(f"{ind}    {n} -= 1")
        return
    cls = "_str" if check == "str" else "_int"
    out.append(f"{ind}if {v}.__class__ is not {cls}:")
    if n is None:
        out.append(f"{ind}    raise _bad({v}, {check!r}, False).at({k})")
    else:
        out.append(f"{ind}    if {v} is not None:")
        out.append(f"{ind}        raise _bad({v}, {check!r}, True).at({k})")
        out.append(f"{ind}    {n} -= 1")


def _emit_decode(
    cls: type[Model],
    fields: list[_Field],
    src: str,
    dst: str,
    ind: str,
    ns: dict[str, Any],
    tag: str,
    depth: int,
    out: list[str],
    trusted: str | None = None,
) -> None:
    """Emit code that decodes the dict in variable ``src`` into a new ``cls`` in ``dst``.

    Single nested models (``one``) are inlined up to :data:`_MAX_INLINE` levels, which
    saves a call per level on the hot path; lists and unions call their decoders. A
    required key is read with ``src[key]``: the ``KeyError`` of a missing one is turned
    into a :class:`ShapeError` by the enclosing ``try`` (free in CPython 3.11+).

    Unknown keys are found by counting: ``n`` starts at the number of known fields and
    loses one for each optional field read as None; when ``len(src) == n`` every key is a
    known one, else the values of the unknown keys are checked (:func:`_check_extra`).
    """
    ns[f"_cls{tag}"] = cls
    ns[f"_known{tag}"] = frozenset(f[1] for f in fields)
    v, items, x, f, n = f"v{depth}", f"items{depth}", f"x{depth}", f"f{depth}", f"n{depth}"
    out.append(f"{ind}{dst} = _new(_cls{tag})")
    out.append(f"{ind}{n} = {len(fields)}")
    for i, (attr, key, kind, arg, required, check) in enumerate(fields):
        k = repr(key)
        t = f"{tag}_{i}"
        read = f"{src}[{k}]" if required else f"{src}.get({k})"
        if key == trusted:
            out.append(f"{ind}{dst}.{attr} = {src}[{k}]")
            continue
        if kind in (_PLAIN, _GROW):
            out.append(f"{ind}{v} = {read}")
            _emit_check(check, v, k, None if required else n, ind, out)
            out.append(f"{ind}{dst}.{attr} = {v}")
            continue
        out.append(f"{ind}{v} = {read}")
        # The common case costs one test: the value is of the container class expected.
        container = "_list" if kind in (_MANY, _UNION_LIST) else "_dict"
        what = "an array" if container == "_list" else "an object"
        wrong = f"raise ShapeError('expected {what}, got ' + _tn({v})).at({k})"
        if kind == _ONE and required:
            out.append(f"{ind}if {v}.__class__ is not _dict:")
            out.append(f"{ind}    {wrong}")
            body = ind
        elif kind == _UNION:
            out.append(f"{ind}if {v} is not None:")
            body = ind + "    "
        else:
            out.append(f"{ind}if {v}.__class__ is {container}:")
            body = ind + "    "
        if kind == _ONE:
            if depth < _MAX_INLINE and arg not in _IN_PROGRESS:
                arg._encoder()  # its own codec, for from_dict / to_dict on it
                child = f"o{depth + 1}"
                out.append(f"{body}try:")
                _IN_PROGRESS.add(arg)
                try:
                    _emit_decode(arg, _fields(arg), v, child, body + "    ", ns, t, depth + 1, out)
                finally:
                    _IN_PROGRESS.discard(arg)
                out.append(f"{body}except ShapeError as e:")
                out.append(f"{body}    raise e.at({k}) from None")
                out.append(f"{body}except KeyError as e:")
                out.append(
                    f"{body}    raise ShapeError('missing required field ' + repr(e.args[0]))"
                    f".at({k}) from None"
                )
                out.append(f"{body}{v} = {child}")
            else:
                ns[f"_d{t}"] = arg.from_dict if arg in _IN_PROGRESS else arg._decoder()
                out.append(f"{body}try:")
                out.append(f"{body}    {v} = _d{t}({v})")
                out.append(f"{body}except ShapeError as e:")
                out.append(f"{body}    raise e.at({k}) from None")
        elif kind == _UNION:
            # The variant is picked inline (one call less per value); anything that is
            # not an object, or has an unhashable tag, goes through the union's own
            # decoder (scalars, errors).
            ns[f"_d{t}"], ns[f"_t{t}"], ns[f"_u{t}"] = (
                arg.decoder(),
                arg.table(),
                arg.unknown.decode_raw,
            )
            out.append(f"{body}try:")
            out.append(f"{body}    if {v}.__class__ is _dict:")
            out.append(f"{body}        {f} = _t{t}.get({v}.get({arg.tag!r}))")
            out.append(f"{body}        {v} = {f}({v}) if {f} is not None else _u{t}({v})")
            out.append(f"{body}    else:")
            out.append(f"{body}        {v} = _d{t}({v})")
            out.append(f"{body}except ShapeError as e:")
            out.append(f"{body}    raise e.at({k}) from None")
            out.append(f"{body}except TypeError:")
            out.append(f"{body}    {v} = _one_of(_d{t}, {v}, {k})")
        else:
            if kind == _UNION_LIST:
                ns[f"_d{t}"], ns[f"_t{t}"], ns[f"_u{t}"] = (
                    arg.decoder(),
                    arg.table(),
                    arg.unknown.decode_raw,
                )
            else:
                ns[f"_d{t}"] = arg.from_dict if arg in _IN_PROGRESS else arg._decoder()
            out.append(f"{body}{items} = []")
            # A loop, not a comprehension: on 3.11 a comprehension costs a call.
            out.append(f"{body}try:")
            out.append(f"{body}    for {x} in {v}:")
            loop = body + "        "
            if kind == _UNION_LIST:
                out.append(f"{loop}if {x}.__class__ is _dict:")
                out.append(f"{loop}    {f} = _t{t}.get({x}.get({arg.tag!r}))")
                out.append(f"{loop}    {items}.append({f}({x}) if {f} is not None else _u{t}({x}))")
                out.append(f"{loop}else:")
                out.append(f"{loop}    {items}.append(_d{t}({x}))")
            else:
                out.append(f"{loop}{items}.append(_d{t}({x}))")
            out.append(f"{body}except ShapeError:")
            out.append(f"{body}    raise _list_err(_d{t}, {v}, {k}) from None")
            if kind == _UNION_LIST:
                # An unhashable tag: the union's own decoder takes each item.
                out.append(f"{body}except TypeError:")
                out.append(f"{body}    {items} = _all_of(_d{t}, {v}, {k})")
            out.append(f"{body}{v} = {items}")
        if kind != _UNION and not (kind == _ONE and required):
            out.append(f"{ind}elif {v} is not None:")
            out.append(f"{ind}    {wrong}")
        if not (kind == _ONE and required):
            out.append(f"{ind}else:")
            out.append(f"{ind}    {n} -= 1")
        out.append(f"{ind}{dst}.{attr} = {v}")
    # Unknown keys are kept: their values are checked like any free-form value.
    out.append(f"{ind}if len({src}) != {n}:")
    out.append(f"{ind}    _extra_check({src}, _known{tag})")
    # ``_extra`` is left unset (one store less per model): it is read only once the model
    # is materialized, which sets it. (A ``__getattr__`` reading it as None would cost far
    # more: a class with one loses CPython's specialised slot reads, 3x slower each.)
    out.append(f"{ind}{dst}._absent = {src}")


def _one_of(decode: Callable[[Any], Any], value: Any, key: str) -> Any:
    """Decode ``value`` with a union's own decoder, the error path prefixed with ``key``."""
    try:
        return decode(value)
    except ShapeError as e:
        raise e.at(key) from None


def _all_of(decode: Callable[[Any], Any], values: list[Any], key: str) -> list[Any]:
    """Decode every item of ``values`` with a union's own decoder."""
    items = []
    for position, item in enumerate(values):
        try:
            items.append(decode(item))
        except ShapeError as e:
            raise e.at(position).at(key) from None
    return items


def _list_error(decode: Callable[[Any], Any], values: list[Any], key: str) -> ShapeError:
    """Find which item of a list failed to decode and say so, with the full path."""
    for position, item in enumerate(values):
        try:
            decode(item)
        except InexactNumber as e:
            return e.at(position).at(key)
        except ShapeError as e:
            return e.at(position).at(key)
    return ShapeError("a list item failed to decode").at(key)  # pragma: no cover
