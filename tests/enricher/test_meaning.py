"""In process, on the session's model: the enriched vectors find what a user asks for, and bad input is
enriched rather than fatal."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from tests.support.spans import SPAN_COLUMNS, span_row

from .spans import insert, make_rows


def nearest(client, model, question: str, k: int = 10) -> list[tuple]:
    (vector,) = model.encode([question])
    return client.query(
        "SELECT e.ServiceName, e.StatusCode, s.SpanAttributes['http.response.status_code'], e.EmbeddingText "
        "FROM (SELECT TraceId, SpanId, ServiceName, StatusCode, EmbeddingText, "
        "      cosineDistance(Embedding, {q:Array(Float32)}) AS distance "
        "      FROM otel.otel_traces_enriched ORDER BY distance LIMIT {k:UInt32}) AS e "
        "JOIN otel.otel_traces AS s USING (TraceId, SpanId) ORDER BY e.distance",
        parameters={"q": [float(x) for x in vector], "k": k},
    ).result_rows


def test_nearest_spans_answer_the_question(stack, model, make_enricher):
    client = stack.client()
    now = datetime.now(UTC).replace(tzinfo=None)
    insert(client, make_rows(1500, seed=21, base=now - timedelta(hours=6)))
    enricher = make_enricher(stack)
    assert enricher.store.vector_dimension() == model.dimension == 384  # what start() checks
    result = enricher.catch_up()
    assert result.spans == 1500 and result.stats.embedded < 60  # a few dozen distinct texts at most
    distinct = client.query("SELECT uniqExact(EmbeddingText) FROM otel.otel_traces_enriched").result_rows[0][
        0
    ]
    assert result.stats.embedded == distinct  # each distinct text went through the model once

    # a restarted enricher starts with the recent texts' vectors instead of an empty cache
    fresh = make_enricher(stack)
    warmed = fresh.embedder.warm(fresh.store.recent_vectors(fresh.model_name, 60, 1000))
    assert warmed == distinct == len(fresh.embedder.cache)

    status = subprocess.run(
        [sys.executable, "-m", "enricher.status"], env=stack.env(), capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0, status.stderr
    lines = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in status.stdout.splitlines()
             if line.count("│") == 3}  # fmt: skip
    assert lines["enriched rows"] == "1,500" and lines["pending rows"] == "0"
    assert lines["lag (oldest pending span)"] == "0.0s" and 0 < float(lines["spans/s (last minute)"]) <= 25.0
    assert lines["spans that needed no model run (last hour)"] == f"{100 * (1 - distinct / 1500):.1f}%"

    timeouts = nearest(client, model, "payment provider timeout")
    assert len(timeouts) == 10
    for service, status, _, text in timeouts:
        assert service == "payment-service" and status == "Error" and "timed out" in text, text

    sold_out = nearest(client, model, "sold out")
    assert len(sold_out) == 10
    for service, _, http_status, text in sold_out:
        assert service == "inventory-service" and http_status == "409", text


def test_bad_input_is_sanitised_and_enriched_once(stack, make_enricher):
    client = stack.client()
    ts = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=30)
    odd = b"\xff\xfe\x00 checkout \x1b[31m \xc3"
    rows = [
        span_row(ts, "a" * 32, "1" * 16),
        span_row(
            ts, "b" * 32, "2" * 16, name=odd, kind="SPAN_KIND_BOGUS", service=odd, duration=2**63,
            attributes={"http.route": b"x" * 2_000_000, "error.type": odd}, status="Error",
            message=odd * 1000,
            events=[(odd, {"exception.message": odd}), (b"exception", {"exception.type": odd})],
        ),
        span_row(ts, b"\x00\xffodd-trace", b"\xfe-span", name="ok", kind="Server", service="svc", duration=5),
    ]  # fmt: skip
    for row in rows:  # one insert each: clickhouse-connect wants one Python type (str or bytes) per column
        client.insert("otel.otel_traces", [row], column_names=SPAN_COLUMNS)
    enricher = make_enricher(stack, read_rows=2)
    assert enricher.catch_up().spans == 3
    assert enricher.catch_up().spans == 0  # byte-odd ids are matched exactly: nothing is enriched twice
    texts = [r[0] for r in client.query("SELECT EmbeddingText FROM otel.otel_traces_enriched").result_rows]
    assert len(texts) == 3 and "unknown service: unnamed span; ok; very fast: under 10 ms" in texts
    assert all(len(t) < 1300 and "\x00" not in t and "\x1b" not in t for t in texts)
    assert client.query(
        "SELECT count(), uniqExact(TraceId, SpanId), min(length(Embedding)) FROM otel.otel_traces_enriched"
    ).result_rows[0] == (3, 3, 384)
