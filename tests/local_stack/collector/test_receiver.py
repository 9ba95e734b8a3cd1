"""The OTLP receiver on the real local stack: the SDK's own exporters in, the S3 object and the `default`
tables out, and both must hold the same data the same way the collector would write it."""

from __future__ import annotations

import gzip
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import grpc
import orjson
import otlp_rows
import pytest
from google.rpc import status_pb2
from local_stack.clickhouse.engine import Engine
from local_stack.clickhouse.sql_text import Query
from local_stack.clickhouse.users import load_users
from local_stack.launch import free_port
from local_stack.paths import REPO_ROOT as REPO
from local_stack.paths import USERS_XML
from local_stack.s3.layout import UUIDV7_PATTERN
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from tests.support.otlp_samples import logs_request, metrics_request, traces_request

KEY = re.compile(
    r"otel/year=\d{4}/month=\d\d/day=\d\d/hour=\d\d/minute=\d\d/(traces|logs)_" + UUIDV7_PATTERN + r"\.json"
)


def _make_spans(service: str, count: int):
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("tests.receiver", "1.0")
    for i in range(count):
        with tracer.start_as_current_span("POST /checkout", attributes={"order": i}) as parent:
            with tracer.start_as_current_span("payment.authorize") as child:
                child.add_event("retry", {"attempt": 2})
                if i % 3 == 0:
                    child.set_status(Status(StatusCode.ERROR, "payment provider timeout"))
            parent.set_attribute("http.response.status_code", 200)
    provider.shutdown()
    return memory.get_finished_spans()


def _wait(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def _objects(stack, signal: str) -> list[tuple[str, dict]]:
    s3 = stack.s3()
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/"):
        for obj in page.get("Contents", []):
            if f"/{signal}_" in obj["Key"]:
                body = s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read()
                out.append(
                    (obj["Key"], orjson.loads(gzip.decompress(body) if obj["Key"].endswith(".gz") else body))
                )
    return out


def _count(stack, table: str, where: str = "1") -> int:
    client = stack.client()
    try:
        return client.command(f"SELECT count() FROM {table} WHERE {where}")
    finally:
        client.close()


@pytest.mark.parametrize("transport", ["http", "grpc"])
def test_sdk_export_lands_in_s3_and_clickhouse_identically(stack, transport: str) -> None:
    spans = _make_spans(f"checkout-{transport}", 40)
    if transport == "http":
        exporter = HttpSpanExporter(endpoint=f"{stack.otlp.http_url}/v1/traces")
    else:
        exporter = GrpcSpanExporter(endpoint=stack.otlp.grpc_endpoint, insecure=True)
    assert exporter.export(spans[:50]) is SpanExportResult.SUCCESS
    assert exporter.export(spans[50:]) is SpanExportResult.SUCCESS
    exporter.shutdown()

    _wait(lambda: _count(stack, "default.otel_traces") >= len(spans))

    def all_files():
        found = _objects(stack, "traces")
        return found if sum(len(otlp_rows.trace_rows(d)) for _, d in found) == len(spans) else None

    objects = _wait(all_files)
    for key, _ in objects:
        assert KEY.fullmatch(key), key

    # the table holds exactly what the files hold, converted by the loader's own code
    from_files = sorted(row for _, doc in objects for row in _as_tuples(otlp_rows.trace_rows(doc)))
    client = stack.client()
    table = client.query(f"SELECT {', '.join(_select(otlp_rows.TRACE_COLUMNS))} FROM default.otel_traces")
    client.close()
    from_table = sorted(_as_tuples([list(r) for r in table.result_rows]))
    assert from_table == from_files
    assert _count(stack, "default.otel_traces", "StatusCode = 'Error'") == 40 // 3 + 1
    assert _count(stack, "default.otel_traces", "ServiceName = 'checkout-" + transport + "'") == len(spans)


def _select(columns) -> list[str]:
    """Read DateTime64 columns back as integer nanoseconds, the form otlp_rows produces."""
    out = []
    for c in columns:
        if c in ("Timestamp", "Events.Timestamp"):
            expr = (
                f"toUnixTimestamp64Nano(`{c}`)"
                if c == "Timestamp"
                else f"arrayMap(t -> toUnixTimestamp64Nano(t), `{c}`)"
            )
            out.append(expr)
        else:
            out.append(f"`{c}`")
    return out


def _as_tuples(rows):
    def freeze(v):
        if isinstance(v, dict):
            return tuple(sorted(v.items()))
        if isinstance(v, list):
            return tuple(freeze(x) for x in v)
        return v

    return [tuple(freeze(v) for v in row) for row in rows]


def _post(url: str, body: bytes, content_type: str, encoding: str = "") -> tuple[int, bytes, str]:
    headers = {"Content-Type": content_type}
    if encoding:
        headers["Content-Encoding"] = encoding
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def test_json_gzip_logs_and_protobuf_metrics_reach_their_tables(stack) -> None:
    from local_stack.collector import otlp_json

    logs = logs_request(records=3)
    body = gzip.compress(orjson.dumps(otlp_json.logs_to_json(logs)))
    status, answer, ctype = _post(f"{stack.otlp.http_url}/v1/logs", body, "application/json", "gzip")
    assert (status, orjson.loads(answer), ctype) == (200, {}, "application/json")

    metrics = metrics_request()
    status, answer, _ = _post(
        f"{stack.otlp.http_url}/v1/metrics", metrics.SerializeToString(), "application/x-protobuf"
    )
    assert (status, answer) == (200, b"")  # an empty ExportMetricsServiceResponse: nothing rejected

    _wait(lambda: _count(stack, "default.otel_logs") == 3)
    assert _count(stack, "default.otel_logs", "SeverityText = 'ERROR' AND ServiceName = 'checkout'") == 3
    for table in ("gauge", "sum", "histogram", "exponential_histogram", "summary"):
        _wait(lambda t=table: _count(stack, f"default.otel_metrics_{t}") == 1)
    assert _count(stack, "default.otel_metrics_histogram", "BucketCounts = [1, 2, 3] AND Sum = 2.75") == 1
    assert [k for k, _ in _wait(lambda: _objects(stack, "logs"))]
    assert not _objects(stack, "metrics")  # metrics go to ClickHouse only, as in the collector config


def test_an_id_of_the_wrong_length_refuses_the_request_as_the_collector_does(stack) -> None:
    request = traces_request(spans=4, service="bad-id")
    request.resource_spans[0].scope_spans[0].spans[2].trace_id = b"\x01\x02"
    status, answer, _ = _post(
        f"{stack.otlp.http_url}/v1/traces", request.SerializeToString(), "application/x-protobuf"
    )
    assert status == 400
    assert b"trace_id: 2 bytes" in answer
    with grpc.insecure_channel(stack.otlp.grpc_endpoint) as channel, pytest.raises(grpc.RpcError) as refused:
        trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)
    assert refused.value.code() == grpc.StatusCode.INTERNAL
    request.resource_spans[0].scope_spans[0].spans[2].trace_id = bytes(16)  # all zero: stored as ''
    status, _, _ = _post(
        f"{stack.otlp.http_url}/v1/traces", request.SerializeToString(), "application/x-protobuf"
    )
    assert status == 200
    _wait(lambda: _count(stack, "default.otel_traces", "ServiceName = 'bad-id'") == 4)
    assert _count(stack, "default.otel_traces", "ServiceName = 'bad-id' AND TraceId = ''") == 1


@pytest.mark.parametrize(
    ("body", "content_type", "encoding", "status", "reason"),
    [
        (b"\x0a\xff\xff\xff\xff\x0f junk", "application/x-protobuf", "", 400, "not a protobuf"),
        (b"{oops", "application/json", "", 400, "not JSON"),
        (b"not gzip at all", "application/x-protobuf", "gzip", 400, "not valid gzip"),
        (b"{}", "text/plain", "", 415, "unsupported Content-Type"),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(stack, body, content_type, encoding, status, reason) -> None:
    got, answer, _ = _post(f"{stack.otlp.http_url}/v1/traces", body, content_type, encoding)
    assert got == status
    if content_type == "application/json":
        assert reason in orjson.loads(answer)["message"]
    elif status == 400:
        assert reason in status_pb2.Status.FromString(answer).message
    else:
        assert reason in answer.decode()


def test_grpc_garbage_is_invalid_argument_with_the_reason(stack) -> None:
    with grpc.insecure_channel(stack.otlp.grpc_endpoint) as channel:
        call = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.RpcError) as info:
            call(b"\x0a\xff\xff\xff\xff\x0f junk", timeout=10)
    assert info.value.code() is grpc.StatusCode.INTERNAL
    assert "not a protobuf" in info.value.details()


def test_a_clean_shutdown_exports_every_accepted_batch(tmp_path) -> None:

    data = tmp_path / "data"
    http_port = free_port()
    stack = subprocess.Popen(
        [sys.executable, "-m", "local_stack", "--data-dir", str(data),
         "--clickhouse-port", str(free_port()), "--s3-port", str(free_port()),
         "--otlp-grpc-port", str(free_port()), "--otlp-http-port", str(http_port),
         "--otlp-flush-timeout", "600"],  # nothing leaves by timeout: only the shutdown can flush it
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        _wait(lambda: _port_open(http_port), timeout=60)
        for i in range(3):
            request = traces_request(spans=50, service=f"flushed-{i}")
            status, _, _ = _post(
                f"http://127.0.0.1:{http_port}/v1/traces",
                request.SerializeToString(),
                "application/x-protobuf",
            )
            assert status == 200
    finally:
        stack.send_signal(signal.SIGTERM)
        output, _ = stack.communicate(timeout=60)
    assert stack.returncode == 0, output
    assert "exporting the 150 items already accepted" in output
    assert "traces received=150 rejected=0 exported=150 failed=0" in output

    engine = Engine(data / "clickhouse")  # the stack's own data, read back with the engine directly
    try:
        result = engine.execute(
            load_users(USERS_XML)["default"],
            Query("SELECT count() FROM default.otel_traces", "TSV"),
            None,
            {},
            {},
        )
    finally:
        engine.close()
    assert bytes(result.body).strip() == b"150"


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_gzip_compression_writes_json_gz_objects(stack) -> None:
    from local_stack.collector import otlp_json
    from local_stack.collector.batch import Batch
    from local_stack.collector.exporters import S3Exporter
    from local_stack.collector.payload import Signal

    doc = otlp_json.traces_to_json(traces_request(spans=3))
    S3Exporter(stack.s3(), stack.bucket, "otel", compressed=True).export(
        Batch(Signal.TRACES, doc["resourceSpans"], {}, 3)
    )
    ((key, stored),) = _objects(stack, "traces")
    assert re.fullmatch(KEY.pattern + r"\.gz", key)
    assert stored == doc
    head = stack.s3().head_object(Bucket=stack.bucket, Key=key)
    assert head["ContentEncoding"] == "gzip"
