"""The tools over the spans table as a whole: per service, slow spans, errors, per attribute value, two
windows side by side, caller → callee edges, and what sets error or slow spans apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import queries
from ..comparison import compare_row, describe_change
from ..results import ToolResult
from ..signals import rank_deltas
from ..timewindow import Window, parse_duration, parse_time
from ..tool_inputs import (
    AttributeBreakdownInput,
    CompareWindowsInput,
    ErrorSummaryInput,
    FindSlowSpansInput,
    ListServicesInput,
    ServiceMapInput,
    SpanDeltasInput,
)
from .context import ToolContext, rows_result, run_query, table_result


def list_services(ctx: ToolContext, args: ListServicesInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.list_services(
        ctx.settings.traces_table, window, args.service, args.sort_by, args.limit, ctx.exclude(args.service)
    )
    return table_result(ctx, "list_services", args, query, args.limit, window)


def find_slow_spans(ctx: ToolContext, args: FindSlowSpansInput) -> ToolResult:
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
    return table_result(ctx, "find_slow_spans", args, query, args.limit, window)


def error_summary(ctx: ToolContext, args: ErrorSummaryInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.error_summary(
        ctx.settings.traces_table, window, args.service, args.examples, args.limit, ctx.exclude(args.service)
    )
    return table_result(ctx, "error_summary", args, query, args.limit, window)


def attribute_breakdown(ctx: ToolContext, args: AttributeBreakdownInput) -> ToolResult:
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
    return table_result(ctx, "attribute_breakdown", args, query, args.limit, window)


def compare_windows(ctx: ToolContext, args: CompareWindowsInput) -> ToolResult:
    end = parse_time(args.end) if args.end else ctx.now()
    length = parse_duration(args.window or ctx.window)
    current = Window(end - length, end)
    baseline = current.shifted(parse_duration(args.baseline_offset) if args.baseline_offset else length)
    rows = run_query(
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
    return rows_result(
        "compare_windows",
        args,
        columns,
        [[r[c] for c in columns] for r in changed],
        args.limit,
        rows.elapsed_ms,
        current,
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


def service_map(ctx: ToolContext, args: ServiceMapInput) -> ToolResult:
    window = ctx.resolve(args)
    query = queries.service_map(
        ctx.settings.traces_table,
        window,
        args.service,
        int(args.slow_ms * 1_000_000),
        args.limit,
        ctx.exclude(args.service),
    )
    rows = run_query(ctx, *query)
    cleaned = [[_no_epoch(v) for v in row] for row in rows.rows]
    if "error_trace_id" in rows.columns:  # anyIf() over no error is '': no such trace
        error_at = rows.columns.index("error_trace_id")
        for row in cleaned:
            row[error_at] = row[error_at] or None
    note = (
        "caller → callee as the caller saw each call (CLIENT/PRODUCER spans; topic → consumer for CONSUMER "
        "spans). Errors flow up: the deepest edge with errors or slow calls is nearer the origin."
    )
    columns = rows.columns or list(SERVICE_MAP_COLUMNS)
    return rows_result(
        "service_map", args, columns, cleaned, args.limit, rows.elapsed_ms, window, {"note": note}
    )


def span_deltas(ctx: ToolContext, args: SpanDeltasInput) -> ToolResult:
    window = ctx.resolve(args)
    table, exclude = ctx.settings.traces_table, ctx.exclude(args.service)
    slow_ns = int(args.min_duration_ms * 1_000_000)
    sizes = run_query(
        ctx, *queries.span_subset_sizes(table, window, args.subset, slow_ns, args.service, exclude)
    )
    subset_total, rest_total = (int(v) for v in sizes.rows[0]) if sizes.rows else (0, 0)
    elapsed = sizes.elapsed_ms
    rows: list[dict[str, Any]] = []
    if subset_total:
        found = run_query(
            ctx, *queries.span_deltas(table, window, args.subset, slow_ns, args.service, exclude)
        )
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
    return rows_result(
        "span_deltas",
        args,
        columns,
        table_rows,
        args.limit,
        elapsed,
        window,
        truncated=len(rows) > len(ranked) and len(ranked) == args.limit,
        extra={
            "subset": args.subset,
            "subset_spans": subset_total,
            "rest_spans": rest_total,
            "note": "every attribute of the spans (service.name, span.name, resource and span attributes), "
            "ranked by delta = its share of the subset minus its share of the rest",
        },
    )
