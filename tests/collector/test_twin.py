"""Twin: the stand-in receiver (local_stack's OTLP receiver) given the same input as the real collector stores
the same rows in every table and writes S3 objects with the real awss3exporter's key layout (uuidv7 keys,
traces and logs only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.collector import edge_payloads
from tests.collector.pipeline import (
    METRIC_TABLES,
    except_both_ways,
    post_json,
    run_generator,
    settled_count,
    snapshot,
    wait_for_s3_spans,
)

pytestmark = pytest.mark.slow

# metrics reach ClickHouse only (not S3), so only the edge payload's metrics can be sent to the twin again
TABLES = {
    "otel_traces": "1",
    "otel_logs": "1",
    **{f"otel_metrics_{kind}": "ServiceName = 'edge-metrics'" for kind in METRIC_TABLES},
}
KEY = re.compile(
    r"otel/year=\d{4}/month=\d\d/day=\d\d/hour=\d\d/minute=\d\d/(traces|logs)_"
    r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json"
)


def bucket(stack) -> dict[str, bytes]:
    s3 = stack.s3()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/")
    keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read() for key in keys}


def test_the_stand_in_stores_what_the_real_collector_stores(real_collector, stack, tmp_path: Path) -> None:
    client = stack.client()
    collector = real_collector()
    for signal, document in edge_payloads.SIGNALS.items():
        status, body = post_json(collector.otlp.http_url, signal, document())
        assert status == 200, (signal, body, collector.tail())
    run_generator(stack, collector.otlp.http_url, tmp_path, seed=5)
    settled_count(client, "default.otel_traces", 1, tail=collector.tail)
    settled_count(client, "default.otel_metrics_summary", 1, tail=collector.tail)
    spans = settled_count(client, "default.otel_traces", 1, tail=collector.tail)
    wait_for_s3_spans(stack, spans, collector.tail)
    assert collector.stop() == 0
    real_counts = snapshot(client, "default", TABLES, "real_collector")
    assert all(real_counts.values()), real_counts
    real_objects = bucket(stack)
    assert real_objects and all(KEY.fullmatch(key) for key in real_objects), sorted(real_objects)[:5]

    # the same input into the stand-in: the edge metrics as sent, traces and logs as the real collector
    # received them (its S3 files hold every request it accepted, as OTLP JSON)
    stack.reset()
    status, body = post_json(stack.otlp.http_url, "metrics", edge_payloads.metrics())
    assert status == 200, body
    for key, document in real_objects.items():
        status, body = post_json(stack.otlp.http_url, KEY.fullmatch(key)[1], document)
        assert status == 200, (key, body)
    for table, expected in real_counts.items():
        assert settled_count(client, f"default.{table}", expected) == expected, table
    for table in TABLES:
        only_real, only_twin, sample = except_both_ways(client, f"real_collector.{table}", f"default.{table}")
        assert (only_real, only_twin) == (0, 0), f"{table}: {sample}"
    twin_objects = bucket(stack)
    assert twin_objects and all(KEY.fullmatch(key) for key in twin_objects), sorted(twin_objects)[:5]
    signals = lambda objects: {KEY.fullmatch(k)[1] for k in objects}  # noqa: E731
    assert signals(twin_objects) == signals(real_objects) == {"traces", "logs"}
    client.command("DROP DATABASE real_collector")
