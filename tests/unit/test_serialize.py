"""The two encoders of the `data` columns agree: `to_json_text` (orjson in C) writes what
`to_json` (the dataclass plan in Python) builds, field for field, for every stored class."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson
import pytest

from esign.domain import audit, model
from esign.storage.serialize import from_json, to_json, to_json_text

STORED = [
    c
    for module in (model, audit)
    for c in vars(module).values()
    if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == module.__name__
]


def sample(hint: Any, depth: int = 0) -> Any:
    """A value of type `hint` unlike its default: every member filled, enums not the first."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        return sample(next(a for a in args if a is not type(None)), depth)
    if origin is list:
        return [sample(args[0], depth + 1), sample(args[0], depth + 1)]
    if origin is tuple:
        return tuple(sample(a, depth + 1) for a in args)
    if origin is dict:
        return {"k\u00e9y": sample(args[1], depth + 1)}
    if hint is str:
        return "caf\u00e9 \u201cquoted\u201d \\ /Date(1)/"
    if hint is bool:
        return True
    if hint is int:
        return 7
    if hint is float:
        return 12.75
    if hint is datetime:
        return datetime(2026, 11, 28, 10, 30, 5, 120_000, tzinfo=UTC)
    if hint is bytes:
        return b"\x00\xffbytes"
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = list(hint)
        return members[-1]
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return build(hint, depth + 1)
    return {"any": [1, "two"]}


def build(cls: Any, depth: int = 0) -> Any:
    hints = typing.get_type_hints(cls)
    values = {f.name: sample(hints[f.name], depth) for f in dataclasses.fields(cls) if f.init}
    return cls(**values)


@pytest.mark.parametrize("cls", STORED, ids=lambda c: c.__name__)
def test_both_encoders_write_the_same_json(cls: Any) -> None:
    value = build(cls)
    by_plan = orjson.loads(orjson.dumps(to_json(value)))
    by_orjson = orjson.loads(orjson.dumps({"data": to_json_text(value)}))["data"]
    assert by_orjson == by_plan
    assert from_json(cls, by_orjson) == value


def test_a_value_json_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError):
        orjson.dumps(to_json_text({"x": object()}))
