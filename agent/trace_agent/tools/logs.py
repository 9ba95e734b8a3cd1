"""The log tools: records grouped by message template (log_summary) and Drain-mined patterns new since a
baseline window (log_patterns)."""

from __future__ import annotations

from .. import queries
from ..log_patterns import mine_patterns
from ..results import ToolResult
from ..timewindow import parse_duration
from ..tool_inputs import LogPatternsInput, LogSummaryInput
from .context import ToolContext, add_newest_hint, rows_result, run_query, table_result

SEVERITY_NUMBERS = {"DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17}


def log_summary(ctx: ToolContext, args: LogSummaryInput) -> ToolResult:
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
    return table_result(ctx, "log_summary", args, query, args.limit, window)


def log_patterns(ctx: ToolContext, args: LogPatternsInput) -> ToolResult:
    s = ctx.settings
    window = ctx.resolve(args)
    baseline = window.shifted(
        parse_duration(args.baseline_offset) if args.baseline_offset else window.end - window.start
    )
    query = queries.log_templates(
        s.logs_table, window, baseline, args.service, SEVERITY_NUMBERS[args.min_severity],
        ctx.exclude(args.service), args.examples, s.max_log_groups,
    )  # fmt: skip
    rows = run_query(ctx, *query)
    groups = rows.dicts()
    capped = len(groups) > s.max_log_groups
    patterns = mine_patterns(groups[: s.max_log_groups], args.examples)
    if args.new_only:
        patterns = [p for p in patterns if p["new"]]
    columns = ["template", "new", "records", "baseline_records", "severities", "services", "first_seen",
               "last_seen", "example_trace_ids", "example"]  # fmt: skip
    extra = {
        "baseline": baseline.as_dict(),
        "patterns": len(patterns),
        "new_patterns": sum(1 for p in patterns if p["new"]),
    }
    table = [[p[c] for c in columns] for p in patterns]
    result = rows_result(
        "log_patterns", args, columns, table, args.limit, rows.elapsed_ms, window, extra, truncated=capped
    )
    if capped:
        result.extra["note"] = f"only the {s.max_log_groups} biggest message groups were mined"
    if not result.rows and not patterns:
        add_newest_hint(ctx, result, s.logs_table)
    return result
