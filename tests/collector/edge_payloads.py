"""Hand-made OTLP/JSON export requests full of edge cases, for the real collector and the stand-in alike:
NaN/±Inf doubles; ints, bools, bytes, arrays, kvlists; duplicate and unsorted attribute keys; a span without
an end time and one that ends before it starts; negative and unknown enum values; empty, all-zero and
upper-case ids; every span kind and status; events and links; logs with every body type and severity; all
five metric types with exemplars."""

from __future__ import annotations

import time
from typing import Any

# an hour ago (the tables keep 3 days), with nanoseconds
T0 = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000 + 123_456_789
TRACE = "5b8efff798038103d269b633813fc60c"
ZERO_TRACE = "0" * 32
ZERO_SPAN = "0" * 16


def t(offset_ns: int) -> str:
    return str(T0 + offset_ns)


def kv(key: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "value": value}


# Every corner of float formatting (pdata AsString and the awss3exporter's JSON both use ES6 style: 'e' below
# 1e-6 and from 1e21, exponents unpadded) and of reading it back: -0 (pdata writes the JSON number `-0`),
# subnormals, the largest double, integers written without a point (2, 1e16, 1e20 beyond uint64), rounding
# (0.1 + 0.2, 2^53 + 1) and doubles sent as JSON strings. No NaN/±Inf here: FLOAT_CORNERS alone keeps a
# document on the loader's ClickHouse (SQL) route; NaN and ±Inf are in ATTRIBUTES.
FLOAT_CORNERS = [
    kv(f"f.{n:02d}", {"doubleValue": value})
    for n, value in enumerate(
        [
            1e21, 1e20, 9.999999999999999e20, 1.2345678901234568e20, 1e22, 1e-6, 9.99e-7, 1e-7, 1.5e-7, -1e-7,
            1e-5, 3e-6, -0.0, 0.0, 5e-324, -5e-324, 2.225073858507201e-308, 2.2250738585072014e-308,
            1.7976931348623157e308, -1.7976931348623157e308, 2.0, -2.0, 100, 1e15, 1e16, 1e17,
            12345678901234567890, 9007199254740993, 0.1 + 0.2, 1 / 3, 1.0000000000000002, 4.35, 0.000123,
            1e300, 1e-300, 123e18,
            "1e21", "-0", "5e-324", "0.1", "2", "-1.5e-7",
        ]
    )
]  # fmt: skip

# Duplicate keys: the exporter keeps both, sorted with the rest by Go's sort, which is stable (insertion sort)
# up to 12 entries only; larger maps with a repeated key are test_mismatches.py's M3 case.
SMALL = [
    kv("zeta", {"stringValue": "last key first"}),  # unsorted keys
    kv("alpha", {"stringValue": "a"}),
    kv("dup", {"stringValue": "first"}),
    kv("dup", {"stringValue": "second"}),
]
ATTRIBUTES = [
    kv("zeta", {"stringValue": "last key first"}),  # unsorted keys
    kv("alpha", {"stringValue": "a"}),
    kv("int", {"intValue": "-9223372036854775808"}),
    kv("int.num", {"intValue": 42}),
    kv("bool", {"boolValue": True}),
    kv("double", {"doubleValue": 1.5}),
    kv("double.int", {"doubleValue": 100}),
    kv("double.big", {"doubleValue": 1e21}),
    kv("double.small", {"doubleValue": 1e-7}),
    *FLOAT_CORNERS,
    kv("nan", {"doubleValue": "NaN"}),
    kv("inf", {"doubleValue": "Infinity"}),
    kv("ninf", {"doubleValue": "-Infinity"}),
    kv("bytes", {"bytesValue": "AAH/"}),
    kv(
        "array",
        {"arrayValue": {"values": [{"stringValue": "x<y&z"}, {"intValue": "7"}, {"doubleValue": 0.5}]}},
    ),
    kv("array.nan", {"arrayValue": {"values": [{"doubleValue": "NaN"}]}}),
    kv("array.inf", {"arrayValue": {"values": [{"stringValue": "x"}, {"doubleValue": "-Infinity"}]}}),
    kv("array.empty", {"arrayValue": {}}),
    kv("array.floats", {"arrayValue": {"values": [v["value"] for v in FLOAT_CORNERS]}}),
    kv(
        "array.mixed",
        {
            "arrayValue": {
                "values": [
                    {"boolValue": True},
                    {"intValue": "-9223372036854775808"},
                    {"bytesValue": "/+8="},
                    {},
                    {"stringValue": ""},
                    {"arrayValue": {"values": [{"doubleValue": -0.0}, {"arrayValue": {}}]}},
                    {
                        "kvlistValue": {
                            "values": [kv("z", {"doubleValue": 1e21}), kv("<&>", {"stringValue": "<&>"})]
                        }
                    },
                ]
            }
        },
    ),
    kv("kvlist", {"kvlistValue": {"values": [kv("b", {"boolValue": False}), kv("a", {})]}}),
    kv("kvlist.floats", {"kvlistValue": {"values": FLOAT_CORNERS}}),
    kv(
        "kvlist.nested",
        {
            "kvlistValue": {
                "values": [
                    kv("inner", {"kvlistValue": {"values": [kv("d", {"doubleValue": 1e-7}), kv("e", {})]}}),
                    kv("ü", {"intValue": 0}),
                    kv("dup", {"intValue": "1"}),
                    kv("dup", {"intValue": "2"}),
                ]
            }
        },
    ),
    kv("kvlist.empty", {"kvlistValue": {}}),
    kv("int.max", {"intValue": "9223372036854775807"}),
    kv("int.zero", {"intValue": "-0"}),
    kv("int.negative", {"intValue": -1}),
    kv("bool.false", {"boolValue": False}),
    kv("bytes.empty", {"bytesValue": ""}),
    kv("bytes.all", {"bytesValue": "AAECAwT7/P3+/w=="}),
    kv("string.empty", {"stringValue": ""}),
    kv("string.escapes", {"stringValue": 'tab\tnew\nline "q" \\ / <a&b> \u0000 \U0001f600'}),
    kv("empty", {}),
    kv("Ünïcode ✓", {"stringValue": "ß\u2028\x08"}),
]


def resource(service: str) -> dict[str, Any]:
    return {
        "attributes": [
            kv("service.name", {"stringValue": service}),
            kv("host.name", {"stringValue": "edge-1"}),
        ],
        "droppedAttributesCount": 1,
    }


def _span(name: str, span_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": t(0),
        "endTimeUnixNano": t(1_500_000),
        "attributes": ATTRIBUTES,
        **fields,
    }


def traces() -> dict[str, Any]:
    spans = [
        _span(
            f"kind {k} status {c}",
            f"00000000000001{k:x}{c:x}",
            kind=k,
            status={"code": c, "message": f"m{c}"},
        )
        for k in range(6)
        for c in range(3)
    ]
    spans += [
        _span("no end time", "0000000000000201", endTimeUnixNano=None),
        _span("duplicate keys", "0000000000000206", attributes=SMALL),
        _span("ends before it starts", "0000000000000202", startTimeUnixNano=t(10), endTimeUnixNano=t(5)),
        _span("negative enums", "0000000000000203", kind=-2, status={"code": -2}),
        _span("unknown enums", "0000000000000204", kind=9, status={"code": 7}),
        _span("upper-case ids", "00000000000002AB", traceId=TRACE.upper(), parentSpanId="00000000000001AB"),
        _span("all-zero ids", ZERO_SPAN, traceId=ZERO_TRACE, parentSpanId=ZERO_SPAN),
        _span("empty ids", "", traceId="", parentSpanId=""),
        _span(
            "events and links",
            "0000000000000205",
            traceState="vendor=1,other=x",
            events=[
                {"timeUnixNano": t(100), "name": "retry", "attributes": SMALL},
                {"timeUnixNano": "0", "name": ""},
            ],
            links=[
                {"traceId": TRACE, "spanId": "0000000000000201", "traceState": "l=1", "attributes": SMALL},
                {"traceId": ZERO_TRACE, "spanId": ZERO_SPAN},
                {"traceId": "", "spanId": ""},
            ],
            droppedAttributesCount=3,
        ),
    ]
    for span in spans:
        if span.get("endTimeUnixNano") is None:
            span.pop("endTimeUnixNano", None)
    return {
        "resourceSpans": [
            {
                "resource": resource("edge-svc"),
                "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
                "scopeSpans": [
                    {"scope": {"name": "edge.scope", "version": "1.0", "attributes": SMALL}, "spans": spans},
                    {"scope": {}, "spans": [_span("no scope", "0000000000000301")]},
                ],
            },
            {"resource": {}, "scopeSpans": [{"spans": [_span("no resource", "0000000000000302")]}]},
        ]
    }


BODIES = [
    {"stringValue": 'plain <text> & "quotes"'},
    {"intValue": "-7"},
    {"doubleValue": "NaN"},
    {"doubleValue": "-Infinity"},
    {"doubleValue": 0.1},
    {"doubleValue": -0.0},
    {"doubleValue": 1e21},
    {"doubleValue": 1e20},
    {"doubleValue": 5e-324},
    {"doubleValue": 1e-7},
    {"doubleValue": 2.0},
    {"doubleValue": "Infinity"},
    {"boolValue": True},
    {"bytesValue": "aGk="},
    {
        "arrayValue": {
            "values": [{"stringValue": "a"}, {"kvlistValue": {"values": [kv("k", {"intValue": 1})]}}]
        }
    },
    {"kvlistValue": {"values": [kv("z", {"stringValue": "1"}), kv("a", {"doubleValue": 2.0})]}},
    {},
    None,
]


def logs() -> dict[str, Any]:
    records = []
    for n, body in enumerate(BODIES):
        record: dict[str, Any] = {
            "timeUnixNano": t(n),
            "observedTimeUnixNano": t(n + 1000),
            "severityNumber": n * 2 + 1,
            "severityText": f"SEV{n}",
            "attributes": ATTRIBUTES,
            "traceId": TRACE,
            "spanId": f"00000000000004{n:02x}",
            "flags": 1,
        }
        if body is not None:
            record["body"] = body
        records.append(record)
    records += [
        {
            "observedTimeUnixNano": t(5000),
            "body": {"stringValue": "only observed time"},
            "severityNumber": 24,
        },
        {"timeUnixNano": t(6000), "severityNumber": -3, "flags": 511, "eventName": "edge.event"},
        {"timeUnixNano": t(7000), "traceId": ZERO_TRACE, "spanId": ZERO_SPAN, "severityNumber": 300},
        {"timeUnixNano": t(8000), "traceId": TRACE.upper(), "spanId": "00000000000004AB"},
    ]
    return {
        "resourceLogs": [
            {
                "resource": resource("edge-logs"),
                "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
                "scopeLogs": [
                    {
                        "scope": {"name": "edge.logger", "version": "2", "attributes": SMALL},
                        "schemaUrl": "https://opentelemetry.io/schemas/1.25.0",
                        "logRecords": records,
                    }
                ],
            }
        ]
    }


def _exemplars() -> list[dict[str, Any]]:
    return [
        {"timeUnixNano": t(1), "asDouble": 1.25, "traceId": TRACE, "spanId": "0000000000000501",
         "filteredAttributes": SMALL},
        {"timeUnixNano": t(2), "asInt": "3"},
    ]  # fmt: skip


def _point(value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "startTimeUnixNano": t(0),
        "timeUnixNano": t(1_000_000_000),
        "attributes": SMALL,
        "exemplars": _exemplars(),
        **value,
        **extra,
    }


def metrics() -> dict[str, Any]:
    histogram = {"count": "6", "sum": 10.5, "bucketCounts": ["1", "2", "3"], "explicitBounds": [1, 5],
                 "min": 0.5, "max": 7}  # fmt: skip
    exponential = {"count": "5", "sum": 3.5, "scale": 2, "zeroCount": "1", "zeroThreshold": 0.01,
                   "positive": {"offset": -1, "bucketCounts": ["1", "2"]},
                   "negative": {"offset": 2, "bucketCounts": ["1"]}}  # fmt: skip
    summary = {
        "count": "4",
        "sum": 8,
        "quantileValues": [{"quantile": 0.5, "value": 2}, {"quantile": 0.99, "value": 3}],
    }
    found = [
        {"name": "edge.gauge", "unit": "1", "description": "a gauge",
         "gauge": {"dataPoints": [_point({"asDouble": "NaN"}), _point({"asInt": "-5"}, flags=1)]}},
        {"name": "edge.sum", "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                                     "dataPoints": [_point({"asDouble": 2.5})]}},
        {"name": "edge.sum.delta", "sum": {"aggregationTemporality": 1,
                                           "dataPoints": [_point({"asInt": "9"})]}},
        {"name": "edge.histogram", "histogram": {"aggregationTemporality": 2,
                                                 "dataPoints": [_point(histogram)]}},
        {"name": "edge.histogram.bare", "histogram": {"aggregationTemporality": 1,
                                                      "dataPoints": [_point({"count": "0"})]}},
        {"name": "edge.exponential", "exponentialHistogram": {"aggregationTemporality": 2,
                                                              "dataPoints": [_point(exponential)]}},
        {"name": "edge.summary", "summary": {"dataPoints": [_point(summary)]}},
    ]  # fmt: skip
    return {
        "resourceMetrics": [
            {
                "resource": resource("edge-metrics"),
                "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
                "scopeMetrics": [
                    {"scope": {"name": "edge.meter", "version": "3", "attributes": SMALL,
                               "droppedAttributesCount": 2}, "metrics": found}
                ],
            }
        ]
    }  # fmt: skip


def float_traces() -> dict[str, Any]:
    """Spans whose attributes are the float corners (and plain ints, bools and strings) only: a document the
    loader leaves to ClickHouse's conversion (the schema's s3_loader_otlp_traces_mv)."""
    plain = [
        *FLOAT_CORNERS,
        kv("service.name", {"stringValue": "floats"}),
        kv("int", {"intValue": "-9223372036854775808"}),
        kv("bool", {"boolValue": True}),
    ]
    spans = [
        _span("float corners", "0000000000000601", attributes=plain),
        _span("float corners reversed", "0000000000000602", attributes=plain[::-1]),
    ]
    return {
        "resourceSpans": [
            {"resource": {"attributes": plain[-3:]}, "scopeSpans": [{"scope": {"name": "f"}, "spans": spans}]}
        ]
    }


SIGNALS = {"traces": traces, "logs": logs, "metrics": metrics}
