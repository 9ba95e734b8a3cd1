"""describe_schema: the tables the tools read, their columns and what they mean, row counts and time
ranges, and the metric names."""

from __future__ import annotations

from typing import Any

from .. import queries
from ..results import ToolResult, json_value
from ..timewindow import iso
from ..tool_inputs import DescribeSchemaInput
from .context import ToolContext, run_query

COLUMN_MEANINGS = {
    "Timestamp": "span start, DateTime64(9) UTC",
    "TraceId": "32 hex digits; all spans of one request share it",
    "SpanId": "16 hex digits",
    "ParentSpanId": "the parent's SpanId; empty for a root span",
    "ServiceName": "service.name of the emitting service",
    "SpanName": "operation, e.g. 'POST /checkout' or 'SELECT orders'",
    "SpanKind": "Unspecified | Internal | Server | Client | Producer | Consumer",
    "Duration": "span length in NANOSECONDS (UInt64): divide by 1e6 for ms",
    "StatusCode": "Unset | Ok | Error (the string 'Error' marks a failed span)",
    "StatusMessage": "error description when StatusCode = 'Error'",
    "SpanAttributes": "Map(String, String): http.route, http.response.status_code, db.system.name, …",
    "ResourceAttributes": "Map(String, String): service.version, deployment.environment.name, …",
    "Events.Name": "span events (exceptions are events named 'exception')",
    "Start": "first span start of the trace (DateTime, seconds)",
    "End": "last span start of the trace (DateTime, seconds)",
    "EmbeddingText": "the text that was embedded for the span",
    "Embedding": "Array(Float32) of 384: all-MiniLM-L6-v2 vector; compare with cosineDistance",
    "EmbeddingModel": "name of the model that made Embedding",
    "EnrichedAt": "when the enricher wrote the row",
}


def describe_schema(ctx: ToolContext, _args: DescribeSchemaInput) -> ToolResult:
    s = ctx.settings
    roles = {
        s.traces_table: "spans read by list_services, find_slow_spans, error_summary, get_trace_tree, "
        "critical_path, compare_windows (the collector's direct export: the freshest copy)",
        s.trace_lookup_table: "TraceId → (Start, End): bounds the scan when fetching one trace",
        s.enriched_table: "spans with a text embedding, read by semantic_search and similar_spans "
        "(lags loader and enricher)",
        s.logs_table: "log records (Body, SeverityText, TraceId, LogAttributes), read by log_summary and "
        "log_patterns",
    }
    if s.traces_table != "otel.otel_traces":
        roles.setdefault("otel.otel_traces", "the same spans loaded back from the S3 copy (lags the export)")
    tables: list[dict[str, Any]] = []
    elapsed = 0.0
    for table, role in roles.items():
        columns = run_query(ctx, *queries.table_overview(table))
        elapsed += columns.elapsed_ms
        entry: dict[str, Any] = {"table": table, "role": role}
        if not columns.rows:
            entry["missing"] = True
            tables.append(entry)
            continue
        entry["columns"] = [
            f"{name} {ctype}" + (f" — {COLUMN_MEANINGS[name]}" if name in COLUMN_MEANINGS else "")
            for name, ctype in columns.rows
        ]
        if any(name == "Timestamp" for name, _ in columns.rows):
            stats = run_query(ctx, *queries.table_span(table))
            elapsed += stats.elapsed_ms
            rows, oldest, newest = stats.rows[0]
            entry.update(
                rows=rows,
                oldest=json_value(oldest) if rows else None,
                newest=json_value(newest) if rows else None,
            )
        tables.append(entry)
    metrics = run_query(ctx, *queries.metric_names(s.metrics_table_prefix))
    elapsed += metrics.elapsed_ms
    metric_names = [
        f"{name} ({kind}{', ' + unit if unit else ''}) — {', '.join(services[:6])}"
        for name, kind, unit, _description, services, _points in metrics.rows
    ]
    tables.append(
        {
            "table": f"{s.metrics_table_prefix}{{gauge,sum,histogram}}",
            "role": "metric points (MetricName, ServiceName, ResourceAttributes, Attributes, TimeUnix, "
            "Value), read by metric_series",
            "metrics": metric_names,
        }
    )
    notes = [
        "Duration is in nanoseconds; tools report milliseconds (*_ms).",
        "StatusCode is 'Error' for failed spans; SpanKind 'Server' spans are request entry points.",
        f"Tools default to the last {ctx.window} (now is {iso(ctx.now())}); pass window/start/end.",
        "run_sql runs one read-only query as the ClickHouse user with readonly=1 and server-side limits.",
    ]
    return ToolResult(
        "describe_schema", {}, kind="schema", elapsed_ms=elapsed, extra={"tables": tables, "notes": notes}
    )
