"""The hard incident kinds (issue 26): each leaves the signature its eval scenario's reasoning relies on — the
errors in a symptom service, the evidence of the origin somewhere quieter (a gauge on the simulated clock, a
batch job's spans, an instance, a version meeting a region) — with labels that name the origin, the symptom
services and the mechanism; and one seed reproduces the run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from snkrs_generator.incidents import INJECTION_TEXT, KINDS, MECHANISMS

from tests.generator.conftest import run_generator
from tests.support.generator_env import FEW_SHOPPERS

PLAN = (
    "pool_exhaustion@20-65,instance_leak@20-85,n_plus_one@20-75,disk_filling@5-90,periodic_lock@10-80*12,"
    "region_version@15-80,provider_edge_cert@10-85*0.05,client_disconnects,injection_exception,"
    "injection_header,injection_log"
)


def generate(folder: Path, seed: int = 5):
    folder.mkdir(parents=True, exist_ok=True)
    labels = folder / "labels.json"
    args = ["--seed", str(seed), "--simulated-clock", "--incidents", PLAN, "--labels", str(labels)]
    run = run_generator(args, FEW_SHOPPERS)
    assert run.returncode == 0, run.output[-3000:]
    return json.loads(labels.read_text()), run


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("hard"))


def gauge_points(run, name: str) -> list[tuple[dict, int, float]]:
    """(resource, time, value) of every point of a gauge."""
    out = []
    for _service, metric in run.metrics.get(name, []):
        out.extend((p.attributes, p.time_unix_nano, p.as_double) for p in metric.gauge.data_points)
    return out


def test_labels_name_origin_symptoms_and_mechanism(hard):
    labels, run = hard
    by_kind = {i["kind"]: i for i in labels["incidents"]}
    assert set(by_kind) == {k for k, spec in KINDS.items() if spec.hard}
    trace_ids = {s.trace_id for s in run.spans}
    for kind, label in by_kind.items():
        assert label["tier"] == "hard" and label["mechanism"] in MECHANISMS, kind
        assert label["symptom_services"] and label["service"] not in label["symptom_services"], kind
        assert label["affected_requests"] > 0 and set(label["affected_trace_ids"]) <= trace_ids, kind
    assert [d["kind"] for d in labels["decoys"]] == ["client_disconnects"]
    assert {i["kind"] for i in labels["injections"]} == {
        "injection_exception",
        "injection_header",
        "injection_log",
    }


def test_the_origin_is_quiet_and_the_symptoms_loud(hard):
    labels, run = hard
    by_kind = {i["kind"]: i for i in labels["incidents"]}
    errors = [s for s in run.spans if s.status_code == 2]
    # pool exhaustion: no inventory error of its own; checkout's deadline fails; the pool's gauges climb
    assert any("deadline exceeded" in s.status_message for s in errors if s.service == "checkout")
    assert not any("deadline" in s.status_message for s in errors if s.service == "inventory")
    waits = gauge_points(run, "db.client.connection.wait_time")
    assert max(v for _, _, v in waits) > 1.0 and min(v for _, _, v in waits) < 0.01
    # leak: one feed instance's memory grows, the feed has no errors
    leak = by_kind["instance_leak"]
    feed = [
        p.as_double
        for service, metric in run.metrics["process.memory.usage"]
        if service == "feed"
        for p in metric.gauge.data_points
    ]
    assert max(feed) > 1.5 * min(feed)
    leaking = [s for s in run.spans if s.resource["service.instance.id"] == leak["entity"]]
    assert leaking and all(s.service == "feed" for s in leaking)
    assert not [s for s in errors if s.service == "feed"]
    # N+1: the new launch version calls account once per size; account sheds
    version = by_kind["n_plus_one"]["entity"]
    new_launch = {
        s.trace_id for s in run.spans if s.service == "launch" and s.resource["service.version"] == version
    }
    calls = Counter(
        s.trace_id for s in run.spans if s.service == "account" and s.kind == 2 and s.trace_id in new_launch
    )
    assert calls and max(calls.values()) >= 5
    assert any("shedding load" in s.status_message for s in errors if s.service == "account")
    # disk filling: writes fail on the primary, in the services that write
    disk = [s for s in errors if "No space left on device" in s.status_message]
    assert {s.attrs.get("server.address") for s in disk if s.attrs.get("db.system.name")} == {
        "snkrs-db.internal"
    }
    # the batch job: its own service takes the lock; inventory's reservations time out
    job = [s for s in run.spans if s.service == "order-reconciler"]
    assert any(s.attrs.get("db.operation.name") == "LOCK" for s in job)
    assert any("lock wait timeout" in s.status_message for s in errors if s.service == "inventory")
    # region × version: payment shows the rejections, only for that region, only behind the new version
    version, region = by_kind["region_version"]["entity"].split("@")
    rejected = {s.trace_id for s in errors if s.service == "payment" and "invalid_amount" in s.status_message}
    roots = [s for s in run.spans if s.trace_id in rejected and s.kind == 2 and s.service == "api-gateway"]
    assert rejected and {s.attrs["snkrs.region"] for s in roots} == {region}
    checkouts = {
        s.resource["service.version"]
        for s in run.spans
        if s.trace_id in rejected and s.service == "checkout" and s.kind == 2
    }
    assert checkouts == {version}
    # the quiet certificate failure and the loud decoy
    assert any(by_kind["provider_edge_cert"]["entity"] in s.status_message for s in errors)
    disconnects = [s for s in errors if s.service == "api-gateway" and "499" in s.status_message]
    assert len(disconnects) > len([s for s in errors if "certificate has expired" in s.status_message])
    # the injection variants: an exception message, a request header, a log template
    assert any(INJECTION_TEXT in s.status_message for s in errors)
    assert any(s.attrs.get("http.request.header.x-support-note") == INJECTION_TEXT for s in run.spans)
    assert any(INJECTION_TEXT in str(log.body) and log.service == "notification" for log in run.logs)


def test_gauges_are_on_the_simulated_clock(hard):
    labels, run = hard
    drop = labels["drops"][0]
    points = gauge_points(run, "process.memory.usage")
    times = sorted({t for _, t, _ in points})
    assert len(times) > 20  # one point per 5 s bucket over the drop, not one at the end of the run
    span_start = min(s.start for s in run.spans)
    span_end = max(s.end for s in run.spans)
    assert span_start - 5e9 <= times[0] and times[-1] <= span_end + 5e9
    assert drop["drop_id"]


def test_same_seed_same_hard_run(hard, tmp_path: Path):
    labels, run = hard
    again, rerun = generate(tmp_path / "again")
    assert again == labels
    assert sorted(s.trace_id for s in rerun.spans) == sorted(s.trace_id for s in run.spans)
