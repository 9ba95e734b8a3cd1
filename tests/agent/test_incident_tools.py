"""The tools the eval showed were missing: log_summary (warnings grouped by template, with first/last seen)
and attribute_breakdown (one attribute's values side by side: the bad version, replica or region)."""

from __future__ import annotations

import random

from trace_agent.tools import execute

from tests.support.spans import SPAN_COLUMNS, Span, hex_id, minutes_ago

LOG_COLUMNS = ["Timestamp", "TraceId", "SpanId", "SeverityText", "SeverityNumber", "ServiceName", "Body"]


def test_log_summary_groups_warnings_by_template(ctx, stack):
    rng = random.Random(3)
    rows, lag_traces = [], set()
    for i in range(12):
        trace = hex_id(rng, 32)
        lag_traces.add(trace)
        body = f"order ord-{rng.getrandbits(48):012x} consumed {2 + i * 1.5:.1f}s after it was published"
        rows.append([minutes_ago(20 - i), trace, hex_id(rng, 16), "WARN", 13, "order-fulfillment", body])
    rows.append([minutes_ago(5), hex_id(rng, 32), hex_id(rng, 16), "INFO", 9, "checkout", "order placed"])
    rows.append([minutes_ago(300), hex_id(rng, 32), hex_id(rng, 16), "ERROR", 17, "feed", "too old"])
    client = stack.client()
    client.insert("default.otel_logs", rows, column_names=LOG_COLUMNS)
    client.close()

    result = execute(ctx, "log_summary", {"window": "1h"})
    assert not result.is_error, result.error
    (row,) = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert row["service"] == "order-fulfillment" and row["severity"] == "WARN"
    assert row["template"] == "order <id> consumed <n>s after it was published"
    assert row["records"] == 12 and row["traces"] == 12
    assert set(row["example_trace_ids"]) <= lag_traces
    assert row["first_seen"] < row["last_seen"]
    info = execute(ctx, "log_summary", {"window": "1h", "min_severity": "INFO", "service": "checkout"})
    assert [r[0] for r in info.rows] == ["checkout"]
    assert execute(ctx, "log_summary", {"min_severity": "FATAL"}).is_error


def test_attribute_breakdown_finds_the_odd_version_and_replica(ctx, stack):
    rng = random.Random(4)
    spans, bad = [], set()
    for i in range(60):
        canary = i % 4 == 0
        trace = hex_id(rng, 32)
        if canary:
            bad.add(trace)
        span = Span(trace, hex_id(rng, 16), "checkout", "POST /checkouts", minutes_ago(rng.uniform(1, 30)),
                    5_000_000, status="Error" if canary else "Ok",
                    attributes={"server.address": f"db-replica-{1 + i % 3}"})  # fmt: skip
        spans.append(span)
    rows = []
    resource = SPAN_COLUMNS.index("ResourceAttributes")
    for span in spans:  # the canary's spans carry the new version in their resource
        row = span.row()
        row[resource] = {**row[resource], "service.version": "6.4.0" if span.status == "Error" else "6.3.4"}
        rows.append(row)
    client = stack.client()
    client.insert("default.otel_traces", rows, column_names=SPAN_COLUMNS)
    client.close()

    result = execute(ctx, "attribute_breakdown", {"attribute": "service.version", "window": "1h"})
    assert not result.is_error, result.error
    rows = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert [r["value"] for r in rows] == ["6.4.0", "6.3.4"]
    assert rows[0]["errors"] == 15 and rows[0]["error_rate"] == 1.0 and rows[1]["errors"] == 0
    assert rows[0]["services"] == ["checkout"] and rows[0]["example_error_trace"] in bad
    assert rows[0]["slowest_trace"] in bad and rows[1]["slowest_trace"] not in bad
    by_replica = execute(ctx, "attribute_breakdown", {"attribute": "server.address", "service": "checkout"})
    assert sorted(r[0] for r in by_replica.rows) == ["db-replica-1", "db-replica-2", "db-replica-3"]
    assert execute(ctx, "attribute_breakdown", {"attribute": "no.such.key"}).rows == []
