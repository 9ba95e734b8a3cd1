"""`just bench` and `just minio-ls` (local_stack.tools.bench, local_stack.tools.minio_ls) as processes on a
stack."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from local_stack.launch import free_port
from local_stack.tools.bench import SpanGap, TableStats, format_report, pick_time_column
from local_stack.tools.minio_ls import S3Object, format_listing, signal_of

from tests.support.spans import SPAN_COLUMNS, drop_spans


def run(module: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_pick_time_column_prefers_arrival_time_then_event_time():
    assert pick_time_column([("Timestamp", "DateTime64(9)"), ("InsertedAt", "DateTime64(6)")]) == "InsertedAt"
    assert pick_time_column([("TimeUnix", "DateTime64(9)"), ("Value", "Float64")]) == "TimeUnix"
    assert pick_time_column([("key", "String"), ("seen", "Nullable(DateTime64(3))")]) == "seen"
    assert pick_time_column([("key", "String")]) is None


def test_format_report_calls_a_settled_gap_a_loss_and_a_surplus_duplicates():
    stats = [TableStats("default.otel_traces", 120, "Timestamp", 60), TableStats("otel.x", 3, None, None)]
    report = format_report(stats, SpanGap(120, 100, 90, 85), window_s=60, settle_s=120)
    assert re.search(r"default\.otel_traces\s+120\s+1\.0\s+Timestamp", report)
    assert re.search(r"otel\.x\s+3\s+-\s+-", report)
    assert "missing=5 (5.56%)" in report and "LOSS" in report
    assert "DUPLICATES" in format_report(stats, SpanGap(10, 12, 10, 12), 60, 120)
    assert "OK:" in format_report(stats, SpanGap(10, 8, 6, 6), 60, 120)
    assert "DUPLICATES: 3 direct and 0 loaded rows" in format_report(
        stats, SpanGap(13, 10, 13, 10, 3, 0), 60, 120
    )


def test_bench_reports_counts_rates_and_the_gap_between_direct_and_loaded_spans(stack):
    now = datetime.now(UTC)
    settled = drop_spans(20, start=now - timedelta(minutes=10))  # 60 spans, older than the settle time
    recent = drop_spans(10, start=now - timedelta(seconds=15), seed=8)  # 30 spans in the last 60 s
    client = stack.client()
    client.insert("default.otel_traces", settled + recent, column_names=SPAN_COLUMNS)
    client.insert("otel.otel_traces", settled[:-3], column_names=SPAN_COLUMNS)  # three settled spans lost

    result = run("local_stack.tools.bench", stack.env())
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"^default\.otel_traces\s+90\s+0\.5\s+Timestamp$", out, re.M), out
    assert re.search(r"^otel\.otel_traces\s+57\s+\S+\s+InsertedAt$", out, re.M), out
    assert re.search(r"^default\.otel_traces_trace_id_ts\s+30\s", out, re.M), out  # filled by the MV
    assert re.search(r"^default\.otel_logs\s+0\s", out, re.M), out
    assert "direct=90 loaded=57 missing=33" in out
    assert "direct=60 loaded=57 missing=3 (5.00%)" in out and "LOSS" in out

    client.insert("otel.otel_traces", settled[-3:], column_names=SPAN_COLUMNS)
    client.close()
    out = run("local_stack.tools.bench", stack.env()).stdout
    assert "direct=60 loaded=60 missing=0" in out and "OK:" in out


def test_bench_without_a_stack_says_so_in_one_line():
    env = {"CLICKHOUSE_HOST": "127.0.0.1", "CLICKHOUSE_PORT": str(free_port()), "PATH": "/usr/bin:/bin"}
    result = run("local_stack.tools.bench", env)
    assert result.returncode == 1
    assert result.stderr.startswith("bench: cannot reach ClickHouse at default@127.0.0.1:")
    assert len(result.stderr.strip().splitlines()) == 1


def test_signal_of_reads_the_collector_key_layout():
    key = "otel/year=2026/month=11/day=22/hour=10/minute=01/traces_0193a1b2-7c3d-7e4f-8a5b-123456789abc.json"
    assert signal_of(key) == "traces"
    assert signal_of("otel/year=2026/month=11/day=22/hour=10/minute=01/logs_123456789.json.gz") == "logs"
    assert signal_of("otel/README") == "other"


def test_format_listing_shows_the_newest_first_and_a_summary_per_signal():
    now = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    objects = [
        S3Object(f"otel/m/traces_{i}.json", 1000 + i, now - timedelta(seconds=10 * i)) for i in range(3)
    ]
    objects.append(S3Object("otel/m/logs_9.json", 2048, now - timedelta(seconds=90)))
    listing = format_listing(objects, limit=2, now=now)
    lines = listing.splitlines()
    assert lines[0] == "newest 2 of 4 objects:"
    assert lines[1].endswith("otel/m/traces_0.json") and lines[2].endswith("otel/m/traces_1.json")
    assert re.search(r"^traces\s+3\s+2\.9 KiB\s+0s ago$", listing, re.M), listing
    assert re.search(r"^logs\s+1\s+2\.0 KiB\s+90s ago$", listing, re.M), listing
    assert "no objects yet" in format_listing([], 5, now)


def test_minio_ls_lists_the_bucket_of_a_running_stack(stack):
    s3 = stack.s3()
    partition = "otel/year=2026/month=11/day=22/hour=10/minute=01"
    for i in range(3):
        s3.put_object(
            Bucket=stack.bucket, Key=f"{partition}/traces_{i:09d}.json", Body=b'{"resourceSpans":[]}'
        )
    for i in range(2):
        s3.put_object(Bucket=stack.bucket, Key=f"{partition}/logs_{i:09d}.json", Body=b'{"resourceLogs":[]}')
    s3.put_object(Bucket=stack.bucket, Key="elsewhere/metrics_000000001.json", Body=b"{}")

    result = run("local_stack.tools.minio_ls", stack.env(), "--limit", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"s3://{stack.bucket}/otel at {stack.ports.s3_url}" in out
    assert "newest 2 of 5 objects:" in out  # the default prefix is S3_PREFIX (otel)
    assert re.search(r"^traces\s+3\s", out, re.M) and re.search(r"^logs\s+2\s", out, re.M)
    assert "metrics" not in out

    everything = run("local_stack.tools.minio_ls", stack.env(), "").stdout
    assert "newest 6 of 6 objects:" in everything and re.search(r"^metrics\s+1\s", everything, re.M)
