"""OTLP JSON documents → rows for the collector clickhouseexporter's tables (exporter 0.151 – 0.159).

Pure functions: a document (a dict as ``orjson.loads`` returns it for the collector's ``otlp_json`` files, or
the same shape built from protobuf with hex ids) becomes rows in the exporter's insert column order, ready for
``client.insert(table, rows, column_names=COLUMNS)`` with clickhouse-connect.

Value encodings follow the exporter exactly:
- ids are lowercase hex; an absent or all-zero span/log id is ``''`` (exemplar ids stay hex, zeros kept);
- SpanKind / StatusCode are pdata's words (``Server``, ``Error``); an unknown number gives ``''``;
- every attribute value is pdata ``Value.AsString()``: ints in decimal, doubles in Go's ES6 style
  (``1.5``, ``100``, ``1e+21``), bools ``true``/``false``, bytes in base64, arrays and kvlists as compact JSON
  with sorted keys and no HTML escaping, an empty value ``''``;
- DateTime64(9) columns are integer nanoseconds since the epoch (clickhouse-connect writes ints as raw ticks).

Accepted input variants (OTLP JSON rules): ids in either hex case, 64-bit integers as decimal strings or
numbers, doubles as numbers or strings (``"NaN"``, ``"Infinity"``), enums as numbers or as their proto names
(``"SPAN_KIND_SERVER"``). Unknown fields are ignored. Anything else raises ``OTLPFormatError`` with one line
saying where and what.
"""

from __future__ import annotations

import base64
import binascii
import math
from decimal import Decimal
from typing import Any

import orjson

__all__ = [
    "LOG_COLUMNS",
    "METRIC_COLUMNS",
    "METRIC_TABLES",
    "TRACE_COLUMNS",
    "OTLPFormatError",
    "any_value_str",
    "log_rows",
    "metric_rows",
    "trace_rows",
]


class OTLPFormatError(ValueError):
    """A document that is not valid OTLP JSON; the message is one line naming where and what."""


TRACE_COLUMNS: tuple[str, ...] = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)

LOG_COLUMNS: tuple[str, ...] = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
    "EventName",
)

_METRIC_COMMON = (
    "ResourceAttributes",
    "ResourceSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeDroppedAttrCount",
    "ScopeSchemaUrl",
    "ServiceName",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Attributes",
    "StartTimeUnix",
    "TimeUnix",
)
_EXEMPLARS = (
    "Exemplars.FilteredAttributes",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.SpanId",
    "Exemplars.TraceId",
)

METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "gauge": (*_METRIC_COMMON, "Value", "Flags", *_EXEMPLARS),
    "sum": (*_METRIC_COMMON, "Value", "Flags", *_EXEMPLARS, "AggregationTemporality", "IsMonotonic"),
    "histogram": (
        *_METRIC_COMMON,
        "Count",
        "Sum",
        "BucketCounts",
        "ExplicitBounds",
        *_EXEMPLARS,
        "Flags",
        "Min",
        "Max",
        "AggregationTemporality",
    ),
    "exponential_histogram": (
        *_METRIC_COMMON,
        "Count",
        "Sum",
        "Scale",
        "ZeroCount",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
        *_EXEMPLARS,
        "Flags",
        "Min",
        "Max",
        "AggregationTemporality",
    ),
    "summary": (
        *_METRIC_COMMON,
        "Count",
        "Sum",
        "ValueAtQuantiles.Quantile",
        "ValueAtQuantiles.Value",
        "Flags",
    ),
}

# The exporter's default table for each metric kind (the keys of METRIC_COLUMNS).
METRIC_TABLES: dict[str, str] = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "histogram": "otel_metrics_histogram",
    "exponential_histogram": "otel_metrics_exponential_histogram",
    "summary": "otel_metrics_summary",
}

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
        return value
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


def _trace_id(value: Any, field: str = "traceId") -> str:
    """traceutil.TraceIDToHexOrEmptyString: the all-zero (invalid) id is ''."""
    if value.__class__ is str and len(value) == 32:
        try:
            if len(_fromhex(value)) == 16:
                value = value.lower()
                return "" if value == _ZERO_TRACE_ID else value
        except ValueError:
            pass
    tid = _hex_id(value, 32, field)
    return "" if tid == _ZERO_TRACE_ID else tid


def _span_id(value: Any, field: str = "spanId") -> str:
    if value.__class__ is str and len(value) == 16:
        try:
            if len(_fromhex(value)) == 8:
                value = value.lower()
                return "" if value == _ZERO_SPAN_ID else value
        except ValueError:
            pass
    sid = _hex_id(value, 16, field)
    return "" if sid == _ZERO_SPAN_ID else sid


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


def _list(value: Any, field: str) -> list:
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


def _obj(value: Any, field: str) -> dict:
    if value is None:
        return _EMPTY
    if type(value) is not dict:
        raise OTLPFormatError(f"{field} must be an object, got {type(value).__name__}")
    return value


def _document(doc: Any, top: str) -> list:
    if type(doc) is not dict:
        raise OTLPFormatError(f"document must be a JSON object, got {type(doc).__name__}")
    return _list(doc.get(top), top)


# ----------------------------------------------------------------------------------------------------------
# traces
# ----------------------------------------------------------------------------------------------------------


def trace_rows(doc: dict) -> list[list]:
    """{"resourceSpans": [...]} → rows in TRACE_COLUMNS order."""
    rows: list[list] = []
    append = rows.append
    for i, rs in enumerate(_document(doc, "resourceSpans")):
        where = f"resourceSpans[{i}]"
        try:
            rs = _obj(rs, where)
            resource = _obj(rs.get("resource"), "resource")
            res_attr_list = resource.get("attributes")
            res_attrs = _attrs(res_attr_list, "resource.attributes")
            service = _service_name(res_attr_list)
            for j, ss in enumerate(_list(rs.get("scopeSpans"), "scopeSpans")):
                where = f"resourceSpans[{i}].scopeSpans[{j}]"
                ss = _obj(ss, "scopeSpans")
                scope = _obj(ss.get("scope"), "scope")
                scope_name = _string(scope.get("name"), "scope.name")
                scope_version = _string(scope.get("version"), "scope.version")
                for k, span in enumerate(_list(ss.get("spans"), "spans")):
                    where = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                    append(_span_row(span, service, res_attrs, scope_name, scope_version))
        except OTLPFormatError as exc:
            raise OTLPFormatError(f"{where}: {exc}") from None
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise OTLPFormatError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None
    return rows


_KIND_WORDS: dict[Any, str] = {i: w for i, w in enumerate(_SPAN_KINDS)} | {
    name: _SPAN_KINDS[i] for name, i in _SPAN_KIND_NAMES.items()
}
_STATUS_WORDS: dict[Any, str] = {i: w for i, w in enumerate(_STATUS_CODES)} | {
    name: _STATUS_CODES[i] for name, i in _STATUS_CODE_NAMES.items()
}


def _word(value: Any, words: dict[Any, str], names: dict[str, int], field: str) -> str:
    """An enum as the exporter writes it; an unknown number is '' (pdata's String() of it)."""
    if value is None:
        return words[0]
    if value.__class__ is not bool:
        word = words.get(value)
        if word is not None:
            return word
    n = _enum(value, names, field)  # raises for a name it does not know, or a non-integer
    return words.get(n, "")


def _str_field(obj: dict, name: str) -> str:
    value = obj.get(name, "")
    return value if value.__class__ is str else _string(value, name)


def _span_row(
    span: Any, service: str, res_attrs: dict[str, str], scope_name: str, scope_version: str
) -> list:
    if span.__class__ is not dict:
        raise OTLPFormatError(f"span must be an object, got {type(span).__name__}")
    get = span.get
    start = _timestamp(get("startTimeUnixNano"), "startTimeUnixNano")
    end = _timestamp(get("endTimeUnixNano"), "endTimeUnixNano")
    status = get("status") or _EMPTY
    if status.__class__ is not dict:
        raise OTLPFormatError("status must be an object")
    kind = get("kind")
    kind_word = (
        _KIND_WORDS[kind]
        if kind.__class__ is int and 0 <= kind < 6
        else _word(kind, _KIND_WORDS, _SPAN_KIND_NAMES, "kind")
    )
    code = status.get("code")
    status_word = (
        _STATUS_WORDS[code]
        if code.__class__ is int and 0 <= code < 3
        else _word(code, _STATUS_WORDS, _STATUS_CODE_NAMES, "status.code")
    )

    ev_times: list[int] = []
    ev_names: list[str] = []
    ev_attrs: list[dict[str, str]] = []
    events = get("events")
    if events:
        for n, ev in enumerate(_list(events, "events")):
            ev = _obj(ev, f"events[{n}]")
            ev_times.append(_timestamp(ev.get("timeUnixNano"), f"events[{n}].timeUnixNano"))
            ev_names.append(_string(ev.get("name"), f"events[{n}].name"))
            ev_attrs.append(_attrs(ev.get("attributes"), f"events[{n}].attributes"))

    ln_traces: list[str] = []
    ln_spans: list[str] = []
    ln_states: list[str] = []
    ln_attrs: list[dict[str, str]] = []
    links = get("links")
    if links:
        for n, ln in enumerate(_list(links, "links")):
            ln = _obj(ln, f"links[{n}]")
            ln_traces.append(_trace_id(ln.get("traceId"), f"links[{n}].traceId"))
            ln_spans.append(_span_id(ln.get("spanId"), f"links[{n}].spanId"))
            ln_states.append(_string(ln.get("traceState"), f"links[{n}].traceState"))
            ln_attrs.append(_attrs(ln.get("attributes"), f"links[{n}].attributes"))

    parent = get("parentSpanId")
    return [
        start,
        _trace_id(get("traceId")),
        _span_id(get("spanId")),
        _span_id(parent, "parentSpanId"),
        _str_field(span, "traceState"),
        _str_field(span, "name"),
        kind_word,
        service,
        res_attrs,
        scope_name,
        scope_version,
        _attrs(get("attributes"), "attributes"),
        (end - start)
        & _UINT64,  # pcommon.Timestamp (uint64) subtraction: end < start wraps around, as upstream
        status_word,
        _str_field(status, "message"),
        ev_times,
        ev_names,
        ev_attrs,
        ln_traces,
        ln_spans,
        ln_states,
        ln_attrs,
    ]


# ----------------------------------------------------------------------------------------------------------
# logs
# ----------------------------------------------------------------------------------------------------------


def log_rows(doc: dict) -> list[list]:
    """{"resourceLogs": [...]} → rows in LOG_COLUMNS order."""
    rows: list[list] = []
    append = rows.append
    for i, rl in enumerate(_document(doc, "resourceLogs")):
        where = f"resourceLogs[{i}]"
        try:
            rl = _obj(rl, where)
            resource = _obj(rl.get("resource"), "resource")
            res_attr_list = resource.get("attributes")
            res_attrs = _attrs(res_attr_list, "resource.attributes")
            service = _service_name(res_attr_list)
            res_url = _string(rl.get("schemaUrl"), "schemaUrl")
            for j, sl in enumerate(_list(rl.get("scopeLogs"), "scopeLogs")):
                where = f"resourceLogs[{i}].scopeLogs[{j}]"
                sl = _obj(sl, "scopeLogs")
                scope = _obj(sl.get("scope"), "scope")
                scope_name = _string(scope.get("name"), "scope.name")
                scope_version = _string(scope.get("version"), "scope.version")
                scope_attrs = _attrs(scope.get("attributes"), "scope.attributes")
                scope_url = _string(sl.get("schemaUrl"), "schemaUrl")
                for k, rec in enumerate(_list(sl.get("logRecords"), "logRecords")):
                    where = f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"
                    rec = _obj(rec, "logRecord")
                    ts = _timestamp(rec.get("timeUnixNano"), "timeUnixNano")
                    if ts == 0:
                        ts = _timestamp(rec.get("observedTimeUnixNano"), "observedTimeUnixNano")
                    append(
                        [
                            ts,
                            _trace_id(rec.get("traceId")),
                            _span_id(rec.get("spanId")),
                            _uint32(rec.get("flags"), "flags") & 0xFF,
                            _string(rec.get("severityText"), "severityText"),
                            _enum(rec.get("severityNumber"), _SEVERITY_NAMES, "severityNumber") & 0xFF,
                            service,
                            any_value_str(rec.get("body"), "body"),
                            res_url,
                            res_attrs,
                            scope_url,
                            scope_name,
                            scope_version,
                            scope_attrs,
                            _attrs(rec.get("attributes"), "attributes"),
                            _string(rec.get("eventName"), "eventName"),
                        ]
                    )
        except OTLPFormatError as exc:
            raise OTLPFormatError(f"{where}: {exc}") from None
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise OTLPFormatError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None
    return rows


# ----------------------------------------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------------------------------------

_METRIC_DATA_KEYS = (
    ("gauge", "gauge"),
    ("sum", "sum"),
    ("histogram", "histogram"),
    ("exponentialHistogram", "exponential_histogram"),
    ("summary", "summary"),
)


def _exemplars(exemplars: Any, field: str) -> tuple[list, list, list, list, list]:
    attrs: list[dict[str, str]] = []
    times: list[int] = []
    values: list[float] = []
    span_ids: list[str] = []
    trace_ids: list[str] = []
    for n, ex in enumerate(_list(exemplars, field)):
        ex = _obj(ex, f"{field}[{n}]")
        attrs.append(_attrs(ex.get("filteredAttributes"), f"{field}[{n}].filteredAttributes"))
        times.append(_timestamp(ex.get("timeUnixNano"), f"{field}[{n}].timeUnixNano"))
        values.append(_number_value(ex, f"{field}[{n}]"))
        # the exporter hex-encodes the raw 16/8 bytes: an absent id is all zeros, not ''
        span_ids.append(_hex_id(ex.get("spanId"), 16, f"{field}[{n}].spanId") or _ZERO_SPAN_ID)
        trace_ids.append(_hex_id(ex.get("traceId"), 32, f"{field}[{n}].traceId") or _ZERO_TRACE_ID)
    return attrs, times, values, span_ids, trace_ids


def _number_value(point: dict, field: str) -> float:
    if "asDouble" in point:
        return _double(point["asDouble"], field + ".asDouble")
    if "asInt" in point:
        return float(_int64(point["asInt"], field + ".asInt"))
    return 0.0


def _uint64_list(value: Any, field: str) -> list[int]:
    return [_uint64(v, field) for v in _list(value, field)]


def _double_list(value: Any, field: str) -> list[float]:
    return [_double(v, field) for v in _list(value, field)]


def metric_rows(doc: dict) -> dict[str, list[list]]:
    """{"resourceMetrics": [...]} → {kind: rows in METRIC_COLUMNS[kind] order}, every kind present."""
    out: dict[str, list[list]] = {kind: [] for kind in METRIC_COLUMNS}
    for i, rm in enumerate(_document(doc, "resourceMetrics")):
        where = f"resourceMetrics[{i}]"
        try:
            rm = _obj(rm, where)
            resource = _obj(rm.get("resource"), "resource")
            res_attr_list = resource.get("attributes")
            res_attrs = _attrs(res_attr_list, "resource.attributes")
            service = _service_name(res_attr_list)
            res_url = _string(rm.get("schemaUrl"), "schemaUrl")
            for j, sm in enumerate(_list(rm.get("scopeMetrics"), "scopeMetrics")):
                where = f"resourceMetrics[{i}].scopeMetrics[{j}]"
                sm = _obj(sm, "scopeMetrics")
                scope = _obj(sm.get("scope"), "scope")
                scope_prefix = (
                    res_attrs,
                    res_url,
                    _string(scope.get("name"), "scope.name"),
                    _string(scope.get("version"), "scope.version"),
                    _attrs(scope.get("attributes"), "scope.attributes"),
                    _uint32(scope.get("droppedAttributesCount"), "scope.droppedAttributesCount"),
                    _string(sm.get("schemaUrl"), "schemaUrl"),
                    service,
                )
                for k, metric in enumerate(_list(sm.get("metrics"), "metrics")):
                    where = f"resourceMetrics[{i}].scopeMetrics[{j}].metrics[{k}]"
                    _metric(_obj(metric, "metric"), scope_prefix, out)
        except OTLPFormatError as exc:
            raise OTLPFormatError(f"{where}: {exc}") from None
        except (TypeError, AttributeError, ValueError, KeyError) as exc:
            raise OTLPFormatError(f"{where}: malformed ({type(exc).__name__}: {exc})") from None
    return out


def _metric(metric: dict, scope_prefix: tuple, out: dict[str, list[list]]) -> None:
    name = _string(metric.get("name"), "name")
    prefix = (
        *scope_prefix,
        name,
        _string(metric.get("description"), "description"),
        _string(metric.get("unit"), "unit"),
    )
    found = next(((key, kind) for key, kind in _METRIC_DATA_KEYS if metric.get(key) is not None), None)
    if found is None:  # the exporter fails the whole push ("metrics type is unset"): nothing of it is stored
        raise OTLPFormatError(f"metric {name!r}: metrics type is unset (no gauge, sum, histogram or summary)")
    key, kind = found
    data = metric[key]
    data = _obj(data, key)
    temporality = _enum(data.get("aggregationTemporality"), _TEMPORALITY_NAMES, "aggregationTemporality")
    rows = out[kind]
    for n, dp in enumerate(_list(data.get("dataPoints"), f"{key}.dataPoints")):
        f = f"{key}.dataPoints[{n}]"
        dp = _obj(dp, f)
        common = [
            *prefix,
            _attrs(dp.get("attributes"), f + ".attributes"),
            _timestamp(dp.get("startTimeUnixNano"), f + ".startTimeUnixNano"),
            _timestamp(dp.get("timeUnixNano"), f + ".timeUnixNano"),
        ]
        flags = _uint32(dp.get("flags"), f + ".flags")
        exemplars = _exemplars(dp.get("exemplars"), f + ".exemplars")
        if kind == "gauge":
            rows.append([*common, _number_value(dp, f), flags, *exemplars])
        elif kind == "sum":
            mono = data.get("isMonotonic", False)
            if type(mono) is not bool:
                raise OTLPFormatError(f"sum.isMonotonic must be true or false, got {mono!r:.60}")
            rows.append([*common, _number_value(dp, f), flags, *exemplars, temporality, mono])
        elif kind == "histogram":
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    _uint64_list(dp.get("bucketCounts"), f + ".bucketCounts"),
                    _double_list(dp.get("explicitBounds"), f + ".explicitBounds"),
                    *exemplars,
                    flags,
                    _double(dp.get("min"), f + ".min"),
                    _double(dp.get("max"), f + ".max"),
                    temporality,
                ]
            )
        elif kind == "exponential_histogram":
            pos = _obj(dp.get("positive"), f + ".positive")
            neg = _obj(dp.get("negative"), f + ".negative")
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    _int32(dp.get("scale"), f + ".scale"),
                    _uint64(dp.get("zeroCount"), f + ".zeroCount"),
                    _int32(pos.get("offset"), f + ".positive.offset"),
                    _uint64_list(pos.get("bucketCounts"), f + ".positive.bucketCounts"),
                    _int32(neg.get("offset"), f + ".negative.offset"),
                    _uint64_list(neg.get("bucketCounts"), f + ".negative.bucketCounts"),
                    *exemplars,
                    flags,
                    _double(dp.get("min"), f + ".min"),
                    _double(dp.get("max"), f + ".max"),
                    temporality,
                ]
            )
        else:  # summary
            quantiles: list[float] = []
            values: list[float] = []
            for q_i, q in enumerate(_list(dp.get("quantileValues"), f + ".quantileValues")):
                q = _obj(q, f"{f}.quantileValues[{q_i}]")
                quantiles.append(_double(q.get("quantile"), f"{f}.quantileValues[{q_i}].quantile"))
                values.append(_double(q.get("value"), f"{f}.quantileValues[{q_i}].value"))
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    quantiles,
                    values,
                    flags,
                ]
            )
