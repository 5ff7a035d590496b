"""Records to JSON documents and back: `to_doc` and `from_doc`.

JSON has no datetimes, no tuples and no enums (TinyDB's own docs list these
limits: msiemens/tinydb `docs/limitations.rst`), so every record crossing
into the database passes through here. The conversion is driven by the
records' type hints rather than written out per record: `sources/records.py`
belongs to everyone, and a field someone adds there (with a default, as the
house rules ask) is stored and read back without anyone remembering to touch
this file. A field of a type this module does not know fails loudly at
import time instead of being dropped.

Encoding rules:

- `datetime` -> ISO-8601 in UTC with a fixed six-digit fraction and the
  offset (`2025-03-01T09:30:00.000000+00:00`). A naive datetime is refused:
  records promise aware UTC, and guessing a zone would silently shift times.
- `tuple[str, ...]` -> list; `Stance`/`Outcome` -> their string value.
- `None`, `str`, `int`, `float`, `bool` as they are.

Decoding checks every value's type, so a hand-edited or damaged document
raises `CodecError` naming the field instead of building a record that
breaks something far away.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from sources.records import FeedState, Item, Statement

Record = FeedState | Item | Statement
R = TypeVar("R", FeedState, Item, Statement)

_Convert = Callable[[Any], Any]


class CodecError(ValueError):
    """A document does not have the shape of the record it should decode to."""


def encode_datetime(value: datetime) -> str:
    """Write an aware datetime as fixed-width ISO-8601 UTC.

    The fixed width (always six fraction digits, always `+00:00`) makes the
    strings sort in time order too, which keeps the file easy to eyeball.

    Args:
        value: an aware datetime.

    Returns:
        The ISO-8601 string in UTC.

    Raises:
        CodecError: the datetime is naive.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise CodecError(f"naive datetime {value.isoformat()} (records hold aware UTC)")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def decode_datetime(value: Any) -> datetime:
    """Read an ISO-8601 string with an offset into an aware UTC datetime.

    Args:
        value: the stored string.

    Returns:
        The aware datetime, converted to UTC.

    Raises:
        CodecError: not a string, not ISO-8601, or without an offset.
    """
    if type(value) is not str:
        raise CodecError(f"expected an ISO-8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise CodecError(f"not an ISO-8601 datetime: {value!r}") from error
    if parsed.tzinfo is None:
        raise CodecError(f"datetime without an offset: {value!r}")
    return parsed.astimezone(UTC)


def _checked(kind: type) -> _Convert:
    """A decoder that lets a value through only if it has exactly this type."""
    name = kind.__name__

    def check(value: Any) -> Any:
        # `type() is` rather than isinstance: bool is an int, and a stored
        # `true` must not become a count of 1.
        if type(value) is not kind:
            raise CodecError(f"expected {name}, got {type(value).__name__}")
        return value

    return check


def _decode_float(value: Any) -> float:
    # JSON writes 1800.0 back as 1800 in some tools; both are a float here.
    if type(value) not in (int, float):
        raise CodecError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _identity(value: Any) -> Any:
    return value


def _converters(hint: Any) -> tuple[_Convert, _Convert]:
    """The (encode, decode) pair for one field's type hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and type(None) in args:
        inner = args[0] if args[1] is type(None) else args[1]
        enc, dec = _converters(inner)
        return (
            lambda v: None if v is None else enc(v),
            lambda v: None if v is None else dec(v),
        )
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        _, dec_elem = _converters(args[0])

        def dec_tuple(value: Any) -> tuple[Any, ...]:
            if type(value) is not list:
                raise CodecError(f"expected a list, got {type(value).__name__}")
            return tuple(dec_elem(v) for v in value)

        return list, dec_tuple
    if hint is datetime:
        return encode_datetime, decode_datetime
    if isinstance(hint, type) and issubclass(hint, Enum):
        enum_type = hint

        def dec_enum(value: Any) -> Any:
            try:
                return enum_type(value)
            except ValueError as error:
                raise CodecError(f"{value!r} is not a {enum_type.__name__}") from error

        return (lambda v: v.value), dec_enum
    if hint is float:
        return _identity, _decode_float
    if hint in (str, int, bool):
        return _identity, _checked(hint)
    raise TypeError(f"store.codec cannot store a field of type {hint!r}")


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    encode: _Convert
    decode: _Convert
    default: Any
    """`dataclasses.MISSING` when the field is required."""


def _plan(kind: type) -> tuple[_Field, ...]:
    hints = typing.get_type_hints(kind)
    plan = []
    for f in dataclasses.fields(kind):
        enc, dec = _converters(hints[f.name])
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        plan.append(_Field(f.name, enc, dec, default))
    return tuple(plan)


# Built once at import, so a record field of an unknown type fails here.
_PLANS: dict[type, tuple[_Field, ...]] = {
    kind: _plan(kind) for kind in (FeedState, Item, Statement)
}


def to_doc(record: Record) -> dict[str, Any]:
    """Turn a record into a JSON-ready dict.

    Every field is written, defaults included, so a later change of a default
    in `sources/records.py` never changes what stored data means.

    Args:
        record: a FeedState, Item or Statement.

    Returns:
        A dict of JSON types only.

    Raises:
        CodecError: a datetime in the record is naive.
    """
    plan = _PLANS[type(record)]
    doc: dict[str, Any] = {}
    for f in plan:
        try:
            doc[f.name] = f.encode(getattr(record, f.name))
        except CodecError as error:
            raise CodecError(f"{type(record).__name__}.{f.name}: {error}") from None
    return doc


def from_doc(kind: type[R], doc: Mapping[str, Any]) -> R:
    """Build a record of `kind` from a stored document.

    A key the record does not have is ignored (it belongs to a newer field
    that has since been dropped); a missing key takes the field's default.

    Args:
        kind: FeedState, Item or Statement.
        doc: the stored dict.

    Returns:
        The record, with aware UTC datetimes and tuples.

    Raises:
        CodecError: a value has the wrong type or a required key is missing.
    """
    if not isinstance(doc, Mapping):
        raise CodecError(f"{kind.__name__}: expected an object, got {type(doc).__name__}")
    values: dict[str, Any] = {}
    for f in _PLANS[kind]:
        try:
            raw = doc[f.name]
        except KeyError:
            if f.default is dataclasses.MISSING:
                raise CodecError(f"{kind.__name__}.{f.name}: missing") from None
            values[f.name] = f.default
            continue
        try:
            values[f.name] = f.decode(raw)
        except CodecError as error:
            raise CodecError(f"{kind.__name__}.{f.name}: {error}") from None
    return kind(**values)
