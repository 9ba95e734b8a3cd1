"""Each tool on the local stack, as the read-only `agent` user, against spans whose right answer the test
computes itself."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from trace_agent.results import model_text
from trace_agent.tools import execute

from tests.support.spans import Span, hex_id, insert, minutes_ago, now

SERVICES = ["checkout-service", "payment-service", "inventory-service"]


def exact_quantile(values: list[int], level: float) -> float:
    """ClickHouse's quantileExact: the element at floor(level · n) of the sorted values."""
    ordered = sorted(values)
    return ordered[min(int(level * len(ordered)), len(ordered) - 1)]


def ms(ns: int) -> float:
    return round(ns / 1e6, 2)


def test_list_services_matches_counts_and_exact_quantiles(ctx, traffic):
    result = execute(ctx, "list_services", {})
    assert result.error is None
    by_service = defaultdict(list)
    for span in traffic:
        by_service[span.service].append(span)
    got = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    assert set(got) == set(SERVICES)
    for service, spans in by_service.items():
        durations = [s.duration_ns for s in spans]
        errors = sum(s.status == "Error" for s in spans)
        row = got[service]
        assert row["spans"] == len(spans)
        assert row["errors"] == errors
        assert row["error_rate"] == pytest.approx(errors / len(spans), abs=1e-4)
        assert row["p50_ms"] == ms(exact_quantile(durations, 0.5))
        assert row["p95_ms"] == ms(exact_quantile(durations, 0.95))
        assert row["p99_ms"] == ms(exact_quantile(durations, 0.99))
    assert [row[0] for row in result.rows] == sorted(by_service, key=lambda s: -len(by_service[s]))
    assert result.truncated is False

    by_errors = execute(ctx, "list_services", {"sort_by": "errors", "limit": 1})
    most = max(by_service, key=lambda s: sum(x.status == "Error" for x in by_service[s]))
    assert [row[0] for row in by_errors.rows] == [most]
    assert by_errors.truncated is True

    wide = execute(ctx, "list_services", {"window": "6h", "service": "CHECKOUT"})
    assert [row[0] for row in wide.rows] == ["checkout-service"]
    assert wide.rows[0][1] == len(by_service["checkout-service"]) + 20


def test_find_slow_spans_filters_and_orders(ctx, traffic):
    result = execute(
        ctx, "find_slow_spans", {"span_name": "checkout", "min_duration_ms": 300, "status": "Ok", "limit": 5}
    )
    expected = sorted(
        (
            s
            for s in traffic
            if "checkout" in s.name.lower() and s.duration_ns >= 300_000_000 and s.status == "Ok"
        ),
        key=lambda s: -s.duration_ns,
    )
    assert [row[1] for row in result.rows] == [s.trace_id for s in expected[:5]]
    assert [row[5] for row in result.rows] == [ms(s.duration_ns) for s in expected[:5]]
    assert result.truncated == (len(expected) > 5)
    text = model_text(result)
    assert text.count("</tool_data>") == 1 and '"truncated":' in text

    either = execute(ctx, "find_slow_spans", {"match": "CHECKOUT", "limit": 100, "window": "2h"})
    matching = [s for s in traffic if "checkout" in s.service or "checkout" in s.name.lower()]
    assert either.row_count == 100 and either.truncated
    assert {row[3] for row in either.rows} == {"checkout-service"}
    assert [row[5] for row in either.rows] == [
        ms(s.duration_ns) for s in sorted(matching, key=lambda s: -s.duration_ns)
    ][:100]

    payments = execute(ctx, "find_slow_spans", {"service": "payment", "limit": 100})
    expected_payments = [s for s in traffic if s.service == "payment-service"]
    assert payments.row_count == 100 and payments.truncated
    assert payments.rows[0][5] == ms(max(s.duration_ns for s in expected_payments))


def test_error_summary_groups_with_example_traces(ctx, traffic):
    result = execute(ctx, "error_summary", {"examples": 2})
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    counts: Counter[tuple[str, str]] = Counter()
    for span in traffic:
        if span.status == "Error":
            groups[(span.service, span.status_message)].add(span.trace_id)
            counts[(span.service, span.status_message)] += 1
    got = {(row[0], row[1]): row for row in result.rows}
    assert set(got) == set(counts)
    for key, row in got.items():
        assert row[2] == counts[key]
        assert 1 <= len(row[3]) <= 2 and set(row[3]) <= groups[key]
    assert [row[2] for row in result.rows] == sorted((row[2] for row in result.rows), reverse=True)


def test_get_trace_tree_nests_spans_and_caps_big_traces(ctx, stack, settings):
    rng = random.Random(11)
    trace = hex_id(rng, 32)
    t0 = minutes_ago(10)
    root = Span(trace, "a" * 16, "frontend", "GET /drop", t0, 900_000_000)
    checkout = Span(
        trace,
        "b" * 16,
        "checkout-service",
        "POST /checkout",
        t0 + timedelta(milliseconds=10),
        700_000_000,
        parent_span_id=root.span_id,
        status="Error",
        status_message="payment failed",
        attributes={"http.route": "/checkout", "http.request.header.authorization": "Bearer s3cr3t"},
    )
    pay = Span(
        trace,
        "c" * 16,
        "payment-service",
        "charge card",
        t0 + timedelta(milliseconds=20),
        650_000_000,
        parent_span_id=checkout.span_id,
        kind="Client",
        status="Error",
        status_message="card 4111 1111 1111 1111 declined",
    )
    stock = Span(
        trace,
        "d" * 16,
        "inventory-service",
        "reserve stock",
        t0 + timedelta(milliseconds=15),
        5_000_000,
        parent_span_id=checkout.span_id,
    )
    big = hex_id(rng, 32)
    cap = settings.max_trace_spans
    fanout = [Span(big, "e" * 16, "frontend", "GET /drop", t0, 1_000_000)] + [
        Span(
            big,
            f"{i:016x}",
            "inventory-service",
            "poll",
            t0 + timedelta(microseconds=i + 1),
            1000,
            parent_span_id="e" * 16,
        )
        for i in range(cap + 40)
    ]
    client = stack.client()
    insert(client, [root, checkout, pay, stock, *fanout])
    client.close()

    result = execute(ctx, "get_trace_tree", {"trace_id": trace.upper()})
    assert result.error is None and result.kind == "tree"
    lines = result.extra["tree"]
    assert [line.split()[0] for line in lines] == ["a" * 16, "b" * 16, "d" * 16, "c" * 16]
    indents = [len(line) - len(line.lstrip()) for line in lines]
    assert indents == [0, 2, 4, 4]
    assert "payment failed" in lines[1] and "http.route=/checkout" in lines[1]
    assert "s3cr3t" not in model_text(result) and "4111" not in model_text(result)
    assert result.extra["spans"] == 4 and result.extra["errors"] == 2 and not result.truncated
    assert [child.span_id for child in result.roots[0].children[0].children] == ["d" * 16, "c" * 16]

    capped = execute(ctx, "get_trace_tree", {"trace_id": big})
    assert capped.truncated and capped.extra["spans"] == cap + 41 and capped.extra["shown"] == cap
    assert len(capped.extra["tree"]) == cap

    missing = execute(ctx, "get_trace_tree", {"trace_id": "0" * 32})
    assert missing.error and "not found" in missing.error
    assert execute(ctx, "get_trace_tree", {"trace_id": "x'; DROP"}).error.startswith("invalid input")


def test_compare_windows_reports_changes(ctx, stack):
    rng = random.Random(5)
    base = now()

    def window(service: str, name: str, minutes: tuple[float, float], count: int, duration_ns: int, failed=0):
        """`count` spans in the window, the first `failed` of them errors."""
        return [
            Span(
                hex_id(rng, 32),
                hex_id(rng, 16),
                service,
                name,
                minutes_ago(rng.uniform(*minutes), base),
                duration_ns + i,
                status="Error" if i < failed else "Ok",
            )
            for i in range(count)
        ]

    # baseline (60–120 min ago): 100 checkout spans, 2 errors, ~100 ms; current (last hour): 150 spans,
    # 30 errors, ~400 ms. payment-service: unchanged traffic.
    spans = window("checkout-service", "POST /checkout", (61, 119), 100, 100_000_000, failed=2)
    spans += window("checkout-service", "POST /checkout", (1, 59), 150, 400_000_000, failed=30)
    for minutes in ((61, 119), (1, 59)):
        spans += window("payment-service", "charge", minutes, 50, 50_000_000)
    client = stack.client()
    insert(client, spans)
    client.close()

    result = execute(ctx, "compare_windows", {"window": "1h"})
    assert result.error is None
    rows = {row[0]: dict(zip(result.columns, row, strict=True)) for row in result.rows}
    checkout = rows["checkout-service"]
    assert checkout["spans_per_min_before"] == round(100 / 60, 2) and checkout["spans_per_min_now"] == 2.5
    assert checkout["error_rate_before"] == 0.02 and checkout["error_rate_now"] == 0.2
    assert checkout["error_rate_change_pp"] == 18.0
    before_p95 = ms(exact_quantile([100_000_000 + i for i in range(100)], 0.95))
    now_p95 = ms(exact_quantile([400_000_000 + i for i in range(150)], 0.95))
    assert checkout["p95_ms_before"] == before_p95 and checkout["p95_ms_now"] == now_p95
    assert rows["payment-service"]["rate_change_pct"] == 0.0
    assert result.rows[0][0] == "checkout-service"
    assert result.extra["biggest_changes"][0].startswith("checkout-service: error rate 2.00% → 20.00%")


def test_run_sql_enforces_limit_and_guard(ctx, traffic):
    result = execute(
        ctx, "run_sql", {"sql": "SELECT SpanId FROM default.otel_traces ORDER BY SpanId;", "limit": 7}
    )
    assert result.row_count == 7 and result.truncated
    assert [r[0] for r in result.rows] == sorted(s.span_id for s in traffic)[:7]
    count = execute(
        ctx, "run_sql", {"sql": "SELECT count() FROM default.otel_traces WHERE Timestamp > now() - 3600"}
    )
    assert count.rows == [[len(traffic)]] and not count.truncated
    show = execute(ctx, "run_sql", {"sql": "SHOW TABLES FROM otel"})
    assert ["otel_traces"] in show.rows
    for sql, reason in [
        ("DROP TABLE default.otel_traces", "only SELECT"),
        ("SELECT 1; DROP TABLE default.otel_traces", "one statement"),
        ("SELECT * FROM file('/etc/passwd', 'LineAsString')", "file()"),
        ("SELECT 1 SETTINGS readonly = 0", "SETTINGS"),
    ]:
        refused = execute(ctx, "run_sql", {"sql": sql})
        assert refused.error and reason in refused.error
    broken = execute(ctx, "run_sql", {"sql": "SELECT no_such_column FROM default.otel_traces"})
    assert broken.error.startswith("Code: 47")


def test_describe_schema_names_tables_and_units(ctx, traffic):
    result = execute(ctx, "describe_schema", {})
    tables = {t["table"]: t for t in result.extra["tables"]}
    traces = tables["default.otel_traces"]
    assert traces["rows"] == len(traffic) + 20
    assert any(c.startswith("Duration UInt64") and "NANOSECONDS" in c for c in traces["columns"])
    assert "freshest" in traces["role"]
    assert "semantic_search" in tables["otel.otel_traces_enriched"]["role"]
    assert "log_summary" in tables["default.otel_logs"]["role"] and tables["default.otel_logs"]["columns"]
    assert any("nanoseconds" in note for note in result.extra["notes"])


def test_empty_window_points_at_newest_data(ctx, traffic):
    result = execute(ctx, "error_summary", {"start": "2020-01-01T00:00:00Z", "end": "2020-01-01T01:00:00Z"})
    assert result.rows == [] and "newest span" in result.extra["note"]


def test_invalid_inputs_are_clear_errors(ctx):
    assert execute(ctx, "list_services", {"window": "7 fortnights"}).error.startswith("invalid input: window")
    assert "extra" in execute(ctx, "find_slow_spans", {"bogus": 1}).error.lower()
    assert "limit" in execute(ctx, "find_slow_spans", {"limit": 0}).error
    assert "unknown tool" in execute(ctx, "drop_everything", {}).error
