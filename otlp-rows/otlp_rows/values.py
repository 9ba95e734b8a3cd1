"""OTLP JSON values → what the exporter writes: scalars, ids, enums, AnyValue as pdata ``Value.AsString()``,
attribute maps; and the one resource → scope → item walker the three signals share."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import orjson


class OTLPFormatError(ValueError):
    """A document that is not valid OTLP JSON; the message is one line naming where and what."""


_SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
_SPAN_KIND_NAMES = {f"SPAN_KIND_{w.upper()}": i for i, w in enumerate(_SPAN_KINDS)}
_STATUS_CODES = ("Unset", "Ok", "Error")
_STATUS_CODE_NAMES = {f"STATUS_CODE_{w.upper()}": i for i, w in enumerate(_STATUS_CODES)}
_TEMPORALITY_NAMES = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0,
    "AGGREGATION_TEMPORALITY_DELTA": 1,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
}
_SEVERITY_NAMES = {"SEVERITY_NUMBER_UNSPECIFIED": 0} | {
    f"SEVERITY_NUMBER_{level}{'' if n == 1 else n}": base + n - 1
    for level, base in (("TRACE", 1), ("DEBUG", 5), ("INFO", 9), ("WARN", 13), ("ERROR", 17), ("FATAL", 21))
    for n in range(1, 5)
}

_UINT64_MAX = (1 << 64) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_ZERO_TRACE_ID = "0" * 32
_ZERO_SPAN_ID = "0" * 16
_EMPTY_ATTRS: dict[str, str] = {}
_EMPTY: dict[str, Any] = {}


# ----------------------------------------------------------------------------------------------------------
# scalar decoding
# ----------------------------------------------------------------------------------------------------------


def _uint64(value: Any, field: str) -> int:
    """fixed64 / uint64 JSON value: a decimal string or a non-negative integer; absent means 0."""
    if value is None:
        return 0
    if type(value) is int:
        n = value
    elif type(value) is str and value.isascii() and value.isdigit():
        n = int(value)
    else:
        raise OTLPFormatError(f"{field} must be an unsigned 64-bit integer, got {value!r:.60}")
    if n < 0 or n > _UINT64_MAX:
        raise OTLPFormatError(f"{field} out of range: {n}")
    return n


def _timestamp(value: Any, field: str) -> int:
    """Nanoseconds since the epoch, limited to what DateTime64(9) holds."""
    if value.__class__ is str:
        if value.isdigit() and value.isascii():
            n = int(value)
            if n <= _INT64_MAX:
                return n
    elif value.__class__ is int and 0 <= value <= _INT64_MAX:
        return value
    n = _uint64(value, field)
    if n > _INT64_MAX:
        raise OTLPFormatError(f"{field} out of range for DateTime64(9): {n}")
    return n


def _int64(value: Any, field: str) -> int:
    if value is None:
        return 0
    if type(value) is int:
        n = value
    elif type(value) is str:
        digits = value[1:] if value[:1] == "-" else value
        if not (digits.isascii() and digits.isdigit()):
            raise OTLPFormatError(f"{field} must be a 64-bit integer, got {value!r:.60}")
        n = int(value)
    else:
        raise OTLPFormatError(f"{field} must be a 64-bit integer, got {value!r:.60}")
    if n < _INT64_MIN or n > _INT64_MAX:
        raise OTLPFormatError(f"{field} out of range: {n}")
    return n


def _int32(value: Any, field: str) -> int:
    if value is None:
        return 0
    if type(value) is not int:
        raise OTLPFormatError(f"{field} must be an integer, got {value!r:.60}")
    if not -(1 << 31) <= value < (1 << 31):
        raise OTLPFormatError(f"{field} out of range: {value}")
    return value


def _uint32(value: Any, field: str) -> int:
    if value is None:
        return 0
    if type(value) is not int or not 0 <= value <= 0xFFFFFFFF:
        raise OTLPFormatError(f"{field} must be an unsigned 32-bit integer, got {value!r:.60}")
    return value


def _double(value: Any, field: str) -> float:
    if value is None:
        return 0.0
    t = type(value)
    if t is float:
        return float(value)  # the same object (value is exactly a float); tells the type checker so
    if t is int:
        return float(value)
    if t is str:
        try:
            return float(value)
        except ValueError:
            pass
    raise OTLPFormatError(f"{field} must be a number, got {value!r:.60}")


def _string(value: Any, field: str) -> str:
    if value is None:
        return ""
    if type(value) is not str:
        raise OTLPFormatError(f"{field} must be a string, got {value!r:.60}")
    return value


def _enum(value: Any, names: dict[str, int], field: str) -> int:
    if value is None:
        return 0
    if type(value) is int:
        return value
    if type(value) is str:
        if value in names:
            return names[value]
        digits = value[1:] if value[:1] == "-" else value
        if digits.isascii() and digits.isdigit():  # a quoted number, as ClickHouse also reads it
            return int(value)
    raise OTLPFormatError(f"{field} must be an enum number or name, got {value!r:.60}")


def _hex_id(value: Any, length: int, field: str) -> str:
    """A trace id (32 hex digits) or span id (16) in either case → lowercase; '' stays ''."""
    if not value:
        if value is None or value == "":
            return ""
        raise OTLPFormatError(f"{field} must be a hex string, got {value!r:.60}")
    if type(value) is not str or len(value) != length:
        raise OTLPFormatError(f"{field} must be {length} hex digits, got {value!r:.60}")
    try:
        decoded = bytes.fromhex(value)
    except ValueError:
        raise OTLPFormatError(f"{field} must be {length} hex digits, got {value!r:.60}") from None
    if len(decoded) * 2 != length:  # bytes.fromhex skips spaces
        raise OTLPFormatError(f"{field} must be {length} hex digits, got {value!r:.60}")
    return value.lower()


def _id_reader(length: int, default_field: str) -> Callable[..., str]:
    """Reads one kind of id (a trace id: 32 hex digits, a span id: 16) as traceutil's
    TraceIDToHexOrEmptyString / SpanIDToHexOrEmptyString: lowercase, and the all-zero (invalid) id is ''.
    A valid id costs one fromhex; anything else goes through `_hex_id` for its error."""
    zero = "0" * length
    size = length // 2

    def read(value: Any, field: str = default_field) -> str:
        if value.__class__ is str and len(value) == length:
            try:
                if len(_fromhex(value)) == size:
                    value = value.lower()
                    return "" if value == zero else value
            except ValueError:
                pass
        hex_id = _hex_id(value, length, field)
        return "" if hex_id == zero else hex_id

    return read


_trace_id = _id_reader(32, "traceId")
_span_id = _id_reader(16, "spanId")
_fromhex = bytes.fromhex
_UINT64 = (1 << 64) - 1


# ----------------------------------------------------------------------------------------------------------
# AnyValue → string, exactly as pdata Value.AsString()
# ----------------------------------------------------------------------------------------------------------


def go_float(f: float) -> str:
    """Go's float64AsString / encoding/json float formatting (ES6 number to string)."""
    r = repr(f)
    if "e" not in r and r[-1] != "n" and r[-1] != "f":
        # Python chose fixed notation, so 1e-4 <= |f| < 1e16: Go's 'f' format gives the same digits
        return r[:-2] if r.endswith(".0") else r
    if f != f or f in (math.inf, -math.inf):
        return "NaN" if f != f else ("Infinity" if f > 0 else "-Infinity")  # pdata float64AsString (>= 0.151)
    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        # Go 'e' format: shortest digits, exponent without zero padding for negatives (e-07 → e-7).
        mantissa, _, exp = r.partition("e")
        sign = exp[0]
        digits = exp[1:].lstrip("0") or "0"
        if sign == "+" and len(digits) < 2:
            digits = digits.rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    if "e" in r:
        return format(Decimal(r), "f")
    if r.endswith(".0"):
        return r[:-2]
    return r


def _bytes_b64(value: Any, field: str) -> str:
    """bytesValue is base64 in OTLP JSON; the exporter writes it back as standard padded base64."""
    if type(value) is not str:
        raise OTLPFormatError(f"{field}.bytesValue must be a base64 string, got {value!r:.60}")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:  # proto3 JSON also accepts URL-safe base64 and missing padding
            raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise OTLPFormatError(f"{field}.bytesValue is not base64: {value!r:.60}") from None
    return base64.b64encode(raw).decode("ascii")


class _Unsupported(Exception):
    """NaN or ±Inf inside an array or kvlist: Go's json.Marshal fails and AsString returns ''."""


def _raw(value: Any, field: str) -> Any:
    """AnyValue → the Go value AsRaw() returns, as a Python value orjson can serialise like Go does."""
    if type(value) is not dict:
        raise OTLPFormatError(f"{field} must be an AnyValue object, got {value!r:.60}")
    if "stringValue" in value:
        return _string(value["stringValue"], field + ".stringValue")
    if "intValue" in value:
        return _int64(value["intValue"], field + ".intValue")
    if "doubleValue" in value:
        f = _double(value["doubleValue"], field + ".doubleValue")
        if f != f or f in (math.inf, -math.inf):
            raise _Unsupported
        return _GoFloat(f)
    if "boolValue" in value:
        b = value["boolValue"]
        if type(b) is not bool:
            raise OTLPFormatError(f"{field}.boolValue must be true or false, got {b!r:.60}")
        return b
    if "arrayValue" in value:
        arr = value["arrayValue"] or _EMPTY
        return [_raw(v, f"{field}.arrayValue[{i}]") for i, v in enumerate(_list(arr.get("values"), field))]
    if "kvlistValue" in value:
        kvl = value["kvlistValue"] or _EMPTY
        out: dict[str, Any] = {}
        for i, kv in enumerate(_list(kvl.get("values"), field)):
            if type(kv) is not dict:
                raise OTLPFormatError(f"{field}.kvlistValue[{i}] must be an object")
            out[_string(kv.get("key"), f"{field}.kvlistValue[{i}].key")] = _raw(
                kv.get("value") or _EMPTY, f"{field}.kvlistValue[{i}].value"
            )
        return out
    if "bytesValue" in value:
        return _bytes_b64(value["bytesValue"], field)
    return None


class _GoFloat(float):
    """A double inside an array/kvlist, serialised with Go's formatting (orjson would write 100.0)."""


def _dump_go_json(raw: Any) -> str:
    """json.Marshal(AsRaw()) without HTML escaping: sorted keys, compact, Go number formats."""
    if type(raw) is _GoFloat:
        return go_float(raw)
    if type(raw) is list:
        return "[" + ",".join(_dump_go_json(v) for v in raw) + "]"
    if type(raw) is dict:
        return (
            "{"
            + ",".join(_json_str(k) + ":" + _dump_go_json(raw[k]) for k in sorted(raw, key=_go_key_order))
            + "}"
        )
    if raw is None:
        return "null"
    if raw is True:
        return "true"
    if raw is False:
        return "false"
    if type(raw) is int:
        return str(raw)
    return _json_str(raw)


def _go_key_order(key: str) -> bytes:
    # Go sorts map keys as byte strings (UTF-8), which differs from Python's code point order only for
    # surrogate-range characters; encode to be exact.
    return key.encode("utf-8", "surrogatepass")


def _json_str(s: str) -> str:
    out = orjson.dumps(s).decode("utf-8")
    if "\u2028" in out or "\u2029" in out:  # Go escapes these even without HTML escaping
        out = out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return out


def any_value_str(value: Any, field: str = "value") -> str:
    """pdata Value.AsString() of an OTLP JSON AnyValue (None or {} is the empty value → '')."""
    if not value:
        if value is None or type(value) is dict:
            return ""
        raise OTLPFormatError(f"{field} must be an AnyValue object, got {value!r:.60}")
    if type(value) is not dict:
        raise OTLPFormatError(f"{field} must be an AnyValue object, got {value!r:.60}")
    s = value.get("stringValue")
    if s is not None:
        if type(s) is not str:
            raise OTLPFormatError(f"{field}.stringValue must be a string, got {s!r:.60}")
        return s
    if "intValue" in value:
        return str(_int64(value["intValue"], field + ".intValue"))
    if "boolValue" in value:
        b = value["boolValue"]
        if type(b) is not bool:
            raise OTLPFormatError(f"{field}.boolValue must be true or false, got {b!r:.60}")
        return "true" if b else "false"
    if "doubleValue" in value:
        return go_float(_double(value["doubleValue"], field + ".doubleValue"))
    if "arrayValue" in value or "kvlistValue" in value:
        try:
            return _dump_go_json(_raw(value, field))
        except _Unsupported:
            return ""
    if "bytesValue" in value:
        return _bytes_b64(value["bytesValue"], field)
    return ""


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if type(value) is not list:
        raise OTLPFormatError(f"{field} must be a list, got {type(value).__name__}")
    return value


class DuplicateKeys:
    """A map value holding a key more than once: pdata keeps every entry of an attribute list and the
    exporter writes them all (sorted by key, duplicates in arrival order). clickhouse-connect reads it through
    keys()/values(); documents.py writes it as a JSON object with the key repeated, which ClickHouse keeps."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def keys(self) -> list[str]:
        return [k for k, _ in self.pairs]

    def values(self) -> list[str]:
        return [v for _, v in self.pairs]

    def items(self) -> list[tuple[str, str]]:
        return list(self.pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DuplicateKeys) and other.pairs == self.pairs

    def __repr__(self) -> str:
        return f"DuplicateKeys({self.pairs!r})"


def _first(pair: tuple[str, str]) -> str:
    return pair[0]


def _sorted_map(pairs: list[tuple[str, str]]) -> dict[str, str] | DuplicateKeys:
    """The exporter's map (clickhouse-go orderedmap): keys sorted by byte order (for UTF-8 the code point
    order Python uses), duplicates kept in arrival order (Go's sort is insertion sort up to 12 entries)."""
    if len(pairs) < 2:
        return dict(pairs)
    pairs.sort(key=_first)  # stable
    previous = None
    for key, _ in pairs:
        if key == previous:
            return DuplicateKeys(pairs)
        previous = key
    return dict(pairs)


def _attrs(attributes: Any, field: str) -> dict[str, str] | DuplicateKeys:
    """An attribute list → a Map(String, String) value as the exporter writes it (see _sorted_map)."""
    if attributes.__class__ is not list:
        if attributes is None:
            return _EMPTY_ATTRS
        raise OTLPFormatError(f"{field} must be a list, got {type(attributes).__name__}")
    out: list[tuple[str, str]] = []
    append = out.append
    for kv in attributes:
        # fast path: {"key": str, "value": {"<kind>Value": scalar}} — everything else goes the careful way
        if kv.__class__ is dict:
            key = kv.get("key")
            v = kv.get("value")
            if key.__class__ is str and v.__class__ is dict and len(v) == 1:
                x = v.get("stringValue")
                if x.__class__ is str:
                    append((key, x))
                    continue
                x = v.get("intValue")
                if (
                    x.__class__ is str
                    and x.isdigit()
                    and x.isascii()
                    and len(x) < 19
                    and (x[0] != "0" or x == "0")
                ):
                    append((key, x))  # already canonical: what strconv.FormatInt would print
                    continue
                x = v.get("boolValue")
                if x is True or x is False:
                    append((key, "true" if x else "false"))
                    continue
                x = v.get("doubleValue")
                if x.__class__ is float:
                    append((key, go_float(x)))
                    continue
        append(_attr_slow(kv, field))
    return _sorted_map(out)


def _attr_slow(kv: Any, field: str) -> tuple[str, str]:
    if kv.__class__ is not dict:
        raise OTLPFormatError(f"{field} entries must be objects, got {kv!r:.60}")
    key = kv.get("key")
    if key.__class__ is not str:
        raise OTLPFormatError(f"{field} key must be a string, got {key!r:.60}")
    return key, any_value_str(kv.get("value"), f"{field}[{key}]")


def _service_name(attributes: Any) -> str:
    """GetServiceName: the resource attribute service.name, stringified like any attribute."""
    for kv in attributes or ():
        if type(kv) is dict and kv.get("key") == "service.name":
            name = any_value_str(kv.get("value"), "service.name")
            # pdata keeps the first of duplicate keys for Get(); keep scanning only when it is absent
            return name
    return ""


def _obj(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return _EMPTY
    if type(value) is not dict:
        raise OTLPFormatError(f"{field} must be an object, got {type(value).__name__}")
    return value


def _document(doc: Any, top: str) -> list[Any]:
    if type(doc) is not dict:
        raise OTLPFormatError(f"document must be a JSON object, got {type(doc).__name__}")
    return _list(doc.get(top), top)


def resource_attrs(resource_container: dict[str, Any]) -> tuple[dict[str, str] | DuplicateKeys, str]:
    """A resourceSpans/Logs/Metrics entry → (its resource attributes as a map, its service.name)."""
    resource = _obj(resource_container.get("resource"), "resource")
    attr_list = resource.get("attributes")
    return _attrs(attr_list, "resource.attributes"), _service_name(attr_list)


R = TypeVar("R")
S = TypeVar("S")


def walk(
    doc: Any,
    keys: tuple[str, str, str],
    on_resource: Callable[[dict[str, Any]], R],
    on_scope: Callable[[R, dict[str, Any]], S],
    on_item: Callable[[S, Any], None],
) -> None:
    """The resource → scope → item walk of every signal. `keys` names the three levels (e.g. resourceSpans,
    scopeSpans, spans); the hooks read each level, `on_item` appends the rows. Errors name where they are."""
    top, scopes_key, items_key = keys
    for i, container in enumerate(_document(doc, top)):
        where = f"{top}[{i}]"
        try:
            container = _obj(container, where)
            resource = on_resource(container)
            for j, scope_container in enumerate(_list(container.get(scopes_key), scopes_key)):
                where = f"{top}[{i}].{scopes_key}[{j}]"
                scope_container = _obj(scope_container, scopes_key)
                scope = on_scope(resource, scope_container)
                for k, item in enumerate(_list(scope_container.get(items_key), items_key)):
                    where = f"{top}[{i}].{scopes_key}[{j}].{items_key}[{k}]"
                    on_item(scope, item)
        except OTLPFormatError as exc:
            raise OTLPFormatError(f"{where}: {exc}") from None
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise OTLPFormatError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None
