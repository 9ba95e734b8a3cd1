"""Every query of otel_queries.sql runs on the local stack (chDB) and returns rows for a small SNKRS drop."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.spans import SPAN_COLUMNS, drop_spans

from .conftest import REPO

QUERIES_FILE = REPO / "otel_queries.sql"
DIM = 384


def load_queries() -> dict[str, str]:
    """name → SQL (without the trailing semicolon) of each `-- name:` block."""
    blocks = re.split(r"^-- name: *(\w+) *$", QUERIES_FILE.read_text(), flags=re.M)
    return {
        name: sql.strip().rstrip(";").strip() for name, sql in zip(blocks[1::2], blocks[2::2], strict=True)
    }


def unit_vector(seed: int) -> list[float]:
    """A 384-d vector with 2-decimal components: short enough for clickhouse-connect to send the parameter in
    the URL (longer ones go in a form-encoded body, which the local stack's endpoint does not read yet)."""
    raw = [math.sin(seed * 7.1 + i * 0.37) for i in range(DIM)]
    norm = math.sqrt(sum(x * x for x in raw))
    return [round(x / norm, 2) for x in raw]


def test_the_file_holds_the_everyday_questions():
    names = set(load_queries())
    assert {"slowest_routes", "error_rates", "trace_lookup", "semantic_search"} <= names
    for name, sql in load_queries().items():
        assert sql.count(";") == 0, f"{name}: one statement per block"


@pytest.fixture
def drop(stack):
    """A drop in every table the queries read; returns the ids the parameterised queries need."""
    client = stack.client()
    now = datetime.now(UTC)
    spans = drop_spans(40, start=now - timedelta(minutes=20))
    client.insert("default.otel_traces", spans, column_names=SPAN_COLUMNS)
    client.insert("otel.otel_traces", spans[:90], column_names=SPAN_COLUMNS)
    logs = [
        [now - timedelta(minutes=3, seconds=i), spans[3 * i][1], spans[3 * i][2], "ERROR", 17,
         "snkrs-gateway", f"checkout failed for sku DZ5485-{i:03d}: inventory exhausted"]
        for i in range(5)
    ]  # fmt: skip
    client.insert(
        "default.otel_logs",
        logs,
        column_names=[
            "Timestamp",
            "TraceId",
            "SpanId",
            "SeverityText",
            "SeverityNumber",
            "ServiceName",
            "Body",
        ],
    )
    points = [
        [now - timedelta(seconds=10 * i), "snkrs-gateway", "http.server.active_requests", float(i)]
        for i in range(6)
    ]
    for table in ("default.otel_metrics_gauge", "default.otel_metrics_sum"):
        client.insert(table, points, column_names=["TimeUnix", "ServiceName", "MetricName", "Value"])
    enriched = [
        [s["Timestamp"], s["TraceId"], s["SpanId"], s["ParentSpanId"], s["ServiceName"], s["SpanName"],
         s["SpanKind"], s["StatusCode"], s["StatusMessage"], s["Duration"],
         f"{s['ServiceName']} {s['SpanName']} {s['StatusCode']}", unit_vector(i), "all-MiniLM-L6-v2", now]
        for i, s in enumerate(dict(zip(SPAN_COLUMNS, row, strict=True)) for row in spans[:30])
    ]  # fmt: skip
    client.insert(
        "otel.otel_traces_enriched",
        enriched,
        column_names=[
            "Timestamp", "TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "SpanKind",
            "StatusCode", "StatusMessage", "Duration", "EmbeddingText", "Embedding", "EmbeddingModel",
            "SourceInsertedAt",
        ],
    )  # fmt: skip
    files = [
        [f"otel/year=2026/minute=01/traces_{i}.json", f"etag{i}", 1000, now, "traces",
         "failed" if i == 0 else "loaded", 0 if i == 0 else 30, "not OTLP JSON" if i == 0 else "",
         1, now, None, now]
        for i in range(4)
    ]  # fmt: skip
    client.insert(
        "otel.s3_loader_files",
        files,
        column_names=[
            "key", "etag", "size", "last_modified", "kind", "status", "rows", "error", "attempts",
            "first_seen", "loaded_at", "updated_at",
        ],
    )  # fmt: skip
    yield {
        "client": client,
        "trace_id": spans[3][1],
        "span_id": spans[6][2],
        "query_embedding": unit_vector(9),
        "span_of_embedding_9": spans[9][2],
    }
    client.close()


def test_every_query_runs_and_returns_rows(drop):
    client = drop["client"]
    results = {}
    for name, sql in load_queries().items():
        wanted = set(re.findall(r"\{(\w+):", sql))
        params = {key: drop[key] for key in wanted}
        try:
            results[name] = client.query(sql, parameters=params).result_rows
        except Exception as exc:
            pytest.fail(f"otel_queries.sql {name}: {exc}")
        assert results[name], f"{name} returned no rows"

    # Some answers checked against the drop, so "returns rows" also means "returns the right rows".
    trace = results["trace_lookup"]
    assert [row[1] for row in trace] == ["snkrs-gateway", "checkout-service", "inventory-service"]
    errors = {row[0]: row for row in results["error_rates"]}
    assert errors["snkrs-gateway"][1:3] == (40, 8)  # every fifth checkout fails
    assert results["semantic_search"][0][1] == drop["span_of_embedding_9"]  # its own vector: distance 0
    assert results["semantic_search"][0][-1] == pytest.approx(0, abs=1e-4)
    assert all(row[1] != drop["span_id"] for row in results["similar_spans"])
    loss = results["s3_loss_check"]
    assert sum(row[1] for row in loss) == 120 and sum(row[2] for row in loss) == 90
    assert {row[0]: row[1] for row in results["loader_files"]} == {"failed": 1, "loaded": 3}
