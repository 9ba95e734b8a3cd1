"""One compressed drop cycle against an OTLP/HTTP receiver: what the issue's "Done means" lists."""

from __future__ import annotations

from collections import defaultdict

import pytest
from snkrs_generator.catalog import SERVICE_VERSIONS
from snkrs_generator.telemetry import DURATION_BUCKETS

from tests.support.failure_modes import FAILURE_MODES

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5
STATUS_ERROR = 2
PHASES = ["PRE_DROP", "DROP_LIVE", "POST_DROP"]


def test_the_run_loses_nothing(drop_cycle):
    assert drop_cycle.returncode == 0, drop_cycle.output[-3000:]
    lines = drop_cycle.phase_lines()
    assert [line["phase"] for line in lines] == PHASES
    for line in lines:
        assert line["dropped"] == "0" and line["failed"] == "0" and line["logs_dropped"] == "0", line
        assert line["exported"] == line["spans"], line
    emitted = sum(int(line["spans"]) for line in lines)
    span_ids = {s.span_id for s in drop_cycle.spans}
    assert len(drop_cycle.spans) == emitted, "the receiver got exactly what the generator emitted"
    assert len(span_ids) == emitted, "no span arrived twice"
    assert f"spans={emitted} exported={emitted} dropped=0 failed=0" in drop_cycle.output


def test_all_three_phases_and_the_spike(drop_cycle):
    phases = {s.attrs.get("snkrs.drop.phase") for s in drop_cycle.spans if s.kind == SERVER}
    assert phases == set(PHASES)
    rate = {line["phase"]: float(line["span_rate"].removesuffix("/s")) for line in drop_cycle.phase_lines()}
    assert rate["DROP_LIVE"] >= 5 * rate["PRE_DROP"], rate  # the benchmark reports the real ratio (floor 10x)


def test_services_and_resources(drop_cycle):
    services = {s.service: s.resource for s in drop_cycle.spans}
    assert len(services) >= 10, sorted(services)
    assert set(SERVICE_VERSIONS) <= set(services)
    for resource in services.values():
        for key in (
            "service.version",
            "service.namespace",
            "service.instance.id",
            "deployment.environment.name",
        ):
            assert resource.get(key), (resource, key)
    assert len({r["service.instance.id"] for r in services.values()}) == len(services)


def test_every_trace_is_one_well_formed_tree(drop_cycle):
    traces: dict[str, list] = defaultdict(list)
    for span in drop_cycle.spans:
        traces[span.trace_id].append(span)
    assert len(traces) > 1000
    for trace_id, spans in traces.items():
        by_id = {s.span_id: s for s in spans}
        roots = [s for s in spans if not s.parent_id]
        assert len(roots) == 1, (trace_id, [s.name for s in roots])
        for span in spans:
            assert span.end >= span.start
            if span.parent_id:
                parent = by_id.get(span.parent_id)
                assert parent is not None, f"{span.name} in {trace_id} has no parent in its trace"
                assert parent.start <= span.start and span.end <= parent.end, (parent.name, span.name)


def test_kafka_producer_and_consumer_are_separate_traces_tied_by_links(drop_cycle):
    by_id = {s.span_id: s for s in drop_cycle.spans}
    consumers = [s for s in drop_cycle.spans if s.kind == CONSUMER]
    assert consumers
    for consumer in consumers:
        assert consumer.service == "order-fulfillment" and not consumer.parent_id
        [(trace_id, span_id)] = consumer.links
        producer = by_id[span_id]
        assert producer.kind == PRODUCER and producer.trace_id == trace_id != consumer.trace_id
        assert producer.attrs["messaging.system"] == "kafka" == consumer.attrs["messaging.system"]
        assert consumer.attrs["messaging.operation.type"] == "process"
        assert producer.attrs["messaging.destination.name"] == consumer.attrs["messaging.destination.name"]


def test_semantic_conventions_and_no_personal_data(drop_cycle):
    servers = [s for s in drop_cycle.spans if s.kind == SERVER]
    for span in servers:
        a = span.attrs
        assert span.name == f"{a['http.request.method']} {a['http.route']}"
        assert isinstance(a["http.response.status_code"], int)
        assert a["snkrs.member.tier"] and a["snkrs.region"] and a["snkrs.product.sku"]
    routes = {s.attrs["http.route"] for s in servers}
    assert {"/api/waiting-room/{dropId}/join", "/api/launch/{dropId}/entries", "/api/checkout"} <= routes
    assert any("snkrs.product.size" in s.attrs for s in servers)
    databases = [s for s in drop_cycle.spans if "db.system.name" in s.attrs]
    assert {s.attrs["db.system.name"] for s in databases} == {"postgresql", "redis"}
    assert all(s.attrs["db.operation.name"] and s.kind == CLIENT for s in databases)
    provider = [
        s for s in drop_cycle.spans if s.attrs.get("server.address") == "api.payments-provider.example"
    ]
    assert provider and all(s.kind == CLIENT and s.service == "payment" for s in provider)
    assert any(s.attrs.get("http.request.resend_count") for s in provider), "retries are marked"
    personal = {"user.id", "user.email", "user.name", "enduser.id", "client.address", "user.full_name"}
    assert not any(personal & s.attrs.keys() for s in drop_cycle.spans)
    assert not any(personal & log.attrs.keys() for log in drop_cycle.logs)


@pytest.mark.parametrize(("phrase", "exception", "service"), FAILURE_MODES, ids=[f[1] for f in FAILURE_MODES])
def test_each_failure_leaves_a_findable_signature(drop_cycle, phrase, exception, service):
    errors = [s for s in drop_cycle.spans if s.status_code == STATUS_ERROR and phrase in s.status_message]
    assert errors, f"no error span says {phrase!r}"
    assert all(s.attrs.get("error.type") for s in errors)
    records = [log for log in drop_cycle.logs if log.attrs.get("exception.type", "").endswith(exception)]
    assert records, f"no exception log record for {exception}"
    error_traces = {s.trace_id for s in errors}
    for record in records:
        assert record.service == service and phrase in record.attrs["exception.message"]
        assert record.attrs["exception.stacktrace"].startswith("Traceback")
        assert record.severity in ("WARN", "ERROR")
    assert error_traces & {r.trace_id for r in records}, "the log record is in an error span's trace"
    events = [e for s in drop_cycle.spans for e in s.events if e[0] == "exception"]
    assert any(attrs["exception.type"].endswith(exception) for _, attrs in events)


def test_failures_happen_during_the_drop(drop_cycle):
    by_trace_phase = {
        s.trace_id: s.attrs.get("snkrs.drop.phase") for s in drop_cycle.spans if not s.parent_id
    }
    failing = {by_trace_phase[s.trace_id] for s in drop_cycle.spans if s.status_code == STATUS_ERROR}
    assert failing == {"DROP_LIVE"}


def test_logs_carry_the_active_span(drop_cycle):
    spans = {s.span_id: s for s in drop_cycle.spans}
    assert len(drop_cycle.logs) > 100
    for log in drop_cycle.logs:
        span = spans.get(log.span_id)
        assert span is not None and span.trace_id == log.trace_id, log
        assert span.service == log.service
    events = {log.event_name for log in drop_cycle.logs}
    assert {"snkrs.failure", "snkrs.order.placed", "snkrs.inventory.sold_out", "snkrs.launch.entry"} <= events


def test_metrics(drop_cycle):
    metrics = drop_cycle.metrics
    expected = {
        "http.server.request.duration": "histogram",
        "http.client.request.duration": "histogram",
        "snkrs.http.server.requests": "sum",
        "snkrs.inventory.remaining": "gauge",
        "snkrs.waiting_room.queue_depth": "gauge",
        "snkrs.launch.entries": "sum",
        "snkrs.orders": "sum",
        "snkrs.payment.outcomes": "sum",
    }
    for name, kind in expected.items():
        assert name in metrics, sorted(metrics)
        assert all(m.WhichOneof("data") == kind for _, m in metrics[name]), name
    duration = [m for _, m in metrics["http.server.request.duration"]]
    assert all(m.unit == "s" for m in duration)
    points = [p for m in duration for p in m.histogram.data_points]
    assert all(tuple(p.explicit_bounds) == DURATION_BUCKETS for p in points)
    trace_ids = {s.trace_id for s in drop_cycle.spans}
    exemplars = [e for p in points for e in p.exemplars]
    assert exemplars and all(e.trace_id.hex() in trace_ids for e in exemplars)
    services = {service for service, _ in metrics["http.server.request.duration"]}
    assert len(services) >= 10
    remaining = [p.as_int for _, m in metrics["snkrs.inventory.remaining"] for p in m.gauge.data_points]
    assert 0 in remaining and max(remaining) > 0
    depth = [p.as_int for _, m in metrics["snkrs.waiting_room.queue_depth"] for p in m.gauge.data_points]
    assert max(depth) > 0
    outcomes = {
        dict((kv.key, kv.value.string_value) for kv in p.attributes)["snkrs.payment.outcome"]
        for _, m in metrics["snkrs.payment.outcomes"]
        for p in m.sum.data_points
    }
    assert {"approved", "approved_after_retry", "declined"} <= outcomes


def test_the_drop_sells_out(drop_cycle):
    [sold_out] = [log for log in drop_cycle.logs if log.event_name == "snkrs.inventory.sold_out"]
    assert sold_out.service == "inventory" and sold_out.attrs["snkrs.drop.seconds_to_sellout"] > 0
    conflicts = [
        s for s in drop_cycle.spans if s.kind == SERVER and s.attrs["http.response.status_code"] == 409
    ]
    assert conflicts and all(s.attrs["snkrs.drop.phase"] == "DROP_LIVE" for s in conflicts)
