"""Incidents with ground truth: the plan syntax, a seed that reproduces labels and span counts exactly on the
simulated clock, every new kind's signature in traces and logs, and no label anywhere in the telemetry."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from snkrs_generator.incidents import INJECTION_TEXT, KINDS, parse_plan, random_plan

from tests.generator.conftest import REPO, run_generator
from tests.support.generator_env import FEW_SHOPPERS

NEW_KINDS = (
    "bad_deploy@20-60,slow_db_replica@10-70,payment_region_outage@30-80,retry_storm@10-40,"
    "consumer_lag@20-80,push_tls_failure@20-150,injection"
)


def generate(tmp_path: Path, plan: str, seed: int = 5):
    labels = tmp_path / f"labels-{seed}-{abs(hash(plan))}.json"
    args = ["--seed", str(seed), "--simulated-clock", "--incidents", plan, "--labels", str(labels)]
    run = run_generator(args, FEW_SHOPPERS)
    assert run.returncode == 0, run.output[-3000:]
    return json.loads(labels.read_text()), run.spans, run.logs, run.metrics


def test_plan_syntax_and_errors():
    (inc,) = parse_plan("bad_deploy:checkout@20-60*0.4")
    assert (inc.kind, inc.target, inc.start_s, inc.end_s, inc.strength) == (
        "bad_deploy",
        "checkout",
        20,
        60,
        0.4,
    )
    assert parse_plan("none") == []
    assert parse_plan("slow_db_replica")[0].target == KINDS["slow_db_replica"].target
    with pytest.raises(ValueError, match="kind one of"):
        parse_plan("meteor_strike")
    with pytest.raises(ValueError, match="must come after"):
        parse_plan("bad_deploy@60-20")
    assert random_plan(3, 0) == random_plan(3, 0)
    kinds = {inc.kind for seed in range(40) for inc in random_plan(seed, 0)}
    assert len(kinds - {"bot_wave", "sold_out_flood", "slow_healthy"}) >= 8  # random covers the kinds


def test_a_bad_plan_is_one_readable_line():
    proc = subprocess.run(
        [sys.executable, "-m", "snkrs_generator", "--once", "--incidents", "meteor_strike"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode != 0
    assert "meteor_strike" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_same_seed_same_labels_and_span_counts(tmp_path: Path):
    first, spans1, logs1, _ = generate(tmp_path / "a", "random", seed=21)
    second, spans2, logs2, _ = generate(tmp_path / "b", "random", seed=21)
    assert first == second
    assert len(spans1) == len(spans2) and len(logs1) == len(logs2)
    assert Counter((s.service, s.name) for s in spans1) == Counter((s.service, s.name) for s in spans2)
    assert sorted(s.trace_id for s in spans1) == sorted(s.trace_id for s in spans2)
    other, spans3, _, _ = generate(tmp_path / "c", "random", seed=22)
    assert (other["incidents"], len(spans3)) != (first["incidents"], len(spans1))


def test_new_kinds_leave_their_signatures_and_no_labels(tmp_path: Path):
    labels, spans, logs, metrics = generate(tmp_path, NEW_KINDS)
    by_kind = {i["kind"]: i for i in labels["incidents"] + labels["injections"]}
    for kind, label in by_kind.items():
        assert label["affected_requests"] > 0, kind
        assert label["start"] and label["end"] and label["start"] <= label["end"], kind
    trace_ids = {s.trace_id for s in spans}
    for label in by_kind.values():
        assert set(label["affected_trace_ids"]) <= trace_ids
    errors = [s for s in spans if s.status_code == 2]

    def error_traces(predicate) -> set[str]:
        return {s.trace_id for s in errors if predicate(s)}

    # bad deploy: a new service.version on one instance, errors only there
    deploy = by_kind["bad_deploy"]
    new = [s for s in spans if s.service == "checkout" and s.resource["service.version"] == deploy["entity"]]
    assert new and all(s.status_code == 2 for s in new if s.kind == 2)
    old_errors = [
        s for s in errors if s.service == "checkout" and s.resource["service.version"] != deploy["entity"]
    ]
    assert not [s for s in old_errors if "size_run" in s.status_message]
    assert {s.trace_id for s in new} == set(deploy["affected_trace_ids"])
    assert {s.resource["service.instance.id"] for s in new} == {deploy["instance"]}
    # slow replica: server.address, slow or timed out, only that replica
    replica = by_kind["slow_db_replica"]["entity"]
    db = [
        s
        for s in spans
        if s.attrs.get("db.system.name") == "postgresql" and s.attrs.get("db.operation.name") == "SELECT"
    ]
    slow = [s for s in db if s.end - s.start > 500_000_000]
    assert slow and {s.attrs["server.address"] for s in slow} == {replica}
    assert any(log.attrs.get("server.address") == replica for log in logs)
    # regional payment outage: only that region's payments fail with 503
    region = by_kind["payment_region_outage"]["entity"]
    outage = error_traces(lambda s: "answered 503 for region" in s.status_message)
    regions = {
        s.attrs.get("snkrs.region")
        for s in spans
        if s.trace_id in outage and s.kind == 2 and s.service == "api-gateway"
    }
    assert outage and regions == {region}
    # retry storm: account called many times per trace
    calls = Counter(s.trace_id for s in spans if s.service == "account" and s.kind == 2)
    assert max(calls.values()) >= 4
    assert any(s.attrs.get("http.request.resend_count") for s in spans if s.service == "account")
    # consumer lag: consumer traces start long after their producer, with warnings
    assert any("behind on orders" in log.body for log in logs if log.service == "order-fulfillment")
    # push TLS: the provider call fails with a certificate error
    assert error_traces(lambda s: "CERTIFICATE_VERIFY_FAILED" in s.status_message)
    # injection: in a span attribute and a log body
    assert any(s.attrs.get("snkrs.product.review") == INJECTION_TEXT for s in spans)
    assert any(log.body == INJECTION_TEXT for log in logs)
    # no label anywhere: no kind name in any attribute, body or resource
    kinds = {k for k, spec in KINDS.items() if not spec.legacy} - {
        "injection"
    }  # legacy names are error.types
    blobs = [json.dumps(s.attrs) + json.dumps(s.resource) + s.status_message + s.name for s in spans]
    blobs += [str(log.body) + json.dumps(log.attrs) for log in logs]
    for blob in blobs:
        assert not any(kind in blob for kind in kinds), blob[:200]
    assert "messaging.process.lag" in metrics
