"""metric_series: one metric bucketed over the window per series, with where each series changed."""

from __future__ import annotations

from datetime import datetime

from .. import queries
from ..results import ToolResult, json_value
from ..signals import change_point
from ..tool_inputs import MetricSeriesInput
from .context import ToolContext, ToolError, rows_result, run_query

METRIC_SERIES_COLUMNS = ("series", "buckets", "baseline", "peak", "ratio", "change_at", "min", "max", "last",
                         "values")  # fmt: skip


def metric_series(ctx: ToolContext, args: MetricSeriesInput) -> ToolResult:
    window = ctx.resolve(args)
    seconds = max(1.0, (window.end - window.start).total_seconds())
    bucket = args.bucket_s or max(1, round(seconds / 60))
    prefix = ctx.settings.metrics_table_prefix
    rows = run_query(
        ctx, *queries.metric_series(prefix, window, args.metric, args.group_by, args.service, bucket)
    )
    elapsed = rows.elapsed_ms
    if not rows.rows:
        names = run_query(ctx, *queries.metric_names(prefix))
        here = run_query(ctx, *queries.metric_names(prefix, window))
        elapsed += names.elapsed_ms + here.elapsed_ms
        in_window = sorted({row[0] for row in here.rows})
        listing = (
            f"metrics with points here: {', '.join(in_window[:60])}" if in_window else "no metric points here"
        )
        if args.metric not in {row[0] for row in names.rows}:
            raise ToolError(f"no metric named {args.metric!r}; {listing}")
        note = f"no points of {args.metric} in this window; {listing}"
        columns = list(METRIC_SERIES_COLUMNS)
        extra = {"bucket_s": bucket, "note": note}
        return rows_result("metric_series", args, columns, [], args.limit, elapsed, window, extra)
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
    return rows_result(
        "metric_series",
        args,
        columns,
        [[r[c] for c in columns] for r in out],
        args.limit,
        elapsed,
        window,
        extra={
            "bucket_s": bucket,
            "first_bucket": json_value(points[0][0]),
            "note": "change_at: the first bucket that departs from the baseline (the median of the first "
            "quarter) and stays departed; series with a change first, the largest ratio first.",
        },
    )
