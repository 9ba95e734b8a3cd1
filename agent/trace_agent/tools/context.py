"""What every tool runs with: the context (database, settings, window, clock, embedder), its one way to run
a query (a failure becomes a ToolError) and to answer with a table of rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .. import queries
from ..db import Database, QueryError, Rows
from ..embedding import embed
from ..results import ToolResult, json_value, shape_rows
from ..settings import Settings
from ..timewindow import Window, resolve_window, utcnow


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


def run_query(ctx: ToolContext, sql: str, params: dict[str, Any]) -> Rows:
    try:
        return ctx.db.query(sql, params)
    except QueryError as exc:
        raise ToolError(str(exc)) from None


def rows_result(
    name: str,
    args: BaseModel,
    columns: list[str],
    rows: list[tuple[Any, ...]] | list[list[Any]],
    limit: int,
    elapsed_ms: float,
    window: Window | None,
    extra: dict[str, Any] | None = None,
    truncated: bool = False,
) -> ToolResult:
    """A tool's table: at most `limit` rows, redacted (truncated when there were more, or when the caller
    knows there were), with the input as the model sent it (defaults left out) and the window."""
    shaped, more = shape_rows(rows, limit)
    return ToolResult(
        name,
        args.model_dump(exclude_none=True),
        columns=columns,
        rows=shaped,
        truncated=more or truncated,
        elapsed_ms=elapsed_ms,
        window=window.as_dict() if window else None,
        extra=extra or {},
    )


def table_result(
    ctx: ToolContext, name: str, args: BaseModel, query: queries.Query, limit: int, window: Window | None
) -> ToolResult:
    """The query's rows as the tool's table; an empty window says where the newest span is."""
    rows = run_query(ctx, *query)
    result = rows_result(name, args, rows.columns, rows.rows, limit, rows.elapsed_ms, window)
    if not result.rows and window is not None:
        add_newest_hint(
            ctx,
            result,
            ctx.settings.enriched_table
            if name in ("semantic_search", "similar_spans")
            else ctx.settings.traces_table,
        )
    return result


def add_newest_hint(ctx: ToolContext, result: ToolResult, table: str) -> None:
    """An empty window is often just old data: say where the newest span is so the model can widen it."""
    newest = run_query(ctx, *queries.newest_span(table))
    result.elapsed_ms += newest.elapsed_ms
    value = newest.rows[0][0] if newest.rows else None
    if value is None or value.year < 2000:
        result.extra["note"] = f"{table} has no spans at all"
    else:
        result.extra["note"] = (
            f"no rows in this window; the newest span in {table} starts at {json_value(value)}"
        )
