"""semantic_search with the real MiniLM model (loaded once per test session) over the enriched spans."""

from __future__ import annotations

import random

import numpy as np
import pytest
from trace_agent.embedding import embed
from trace_agent.tools import execute

from tests.agent.spans import hex_id, minutes_ago

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


def test_semantic_search_ranks_by_cosine_distance(ctx, stack, vectors):
    rng = random.Random(3)
    rows, spans = [], []
    for i, ((service, name, status), text) in enumerate(TEXTS.items()):
        for _ in range(3):
            trace, span = hex_id(rng, 32), hex_id(rng, 16)
            start = minutes_ago(5 + i)
            duration = 1_000_000 * (i + 1)
            rows.append(
                enriched_row(start, trace, span, service, name, status, duration, text, vectors[text])
            )
            spans.append((trace, span, service, status, text))
    old = minutes_ago(300)
    text = TEXTS[("payment-service", "charge card", "Error")]
    rows.append(
        enriched_row(
            old, "f" * 32, "f" * 16, "payment-service", "charge card", "Error", 1, text, vectors[text]
        )
    )
    client = stack.client()
    client.insert("otel.otel_traces_enriched", rows, column_names=COLUMNS)
    client.close()

    question = "card payments declined"
    query_vector = np.asarray(embed(question), dtype=np.float32)
    expected = sorted(
        spans, key=lambda s: (round(cosine_distance(vectors[s[4]], query_vector), 4), s[0], s[1])
    )

    result = execute(ctx, "semantic_search", {"query": question, "limit": 4})
    assert result.error is None, result.error
    got = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    assert [(r["trace_id"], r["span_id"]) for r in got] == [(s[0], s[1]) for s in expected[:4]]
    assert got[0]["text"] == TEXTS[("payment-service", "charge card", "Error")]
    for row, span in zip(got, expected, strict=False):
        assert row["distance"] == pytest.approx(cosine_distance(vectors[span[4]], query_vector), abs=2e-4)
    assert result.truncated and "f" * 32 not in {r["trace_id"] for r in got}

    errors_only = execute(
        ctx, "semantic_search", {"query": "sold out", "status": "Error", "service": "inventory"}
    )
    assert {r[3] for r in errors_only.rows} == {"inventory-service"} and errors_only.row_count == 3
    assert all(r[5] == "Error" for r in errors_only.rows)

    wide = execute(ctx, "semantic_search", {"query": question, "window": "6h", "limit": 50})
    assert wide.row_count == len(spans) + 1
