"""The ten known mismatches of ../shared/reference/collector-conformance.md, each shown on the real collector
(and the project side checked against it). M4 (uuidv7 keys) and M5 (metrics to ClickHouse only) are shown on
the real collector's S3 objects in test_twin.py, M10 (the DDL) in test_schema.py; the rows of M1-M3 and M8
also go through test_rows.py's and test_twin.py's whole-table comparisons."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from s3_loader.documents import plain_traces

from tests.collector import edge_payloads
from tests.collector.edge_payloads import kv, t
from tests.collector.pipeline import (
    except_both_ways,
    post_json,
    run_loader_once,
    settled_count,
    wait_for,
    wait_for_s3_spans,
)
from tests.support.otlp_samples import traces_request

pytestmark = pytest.mark.slow


def one_span_doc(*spans: dict) -> dict:
    return {
        "resourceSpans": [
            {"resource": edge_payloads.resource("m-svc"), "scopeSpans": [{"spans": list(spans)}]}
        ]
    }


def real_rows(client, sql: str) -> list[tuple]:
    return client.query(sql).result_rows


def s3_documents(stack) -> dict[str, bytes]:
    s3 = stack.s3()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read() for key in keys}


def test_m2_m3_m8_on_the_loaders_sql_path(real_collector, stack, tmp_path: Path) -> None:
    """A plain document (no NaN, arrays, bytes) takes the loader's SQL fast path (the schema's view): it must
    get wrapping durations (M2), sorted keys with duplicates (M3) and negative enums (M8) as the exporter."""
    client = stack.client()
    collector = real_collector()
    small = [kv("zeta", {"stringValue": "z"}), kv("dup", {"stringValue": "1"}),
             kv("alpha", {"intValue": "2"}), kv("dup", {"stringValue": "3"}),
             kv("d", {"doubleValue": 2.5})]  # fmt: skip
    base = {"traceId": edge_payloads.TRACE, "name": "m", "attributes": small, "startTimeUnixNano": t(10)}
    doc = one_span_doc(
        {**base, "spanId": "00000000000000a1", "endTimeUnixNano": t(5)},  # ends before it starts
        {**base, "spanId": "00000000000000a2"},  # never ends
        {**base, "spanId": "00000000000000a3", "kind": -2, "status": {"code": -2}, "endTimeUnixNano": t(20)},
        {**base, "spanId": "00000000000000a4", "kind": 6, "status": {"code": 3}, "endTimeUnixNano": t(20)},
    )
    assert post_json(collector.otlp.http_url, "traces", doc)[0] == 200
    settled_count(client, "default.otel_traces", 4, tail=collector.tail)
    wait_for_s3_spans(stack, 4, collector.tail)
    assert collector.stop() == 0
    rows = real_rows(
        client,
        "SELECT SpanId, Duration, SpanKind, StatusCode, mapKeys(SpanAttributes), mapValues(SpanAttributes) "
        "FROM default.otel_traces ORDER BY SpanId",
    )
    start = edge_payloads.T0 + 10
    assert [r[1] for r in rows] == [2**64 - 5, 2**64 - start, 10, 10]  # M2: uint64 subtraction wraps
    assert [(r[2], r[3]) for r in rows[2:]] == [("", ""), ("", "")]  # M8: unknown or negative enum → ''
    assert rows[0][4:] == (["alpha", "d", "dup", "dup", "zeta"], ["2", "2.5", "1", "3", "z"])  # M3
    (body,) = s3_documents(stack).values()
    assert plain_traces(body) is not None  # the loader hands this document to the SQL path
    run_loader_once(stack, tmp_path)
    assert except_both_ways(client, "default.otel_traces", "otel.otel_traces")[:2] == (0, 0)


def test_m1_nan_and_infinity_strings(real_collector, stack) -> None:
    client = stack.client()
    collector = real_collector()
    nan_array = {"arrayValue": {"values": [{"doubleValue": "NaN"}]}}
    attrs = [kv("nan", {"doubleValue": "NaN"}), kv("inf", {"doubleValue": "Infinity"}),
             kv("ninf", {"doubleValue": "-Infinity"}), kv("arr", nan_array)]  # fmt: skip
    doc = one_span_doc({"traceId": edge_payloads.TRACE, "spanId": "00000000000000b1", "name": "m1",
                        "startTimeUnixNano": t(0), "endTimeUnixNano": t(1), "attributes": attrs})  # fmt: skip
    assert post_json(collector.otlp.http_url, "traces", doc)[0] == 200
    settled_count(client, "default.otel_traces", 1, tail=collector.tail)
    (row,) = real_rows(client, "SELECT SpanAttributes FROM default.otel_traces")
    assert row[0] == {"arr": "", "inf": "Infinity", "nan": "NaN", "ninf": "-Infinity"}
    sql_side = client.command(
        "SELECT arrayStringConcat(arrayMap(f -> s3_loader_go_float(f), [nan, inf, -inf]), ',')"
    )
    assert sql_side == "NaN,Infinity,-Infinity"  # the schema's function agrees


def test_m3_duplicates_in_a_large_map_keep_both_entries(real_collector, stack) -> None:
    """Over 12 entries Go's sort is not stable: the exporter keeps both duplicates, in an order the loader
    cannot know (a documented limit, README); keys stay sorted on both sides."""
    client = stack.client()
    collector = real_collector()
    attrs = [kv(f"k{n:02d}", {"stringValue": str(n)}) for n in range(20, 0, -1)]
    attrs += [kv("dup", {"stringValue": "first"}), kv("dup", {"stringValue": "second"})]
    doc = one_span_doc({"traceId": edge_payloads.TRACE, "spanId": "00000000000000c1", "name": "m3",
                        "startTimeUnixNano": t(0), "endTimeUnixNano": t(1), "attributes": attrs})  # fmt: skip
    assert post_json(collector.otlp.http_url, "traces", doc)[0] == 200
    settled_count(client, "default.otel_traces", 1, tail=collector.tail)
    ((keys, values),) = real_rows(
        client, "SELECT mapKeys(SpanAttributes), mapValues(SpanAttributes) FROM default.otel_traces"
    )
    assert keys == sorted(keys) and keys.count("dup") == 2
    assert sorted(v for k, v in zip(keys, values, strict=True) if k == "dup") == ["first", "second"]


def test_m6_a_metric_without_data_loses_its_request(real_collector, stack) -> None:
    """The exporter fails the push ("metrics type is unset"): the receiver answered 200, nothing is stored.
    The stand-in drops the request the same way (its conversion refuses it)."""
    client = stack.client()
    doc = edge_payloads.metrics()
    doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].append({"name": "no.data"})
    collector = real_collector()
    assert post_json(collector.otlp.http_url, "metrics", doc)[0] == 200
    assert post_json(stack.otlp.http_url, "metrics", doc)[0] == 200
    ok = edge_payloads.metrics()
    assert post_json(stack.otlp.http_url, "metrics", ok)[0] == 200  # a later good request still lands
    settled_count(client, "default.otel_metrics_summary", 1)
    time.sleep(3)
    assert "metrics type is unset" in collector.log()
    assert client.command("SELECT count() FROM default.otel_metrics_summary") == 1  # the stand-in's good one


def test_m7_a_wrong_length_id_refuses_the_whole_request_and_empty_ids_are_stored(
    real_collector, stack
) -> None:
    client = stack.client()
    collector = real_collector()
    request = traces_request(spans=3, service="m7")
    request.resource_spans[0].scope_spans[0].spans[1].trace_id = b"\x01\x02"
    for url in (collector.otlp.http_url, stack.otlp.http_url):
        http_request = urllib.request.Request(
            f"{url}/v1/traces",
            data=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(http_request, timeout=10)
        assert refused.value.code == 400, url
    for endpoint in (collector.otlp.grpc_endpoint, stack.otlp.grpc_endpoint):
        with grpc.insecure_channel(endpoint) as channel, pytest.raises(grpc.RpcError) as failed:
            trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)
        assert failed.value.code() == grpc.StatusCode.INTERNAL, endpoint
    doc = one_span_doc(
        {"traceId": "", "spanId": "", "name": "empty ids", "startTimeUnixNano": t(0)},
        {"traceId": "0" * 32, "spanId": "0" * 16, "name": "zero ids", "startTimeUnixNano": t(0)},
    )
    for url in (collector.otlp.http_url, stack.otlp.http_url):
        assert post_json(url, "traces", doc)[0] == 200, url
    settled_count(client, "default.otel_traces", 4, tail=collector.tail)
    assert client.command("SELECT count() FROM default.otel_traces WHERE TraceId = '' AND SpanId = ''") == 4


def test_m9_the_real_s3_json_is_pdatas(real_collector, stack) -> None:
    """pdata writes 2.0 as 2, always writes a KeyValue's value and a log record's body; the stand-in's JSON
    differs in these bytes only (README); the loader reads both to the same rows (test_rows, test_twin)."""
    collector = real_collector()
    record = {"timeUnixNano": t(0), "attributes": [kv("two", {"doubleValue": 2.0}), kv("unset", {})]}
    doc = {"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}
    assert post_json(collector.otlp.http_url, "logs", doc)[0] == 200
    settled_count(stack.client(), "default.otel_logs", 1, tail=collector.tail)
    wait_for("the logs object", lambda: s3_documents(stack), 60, collector.tail)
    assert collector.stop() == 0
    (body,) = s3_documents(stack).values()
    assert b'{"key":"two","value":{"doubleValue":2}}' in body
    assert b'{"key":"unset","value":{}}' in body
    assert b'"body":{}' in body
    written = orjson.loads(body)["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    assert written["body"] == {}
    # the stand-in writes the same document (its doubles keep a ".0": the same value, other bytes)
    assert post_json(stack.otlp.http_url, "logs", doc)[0] == 200
    objects = wait_for(
        "the stand-in's object", lambda: len(s3_documents(stack)) == 2 and s3_documents(stack), 60
    )
    (twin_body,) = (other for other in objects.values() if other != body)
    assert b'{"key":"unset","value":{}}' in twin_body and b'"body":{}' in twin_body
    assert orjson.loads(twin_body) == orjson.loads(body)
