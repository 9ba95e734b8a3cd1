"""Every query in event-generator/snkrs_queries.sql runs on the local stack against the compressed cycle's
data and returns rows. The cycle's OTLP requests are replayed, byte for byte, to the local stack's OTLP/HTTP
receiver (the collector stand-in), which writes default.otel_* as the collector's ClickHouse exporter does."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

from local_stack.tools.snkrs_queries import QUERIES_FILE, load_queries

METRIC_TABLES = ("otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram")


def replay(raw: list[tuple[str, bytes]], url: str) -> None:
    for signal, body in raw:
        request = urllib.request.Request(f"{url}/v1/{signal}", data=body, method="POST")
        request.add_header("Content-Type", "application/x-protobuf")
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200


def test_every_query_returns_rows(drop_cycle, stack):
    replay(drop_cycle.raw, stack.otlp.http_url)
    client = stack.client()
    want = {"otel_traces": len(drop_cycle.spans), "otel_logs": len(drop_cycle.logs)}
    deadline = time.monotonic() + 90
    while True:
        counts = {t: client.command(f"SELECT count() FROM default.{t}") for t in (*want, *METRIC_TABLES)}
        if all(counts[t] == n for t, n in want.items()) and all(counts[t] > 0 for t in METRIC_TABLES):
            break
        assert time.monotonic() < deadline, f"rows did not all land: {counts}, want {want}"
        time.sleep(0.5)

    queries = load_queries(QUERIES_FILE.read_text())
    assert len(queries) >= 10
    for query in queries:
        rows = client.query(query.sql).result_rows
        assert rows, f"query {query.name!r} returned no rows"
    phases = client.command(
        "SELECT uniqExact(SpanAttributes['snkrs.drop.phase']) FROM default.otel_traces "
        "WHERE SpanKind = 'Server'"
    )
    assert phases == 3

    # what `just snkrs-queries` runs: every query, printed as a table, against the stack's settings
    shown = subprocess.run(
        [sys.executable, "-m", "local_stack.tools.snkrs_queries"],
        env=stack.env(), cwd=stack.data_dir, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert [line[3:] for line in shown.stdout.splitlines() if line.startswith("== ")] == [
        q.name for q in queries
    ]
    assert "drop-11-001" in shown.stdout and "DROP_LIVE" in shown.stdout
