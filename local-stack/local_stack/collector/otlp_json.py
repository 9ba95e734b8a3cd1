"""OTLP protobuf messages → the collector's OTLP JSON (what the awss3exporter's `otlp_json` marshaler writes).

The proto3 JSON mapping with OTLP's exceptions: lowerCamelCase keys, trace/span ids as lowercase hex, enums as
integers, 64-bit integers as decimal strings, zero-valued fields left out. Like the collector's pdata, the
embedded `resource`, `scope` and span `status` messages are always written (as `{}` when empty).

Written out field by field rather than with `json_format.MessageToDict`: about 3× faster, and the tests pin it
to MessageToDict's output (ids aside) for fully populated messages.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

Json = dict[str, Any]


def _double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def any_value(value) -> Json:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "double_value":
        return {"doubleValue": _double(value.double_value)}
    if kind == "array_value":
        values = [any_value(v) for v in value.array_value.values]
        return {"arrayValue": {"values": values} if values else {}}
    if kind == "kvlist_value":
        kvs = attributes(value.kvlist_value.values)
        return {"kvlistValue": {"values": kvs} if kvs else {}}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode()}
    if kind == "string_value_strindex":
        return {"stringValueStrindex": value.string_value_strindex}
    return {}


def attributes(kvs: Iterable) -> list[Json]:
    out = []
    for kv in kvs:
        item: Json = {"key": kv.key} if kv.key else {}
        item["value"] = any_value(kv.value) if kv.HasField("value") else {}  # pdata always writes it
        if kv.key_strindex:
            item["keyStrindex"] = kv.key_strindex
        out.append(item)
    return out


def _put_attributes(out: Json, msg, field: str = "attributes") -> None:
    kvs = getattr(msg, field)
    if kvs:
        out[field if field == "attributes" else "filteredAttributes"] = attributes(kvs)
    if getattr(msg, "dropped_attributes_count", 0):
        out["droppedAttributesCount"] = msg.dropped_attributes_count


def resource(msg) -> Json:
    out: Json = {}
    _put_attributes(out, msg)
    if msg.entity_refs:
        out["entityRefs"] = [MessageToDict(ref) for ref in msg.entity_refs]
    return out


def scope(msg) -> Json:
    out: Json = {}
    if msg.name:
        out["name"] = msg.name
    if msg.version:
        out["version"] = msg.version
    _put_attributes(out, msg)
    return out


def span(msg) -> Json:
    out: Json = {}
    if msg.trace_id:
        out["traceId"] = msg.trace_id.hex()
    if msg.span_id:
        out["spanId"] = msg.span_id.hex()
    if msg.trace_state:
        out["traceState"] = msg.trace_state
    if msg.parent_span_id:
        out["parentSpanId"] = msg.parent_span_id.hex()
    if msg.flags:
        out["flags"] = msg.flags
    if msg.name:
        out["name"] = msg.name
    if msg.kind:
        out["kind"] = msg.kind
    if msg.start_time_unix_nano:
        out["startTimeUnixNano"] = str(msg.start_time_unix_nano)
    if msg.end_time_unix_nano:
        out["endTimeUnixNano"] = str(msg.end_time_unix_nano)
    _put_attributes(out, msg)
    if msg.events:
        out["events"] = [_event(e) for e in msg.events]
    if msg.dropped_events_count:
        out["droppedEventsCount"] = msg.dropped_events_count
    if msg.links:
        out["links"] = [_link(link) for link in msg.links]
    if msg.dropped_links_count:
        out["droppedLinksCount"] = msg.dropped_links_count
    status: Json = {}
    if msg.status.message:
        status["message"] = msg.status.message
    if msg.status.code:
        status["code"] = msg.status.code
    out["status"] = status
    return out


def _event(msg) -> Json:
    out: Json = {}
    if msg.time_unix_nano:
        out["timeUnixNano"] = str(msg.time_unix_nano)
    if msg.name:
        out["name"] = msg.name
    _put_attributes(out, msg)
    return out


def _link(msg) -> Json:
    out: Json = {}
    if msg.trace_id:
        out["traceId"] = msg.trace_id.hex()
    if msg.span_id:
        out["spanId"] = msg.span_id.hex()
    if msg.trace_state:
        out["traceState"] = msg.trace_state
    _put_attributes(out, msg)
    if msg.flags:
        out["flags"] = msg.flags
    return out


def log_record(msg) -> Json:
    out: Json = {}
    if msg.time_unix_nano:
        out["timeUnixNano"] = str(msg.time_unix_nano)
    if msg.observed_time_unix_nano:
        out["observedTimeUnixNano"] = str(msg.observed_time_unix_nano)
    if msg.severity_number:
        out["severityNumber"] = msg.severity_number
    if msg.severity_text:
        out["severityText"] = msg.severity_text
    out["body"] = any_value(msg.body) if msg.HasField("body") else {}  # pdata always writes it
    _put_attributes(out, msg)
    if msg.flags:
        out["flags"] = msg.flags
    if msg.trace_id:
        out["traceId"] = msg.trace_id.hex()
    if msg.span_id:
        out["spanId"] = msg.span_id.hex()
    if msg.event_name:
        out["eventName"] = msg.event_name
    return out


def _exemplar(msg) -> Json:
    out: Json = {}
    _put_attributes(out, msg, "filtered_attributes")
    if msg.time_unix_nano:
        out["timeUnixNano"] = str(msg.time_unix_nano)
    _put_number(out, msg)
    if msg.trace_id:  # pdata's order: traceId, then spanId
        out["traceId"] = msg.trace_id.hex()
    if msg.span_id:
        out["spanId"] = msg.span_id.hex()
    return out


def _put_number(out: Json, msg) -> None:
    kind = msg.WhichOneof("value")
    if kind == "as_double":
        out["asDouble"] = _double(msg.as_double)
    elif kind == "as_int":
        out["asInt"] = str(msg.as_int)


def _put_point_common(out: Json, msg) -> None:
    _put_attributes(out, msg)
    if msg.start_time_unix_nano:
        out["startTimeUnixNano"] = str(msg.start_time_unix_nano)
    if msg.time_unix_nano:
        out["timeUnixNano"] = str(msg.time_unix_nano)


def _put_point_tail(out: Json, msg) -> None:
    if msg.exemplars:
        out["exemplars"] = [_exemplar(e) for e in msg.exemplars]
    if msg.flags:
        out["flags"] = msg.flags


def _put_optional_doubles(out: Json, msg, names: Iterable[str]) -> None:
    for name in names:
        if msg.HasField(name):
            out[name] = _double(getattr(msg, name))


def _number_point(msg) -> Json:
    out: Json = {}
    _put_point_common(out, msg)
    _put_number(out, msg)
    _put_point_tail(out, msg)
    return out


def _histogram_point(msg) -> Json:
    out: Json = {}
    _put_point_common(out, msg)
    if msg.count:
        out["count"] = str(msg.count)
    _put_optional_doubles(out, msg, ("sum",))
    if msg.bucket_counts:
        out["bucketCounts"] = [str(c) for c in msg.bucket_counts]
    if msg.explicit_bounds:
        out["explicitBounds"] = [_double(b) for b in msg.explicit_bounds]
    _put_point_tail(out, msg)
    _put_optional_doubles(out, msg, ("min", "max"))
    return out


def _buckets(msg) -> Json:
    out: Json = {}
    if msg.offset:
        out["offset"] = msg.offset
    if msg.bucket_counts:
        out["bucketCounts"] = [str(c) for c in msg.bucket_counts]
    return out


def _exponential_point(msg) -> Json:
    out: Json = {}
    _put_point_common(out, msg)
    if msg.count:
        out["count"] = str(msg.count)
    _put_optional_doubles(out, msg, ("sum",))
    if msg.scale:
        out["scale"] = msg.scale
    if msg.zero_count:
        out["zeroCount"] = str(msg.zero_count)
    if msg.HasField("positive"):
        out["positive"] = _buckets(msg.positive)
    if msg.HasField("negative"):
        out["negative"] = _buckets(msg.negative)
    _put_point_tail(out, msg)
    _put_optional_doubles(out, msg, ("min", "max"))
    if msg.zero_threshold:
        out["zeroThreshold"] = _double(msg.zero_threshold)
    return out


def _summary_point(msg) -> Json:
    out: Json = {}
    _put_point_common(out, msg)
    if msg.count:
        out["count"] = str(msg.count)
    if msg.sum:
        out["sum"] = _double(msg.sum)
    if msg.quantile_values:
        quantiles = []
        for q in msg.quantile_values:
            item: Json = {}
            if q.quantile:
                item["quantile"] = _double(q.quantile)
            if q.value:
                item["value"] = _double(q.value)
            quantiles.append(item)
        out["quantileValues"] = quantiles
    if msg.flags:
        out["flags"] = msg.flags
    return out


_POINTS = {
    "gauge": _number_point,
    "sum": _number_point,
    "histogram": _histogram_point,
    "exponential_histogram": _exponential_point,
    "summary": _summary_point,
}
_JSON_NAME = {"exponential_histogram": "exponentialHistogram"}


def metric(msg) -> Json:
    out: Json = {}
    if msg.name:
        out["name"] = msg.name
    if msg.description:
        out["description"] = msg.description
    if msg.unit:
        out["unit"] = msg.unit
    kind = msg.WhichOneof("data")
    if kind:
        data = getattr(msg, kind)
        body: Json = {}
        points = [_POINTS[kind](p) for p in data.data_points]
        if points:
            body["dataPoints"] = points
        if kind in ("sum", "histogram", "exponential_histogram") and data.aggregation_temporality:
            body["aggregationTemporality"] = data.aggregation_temporality
        if kind == "sum" and data.is_monotonic:
            body["isMonotonic"] = True
        out[_JSON_NAME.get(kind, kind)] = body
    if msg.metadata:
        out["metadata"] = attributes(msg.metadata)
    return out


def _resource_entries(entries, scope_key: str, items_key: str, item_field: str, convert) -> list[Json]:
    out = []
    for entry in entries:
        scopes = []
        for scoped in getattr(entry, _snake(scope_key)):
            s: Json = {"scope": scope(scoped.scope)}
            items = [convert(item) for item in getattr(scoped, item_field)]
            if items:
                s[items_key] = items
            if scoped.schema_url:
                s["schemaUrl"] = scoped.schema_url
            scopes.append(s)
        r: Json = {"resource": resource(entry.resource)}
        if scopes:
            r[scope_key] = scopes
        if entry.schema_url:
            r["schemaUrl"] = entry.schema_url
        out.append(r)
    return out


def _snake(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def traces_to_json(request: ExportTraceServiceRequest) -> Json:
    entries = _resource_entries(request.resource_spans, "scopeSpans", "spans", "spans", span)
    return {"resourceSpans": entries} if entries else {}


def logs_to_json(request: ExportLogsServiceRequest) -> Json:
    entries = _resource_entries(request.resource_logs, "scopeLogs", "logRecords", "log_records", log_record)
    return {"resourceLogs": entries} if entries else {}


def metrics_to_json(request: ExportMetricsServiceRequest) -> Json:
    entries = _resource_entries(request.resource_metrics, "scopeMetrics", "metrics", "metrics", metric)
    return {"resourceMetrics": entries} if entries else {}
