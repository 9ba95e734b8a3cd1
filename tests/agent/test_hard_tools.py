"""The tools a cascade needs (issue 26), against chDB as the read-only agent user, on data whose answers the
tests compute: service_map (caller → callee edges with errors, slowness and when they began),
metric_series (a gauge per instance, its change point), span_deltas (the attribute values a failing subset
over-represents, over every attribute), and describe_schema listing the metric names. Plus the pure
arithmetic behind them."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from trace_agent.signals import change_point, rank_deltas
from trace_agent.timewindow import iso
from trace_agent.tools import TOOLS, execute

from tests.support.spans import SPAN_COLUMNS, Span, hex_id, minutes_ago

GAUGE_COLUMNS = [
    "ResourceAttributes",
    "ServiceName",
    "MetricName",
    "MetricUnit",
    "Attributes",
    "TimeUnix",
    "Value",
]


def rows_of(result) -> list[dict]:
    assert not result.is_error, result.error
    return [dict(zip(result.columns, r, strict=True)) for r in result.rows]


def test_change_point_finds_steps_and_ramps_not_spikes():
    flat = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.1, 10.0]
    assert change_point(flat).index is None
    step = [*flat, 30.0, 31.0, 29.5, 30.2]
    change = change_point(step)
    assert change.index == 8 and change.baseline == pytest.approx(10.0, abs=0.2) and change.ratio > 2.5
    ramp = flat + [10 + 2 * i for i in range(1, 10)]
    assert change_point(ramp).index == 9  # 10+4=14 > 10*1.25: the first bucket 25 % off that stays off
    spike = [*flat, 50.0, *flat]
    assert change_point(spike).index is None
    assert change_point([]).index is None and change_point([0.0, 0.0, 0.0, 5.0, 5.0]).index == 3


def test_rank_deltas_orders_by_over_representation():
    rows = [
        {"attribute": "service.version", "value": "5.1.0", "subset_spans": 40, "rest_spans": 10, "x": 1},
        {"attribute": "service.name", "value": "account", "subset_spans": 45, "rest_spans": 400},
        {"attribute": "snkrs.region", "value": "us-east", "subset_spans": 20, "rest_spans": 450},
    ]
    ranked = rank_deltas(rows, subset_total=50, rest_total=1000, limit=10)
    assert [d.value for d in ranked] == ["5.1.0", "account", "us-east"][:2]  # us-east: 0.4 vs 0.45, not over
    assert ranked[0].delta == pytest.approx(0.8 - 0.01) and ranked[0].extra == {"x": 1}
    assert ranked[1].lift == pytest.approx(0.9 / 0.4, abs=0.01)
    assert rank_deltas(rows, 0, 1000, 10) == []


@pytest.fixture
def cascade(stack):
    """gateway → checkout → inventory → the database: inventory's database calls turn slow 20 minutes ago
    (nothing fails there), checkout's calls to inventory time out after that and fail; payment is healthy."""
    rng = random.Random(26)
    rows, failing, slow_db = [], set(), set()
    onset = minutes_ago(20)
    for i in range(300):
        start = minutes_ago(40) + timedelta(seconds=8 * i)
        broken = start >= onset and i % 2 == 0
        trace = hex_id(rng, 32)
        root, call, inv, db, pay = (hex_id(rng, 16) for _ in range(5))
        db_ns = 1_800_000_000 if broken else 3_000_000
        spans = [
            Span(trace, root, "api-gateway", "POST /api/checkout", start, db_ns + 40_000_000,
                 status="Error" if broken else "Ok",
                 status_message="checkout answered 504" if broken else ""),
            Span(trace, call, "checkout", "POST /inventory/{sku}/reservations", start, db_ns + 20_000_000,
                 parent_span_id=root, kind="Client", status="Error" if broken else "Ok",
                 status_message="deadline exceeded" if broken else "",
                 attributes={"server.address": "inventory",
                             "snkrs.region": "eu-west" if broken else "us-east"}),
            Span(trace, inv, "inventory", "POST /inventory/{sku}/reservations", start, db_ns + 10_000_000,
                 parent_span_id=call, kind="Server"),
            Span(trace, db, "inventory", "UPDATE inventory", start, db_ns, parent_span_id=inv, kind="Client",
                 attributes={"server.address": "snkrs-db.internal", "db.system.name": "postgresql"}),
            Span(trace, pay, "checkout", "POST /payments/authorizations", start, 200_000_000,
                 parent_span_id=root, kind="Client", attributes={"server.address": "payment"}),
        ]  # fmt: skip
        if broken:
            failing.add(trace)
            slow_db.add(trace)
        rows += [s.row() for s in spans]
    client = stack.client()
    client.insert("default.otel_traces", rows, column_names=SPAN_COLUMNS)
    client.close()
    return onset, failing, slow_db


def test_service_map_walks_the_cascade_to_the_slow_database(ctx, cascade):
    onset, failing, slow_db = cascade
    edges = {(r["caller"], r["callee"]): r for r in rows_of(execute(ctx, "service_map", {"window": "1h"}))}
    assert set(edges) == {
        ("checkout", "inventory"),
        ("inventory", "snkrs-db.internal"),
        ("checkout", "payment"),
    }
    inventory, db, payment = (
        edges[("checkout", "inventory")],
        edges[("inventory", "snkrs-db.internal")],
        edges[("checkout", "payment")],
    )
    assert inventory["calls"] == 300 and inventory["errors"] == len(failing) and inventory["kind"] == "http"
    assert db["errors"] == 0 and db["slow_calls"] == len(slow_db) and db["kind"] == "db"
    assert db["slowest_trace_id"] in slow_db and inventory["error_trace_id"] in failing
    assert payment["errors"] == 0 and payment["slow_calls"] == 0 and payment["first_slow"] is None
    assert 0 <= (_time(db["first_slow"]) - onset).total_seconds() <= 16  # the first broken request
    assert db["p95_ms"] == pytest.approx(1800, rel=0.01) and payment["p95_ms"] == pytest.approx(200, rel=0.01)
    only = rows_of(execute(ctx, "service_map", {"window": "1h", "service": "snkrs-db"}))
    assert [(r["caller"], r["callee"]) for r in only] == [("inventory", "snkrs-db.internal")]


def test_span_deltas_ranks_every_attribute(ctx, cascade):
    _onset, failing, _slow = cascade
    result = execute(ctx, "span_deltas", {"window": "1h", "subset": "errors"})
    rows = rows_of(result)
    assert result.extra["subset_spans"] == 2 * len(failing)
    top = {(r["attribute"], r["value"]): r for r in rows}
    region = top[("snkrs.region", "eu-west")]  # only on the failing client spans: share 0.5 of the subset
    assert region["subset_spans"] == len(failing) and region["rest_spans"] == 0
    assert region["subset_share"] == 0.5 and set(region["example_trace_ids"]) <= failing
    assert ("service.name", "payment") not in top
    slow = rows_of(execute(ctx, "span_deltas", {"window": "1h", "subset": "slow", "min_duration_ms": 1000}))
    assert ("server.address", "snkrs-db.internal") in {(r["attribute"], r["value"]) for r in slow}
    assert execute(ctx, "span_deltas", {"subset": "broken"}).is_error


def _time(value: str):
    from trace_agent.timewindow import parse_time

    return parse_time(value)


def test_metric_series_finds_the_leaking_instance(ctx, stack):
    rows = []
    start = minutes_ago(30)
    for i in range(60):  # 30 s apart over 30 minutes; instance b leaks from minute 15 on
        t = start + timedelta(seconds=30 * i)
        for instance in ("a", "b"):
            leak = max(0, i - 30) * 8.0 if instance == "b" else 0.0
            resource = {"service.name": "feed", "service.instance.id": instance}
            rows.append([resource, "feed", "process.memory.usage", "By", {}, t, 200.0 + (i % 3) + leak])
        rows.append([{"service.name": "inventory"}, "inventory", "db.client.connection.count", "{connection}",
                     {"db.client.connection.state": "used"}, t, 5.0])  # fmt: skip
    client = stack.client()
    client.insert("default.otel_metrics_gauge", rows, column_names=GAUGE_COLUMNS)
    client.close()

    result = execute(
        ctx,
        "metric_series",
        {"metric": "process.memory.usage", "group_by": "instance", "window": "1h", "bucket_s": 30},
    )
    series = rows_of(result)
    assert [r["series"] for r in series] == ["feed b", "feed a"]
    leaking, steady = series
    assert steady["change_at"] is None and leaking["peak"] == 200 + 2 + 29 * 8  # one point per bucket
    assert leaking["buckets"] == 60 and result.extra["bucket_s"] == 30
    onset = start + timedelta(seconds=30 * 30)
    assert abs((_time(leaking["change_at"]) - onset).total_seconds()) <= 8 * 60  # within a few buckets
    by_state = rows_of(
        execute(ctx, "metric_series", {"metric": "db.client.connection.count",
                                       "group_by": "db.client.connection.state", "window": "1h"})
    )  # fmt: skip
    assert [r["series"] for r in by_state] == ["inventory used"]
    missing = execute(ctx, "metric_series", {"metric": "no.such.metric", "window": "1h"})
    assert missing.is_error and "process.memory.usage" in missing.error
    elsewhere = execute(ctx, "metric_series", {"metric": "process.memory.usage", "window": "5m",
                                               "end": iso(start - timedelta(minutes=10))})  # fmt: skip
    assert not elsewhere.is_error and elsewhere.rows == [] and "no points" in elsewhere.extra["note"]
    schema = execute(ctx, "describe_schema", {})
    metrics = next(t for t in schema.extra["tables"] if "metrics" in t)["metrics"]
    assert any(m.startswith("process.memory.usage (gauge, By)") for m in metrics)


def test_the_new_tools_are_in_the_shared_registry():
    assert {"service_map", "metric_series", "span_deltas"} <= set(TOOLS)
