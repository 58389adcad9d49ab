"""Dataclass <-> JSON for the `data` columns, driven by the dataclasses' type hints.

Each class's conversion plan (its field names and one converter per field) is built once;
reading a row then costs one call per field, not a type-hint inspection."""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, cast

import orjson

T = TypeVar("T")
Convert = Callable[[Any], Any]


def to_json(value: Any) -> Any:
    """JSON-ready form of a dataclass (or of any value a dataclass field may hold)."""
    encode: Convert = _encoder(cast(Any, type(value)))
    return encode(value)


def to_json_text(value: Any) -> orjson.Fragment:
    """`to_json(value)` already encoded, for a JSON column: orjson walks the dataclass in C
    (fields by name, enums by value, dates in ISO 8601 as `datetime.isoformat` writes them),
    several times faster than building the dict in Python. The engine's serializer copies
    a fragment as it is; `from_json` reads either."""
    return orjson.Fragment(orjson.dumps(value, default=_encode_other))


def _encode_other(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} has no JSON form")


@cache
def _encoder(kind: Any) -> Convert:
    """One function per dataclass that builds its dict in a single expression: fields whose
    hint is a plain JSON type are copied as they are, the others get their converter."""
    if not dataclasses.is_dataclass(kind):
        return _encode_any
    try:
        hints = typing.get_type_hints(kind)
    except (NameError, TypeError):  # an unresolvable hint: convert by value instead
        hints = {}
    env: dict[str, Any] = {}
    parts = []
    for i, f in enumerate(dataclasses.fields(kind)):
        convert = _field_encoder(hints.get(f.name, Any))
        if convert is None:
            parts.append(f"{f.name!r}: v.{f.name}")
        else:
            env[f"c{i}"] = convert
            parts.append(f"{f.name!r}: c{i}(v.{f.name})")
    # Field names are identifiers, so the generated source is just attribute reads.
    exec(f"def encode(v):\n    return {{{', '.join(parts)}}}\n", env)
    encode: Convert = env["encode"]
    return encode


_PLAIN = (str, int, float, bool)


def _field_encoder(hint: Any) -> Convert | None:
    """The converter for a field of type `hint`, or None when its value is JSON-ready."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        inner_hints = [a for a in args if a is not type(None)]
        if len(inner_hints) != 1:
            return _encode_any
        inner = _field_encoder(inner_hints[0])
        if inner is None:
            return None
        optional: Convert = inner
        return lambda v: None if v is None else optional(v)
    if origin is list and args:
        item = _field_encoder(args[0])
        if item is None:
            return list
        each: Convert = item
        return lambda v: [each(x) for x in v]
    if origin is dict and len(args) == 2 and args[0] is str:
        value = _field_encoder(args[1])
        if value is None:
            return dict
        each_value: Convert = value
        return lambda v: {k: each_value(x) for k, x in v.items()}
    if hint in _PLAIN:
        return None
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return _enum_value
        if hint is datetime:
            return datetime.isoformat
        if dataclasses.is_dataclass(hint):
            # Looked up when used, by the value's own class (a class may refer to itself).
            return lambda v: _encoder(cast(Any, type(v)))(v)
    return _encode_any


def _enum_value(value: Enum) -> Any:
    return value.value


def _encode_any(value: Any) -> Any:
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list | tuple):
        return [_encode_any(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode_any(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        encode: Convert = _encoder(cast(Any, type(value)))
        return encode(value)
    return value


@cache
def _plan(cls: Any) -> tuple[tuple[str, Convert], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls))


def from_json(cls: type[T], data: dict[str, Any], **overrides: Any) -> T:
    """Build `cls` from `data`; keys the class no longer has are ignored, missing ones default."""
    kwargs: dict[str, Any] = {}
    for name, convert in _plan(cast(Any, cls)):
        if name in overrides:
            kwargs[name] = overrides[name]
        elif name in data:
            value = data[name]
            kwargs[name] = None if value is None else convert(value)
    return cls(**kwargs)


def _identity(value: Any) -> Any:
    return value


def _converter(hint: Any) -> Convert:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        inner = _converter(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else inner(v)
    if origin is list:
        item = _converter(args[0])
        return _identity if item is _identity else (lambda v: [item(x) for x in v])
    if origin is tuple:
        parts = [_converter(a) for a in args]
        return lambda v: tuple(c(x) for c, x in zip(parts, v, strict=False))
    if origin is dict:
        value = _converter(args[1])
        return dict if value is _identity else (lambda v: {k: value(x) for k, x in v.items()})
    if isinstance(hint, type):
        if issubclass(hint, Enum):
            return hint
        if hint is datetime:
            return datetime.fromisoformat
        if hint is bytes:
            return base64.b64decode
        if dataclasses.is_dataclass(hint):
            cls = hint
            return lambda v: from_json(cls, v)
    return _identity
