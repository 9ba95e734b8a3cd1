"""Queries over the enriched spans' embeddings: the nearest spans by the HNSW index, the nearest kinds of
span (distinct texts), and one span's stored vector."""

from __future__ import annotations

from ..timewindow import Window
from .filters import Query, spans_where


def vector_literal(vector: list[float]) -> str:
    # The vector goes into the SQL text, not a URL parameter: 384 floats would make a long URL.
    return "CAST([" + ",".join(f"{v:.7g}" for v in vector) + "] AS Array(Float32))"


def nearest_spans(table: str, window: Window, vector_sql: str, exclude: str | None, fetch: int) -> Query:
    """The k nearest spans by the vector index: ClickHouse rewrites only `ORDER BY <distance> LIMIT k` (k ≤
    max_limit_for_vector_search_queries) into an HNSW search; parts without the index are searched exactly.
    Only the window (and the agent's own service) filter here: a narrow filter after the index would
    leave too few rows, so service/status filters take the exact path instead."""
    where, params = spans_where(window, exclude=exclude)
    sql = f"""
SELECT EmbeddingText AS text, cosineDistance(Embedding, {vector_sql}) AS distance
FROM {table}
WHERE {where}
ORDER BY cosineDistance(Embedding, {vector_sql})
LIMIT {int(fetch)}"""
    return sql, params


_KIND_COLUMNS = """count() AS spans, arraySort(groupUniqArray(5)(ServiceName)) AS services,
       arraySort(groupUniqArray(3)(StatusCode)) AS statuses,
       round(quantileExact(0.5)(Duration) / 1e6, 2) AS p50_ms,
       min(Timestamp) AS first_seen, max(Timestamp) AS last_seen,
       groupUniqArray({examples})(TraceId) AS example_trace_ids"""


def semantic_kinds(
    table: str,
    window: Window,
    vector_sql: str,
    service: str | None,
    status: str | None,
    exclude: str | None,
    limit: int,
    examples: int,
    texts: list[str] | None = None,
) -> Query:
    """Kinds of span (one row per distinct EmbeddingText) nearest to the vector. With `texts` (the index
    path's candidates) only those kinds are counted; without, every kind in the window is ranked exactly
    (the distance computed once per kind, on one of its identical vectors)."""
    where, params = spans_where(window, service, status, exclude)
    if texts is not None:
        where += " AND EmbeddingText IN {texts:Array(String)}"
        params["texts"] = texts
    columns = _KIND_COLUMNS.format(examples=int(examples))
    sql = f"""
SELECT EmbeddingText AS text, round(cosineDistance(any(Embedding), {vector_sql}), 4) AS distance,
       {columns}
FROM {table}
WHERE {where}
GROUP BY EmbeddingText
ORDER BY distance, text
LIMIT {int(limit) + 1}"""
    return sql, params


def span_embedding(table: str, trace_id: str, span_id: str) -> Query:
    sql = f"""
SELECT Embedding, EmbeddingText, ServiceName, SpanName, StatusCode, Timestamp
FROM {table}
WHERE TraceId = {{trace_id:String}} AND SpanId = {{span_id:String}}
ORDER BY EnrichedAt DESC
LIMIT 1"""
    return sql, {"trace_id": trace_id, "span_id": span_id}
