"""Queries for one trace: its spans, bounded by the trace-id lookup table, for the tree and the
critical path."""

from __future__ import annotations

from .filters import Query


def _one_trace(table: str, lookup_table: str, trace_id: str, max_spans: int, columns: str) -> Query:
    """One trace's spans (`columns`, then total_spans), at most max_spans + 1: the lookup table's (Start, End)
    for the trace bounds the scan of the spans table to its partitions."""
    sql = f"""
WITH (SELECT (min(Start), max(End)) FROM {lookup_table} WHERE TraceId = {{trace_id:String}}) AS bounds
SELECT {columns}, count() OVER () AS total_spans
FROM {table}
WHERE TraceId = {{trace_id:String}}
  AND Timestamp >= bounds.1 AND toDateTime(Timestamp) <= bounds.2
ORDER BY Timestamp, SpanId
LIMIT {int(max_spans) + 1}"""
    return sql, {"trace_id": trace_id}


def trace_spans(table: str, lookup_table: str, trace_id: str, max_spans: int) -> Query:
    """One trace's spans for its tree."""
    columns = (
        "Timestamp, SpanId, ParentSpanId, ServiceName, SpanName, SpanKind, Duration, StatusCode, "
        "StatusMessage,\n       SpanAttributes"
    )
    return _one_trace(table, lookup_table, trace_id, max_spans, columns)


def trace_path_spans(table: str, lookup_table: str, trace_id: str, max_spans: int) -> Query:
    """One trace's spans with nanosecond starts, for the critical path (bounded like trace_spans)."""
    columns = (
        "toUnixTimestamp64Nano(Timestamp) AS start_ns, SpanId, ParentSpanId, ServiceName, SpanName, Duration,"
        "\n       StatusCode"
    )
    return _one_trace(table, lookup_table, trace_id, max_spans, columns)
