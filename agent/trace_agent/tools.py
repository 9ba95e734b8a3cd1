"""The agent's tools: validated input → one read-only query → a compact, redacted ToolResult."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from . import critical_path as cpath
from . import queries
from .comparison import compare_row, describe_change
from .db import Database, QueryError
from .embedding import embed
from .links import add_trace_links
from .log_patterns import mine_patterns
from .redact import redact
from .results import ToolResult, json_value, shape_rows
from .settings import Settings
from .signals import change_point, rank_deltas
from .sql_guard import SqlRejected, with_limit
from .timewindow import Window, WindowError, iso, parse_duration, parse_time, resolve_window, utcnow
from .tool_inputs import (
    AttributeBreakdownInput,
    CompareWindowsInput,
    CriticalPathInput,
    DescribeSchemaInput,
    ErrorSummaryInput,
    FindSlowSpansInput,
    GetTraceTreeInput,
    ListServicesInput,
    LogPatternsInput,
    LogSummaryInput,
    MetricSeriesInput,
    RunSqlInput,
    SemanticSearchInput,
    ServiceMapInput,
    SimilarSpansInput,
    SpanDeltasInput,
    json_schema,
)
from .trace_tree import build_tree, tree_lines


class ToolError(Exception):
    """A failure to report to the model as an error result (bad input, refused or failed query)."""


@dataclass
class ToolContext:
    db: Database
    settings: Settings
    window: str = ""
    now: Callable[[], datetime] = utcnow
    embedder: Callable[[str], list[float]] | None = None

    def __post_init__(self) -> None:
        self.window = self.window or self.settings.window
        if self.embedder is None:
            self.embedder = lambda text: embed(text, self.settings.embedding_model)

    def resolve(self, args: Any) -> Window:
        return resolve_window(args.window, args.start, args.end, default=self.window, now=self.now())

    def exclude(self, *asked: str | None) -> str | None:
        """The agent's own service, left out of the tools' answers unless a filter asks for it."""
        own = self.settings.self_service_name
        if not own or any(a and a.lower() in own.lower() for a in asked):
            return None
        return own


@dataclass
class Tool:
    name: str
    title: str  # a human-readable name (MCP clients show it)
    description: str
    input_model: type[BaseModel]
    run: Callable[[ToolContext, Any], ToolResult]
    schema: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.schema = json_schema(self.input_model)

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.schema}


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


def _describe_schema(ctx: ToolContext, _args: DescribeSchemaInput) -> ToolResult:
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
        columns = _query(ctx, *queries.table_overview(table))
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
            stats = _query(ctx, *queries.table_span(table))
            elapsed += stats.elapsed_ms
            rows, oldest, newest = stats.rows[0]
            entry.update(
                rows=rows,
                oldest=json_value(oldest) if rows else None,
                newest=json_value(newest) if rows else None,
            )
        tables.append(entry)
    metrics = _query(ctx, *queries.metric_names(s.metrics_table_prefix))
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


def _query(ctx: ToolContext, sql: str, params: dict[str, Any]):
    try:
        return ctx.db.query(sql, params)
    except QueryError as exc:
        raise ToolError(str(exc)) from None


def _table_result(
    ctx: ToolContext, name: str, args: BaseModel, query: queries.Query, limit: int, window: Window | None
) -> ToolResult:
    rows = _query(ctx, *query)
    shaped, truncated = shape_rows(rows.rows, limit)
    result = ToolResult(
        name,
        args.model_dump(exclude_none=True),
        columns=rows.columns,
        rows=shaped,
        truncated=truncated,
        elapsed_ms=rows.elapsed_ms,
        window=window.as_dict() if window else None,
    )
    if not shaped and window is not None:
        _add_newest_hint(
            ctx,
            result,
            ctx.settings.enriched_table
            if name in ("semantic_search", "similar_spans")
            else ctx.settings.traces_table,
        )
    return result


def _add_newest_hint(ctx: ToolContext, result: ToolResult, table: str) -> None:
    """An empty window is often just old data: say where the newest span is so the model can widen it."""
    newest = _query(ctx, *queries.newest_span(table))
    result.elapsed_ms += newest.elapsed_ms
    value = newest.rows[0][0] if newest.rows else None
    if value is None or value.year < 2000:
        result.extra["note"] = f"{table} has no spans at all"
    else:
        result.extra["note"] = (
            f"no rows in this window; the newest span in {table} starts at {json_value(value)}"
        )


def _list_services(ctx: ToolContext, args: ListServicesInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.list_services(
        ctx.settings.traces_table, window, args.service, args.sort_by, args.limit, ctx.exclude(args.service)
    )
    return _table_result(ctx, "list_services", args, query, args.limit, window)


def _find_slow_spans(ctx: ToolContext, args: FindSlowSpansInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.find_slow_spans(
        ctx.settings.traces_table,
        window,
        args.match,
        args.service,
        args.span_name,
        int(args.min_duration_ms * 1_000_000),
        args.status,
        args.limit,
        ctx.exclude(args.service, args.match),
    )
    return _table_result(ctx, "find_slow_spans", args, query, args.limit, window)


def _error_summary(ctx: ToolContext, args: ErrorSummaryInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.error_summary(
        ctx.settings.traces_table, window, args.service, args.examples, args.limit, ctx.exclude(args.service)
    )
    return _table_result(ctx, "error_summary", args, query, args.limit, window)


SEVERITY_NUMBERS = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}


def _log_summary(ctx: ToolContext, args: LogSummaryInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.log_summary(
        ctx.settings.logs_table,
        window,
        args.service,
        SEVERITY_NUMBERS[args.min_severity],
        args.match,
        args.examples,
        args.limit,
        ctx.exclude(args.service),
    )
    return _table_result(ctx, "log_summary", args, query, args.limit, window)


def _attribute_breakdown(ctx: ToolContext, args: AttributeBreakdownInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.attribute_breakdown(
        ctx.settings.traces_table,
        window,
        args.attribute,
        args.service,
        args.span_name,
        args.limit,
        ctx.exclude(args.service),
    )
    return _table_result(ctx, "attribute_breakdown", args, query, args.limit, window)


def _get_trace_tree(ctx: ToolContext, args: GetTraceTreeInput) -> ToolResult:
    cap = ctx.settings.max_trace_spans
    rows = _query(
        ctx,
        *queries.trace_spans(ctx.settings.traces_table, ctx.settings.trace_lookup_table, args.trace_id, cap),
    )
    spans = rows.dicts()
    result = ToolResult("get_trace_tree", args.model_dump(), kind="tree", elapsed_ms=rows.elapsed_ms)
    if not spans:
        result.error = f"trace {args.trace_id} not found in {ctx.settings.traces_table}"
        return result
    total = int(spans[0]["total_spans"])
    result.truncated = len(spans) > cap or total > cap
    roots = build_tree(spans[:cap])
    result.extra = {
        "trace_id": args.trace_id,
        "spans": total,
        "shown": min(total, cap),
        "truncated": result.truncated,
        "services": sorted({s["ServiceName"] for s in spans[:cap]}),
        "errors": sum(1 for s in spans[:cap] if s["StatusCode"] == "Error"),
        "tree": tree_lines(roots),
    }
    result.roots = roots
    return result


def _kinds(
    ctx: ToolContext,
    name: str,
    args: SemanticSearchInput | SimilarSpansInput,
    window: Window,
    vector_sql: str,
) -> ToolResult:
    """Kinds of span nearest to a vector. Without a service/status filter the HNSW index gives the
    `vector_fetch` nearest spans and their distinct texts are counted; a filter, or too few kinds among the
    nearest spans, means the exact ranking over every kind in the window (no index: a narrow filter after
    an index search could leave nothing, and the window's filtered kinds are few)."""
    s = ctx.settings
    exclude = ctx.exclude(args.service)
    elapsed = 0.0
    texts: list[str] | None = None
    search = "exact"
    if not args.service and not args.status:
        nearest = _query(
            ctx, *queries.nearest_spans(s.enriched_table, window, vector_sql, exclude, s.vector_fetch)
        )
        elapsed += nearest.elapsed_ms
        kinds = list(dict.fromkeys(text for text, _distance in nearest.rows))
        # Fewer rows than asked for does not mean the window is covered: the index search filters after it
        # searches (window, excluded services), so only more kinds than `limit` prove the ranking complete.
        if len(kinds) > args.limit:
            texts = kinds[: args.limit + 1]
            search = f"index (HNSW over the {s.vector_fetch} nearest spans)"
    query = queries.semantic_kinds(
        s.enriched_table,
        window,
        vector_sql,
        args.service,
        args.status,
        exclude,
        args.limit,
        args.examples,
        texts,
    )
    result = _table_result(ctx, name, args, query, args.limit, window)
    result.elapsed_ms += elapsed
    result.extra["search"] = search
    return result


def _semantic_search(ctx: ToolContext, args: SemanticSearchInput) -> ToolResult:
    window = ctx.resolve(args)
    started = time.perf_counter()
    assert ctx.embedder is not None
    try:
        vector = ctx.embedder(args.query)
    except RuntimeError as exc:
        raise ToolError(str(exc)) from None
    embed_ms = (time.perf_counter() - started) * 1000
    result = _kinds(ctx, "semantic_search", args, window, queries.vector_literal(vector))
    result.elapsed_ms += embed_ms
    return result


def _similar_spans(ctx: ToolContext, args: SimilarSpansInput) -> ToolResult:
    window = ctx.resolve(args)
    table = ctx.settings.enriched_table
    found = _query(ctx, *queries.span_embedding(table, args.trace_id, args.span_id))
    if not found.rows:
        result = ToolResult("similar_spans", args.model_dump(exclude_none=True), elapsed_ms=found.elapsed_ms)
        result.error = (
            f"span {args.span_id} of trace {args.trace_id} is not in {table} (only enriched spans have a "
            "vector, and the enricher lags the export by minutes)"
        )
        return result
    vector, text, service, span_name, status, _start = found.rows[0]
    result = _kinds(ctx, "similar_spans", args, window, queries.vector_literal(list(vector)))
    result.elapsed_ms += found.elapsed_ms
    result.extra["span"] = {
        "trace_id": args.trace_id,
        "span_id": args.span_id,
        "service": service,
        "span": span_name,
        "status": status,
        "text": text,
    }
    result.extra["span"] = redact({k: json_value(v) for k, v in result.extra["span"].items()})
    result.extra["note"] = result.extra.get("note") or "distance 0 is the span's own kind"
    return result


def _critical_path(ctx: ToolContext, args: CriticalPathInput) -> ToolResult:
    s = ctx.settings
    cap = s.max_trace_spans
    rows = _query(ctx, *queries.trace_path_spans(s.traces_table, s.trace_lookup_table, args.trace_id, cap))
    spans = rows.dicts()
    result = ToolResult("critical_path", args.model_dump(), elapsed_ms=rows.elapsed_ms)
    if not spans:
        result.error = f"trace {args.trace_id} not found in {s.traces_table}"
        return result
    total = int(spans[0]["total_spans"])
    shown = spans[:cap]
    root = cpath.longest_root(cpath.build(shown))
    assert root is not None
    path = cpath.critical_path(root)
    trace_ns = max(root.duration_ns, 1)
    result.columns = ["depth", "span_id", "service", "span", "status", "duration_ms", "self_ms", "on_path_ms",
                      "share"]  # fmt: skip
    result.rows = [
        redact(
            [
                p.depth,
                p.span_id,
                p.service,
                p.name,
                p.status,
                round(p.duration_ns / 1e6, 3),
                round(cpath.self_time_ns(p) / 1e6, 3),
                round(p.on_path_ns / 1e6, 3),
                round(p.on_path_ns / trace_ns, 4),
            ]
        )
        for p in path
    ]
    result.truncated = total > cap
    top = max(path, key=lambda p: p.on_path_ns)
    result.extra = {
        "trace_id": args.trace_id,
        "spans": total,
        "shown": min(total, cap),
        "root": redact(f"{root.service} · {root.name}"),
        "duration_ms": round(root.duration_ns / 1e6, 3),
        "biggest": redact(
            f"{top.service} · {top.name}: {round(top.on_path_ns / 1e6, 3)} ms "
            f"({round(100 * top.on_path_ns / trace_ns, 1)} % of the trace)"
        ),
    }
    if result.truncated:
        result.extra["note"] = f"the trace has {total} spans; the path is computed over the first {cap}"
    return result


SEVERITIES = ["DEBUG", "INFO", "WARN", "ERROR"]


def _log_patterns(ctx: ToolContext, args: LogPatternsInput) -> ToolResult:
    s = ctx.settings
    window = ctx.resolve(args)
    baseline = window.shifted(
        parse_duration(args.baseline_offset) if args.baseline_offset else window.end - window.start
    )
    query = queries.log_templates(
        s.logs_table, window, baseline, args.service, SEVERITY_NUMBERS[args.min_severity],
        ctx.exclude(args.service), args.examples, s.max_log_groups,
    )  # fmt: skip
    rows = _query(ctx, *query)
    groups = rows.dicts()
    capped = len(groups) > s.max_log_groups
    patterns = mine_patterns(groups[: s.max_log_groups], args.examples)
    if args.new_only:
        patterns = [p for p in patterns if p["new"]]
    columns = ["template", "new", "records", "baseline_records", "severities", "services", "first_seen",
               "last_seen", "example_trace_ids", "example"]  # fmt: skip
    shaped, truncated = shape_rows([[p[c] for c in columns] for p in patterns], args.limit)
    result = ToolResult(
        "log_patterns",
        args.model_dump(exclude_none=True),
        columns=columns,
        rows=shaped,
        truncated=truncated or capped,
        elapsed_ms=rows.elapsed_ms,
        window=window.as_dict(),
        extra={
            "baseline": baseline.as_dict(),
            "patterns": len(patterns),
            "new_patterns": sum(1 for p in patterns if p["new"]),
        },
    )
    if capped:
        result.extra["note"] = f"only the {s.max_log_groups} biggest message groups were mined"
    if not shaped and not patterns:
        _add_newest_hint(ctx, result, s.logs_table)
    return result


def _compare_windows(ctx: ToolContext, args: CompareWindowsInput) -> ToolResult:
    end = parse_time(args.end) if args.end else ctx.now()
    length = parse_duration(args.window or ctx.window)
    current = Window(end - length, end)
    baseline = current.shifted(parse_duration(args.baseline_offset) if args.baseline_offset else length)
    rows = _query(
        ctx,
        *queries.compare_windows(
            ctx.settings.traces_table, current, baseline, args.service, ctx.exclude(args.service)
        ),
    )
    minutes = length.total_seconds() / 60
    changed = [compare_row(dict(zip(rows.columns, row, strict=True)), minutes) for row in rows.rows]
    changed.sort(key=lambda r: (-r["change_score"], r["service"]))
    columns = list(changed[0]) if changed else []
    columns = [c for c in columns if c != "change_score"]
    shaped, truncated = shape_rows([[r[c] for c in columns] for r in changed], args.limit)
    return ToolResult(
        "compare_windows",
        args.model_dump(exclude_none=True),
        columns=columns,
        rows=shaped,
        truncated=truncated,
        elapsed_ms=rows.elapsed_ms,
        window=current.as_dict(),
        extra={
            "baseline": baseline.as_dict(),
            "biggest_changes": [describe_change(r) for r in changed[:5] if r["change_score"] > 0],
        },
    )


def _no_epoch(value: Any) -> Any:
    """minIf() over no rows gives 1970: no such time."""
    return None if isinstance(value, datetime) and value.year < 2000 else value


SERVICE_MAP_COLUMNS = (
    "caller", "callee", "kind", "calls", "errors", "error_rate", "p50_ms", "p95_ms", "max_ms", "slow_calls",
    "first_error", "first_slow", "slowest_trace_id", "error_trace_id",
)  # fmt: skip


def _service_map(ctx: ToolContext, args: ServiceMapInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.service_map(
        ctx.settings.traces_table,
        window,
        args.service,
        int(args.slow_ms * 1_000_000),
        args.limit,
        ctx.exclude(args.service),
    )
    rows = _query(ctx, *query)
    cleaned = [[_no_epoch(v) for v in row] for row in rows.rows]
    if "error_trace_id" in rows.columns:  # anyIf() over no error is '': no such trace
        error_at = rows.columns.index("error_trace_id")
        for row in cleaned:
            row[error_at] = row[error_at] or None
    shaped, truncated = shape_rows(cleaned, args.limit)
    return ToolResult(
        "service_map",
        args.model_dump(exclude_none=True),
        columns=rows.columns or list(SERVICE_MAP_COLUMNS),
        rows=shaped,
        truncated=truncated,
        elapsed_ms=rows.elapsed_ms,
        window=window.as_dict(),
        extra={
            "note": "caller → callee as the caller saw each call (CLIENT/PRODUCER spans; topic → consumer "
            "for CONSUMER spans). Errors flow up: the deepest edge with errors or slow calls is nearer the "
            "origin."
        },
    )


METRIC_SERIES_COLUMNS = ("series", "buckets", "baseline", "peak", "ratio", "change_at", "min", "max", "last",
                         "values")  # fmt: skip


def _metric_series(ctx: ToolContext, args: MetricSeriesInput) -> ToolResult:
    window = ctx.resolve(args)
    seconds = max(1.0, (window.end - window.start).total_seconds())
    bucket = args.bucket_s or max(1, round(seconds / 60))
    prefix = ctx.settings.metrics_table_prefix
    rows = _query(
        ctx, *queries.metric_series(prefix, window, args.metric, args.group_by, args.service, bucket)
    )
    elapsed = rows.elapsed_ms
    if not rows.rows:
        names = _query(ctx, *queries.metric_names(prefix))
        here = _query(ctx, *queries.metric_names(prefix, window))
        elapsed += names.elapsed_ms + here.elapsed_ms
        in_window = sorted({row[0] for row in here.rows})
        listing = (
            f"metrics with points here: {', '.join(in_window[:60])}" if in_window else "no metric points here"
        )
        if args.metric not in {row[0] for row in names.rows}:
            raise ToolError(f"no metric named {args.metric!r}; {listing}")
        return ToolResult(
            "metric_series",
            args.model_dump(exclude_none=True),
            columns=list(METRIC_SERIES_COLUMNS),
            elapsed_ms=elapsed,
            window=window.as_dict(),
            extra={"bucket_s": bucket, "note": f"no points of {args.metric} in this window; {listing}"},
        )
    series: dict[str, list[tuple[datetime, float]]] = {}
    for name, bucket_start, value, _points in rows.rows:
        series.setdefault(str(name), []).append((bucket_start, float(value)))
    out = []
    for name, points in series.items():
        values = [v for _, v in points]
        change = change_point(values)
        at = points[change.index][0] if change.index is not None else None
        out.append(
            {
                "series": name,
                "buckets": len(values),
                "baseline": change.baseline,
                "peak": change.peak,
                "ratio": change.ratio,
                "change_at": at,
                "min": min(values),
                "max": max(values),
                "last": values[-1],
                "values": [round(v, 6) for v in values],
            }
        )
    out.sort(key=lambda r: (r["change_at"] is None, -abs(float(r["ratio"]) - 1.0), r["series"]))
    columns = list(METRIC_SERIES_COLUMNS)
    shaped, truncated = shape_rows([[r[c] for c in columns] for r in out], args.limit)
    return ToolResult(
        "metric_series",
        args.model_dump(exclude_none=True),
        columns=columns,
        rows=shaped,
        truncated=truncated,
        elapsed_ms=elapsed,
        window=window.as_dict(),
        extra={
            "bucket_s": bucket,
            "first_bucket": json_value(points[0][0]),
            "note": "change_at: the first bucket that departs from the baseline (the median of the first "
            "quarter) and stays departed; series with a change first, the largest ratio first.",
        },
    )


def _span_deltas(ctx: ToolContext, args: SpanDeltasInput) -> ToolResult:
    window = ctx.resolve(args)
    table, exclude = ctx.settings.traces_table, ctx.exclude(args.service)
    slow_ns = int(args.min_duration_ms * 1_000_000)
    sizes = _query(
        ctx, *queries.span_subset_sizes(table, window, args.subset, slow_ns, args.service, exclude)
    )
    subset_total, rest_total = (int(v) for v in sizes.rows[0]) if sizes.rows else (0, 0)
    elapsed = sizes.elapsed_ms
    rows: list[dict[str, Any]] = []
    if subset_total:
        found = _query(ctx, *queries.span_deltas(table, window, args.subset, slow_ns, args.service, exclude))
        elapsed += found.elapsed_ms
        rows = [dict(zip(found.columns, row, strict=True)) for row in found.rows]
    ranked = rank_deltas(rows, subset_total, rest_total, args.limit)
    columns = ["attribute", "value", "subset_spans", "rest_spans", "subset_share", "rest_share", "delta",
               "lift", "first_seen", "last_seen", "example_trace_ids"]  # fmt: skip
    table_rows = [
        [d.attribute, d.value, d.subset_spans, d.rest_spans, d.subset_share, d.rest_share, d.delta, d.lift,
         d.extra.get("first_seen"), d.extra.get("last_seen"), d.extra.get("example_trace_ids")]
        for d in ranked
    ]  # fmt: skip
    shaped, _ = shape_rows(table_rows, args.limit)
    return ToolResult(
        "span_deltas",
        args.model_dump(exclude_none=True),
        columns=columns,
        rows=shaped,
        truncated=len(rows) > len(ranked) and len(ranked) == args.limit,
        elapsed_ms=elapsed,
        window=window.as_dict(),
        extra={
            "subset": args.subset,
            "subset_spans": subset_total,
            "rest_spans": rest_total,
            "note": "every attribute of the spans (service.name, span.name, resource and span attributes), "
            "ranked by delta = its share of the subset minus its share of the rest",
        },
    )


def _run_sql(ctx: ToolContext, args: RunSqlInput) -> ToolResult:
    limit = min(args.limit, ctx.settings.max_sql_rows)
    try:
        sql = with_limit(args.sql, limit + 1)
    except SqlRejected as exc:
        raise ToolError(f"query refused: {exc}") from None
    rows = _query(ctx, sql, {})
    shaped, truncated = shape_rows(rows.rows, limit)
    return ToolResult(
        "run_sql",
        args.model_dump(),
        columns=rows.columns,
        rows=shaped,
        truncated=truncated,
        elapsed_ms=rows.elapsed_ms,
    )


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in [
        Tool(
            "describe_schema",
            "Describe the trace tables",
            "The trace tables, their columns and what they mean, row counts and time ranges. Call it before "
            "writing SQL for run_sql.",
            DescribeSchemaInput,
            _describe_schema,
        ),
        Tool(
            "list_services",
            "Services: traffic, errors, latency",
            "Per service in the window: spans, errors, error_rate (0..1) and p50/p95/p99 latency in ms. "
            "sort_by='errors' answers 'which services have the most errors'.",
            ListServicesInput,
            _list_services,
        ),
        Tool(
            "find_slow_spans",
            "Find slow spans",
            "The slowest spans in the window, filtered by service and/or span name (substring match; `match` "
            "checks both, e.g. match='checkout' for 'slow checkout spans'), a minimum duration in ms and a "
            "status. Returns trace ids to pass to get_trace_tree.",
            FindSlowSpansInput,
            _find_slow_spans,
        ),
        Tool(
            "error_summary",
            "Summarize errors",
            "Error spans (StatusCode = 'Error') grouped by service and status message, with counts, "
            "example trace ids and when each was last seen.",
            ErrorSummaryInput,
            _error_summary,
        ),
        Tool(
            "log_summary",
            "Summarize logs",
            "Log records (WARN and worse by default) grouped by service, severity and message template "
            "(numbers and ids masked): records, traces, first_seen, last_seen, example trace ids and one "
            "example line. Finds what the spans do not say: slow queries, consumer lag, retries.",
            LogSummaryInput,
            _log_summary,
        ),
        Tool(
            "attribute_breakdown",
            "Break down by attribute",
            "Spans grouped by the value of one resource or span attribute (service.version, "
            "service.instance.id, server.address, snkrs.region, …), optionally for one service or span "
            "name: spans, errors, error_rate, p50/p95/max ms, first_bad/last_bad (error or > 1 s), an "
            "example error trace and the slowest span's trace. Use it to find the one version, host, "
            "replica or region that is different.",
            AttributeBreakdownInput,
            _attribute_breakdown,
        ),
        Tool(
            "get_trace_tree",
            "Trace tree",
            "One trace as an indented span tree: service · span · duration · start offset · status "
            "(message) {key attributes}. Very large traces are capped (truncated=true).",
            GetTraceTreeInput,
            _get_trace_tree,
        ),
        Tool(
            "semantic_search",
            "Semantic span search",
            "Kinds of span whose meaning is nearest to a plain-language query (vector search over the "
            "enriched spans): one row per distinct span text with distance (0 = identical, 1 = unrelated), "
            "spans (its count in the window), services, statuses, p50_ms, first_seen/last_seen and example "
            "trace ids. Service, status and time filters.",
            SemanticSearchInput,
            _semantic_search,
        ),
        Tool(
            "similar_spans",
            "Spans like this one",
            "More like this span: kinds of span nearest to one span's stored embedding (give its trace_id "
            "and span_id), with counts, services, first/last seen and example traces — the same failure in "
            "other services, routes or times. Distance 0 is the span's own kind.",
            SimilarSpansInput,
            _similar_spans,
        ),
        Tool(
            "critical_path",
            "Critical path of a trace",
            "The chain of spans that sets one trace's duration, root first: per span its duration, self_ms "
            "(time not covered by its children), on_path_ms (its own time on the path) and share of the "
            "trace. Answers 'where did this request spend its time'. Very large traces are capped.",
            CriticalPathInput,
            _critical_path,
        ),
        Tool(
            "log_patterns",
            "Log patterns (Drain)",
            "Templates mined from the log bodies in the window with Drain (INFO and worse by default): "
            "records, baseline_records (the same-length window before, or baseline_offset back), new=true "
            "for patterns absent from the baseline (listed first), severities, services, first/last seen, "
            "example trace ids and an example line. Finds the new kind of message an incident brings.",
            LogPatternsInput,
            _log_patterns,
        ),
        Tool(
            "compare_windows",
            "Compare two time windows",
            "Two equally long windows side by side per service (the current one ending now or at `end`, "
            "and a baseline `baseline_offset` earlier): traffic, error rate, p95, and the biggest changes.",
            CompareWindowsInput,
            _compare_windows,
        ),
        Tool(
            "service_map",
            "Service map: caller → callee",
            "Caller → callee edges from the spans in the window (HTTP calls, database and provider hosts, "
            "Kafka topics): calls, errors, error_rate, p50/p95/max ms, slow_calls, first_error, first_slow, "
            "the slowest call's trace and an error trace. Walk a cascade down to its origin: the deepest "
            "edge that is slow or failing, whose callee's own calls are healthy.",
            ServiceMapInput,
            _service_map,
        ),
        Tool(
            "metric_series",
            "Metric over time",
            "One metric (describe_schema lists the names) bucketed over the window per service, instance "
            "(group_by='instance') or attribute value: per series its baseline, peak, ratio, change_at (the "
            "first bucket that departs from the baseline and stays departed) and the bucket values. Finds "
            "what has no error span: a saturated pool, a leaking instance, GC pauses, lag.",
            MetricSeriesInput,
            _metric_series,
        ),
        Tool(
            "span_deltas",
            "What sets failing or slow spans apart",
            "For the error spans (subset='errors') or the slow ones (subset='slow', over min_duration_ms) "
            "against every other span in the window: the attribute values — of every attribute, "
            "service.name, span.name, versions, instances, regions, hosts, routes — the subset "
            "over-represents, ranked by delta (share in the subset minus share in the rest), with first/last "
            "seen and example traces.",
            SpanDeltasInput,
            _span_deltas,
        ),
        Tool(
            "run_sql",
            "Run read-only SQL",
            "Escape hatch: one read-only ClickHouse query (SELECT/WITH/SHOW/DESCRIBE/EXPLAIN), LIMIT "
            "enforced. "
            "Prefer the other tools; Duration is in ns, filter on Timestamp to keep it fast.",
            RunSqlInput,
            _run_sql,
        ),
    ]
}


def tool_definitions() -> list[dict[str, Any]]:
    return [tool.definition() for tool in TOOLS.values()]


def validation_message(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "input"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "invalid input: " + "; ".join(problems)


def execute(ctx: ToolContext, name: str, raw_input: Any) -> ToolResult:
    """Run a tool by name; every failure comes back as a result with `error` set, never as an exception."""
    started = time.perf_counter()
    raw = raw_input if isinstance(raw_input, dict) else {}
    tool = TOOLS.get(name)
    if tool is None:
        return ToolResult(name, raw, kind="error", error=f"unknown tool {name!r}; tools: {', '.join(TOOLS)}")
    try:
        args = tool.input_model.model_validate(raw_input if raw_input is not None else {})
        result = tool.run(ctx, args)
    except ValidationError as exc:
        result = ToolResult(name, raw, kind="error", error=validation_message(exc))
    except (ToolError, WindowError) as exc:
        result = ToolResult(name, raw, kind="error", error=str(exc))
    if not result.elapsed_ms:
        result.elapsed_ms = (time.perf_counter() - started) * 1000
    add_trace_links(result, ctx.settings.hyperdx_url, ctx.settings.hyperdx_trace_source)
    result.input = raw  # as the model sent it (defaults left out): what status lines and --json show
    return result
