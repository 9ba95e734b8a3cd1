"""run_sql: the escape hatch, one read-only query with a LIMIT enforced."""

from __future__ import annotations

from ..results import ToolResult, shape_rows
from ..sql_guard import SqlRejected, with_limit
from ..tool_inputs import RunSqlInput
from .context import ToolContext, ToolError, run_query


def run_sql(ctx: ToolContext, args: RunSqlInput) -> ToolResult:
    limit = min(args.limit, ctx.settings.max_sql_rows)
    try:
        sql = with_limit(args.sql, limit + 1)
    except SqlRejected as exc:
        raise ToolError(f"query refused: {exc}") from None
    rows = run_query(ctx, sql, {})
    shaped, truncated = shape_rows(rows.rows, limit)
    return ToolResult(
        "run_sql",
        args.model_dump(),
        columns=rows.columns,
        rows=shaped,
        truncated=truncated,
        elapsed_ms=rows.elapsed_ms,
    )
