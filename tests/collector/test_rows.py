"""Rows: a compressed drop cycle from the generator plus the hand-made edge-case payloads go through the real
collector. The real clickhouseexporter's rows (default.*) and the loader's rows from the real awss3exporter's
files (otel.*) must be identical, column by column, and `just bench` must say OK."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collector import edge_payloads
from tests.collector.pipeline import (
    except_both_ways,
    post_json,
    run_bench,
    run_generator,
    run_loader_once,
    settled_count,
    wait_for,
    wait_for_s3_spans,
)

pytestmark = pytest.mark.slow


def s3_keys(stack) -> list[str]:
    s3 = stack.s3()
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/")
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def test_loaded_rows_equal_the_real_exporters_rows(real_collector, stack, tmp_path: Path) -> None:
    collector = real_collector()
    client = stack.client()
    edge_spans = sum(
        len(ss["spans"]) for rs in edge_payloads.traces()["resourceSpans"] for ss in rs["scopeSpans"]
    )
    edge_logs = len(edge_payloads.logs()["resourceLogs"][0]["scopeLogs"][0]["logRecords"])
    for signal, document in (("traces", edge_payloads.traces()), ("logs", edge_payloads.logs())):
        status, body = post_json(collector.otlp.http_url, signal, document)
        assert status == 200, (signal, body, collector.tail())
    exported = run_generator(stack, collector.otlp.http_url, tmp_path)
    spans = settled_count(client, "default.otel_traces", exported + edge_spans)
    assert spans == exported + edge_spans, collector.tail()
    logs = settled_count(client, "default.otel_logs", edge_logs)
    wait_for_s3_spans(stack, spans, collector.tail)
    assert collector.stop() == 0
    keys = s3_keys(stack)
    assert keys and not any("metrics_" in key for key in keys)  # metrics go to ClickHouse only

    run_loader_once(stack, tmp_path)
    wait_for("the loader's rows", lambda: client.command("SELECT count() FROM otel.otel_traces") >= spans, 60)
    for table, expected in (("otel_traces", spans), ("otel_logs", logs)):
        loaded = client.command(f"SELECT count() FROM otel.{table}")
        assert loaded == expected, table
        only_direct, only_loaded, sample = except_both_ways(client, f"default.{table}", f"otel.{table}")
        assert (only_direct, only_loaded) == (0, 0), f"{table}: {sample}"
    report = run_bench(stack)
    assert "OK: every settled span exported directly was also loaded from S3" in report, report
