"""The lenient eSign wire decoder: case-insensitive keys, bytes as base64 or integer arrays,
dates as ISO-8601 or Microsoft JSON dates, enums as numbers or names, Properties as a list or
a map. Specs describe each wire type once; the decoder, the error messages and the OpenAPI
document all read them."""

from __future__ import annotations

import base64
import binascii
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import pybase64

from esign.domain.model import NO_ID

MAX_STRING = 20_000


class WireError(Exception):
    """The request does not have the shape of its type; `path` names the member."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class Spec:
    # str | id | int | number | bool | bytes | date | enum | list | map | props | record | obj
    # | any
    kind: str
    doc: str = ""
    enum: type[Enum] | None = None
    item: Spec | None = None
    name: str = ""
    members: dict[str, Spec] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    max_length: int = MAX_STRING
    # For an object whose members are all its keys may be: why any other key is refused.
    closed: str = ""
    # An object's member for each lower-cased key or alias, built once.
    by_lower: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_lower.update({k.lower(): k for k in self.members})
        self.by_lower.update({a.lower(): target for a, target in self.aliases.items()})


STR = Spec("str")
ID = Spec("id", "an id (a GUID: any case, braces allowed)")
LONG_STR = Spec("str", max_length=1_000_000)
INT = Spec("int")
NUMBER = Spec("number")
BOOL = Spec("bool")
BYTES = Spec("bytes")
DATE = Spec("date")
MAP = Spec("map")
# An object whose shape the reference does not give (a signer's Contact): its members of
# text, number or true/false are kept as text, anything deeper is left out.
RECORD = Spec("record")
MAX_RECORD_MEMBERS = 50
PROPS = Spec("props")


def enum(e: type[Enum]) -> Spec:
    return Spec("enum", enum=e)


def list_of(item: Spec) -> Spec:
    return Spec("list", item=item)


def obj(
    name: str, members: dict[str, Spec], aliases: dict[str, str] | None = None, closed: str = ""
) -> Spec:
    return Spec("obj", name=name, members=members, aliases=aliases or {}, closed=closed)


def decode(spec: Spec, value: Any, path: str) -> Any:
    """Decode one value; `None` (JSON null) stays None. Raises WireError naming `path`."""
    if value is None:
        return None
    return _DECODERS[spec.kind](spec, value, path)


def _str(spec: Spec, value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise WireError(path, "expected a string")
    if isinstance(value, float):
        # JSON numbers with a fraction, an exponent or more than 64 bits arrive as floats,
        # whose text is not what was sent: "12345678901234567890123" would be kept as
        # "1.2345678901234568e+22" and never found again.
        raise WireError(path, "expected a string (send this number as text to keep its digits)")
    text = value if isinstance(value, str) else str(value)
    if len(text) > spec.max_length:
        raise WireError(path, f"is longer than {spec.max_length} characters")
    if "\x00" in text:
        # No text field has a use for it, and PostgreSQL cannot store it.
        raise WireError(path, "contains a NUL character")
    return text


_DIGITS = re.compile(r"\s*-?\d{1,12}\s*")


_GUID = re.compile(
    r"\s*\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?\s*"
)


def canonical_id(text: str) -> str:
    """Ids are lower-case GUIDs here; .NET and SQL Server hand them back in upper case or in
    braces ("{0F8FAD5B-...}"), which name the same id. Anything else stays as it is."""
    match = _GUID.fullmatch(text)
    return match[1].lower() if match else text


def _id(spec: Spec, value: Any, path: str) -> str | None:
    """None for the empty Guid, as for a member not sent: it names nothing."""
    text = canonical_id(_str(spec, value, path))
    return None if text == NO_ID else text


def _int(spec: Spec, value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise WireError(path, "expected a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        raise WireError(path, "expected a whole number")
    if abs(number) > 2**31 - 1:
        raise WireError(path, "is out of range")
    return number


_DECIMAL = re.compile(r"\s*-?\d{1,9}(\.\d{1,9})?\s*")
MAX_NUMBER = 1e6


def _number(spec: Spec, value: Any, path: str) -> float:
    """A decimal number (PDF points and the like): JSON numbers or numeric strings."""
    if isinstance(value, bool):
        raise WireError(path, "expected a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = float(value)
    else:
        raise WireError(path, "expected a number")
    if not math.isfinite(number) or abs(number) > MAX_NUMBER:
        raise WireError(path, "is out of range")
    return number


# A yes in a query flag (`purgeNow=yes`); JSON booleans stay strict (`_bool`).
YES_WORDS = ("true", "1", "yes", "on")
NO_WORDS = ("false", "0", "no", "off", "")


def query_flag(name: str, text: str) -> bool:
    """A yes/no query value (`purgeNow=true`); anything else is an error naming it."""
    word = text.strip().lower()
    if word not in YES_WORDS and word not in NO_WORDS:
        raise WireError(name, f"must be true or false, not '{text[:50]}'")
    return word in YES_WORDS


def _bool(spec: Spec, value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", ""):
        return value.strip().lower() in ("true", "1")
    raise WireError(path, "expected true or false")


def _bytes(spec: Spec, value: Any, path: str) -> bytes:
    if isinstance(value, str):
        try:
            # Plain padded base64, as nearly every client sends: one SIMD pass (CPython's
            # decoder takes 50 times as long, and a request holds the GIL meanwhile).
            return pybase64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            pass  # whitespace, a data URL, URL-safe characters or missing padding
        text = value.strip()
        if text.startswith("data:") and "," in text:
            text = text.split(",", 1)[1]  # a data URL, as signature pads produce
        text = "".join(text.split())  # MIME line breaks, as .NET InsertLineBreaks writes
        altchars = b"-_" if "-" in text or "_" in text else None
        try:
            # Strict: characters outside the alphabet are an error, not silently dropped.
            return base64.b64decode(text + "=" * (-len(text) % 4), altchars, validate=True)
        except (binascii.Error, ValueError):
            raise WireError(path, "is not valid base64") from None
    if isinstance(value, list):
        try:
            data = bytes(value)
        except (TypeError, ValueError):
            raise WireError(path, "expected base64 or an array of integers 0..255") from None
        # bytes() reads true and false as 1 and 0; only arrays that made a 0 or 1 can hold one.
        if (b"\x00" in data or b"\x01" in data) and bool in set(map(type, value)):
            raise WireError(path, "expected base64 or an array of integers 0..255, not true/false")
        return data
    raise WireError(path, "expected base64 or an array of integers 0..255")


_MS_DATE = re.compile(r"^\\?/Date\((-?\d+)([+-]\d{4})?\)\\?/$")
_YEAR_ONE = datetime(1900, 1, 1, tzinfo=UTC)


def _date(spec: Spec, value: Any, path: str) -> datetime | None:
    if not isinstance(value, str):
        raise WireError(path, "expected a date (ISO-8601 or \\/Date(ms)\\/)")
    text = value.strip()
    if not text:
        return None
    match = _MS_DATE.match(text)
    try:
        if match:
            moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match[1]))
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        # .NET writes DateTime.MinValue for a DateTime nobody set: treat it as not given.
        return None if moment < _YEAR_ONE else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # (9999-12-31T23:59-14:00 is past year 9999 in UTC)
        raise WireError(path, "is not a valid date") from None


def _enum(spec: Spec, value: Any, path: str) -> Enum:
    assert spec.enum is not None
    e = spec.enum
    if isinstance(value, bool):
        raise WireError(path, "expected a number or a name")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        try:
            return e(int(value))
        except ValueError:
            raise WireError(path, f"unknown value {value}; allowed: {_allowed(e)}") from None
    if isinstance(value, str):
        wanted = value.strip().replace("_", "").replace(" ", "").lower()
        for member in e:
            if member.name.replace("_", "").lower() == wanted or (
                isinstance(member.value, str) and member.value.lower() == wanted
            ):
                return member
        raise WireError(path, f"unknown value '{value[:50]}'; allowed: {_allowed(e)}")
    raise WireError(path, "expected a number or a name")


def _allowed(e: type[Enum]) -> str:
    return ", ".join(f"{m.value}={m.name}" if isinstance(m.value, int) else str(m.value) for m in e)


def _list(spec: Spec, value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise WireError(path, "expected an array")
    assert spec.item is not None
    items = []
    for i, v in enumerate(value):
        if v is None:  # no list holds "nothing": an item is there or it is not
            raise WireError(f"{path}[{i}]", "must not be null")
        items.append(decode(spec.item, v, f"{path}[{i}]"))
    return items


def _pairs(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            (_str(STR, k, f"{path} key"), _value_text(v, f"{path}.{k}")) for k, v in value.items()
        ]
    if isinstance(value, list):
        pairs = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise WireError(f"{path}[{i}]", "expected an object with Key and Value")
            lowered = {str(k).lower(): v for k, v in item.items()}
            if "key" not in lowered:
                raise WireError(f"{path}[{i}]", "has no Key")
            pairs.append(
                (
                    _str(STR, lowered["key"], f"{path}[{i}].Key"),
                    _value_text(lowered.get("value"), f"{path}[{i}].Value"),
                )
            )
        return pairs
    raise WireError(path, "expected an object map or an array of {Key, Value}")


def _value_text(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # a value in a map (a price, a rate): its usual text
        value = repr(value)
    return _str(STR, value, path)


def _map(spec: Spec, value: Any, path: str) -> dict[str, str]:
    return dict(_pairs(value, path))


def _props(spec: Spec, value: Any, path: str) -> list[tuple[str, str]]:
    return _pairs(value, path)


def _record(spec: Spec, value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise WireError(path, "expected an object")
    if len(value) > MAX_RECORD_MEMBERS:
        raise WireError(path, f"has more than {MAX_RECORD_MEMBERS} members")
    return {
        _str(STR, key, f"{path} key"): _value_text(item, f"{path}.{key}")
        for key, item in value.items()
        if item is None or isinstance(item, str | int | float | bool)
    }


def _obj(spec: Spec, value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WireError(path, f"expected an object ({spec.name})")
    by_lower = spec.by_lower
    out: dict[str, Any] = {}
    for key, raw in value.items():
        canonical = by_lower.get(str(key).lower())
        if canonical is None and spec.closed:
            raise WireError(f"{path}.{str(key)[:50]}" if path else str(key)[:50], spec.closed)
        if canonical is None or raw is None:
            continue  # unknown members are ignored, nulls mean "not given"
        decoded = decode(spec.members[canonical], raw, f"{path}.{canonical}" if path else canonical)
        if decoded is not None:
            out[canonical] = decoded
    return out


def _any(spec: Spec, value: Any, path: str) -> Any:
    return value


_DECODERS = {
    "str": _str,
    "id": _id,
    "int": _int,
    "number": _number,
    "bool": _bool,
    "bytes": _bytes,
    "date": _date,
    "enum": _enum,
    "list": _list,
    "map": _map,
    "props": _props,
    "record": _record,
    "obj": _obj,
    "any": _any,
}


def ms_date(moment: datetime | None) -> str | None:
    """A .NET JSON date; the renderer escapes its slashes as every .NET reader expects."""
    if moment is None:
        return None
    ms = int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    return f"/Date({ms})/"
