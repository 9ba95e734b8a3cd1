"""Unit tests of otlp_rows: golden OTLP JSON → the exporter's rows, column by column."""

from __future__ import annotations

import math
from pathlib import Path

import orjson
import pytest
from otlp_rows import (
    LOG_COLUMNS,
    METRIC_COLUMNS,
    TRACE_COLUMNS,
    DuplicateKeys,
    OTLPFormatError,
    any_value_str,
    go_float,
    keep_negative_zero,
    log_rows,
    metric_rows,
    trace_rows,
)
from s3_loader.documents import encode_trace_rows

GOLDEN = Path(__file__).parent / "golden"


def golden(name: str):
    return orjson.loads((GOLDEN / name).read_bytes())


def as_dicts(rows: list[list], columns: tuple[str, ...]) -> list[dict]:
    assert all(len(row) == len(columns) for row in rows)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def assert_rows_equal(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected)
    for n, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert list(g) == list(e), f"row {n}: columns differ"
        for column in e:
            assert g[column] == e[column], f"row {n} column {column}: {g[column]!r} != {e[column]!r}"


def test_trace_columns_match_exporter_insert_order():
    assert TRACE_COLUMNS[:3] == ("Timestamp", "TraceId", "SpanId")
    assert TRACE_COLUMNS[8:12] == ("ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes")
    assert TRACE_COLUMNS[-4:] == ("Links.TraceId", "Links.SpanId", "Links.TraceState", "Links.Attributes")
    assert len(TRACE_COLUMNS) == 22
    assert LOG_COLUMNS[-1] == "EventName" and len(LOG_COLUMNS) == 16


def test_golden_traces_column_by_column():
    rows = trace_rows(golden("traces_all_kinds.json"))
    assert_rows_equal(as_dicts(rows, TRACE_COLUMNS), golden("traces_all_kinds.expected.json"))


def test_golden_logs_column_by_column():
    rows = log_rows(golden("logs_basic.json"))
    assert_rows_equal(as_dicts(rows, LOG_COLUMNS), golden("logs_basic.expected.json"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"stringValue": "x"}, "x"),
        ({"boolValue": True}, "true"),
        ({"intValue": "123"}, "123"),
        ({"intValue": -5}, "-5"),
        ({"doubleValue": 1.5}, "1.5"),
        ({"doubleValue": 3}, "3"),
        ({"doubleValue": "Infinity"}, "Infinity"),
        ({"doubleValue": "-Infinity"}, "-Infinity"),
        ({"bytesValue": "3q2+7w=="}, "3q2+7w=="),
        ({"bytesValue": "3q2-7w"}, "3q2+7w=="),  # URL-safe, unpadded: accepted by proto3 JSON
        ({"arrayValue": {"values": [{"doubleValue": 1e-7}, {"doubleValue": 1e300}]}}, "[1e-7,1e+300]"),
        ({"arrayValue": {"values": [{"doubleValue": "NaN"}]}}, ""),  # Go json.Marshal fails → ''
        ({"kvlistValue": {"values": [{"key": "b", "value": {"stringValue": "\u2028"}}]}}, '{"b":"\\u2028"}'),
        ({"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": 'a"b\n'}}]}}, '{"k":"a\\"b\\n"}'),
        ({"kvlistValue": {}}, "{}"),
        ({}, ""),
        (None, ""),
    ],
)
def test_any_value_str_matches_pdata_as_string(value, expected):
    assert any_value_str(value) == expected


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"),
        (-0.0, "-0"),
        (1e-6, "0.000001"),
        (9.99e-7, "9.99e-7"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (123.456, "123.456"),
        (0.1 + 0.2, "0.30000000000000004"),
        (math.pi, "3.141592653589793"),
    ],
)
def test_go_float_formatting(number, text):
    assert go_float(number) == text


def test_empty_documents_give_no_rows():
    assert trace_rows({}) == []
    assert trace_rows({"resourceSpans": []}) == []
    assert trace_rows({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": []}]}]}) == []
    assert log_rows({}) == []
    assert all(rows == [] for rows in metric_rows({}).values())


def _kv(value: dict) -> dict:
    return {"key": "k", "value": value}


def _one_span(**fields) -> dict:
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "s",
            "startTimeUnixNano": "1", "endTimeUnixNano": "2", "status": {}} | fields  # fmt: skip
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([], "document must be a JSON object"),
        ({"resourceSpans": {}}, "resourceSpans must be a list"),
        ({"resourceSpans": [{"scopeSpans": [{"spans": ["x"]}]}]}, "span must be an object"),
        (_one_span(traceId="xyz"), "traceId must be 32 hex digits"),
        (_one_span(traceId="5b8efff798038103d269b633813fc60"), "traceId must be 32 hex digits"),
        (_one_span(spanId="eee19b7ec3c1b17g"), "spanId must be 16 hex digits"),
        (_one_span(spanId="eee19b7e c3c1b17"), "spanId must be 16 hex digits"),
        (_one_span(startTimeUnixNano="17e8"), "startTimeUnixNano must be an unsigned 64-bit integer"),
        (_one_span(startTimeUnixNano="-1"), "startTimeUnixNano must be an unsigned 64-bit integer"),
        (_one_span(startTimeUnixNano=1.5), "startTimeUnixNano must be an unsigned 64-bit integer"),
        (_one_span(endTimeUnixNano=str(1 << 64)), "endTimeUnixNano out of range"),
        (_one_span(endTimeUnixNano=str(1 << 63)), "out of range for DateTime64(9)"),
        (_one_span(kind="SERVER"), "kind must be an enum number or name"),
        (_one_span(attributes=[_kv({"intValue": "1.5"})]), "intValue must be a 64-bit integer"),
        (_one_span(attributes=[_kv({"intValue": str(1 << 63)})]), "intValue out of range"),
        (_one_span(attributes=[_kv({"boolValue": "yes"})]), "boolValue must be true or false"),
        (_one_span(attributes=[_kv({"bytesValue": "!!"})]), "is not base64"),
        (_one_span(attributes={"k": "v"}), "attributes must be a list"),
        (_one_span(name=5), "name must be a string"),
        (_one_span(events=[{"timeUnixNano": "x"}]), "events[0].timeUnixNano must be"),
    ],
)
def test_bad_documents_raise_one_line_reasons(doc, reason):
    with pytest.raises(OTLPFormatError) as info:
        trace_rows(doc)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message
    if isinstance(doc, dict) and doc.get("resourceSpans") and isinstance(doc["resourceSpans"], list):
        assert message.startswith("resourceSpans[0]")


def test_protobuf_shaped_document_with_enum_names():
    """What MessageToDict(…) gives after the ids were turned into hex: enum names, int64 as strings."""
    doc = _one_span(kind="SPAN_KIND_PRODUCER", status={"code": "STATUS_CODE_ERROR", "message": "m"})
    row = dict(zip(TRACE_COLUMNS, trace_rows(doc)[0], strict=True))
    assert (row["SpanKind"], row["StatusCode"], row["StatusMessage"]) == ("Producer", "Error", "m")
    assert (row["Timestamp"], row["Duration"]) == (1, 1)


def test_unknown_enum_numbers_become_empty_words_and_negative_duration_wraps_around():
    """pdata's String() of an unknown enum is ''; the exporter's Duration is a uint64 subtraction."""
    doc = _one_span(kind=9, status={"code": 7}, startTimeUnixNano="10", endTimeUnixNano="5")
    row = dict(zip(TRACE_COLUMNS, trace_rows(doc)[0], strict=True))
    assert (row["SpanKind"], row["StatusCode"], row["Duration"]) == ("", "", 2**64 - 5)


METRICS_DOC = golden("metrics_all_kinds.json")

COMMON = {
    "ResourceAttributes": {"service.name": "checkout"},
    "ResourceSchemaUrl": "https://opentelemetry.io/schemas/1.26.0",
    "ScopeName": "snkrs.meter",
    "ScopeVersion": "1.0",
    "ScopeAttributes": {"lib": "otel"},
    "ScopeDroppedAttrCount": 2,
    "ScopeSchemaUrl": "https://opentelemetry.io/schemas/1.24.0",
    "ServiceName": "checkout",
}
NO_EXEMPLARS = {
    "Exemplars.FilteredAttributes": [],
    "Exemplars.TimeUnix": [],
    "Exemplars.Value": [],
    "Exemplars.SpanId": [],
    "Exemplars.TraceId": [],
}

EXPECTED_METRICS = {
    "gauge": [COMMON | {
        "MetricName": "queue.depth", "MetricDescription": "waiting buyers", "MetricUnit": "{buyer}",
        "Attributes": {"region": "eu"}, "StartTimeUnix": 4102444800000000000, "TimeUnix": 4102444801000000000,
        "Value": 42.0, "Flags": 1,
        "Exemplars.FilteredAttributes": [{"user": "7"}, {}],
        "Exemplars.TimeUnix": [4102444800500000000, 4102444800600000000],
        "Exemplars.Value": [41.5, 3.0],
        "Exemplars.SpanId": ["eee19b7ec3c1b174", "0000000000000000"],
        "Exemplars.TraceId": ["5b8efff798038103d269b633813fc60c", "00000000000000000000000000000000"]}],
    "sum": [COMMON | {
        "MetricName": "orders", "MetricDescription": "", "MetricUnit": "1", "Attributes": {},
        "StartTimeUnix": 0, "TimeUnix": 4102444801000000000, "Value": 12.5, "Flags": 0} | NO_EXEMPLARS | {
        "AggregationTemporality": 2, "IsMonotonic": True}],
    "histogram": [COMMON | {
        "MetricName": "latency", "MetricDescription": "", "MetricUnit": "ms", "Attributes": {},
        "StartTimeUnix": 4102444800000000000, "TimeUnix": 4102444801000000000, "Count": 6, "Sum": 63.5,
        "BucketCounts": [1, 2, 3], "ExplicitBounds": [5.0, 10.5]} | NO_EXEMPLARS | {
        "Flags": 0, "Min": 1.0, "Max": 30.25, "AggregationTemporality": 1}],
    "exponential_histogram": [COMMON | {
        "MetricName": "latency.exp", "MetricDescription": "", "MetricUnit": "ms", "Attributes": {},
        "StartTimeUnix": 0, "TimeUnix": 4102444801000000000, "Count": 5, "Sum": 20.0, "Scale": -1,
        "ZeroCount": 1, "PositiveOffset": 2, "PositiveBucketCounts": [1, 2], "NegativeOffset": 0,
        "NegativeBucketCounts": [1]} | NO_EXEMPLARS | {
        "Flags": 0, "Min": -1.5, "Max": 9.0, "AggregationTemporality": 2}],
    "summary": [COMMON | {
        "MetricName": "rpc.size", "MetricDescription": "", "MetricUnit": "", "Attributes": {},
        "StartTimeUnix": 0, "TimeUnix": 4102444801000000000, "Count": 4, "Sum": 10.0,
        "ValueAtQuantiles.Quantile": [0.5, 0.99], "ValueAtQuantiles.Value": [2.0, 4.5], "Flags": 0}],
}  # fmt: skip


def test_golden_metrics_every_kind_column_by_column():
    got = metric_rows(METRICS_DOC)
    assert set(got) == set(METRIC_COLUMNS) == set(EXPECTED_METRICS)
    for kind, columns in METRIC_COLUMNS.items():
        assert_rows_equal(as_dicts(got[kind], columns), EXPECTED_METRICS[kind])


def test_metric_values_keep_their_python_types_for_insert():
    gauge = dict(zip(METRIC_COLUMNS["gauge"], metric_rows(METRICS_DOC)["gauge"][0], strict=True))
    assert type(gauge["Value"]) is float and type(gauge["TimeUnix"]) is int


def test_bad_metric_document_names_the_place():
    doc = orjson.loads(orjson.dumps(METRICS_DOC))
    doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][2]["histogram"]["dataPoints"][0]["count"] = "x"
    where = r"^resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[2\]: "
    with pytest.raises(OTLPFormatError, match=where + ".*count"):
        metric_rows(doc)


def test_map_keys_come_sorted_and_duplicate_keys_stay_as_the_exporter_writes_them():
    """clickhouse-go sorts the exporter's map by key; pdata keeps each entry of a repeated key."""
    kvs = [
        {"key": k, "value": {"stringValue": v}} for k, v in (("b", "1"), ("a", "2"), ("c", "3"), ("a", "4"))
    ]
    row = dict(zip(TRACE_COLUMNS, trace_rows(_one_span(attributes=kvs[:3]))[0], strict=True))
    assert list(row["SpanAttributes"].items()) == [("a", "2"), ("b", "1"), ("c", "3")]
    row = dict(zip(TRACE_COLUMNS, trace_rows(_one_span(attributes=kvs))[0], strict=True))
    assert row["SpanAttributes"] == DuplicateKeys([("a", "2"), ("a", "4"), ("b", "1"), ("c", "3")])
    assert encode_trace_rows([list(row.values())]).count(b'"a":') == 2


def test_a_metric_without_data_fails_the_document_as_the_exporter_fails_the_push():
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "no.data"}]}]}]}
    with pytest.raises(OTLPFormatError, match="metrics type is unset"):
        metric_rows(doc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"a":-0}', b'{"a":-0.0}'),
        (b'{"a": -0 ,"b":[-0,1e-0,-0.5,-05,0]}', b'{"a": -0.0 ,"b":[-0.0,1e-0,-0.5,-05,0]}'),
        (b'{"s":"x:-0,","t":"q\\"-0","a":[ -0]}', b'{"s":"x:-0,","t":"q\\"-0","a":[ -0.0]}'),
        (b'{"a":10,"b":"-0"}', b'{"a":10,"b":"-0"}'),
    ],
)
def test_keep_negative_zero_rewrites_the_number_only(text: bytes, expected: bytes) -> None:
    assert keep_negative_zero(text) == expected


def test_a_negative_zero_double_the_collector_wrote_stays_negative() -> None:
    """pdata writes -0.0 as the JSON number `-0` (orjson alone reads the integer 0); the exporter "-0"."""
    body = (
        b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",'
        b'"spanId":"eee19b7ec3c1b174","name":"z","startTimeUnixNano":"1","attributes":['
        b'{"key":"z","value":{"doubleValue":-0}},'
        b'{"key":"a","value":{"arrayValue":{"values":[{"doubleValue":-0}]}}}]}]}]}]}'
    )
    (row,) = trace_rows(orjson.loads(keep_negative_zero(body)))
    assert dict(zip(TRACE_COLUMNS, row, strict=True))["SpanAttributes"] == {"a": "[-0]", "z": "-0"}
