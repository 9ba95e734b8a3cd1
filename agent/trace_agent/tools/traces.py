"""The tools over one trace: its span tree and its critical path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import critical_path as cpath
from .. import queries
from ..redact import redact
from ..results import ToolResult
from ..tool_inputs import CriticalPathInput, GetTraceTreeInput
from ..trace_tree import build_tree, tree_lines
from .context import ToolContext, run_query

TraceQuery = Callable[[str, str, str, int], queries.Query]


def one_trace(
    ctx: ToolContext, name: str, args: GetTraceTreeInput, query: TraceQuery, kind: str = "table"
) -> tuple[ToolResult, list[dict[str, Any]], int]:
    """The trace's spans (at most max_trace_spans + 1) by `query`, its total span count, and the tool's result
    to fill in (an error result when the trace is not there: no spans)."""
    s = ctx.settings
    rows = run_query(ctx, *query(s.traces_table, s.trace_lookup_table, args.trace_id, s.max_trace_spans))
    spans = rows.dicts()
    result = ToolResult(name, args.model_dump(), kind=kind, elapsed_ms=rows.elapsed_ms)
    if not spans:
        result.error = f"trace {args.trace_id} not found in {s.traces_table}"
        return result, [], 0
    return result, spans, int(spans[0]["total_spans"])


def get_trace_tree(ctx: ToolContext, args: GetTraceTreeInput) -> ToolResult:
    cap = ctx.settings.max_trace_spans
    result, spans, total = one_trace(ctx, "get_trace_tree", args, queries.trace_spans, kind="tree")
    if not spans:
        return result
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


def critical_path(ctx: ToolContext, args: CriticalPathInput) -> ToolResult:
    cap = ctx.settings.max_trace_spans
    result, spans, total = one_trace(ctx, "critical_path", args, queries.trace_path_spans)
    if not spans:
        return result
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
