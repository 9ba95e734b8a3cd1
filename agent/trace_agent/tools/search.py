"""The vector-search tools: kinds of span nearest to a question (semantic_search) or to one span's stored
embedding (similar_spans)."""

from __future__ import annotations

import time

from .. import queries
from ..redact import redact
from ..results import ToolResult, json_value
from ..timewindow import Window
from ..tool_inputs import SemanticSearchInput, SimilarSpansInput
from .context import ToolContext, ToolError, run_query, table_result


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
        nearest = run_query(
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
    result = table_result(ctx, name, args, query, args.limit, window)
    result.elapsed_ms += elapsed
    result.extra["search"] = search
    return result


def semantic_search(ctx: ToolContext, args: SemanticSearchInput) -> ToolResult:
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


def similar_spans(ctx: ToolContext, args: SimilarSpansInput) -> ToolResult:
    window = ctx.resolve(args)
    table = ctx.settings.enriched_table
    found = run_query(ctx, *queries.span_embedding(table, args.trace_id, args.span_id))
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
