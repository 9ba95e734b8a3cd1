"""semantic_search with the real MiniLM model (loaded once per test session) over the enriched spans."""

from __future__ import annotations

import random

import numpy as np
import pytest
from trace_agent.embedding import embed
from trace_agent.tools import execute

from tests.support.spans import hex_id, minutes_ago

TEXTS = {
    (
        "payment-service",
        "charge card",
        "Error",
    ): "payment-service charge card failed: card declined by issuer",
    ("payment-service", "charge card", "Ok"): "payment-service charge card succeeded",
    (
        "inventory-service",
        "reserve stock",
        "Error",
    ): "inventory-service reserve stock error: sold out, no pairs left",
    ("checkout-service", "POST /checkout", "Ok"): "checkout-service POST /checkout http 200",
    ("frontend", "GET /launch", "Ok"): "frontend GET /launch page rendered for the sneaker drop",
    ("auth-service", "login", "Error"): "auth-service login failed: invalid password for user",
}
COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "SpanKind", "StatusCode",
    "StatusMessage", "Duration", "EmbeddingText", "Embedding", "EmbeddingModel", "SourceInsertedAt",
]  # fmt: skip


@pytest.fixture(scope="session")
def vectors() -> dict[str, np.ndarray]:
    return {text: np.asarray(embed(text), dtype=np.float32) for text in TEXTS.values()}


def enriched_row(start, trace, span, service, name, status, duration, text, vector) -> list:
    return [start, trace, span, "", service, name, "Server", status, "", duration, text, vector.tolist(),
            "all-MiniLM-L6-v2", start]  # fmt: skip


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(1 - np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def insert_enriched(stack, rows: list[list]) -> None:
    client = stack.client()
    client.insert("otel.otel_traces_enriched", rows, column_names=COLUMNS)
    client.close()


def test_semantic_search_returns_kinds_ranked_by_cosine_distance(ctx, stack, vectors):
    rng = random.Random(3)
    rows, spans = [], []
    for i, ((service, name, status), text) in enumerate(TEXTS.items()):
        for j in range(3):
            trace, span = hex_id(rng, 32), hex_id(rng, 16)
            start = minutes_ago(5 + i + j)
            duration = 1_000_000 * (i + 1)
            rows.append(
                enriched_row(start, trace, span, service, name, status, duration, text, vectors[text])
            )
            spans.append((trace, span, service, status, text, start))
    old = minutes_ago(300)
    text = TEXTS[("payment-service", "charge card", "Error")]
    rows.append(
        enriched_row(
            old, "f" * 32, "f" * 16, "payment-service", "charge card", "Error", 1, text, vectors[text]
        )
    )
    # the agent's own spans never answer unless asked
    rows.append(enriched_row(minutes_ago(1), "e" * 32, "e" * 16, "trace-agent", "chat", "Ok", 1, text,
                             vectors[text]))  # fmt: skip
    insert_enriched(stack, rows)

    question = "card payments declined"
    query_vector = np.asarray(embed(question), dtype=np.float32)
    kinds = sorted(TEXTS.values(), key=lambda t: (round(cosine_distance(vectors[t], query_vector), 4), t))

    result = execute(ctx, "semantic_search", {"query": question, "limit": 4})
    assert result.error is None, result.error
    got = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert [r["text"] for r in got] == kinds[:4]
    assert got[0]["text"] == TEXTS[("payment-service", "charge card", "Error")]
    for row in got:
        mine = [s for s in spans if s[4] == row["text"]]
        assert row["distance"] == pytest.approx(cosine_distance(vectors[row["text"]], query_vector), abs=2e-4)
        assert row["spans"] == 3 and row["services"] == [mine[0][2]] and row["statuses"] == [mine[0][3]]
        assert set(row["example_trace_ids"]) == {s[0] for s in mine}
        assert row["first_seen"].startswith(min(s[5] for s in mine).strftime("%Y-%m-%dT%H:%M:%S"))
        assert row["last_seen"].startswith(max(s[5] for s in mine).strftime("%Y-%m-%dT%H:%M:%S"))
        for trace in row["example_trace_ids"]:
            assert result.extra["trace_links"][trace] == (
                f"http://localhost:8080/search?source=Traces&traceId={trace}"
            )
    assert result.truncated and "f" * 32 not in str(got) and "e" * 32 not in str(got)
    assert result.extra["search"].startswith("index")  # few spans: the index path holds them all

    errors_only = execute(
        ctx, "semantic_search", {"query": "sold out", "status": "Error", "service": "inventory"}
    )
    assert [(r[0], r[2]) for r in errors_only.rows] == [
        (TEXTS[("inventory-service", "reserve stock", "Error")], 3)
    ]
    assert errors_only.extra["search"] == "exact"

    wide = execute(ctx, "semantic_search", {"query": question, "window": "6h", "limit": 50})
    counts = {r[0]: r[2] for r in wide.rows}
    assert len(counts) == len(TEXTS) and counts[text] == 4 and sum(counts.values()) == len(spans) + 1

    asked = execute(ctx, "semantic_search", {"query": question, "service": "trace-agent"})
    assert [(r[0], r[2]) for r in asked.rows] == [(text, 1)]


def test_similar_spans_by_stored_vector(ctx, stack, vectors):
    rng = random.Random(5)
    rows, spans = [], []
    for i, ((service, name, status), text) in enumerate(TEXTS.items()):
        for _ in range(2):
            trace, span = hex_id(rng, 32), hex_id(rng, 16)
            rows.append(enriched_row(minutes_ago(3 + i), trace, span, service, name, status, 1_000_000, text,
                                     vectors[text]))  # fmt: skip
            spans.append((trace, span, text))
    insert_enriched(stack, rows)
    trace, span, text = spans[0]
    expected = sorted(TEXTS.values(), key=lambda t: (round(cosine_distance(vectors[t], vectors[text]), 4), t))

    result = execute(ctx, "similar_spans", {"trace_id": trace, "span_id": span, "limit": 3})
    assert result.error is None, result.error
    assert [r[0] for r in result.rows] == expected[:3] and result.rows[0][1] == 0
    assert result.extra["span"]["text"] == text and result.truncated

    missing = execute(ctx, "similar_spans", {"trace_id": "0" * 32, "span_id": "0" * 16})
    assert "not in otel.otel_traces_enriched" in missing.error
    bad = execute(ctx, "similar_spans", {"trace_id": "xyz", "span_id": "0" * 16})
    assert bad.error.startswith("invalid input: trace_id")


def test_the_hnsw_index_answers_order_by_distance_limit_k(ctx, stack, vectors):
    """12k spans in the window, merged so their part has the index: EXPLAIN shows the vector index reading
    fewer granules than the part has, and the tool's index path gives the exact answer here."""
    rng = random.Random(8)
    texts = list(TEXTS.items())
    rows = []
    for i in range(12_000):
        (service, name, status), text = texts[i % len(texts)]
        rows.append(enriched_row(minutes_ago(1 + i % 50), hex_id(rng, 32), hex_id(rng, 16), service, name,
                                 status, 1_000_000, text, vectors[text]))  # fmt: skip
    insert_enriched(stack, rows)
    admin = stack.client()
    admin.command("OPTIMIZE TABLE otel.otel_traces_enriched FINAL")
    query_vector = embed("card payments declined")
    from trace_agent import queries
    from trace_agent.timewindow import resolve_window

    window = resolve_window("1h", None, None, default="1h", now=ctx.now())
    sql, params = queries.nearest_spans(
        ctx.settings.enriched_table, window, queries.vector_literal(query_vector), "trace-agent", 1000
    )
    plan = "\n".join(r[0] for r in admin.query("EXPLAIN indexes = 1 " + sql, parameters=params).result_rows)
    # the same query with skip indexes off: a plain sort of every row's computed distance
    bare = sql + "\nSETTINGS use_skip_indexes = 0"
    plain = "\n".join(r[0] for r in admin.query("EXPLAIN indexes = 1 " + bare, parameters=params).result_rows)
    admin.close()
    # the vector search rewrite: the index gives the distances (virtual column _distance), the sort uses them
    assert "Name: idx_embedding" in plan and "vector_similarity" in plan, plan
    assert "Sort description: _distance ASC" in plan and "Output: EmbeddingText, _distance" in plan, plan
    assert "_distance" not in plain and "idx_embedding" not in plain, plain

    result = execute(ctx, "semantic_search", {"query": "card payments declined", "limit": 3})
    # the index path when the 1000 nearest spans hold more than 3 kinds, else the exact ranking: same answer
    assert result.extra["search"] in ("exact", "index (HNSW over the 1000 nearest spans)")
    qv = np.asarray(query_vector, dtype=np.float32)
    kinds = sorted(TEXTS.values(), key=lambda t: (round(cosine_distance(vectors[t], qv), 4), t))
    assert [r[0] for r in result.rows] == kinds[:3]
