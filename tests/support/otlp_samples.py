"""Fully populated OTLP export requests (every field set, every AnyValue kind) for the receiver's tests."""

from __future__ import annotations

import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")
PARENT_ID = bytes.fromhex("eee19b7ec3c1b173")
# an hour ago (the tables have a 3-day TTL), with nanoseconds
T0 = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000 + 123_456_789


def _fill_attributes(kvs) -> None:
    kvs.add(key="http.route").value.string_value = "/launch/{id}/entry"
    kvs.add(key="http.response.status_code").value.int_value = 409
    kvs.add(key="ratio").value.double_value = 0.25
    kvs.add(key="cache.hit").value.bool_value = True
    kvs.add(key="raw").value.bytes_value = b"\x00\x01\xff"
    arr = kvs.add(key="sizes").value.array_value
    arr.values.add().string_value = "9.5"
    arr.values.add().int_value = 10
    kv = kvs.add(key="member").value.kvlist_value
    kv.values.add(key="tier").value.string_value = "gold"
    kvs.add(key="empty.string").value.string_value = ""


def _fill_resource(res, service: str = "checkout") -> None:
    res.resource.attributes.add(key="service.name").value.string_value = service
    res.resource.attributes.add(key="service.version").value.string_value = "1.4.2"
    res.resource.dropped_attributes_count = 1
    res.schema_url = "https://opentelemetry.io/schemas/1.26.0"


def _fill_scope(scoped) -> None:
    scoped.scope.name = "snkrs.checkout"
    scoped.scope.version = "0.3.0"
    scoped.scope.attributes.add(key="lib").value.string_value = "otel"
    scoped.schema_url = "https://opentelemetry.io/schemas/1.26.0"


def traces_request(spans: int = 2, service: str = "checkout") -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    res = req.resource_spans.add()
    _fill_resource(res, service)
    scoped = res.scope_spans.add()
    _fill_scope(scoped)
    for i in range(spans):
        span = scoped.spans.add(
            trace_id=TRACE_ID,
            span_id=(int.from_bytes(SPAN_ID, "big") + i).to_bytes(8, "big"),
            parent_span_id=PARENT_ID,
            trace_state="vendor=1",
            flags=0x301,
            name="POST /checkout",
            kind=2,
            start_time_unix_nano=T0 + i,
            end_time_unix_nano=T0 + i + 1_500_000_000,
            dropped_attributes_count=2,
            dropped_events_count=3,
            dropped_links_count=4,
        )
        _fill_attributes(span.attributes)
        event = span.events.add(time_unix_nano=T0 + 5, name="exception", dropped_attributes_count=1)
        event.attributes.add(key="exception.type").value.string_value = "PaymentTimeout"
        link = span.links.add(trace_id=TRACE_ID[::-1], span_id=SPAN_ID[::-1], trace_state="a=b", flags=0x100)
        link.attributes.add(key="messaging.system").value.string_value = "kafka"
        span.status.code = 2
        span.status.message = "payment provider timeout"
    return req


def logs_request(records: int = 2) -> ExportLogsServiceRequest:
    req = ExportLogsServiceRequest()
    res = req.resource_logs.add()
    _fill_resource(res)
    scoped = res.scope_logs.add()
    _fill_scope(scoped)
    for i in range(records):
        rec = scoped.log_records.add(
            time_unix_nano=T0 + i,
            observed_time_unix_nano=T0 + i + 7,
            severity_number=17,
            severity_text="ERROR",
            dropped_attributes_count=1,
            flags=1,
            trace_id=TRACE_ID,
            span_id=SPAN_ID,
            event_name="exception",
        )
        rec.body.string_value = f"payment provider timeout after 3 retries #{i}"
        _fill_attributes(rec.attributes)
    return req


def metrics_request() -> ExportMetricsServiceRequest:
    req = ExportMetricsServiceRequest()
    res = req.resource_metrics.add()
    _fill_resource(res)
    scoped = res.scope_metrics.add()
    _fill_scope(scoped)

    gauge = scoped.metrics.add(name="inventory.remaining", description="pairs left", unit="{pair}")
    gauge.metadata.add(key="m").value.string_value = "x"
    point = gauge.gauge.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, as_int=42, flags=1)
    point.attributes.add(key="sku").value.string_value = "DZ5485-612"
    ex = point.exemplars.add(time_unix_nano=T0, as_double=1.5, trace_id=TRACE_ID, span_id=SPAN_ID)
    ex.filtered_attributes.add(key="k").value.string_value = "v"

    total = scoped.metrics.add(name="orders", unit="{order}")
    total.sum.aggregation_temporality = 2
    total.sum.is_monotonic = True
    total.sum.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, as_double=7.0)

    hist = scoped.metrics.add(name="http.server.request.duration", unit="s")
    hist.histogram.aggregation_temporality = 2
    hp = hist.histogram.data_points.add(
        start_time_unix_nano=T0,
        time_unix_nano=T0 + 1,
        count=6,
        sum=2.75,
        bucket_counts=[1, 2, 3],
        explicit_bounds=[0.1, 0.5],
        min=0.01,
        max=1.2,
    )
    hp.exemplars.add(time_unix_nano=T0, as_int=3, trace_id=TRACE_ID, span_id=SPAN_ID)

    exp = scoped.metrics.add(name="latency.exp", unit="s")
    exp.exponential_histogram.aggregation_temporality = 1
    ep = exp.exponential_histogram.data_points.add(
        start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=5, sum=3.5, scale=-2, zero_count=1,
        min=0.5, max=2.0, zero_threshold=0.001,
    )  # fmt: skip
    ep.positive.offset = 3
    ep.positive.bucket_counts.extend([1, 2])
    ep.negative.offset = -1
    ep.negative.bucket_counts.extend([1])

    summary = scoped.metrics.add(name="queue.wait", unit="s")
    sp = summary.summary.data_points.add(start_time_unix_nano=T0, time_unix_nano=T0 + 1, count=4, sum=9.5)
    sp.quantile_values.add(quantile=0.5, value=1.0)
    sp.quantile_values.add(quantile=0.99, value=4.0)
    return req
