"""Decode and screen OTLP export requests: protobuf or JSON bodies in, validated request messages out.

Pure functions. A body that cannot be decoded is a `BadPayload` (HTTP 400 / gRPC INVALID_ARGUMENT, with its
reason). Items a decodable request carries but that no exporter could store (ids of the wrong length or
all zero) are taken out and counted, so the receiver can answer with OTLP partial success.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
import otlp_rows
from google.protobuf.json_format import ParseDict, ParseError
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from . import otlp_json


class BadPayload(ValueError):
    """The request body is not a valid OTLP export request; the message says why."""


# ---------------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------------


def decode_protobuf(signal: Signal, body: bytes) -> Message:
    try:
        return signal.spec.request.FromString(body)
    except DecodeError as exc:
        raise BadPayload(f"body is not a protobuf {signal.spec.request.DESCRIPTOR.name}: {exc}") from None


def decode_json(signal: Signal, body: bytes) -> Message:
    """OTLP/JSON: proto3 JSON with hex ids and enums as ints or names; unknown fields are ignored."""
    try:
        doc = orjson.loads(otlp_rows.keep_negative_zero(body)) if body.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise BadPayload(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BadPayload(f"body must be a JSON object, not {type(doc).__name__}")
    if _QUOTED_DOUBLE.search(body):
        _go_doubles(doc)
    _hex_ids_to_base64(signal, doc)
    try:
        return ParseDict(doc, signal.spec.request(), ignore_unknown_fields=True)
    except ParseError as exc:
        raise BadPayload(f"not an OTLP {signal.spec.name} request: {exc}") from None


# Doubles sent as JSON strings are read as the collector reads them, with Go's strconv.ParseFloat: decimal or
# hexadecimal (with a p exponent) Go float literals, underscores between digits, inf/infinity (signed) and nan
# in any case; no spaces, no other digits than ASCII ones, no overflow. One that does not parse fails the
# whole request, as there. (Python's float() would take " 1.5", "1e400" and "٣", and refuse "0x1p-2", "nan".)
_DOUBLE_FIELDS = frozenset(
    {"doubleValue", "double_value", "asDouble", "as_double", "sum", "min", "max", "zeroThreshold",
     "zero_threshold", "quantile", "value"}
)  # fmt: skip
_QUOTED_DOUBLE = re.compile(
    rb'"(?:doubleValue|double_value|asDouble|as_double|sum|min|max|zeroThreshold|zero_threshold|quantile|value)"'
    rb'\s*:\s*"|"(?:explicitBounds|explicit_bounds)"\s*:\s*\[[^\]]*"'
)
_DIGITS, _HEX = r"[0-9](?:_?[0-9])*", r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_GO_DECIMAL = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?")
_GO_HEX = re.compile(rf"[+-]?0[xX](?:_?{_HEX}(?:\.(?:{_HEX})?)?|\.{_HEX})[pP][+-]?{_DIGITS}")
_GO_SPECIAL = re.compile(r"([+-]?)(?:inf|infinity)|nan", re.IGNORECASE)


def go_parse_float(text: str) -> float | str:
    """strconv.ParseFloat(text, 64) as a value ParseDict takes ("NaN"/"Infinity"/"-Infinity" for those)."""
    special = _GO_SPECIAL.fullmatch(text)
    if special:
        if special[0].lower() == "nan":
            return "NaN"
        return "-Infinity" if special[1] == "-" else "Infinity"
    try:
        if _GO_DECIMAL.fullmatch(text):
            value = float(text.replace("_", ""))
        elif _GO_HEX.fullmatch(text):
            value = float.fromhex(text.replace("_", ""))
        else:
            raise BadPayload(f"{text[:40]!r} is not a number (strconv.ParseFloat: invalid syntax)")
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise BadPayload(f"{text[:40]!r} is out of a double's range (strconv.ParseFloat: value out of range)")
    return value


def _go_doubles(node: Any) -> None:
    """Every double field given as a string, parsed in place as the collector parses it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and key in _DOUBLE_FIELDS:
                node[key] = go_parse_float(value)
            elif key in ("explicitBounds", "explicit_bounds") and isinstance(value, list):
                node[key] = [go_parse_float(v) if isinstance(v, str) else v for v in value]
            elif isinstance(value, dict | list):
                _go_doubles(value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list):
                _go_doubles(item)


_ID_KEYS = ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id")


def _fix_ids(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        return
    for key in _ID_KEYS:
        value = item.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise BadPayload(f"{where}.{key}: must be a hex string")
        try:
            item[key] = base64.b64encode(bytes.fromhex(value)).decode()
        except ValueError:
            raise BadPayload(f"{where}.{key}: {value[:40]!r} is not a hex string") from None


def _list(parent: Any, *keys: str) -> list:
    if not isinstance(parent, dict):
        return []
    for key in keys:
        value = parent.get(key)
        if isinstance(value, list):
            return value
    return []


def _hex_ids_to_base64(signal: Signal, doc: dict) -> None:
    """The proto3 JSON mapping wants bytes as base64; OTLP/JSON sends ids as hex. Rewrite them in place."""
    # each key as OTLP/JSON writes it (lowerCamelCase) and as proto3 JSON also accepts it (the field's name)
    resource_key, scope_key, item_key = ((key, _snake(key)) for key in signal.spec.rows.keys)
    for r, res in enumerate(_list(doc, *resource_key)):
        for s, scoped in enumerate(_list(res, *scope_key)):
            for i, item in enumerate(_list(scoped, *item_key)):
                where = f"{resource_key[0]}[{r}].{scope_key[0]}[{s}].{item_key[0]}[{i}]"
                if signal is Signal.METRICS:
                    _fix_exemplar_ids(item, where)
                    continue
                _fix_ids(item, where)
                for k, link in enumerate(_list(item, "links")):
                    _fix_ids(link, f"{where}.links[{k}]")


def _snake(key: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), key)


def _fix_exemplar_ids(metric: Any, where: str) -> None:
    if not isinstance(metric, dict):
        return
    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "exponential_histogram"):
        for p, point in enumerate(_list(metric.get(kind), "dataPoints", "data_points")):
            for e, exemplar in enumerate(_list(point, "exemplars")):
                _fix_ids(exemplar, f"{where}.{kind}.dataPoints[{p}].exemplars[{e}]")


# ---------------------------------------------------------------------------------------------
# screening: what the exporters cannot store is rejected, the rest goes on
# ---------------------------------------------------------------------------------------------


@dataclass
class Screened:
    accepted: int
    rejected: int
    reason: str = ""


def _check_id(value: bytes, size: int, field: str) -> None:
    """pdata's decoder takes an empty id and refuses any other length than the id's: the whole request fails
    (HTTP 400 / gRPC InvalidArgument). Empty and all-zero ids are stored as '' by the exporter."""
    if value and len(value) != size:
        raise BadPayload(f"{field}: {len(value)} bytes (an id is empty or {size} bytes)")


_MAX_TIME = (1 << 63) - 1  # DateTime64(9) ends here


def _time_problem(*times: int) -> str:
    return "timestamp beyond 2262-04-11 (DateTime64(9) range)" if max(times) > _MAX_TIME else ""


def _span_problem(span) -> str:
    _check_id(span.trace_id, 16, "trace_id")
    _check_id(span.span_id, 8, "span_id")
    _check_id(span.parent_span_id, 8, "parent_span_id")
    for link in span.links:
        _check_id(link.trace_id, 16, "link trace_id")
        _check_id(link.span_id, 8, "link span_id")
    return _time_problem(
        span.start_time_unix_nano, span.end_time_unix_nano, 0, *(e.time_unix_nano for e in span.events)
    )


def _log_problem(record) -> str:
    _check_id(record.trace_id, 16, "trace_id")
    _check_id(record.span_id, 8, "span_id")
    return _time_problem(record.time_unix_nano, record.observed_time_unix_nano)


def _exemplars_problem(point) -> str:
    for exemplar in point.exemplars:
        _check_id(exemplar.trace_id, 16, "exemplar trace_id")
        _check_id(exemplar.span_id, 8, "exemplar span_id")
    return ""


def _point_problem(point) -> str:
    problem = _time_problem(point.start_time_unix_nano, point.time_unix_nano)
    if problem:
        return problem
    return _exemplars_problem(point) if hasattr(point, "exemplars") else ""


def screen(signal: Signal, request: Message) -> Screened:
    """Remove, in place, the items no exporter could store; count what is left and what went."""
    return signal.spec.screen(request)


def _screen_traces(request: Any) -> Screened:
    return _screen_items(request.resource_spans, "scope_spans", "spans", _span_problem)


def _screen_logs(request: Any) -> Screened:
    return _screen_items(request.resource_logs, "scope_logs", "log_records", _log_problem)


def _screen(items, problem_of, screened: Screened) -> Screened:
    """Drop the items of one repeated field that cannot be stored, counting them and the first reason."""
    rejected, reason = screened.rejected, screened.reason
    keep = []
    for item in items:
        problem = problem_of(item)
        if problem:
            rejected += 1
            reason = reason or problem
        else:
            keep.append(item)
    if len(keep) != len(items):
        kept = [type(item)() for _ in keep]
        for copy, item in zip(kept, keep, strict=True):
            copy.CopyFrom(item)
        del items[:]
        items.extend(kept)
    return Screened(screened.accepted + len(keep), rejected, reason)


def _screen_items(resources, scope_field: str, item_field: str, problem_of) -> Screened:
    screened = Screened(0, 0, "")
    for res in resources:
        for scoped in getattr(res, scope_field):
            screened = _screen(getattr(scoped, item_field), problem_of, screened)
    return screened


def _screen_metrics(request) -> Screened:
    screened = Screened(0, 0, "")
    for res in request.resource_metrics:
        for scoped in res.scope_metrics:
            for metric in scoped.metrics:
                kind = metric.WhichOneof("data")
                if kind is not None:
                    screened = _screen(getattr(metric, kind).data_points, _point_problem, screened)
    return screened


def response(signal: Signal, screened: Screened) -> Message:
    """The export response: partial_success only when something was rejected (as the OTLP spec asks)."""
    resp = signal.spec.response()
    if screened.rejected:
        partial = resp.partial_success
        setattr(partial, signal.spec.rejected_field, screened.rejected)
        partial.error_message = f"{screened.rejected} {signal.spec.rows.unit} rejected: {screened.reason}"
    return resp


# ---------------------------------------------------------------------------------------------
# the signals (last: their specs name the functions above)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignalSpec:
    """Everything the collector stand-in knows of a signal, in one place (the conversion's part, keys, unit,
    tables and row function, is the otlp_rows library's `SignalRows`)."""

    name: str  # traces | logs | metrics (also the S3 file prefix and the URL path)
    request: type[Message]
    response: type[Message]
    partial: type[Message]
    rejected_field: str  # rejected_spans | rejected_log_records | rejected_data_points
    to_json: Any
    grpc_service: str  # the OTLP/gRPC service whose Export method receives it
    screen: Callable[[Any], Screened]  # takes out, in place, the items no exporter could store
    rows: otlp_rows.SignalRows


class Signal(Enum):
    TRACES = SignalSpec(
        "traces",
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        trace_service_pb2.ExportTracePartialSuccess,
        "rejected_spans",
        otlp_json.traces_to_json,
        "opentelemetry.proto.collector.trace.v1.TraceService",
        _screen_traces,
        otlp_rows.TRACES,
    )
    LOGS = SignalSpec(
        "logs",
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        logs_service_pb2.ExportLogsPartialSuccess,
        "rejected_log_records",
        otlp_json.logs_to_json,
        "opentelemetry.proto.collector.logs.v1.LogsService",
        _screen_logs,
        otlp_rows.LOGS,
    )
    METRICS = SignalSpec(
        "metrics",
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        metrics_service_pb2.ExportMetricsPartialSuccess,
        "rejected_data_points",
        otlp_json.metrics_to_json,
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        _screen_metrics,
        otlp_rows.METRICS,
    )

    @property
    def spec(self) -> SignalSpec:
        return self.value
