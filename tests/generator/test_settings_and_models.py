"""Pure parts: settings validation, latency model, inventory split, command line, reproducibility."""

from __future__ import annotations

import random
import statistics

import pytest
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import ValidationError
from snkrs_generator import Exporters, Settings
from snkrs_generator.cli import parse_args, settings_from
from snkrs_generator.drop import Phase, split_inventory
from snkrs_generator.journeys import Journeys
from snkrs_generator.latency import LatencyModel, load_factor
from snkrs_generator.settings import FailureMode, Latency
from snkrs_generator.simulation import new_drop
from snkrs_generator.telemetry import Telemetry


def test_latency_model_matches_its_percentiles():
    model = LatencyModel(Latency(p50_ms=20, p99_ms=400))
    rng = random.Random(1)
    draws = sorted(model.sample(rng) for _ in range(40_000))
    assert statistics.median(draws) == pytest.approx(0.020, rel=0.05)
    assert draws[int(len(draws) * 0.99)] == pytest.approx(0.400, rel=0.12)
    assert model.sample(random.Random(2), load=3.0) == pytest.approx(3 * model.sample(random.Random(2)))


def test_load_factor_grows_with_workers():
    assert load_factor(5, 5, 0.08) == 1.0
    assert load_factor(40, 5, 0.08) == pytest.approx(1.56)


def test_inventory_split_keeps_every_pair():
    for units in (1, 13, 120, 1001):
        split = split_inventory(units)
        assert sum(split.values()) == units
    assert max(split_inventory(120), key=split_inventory(120).get) == "10"  # the size curve peaks mid-range


def test_failure_window():
    mode = FailureMode(probability=0.5, start_s=10, end_s=40)
    assert not mode.active(5) and mode.active(10) and mode.active(39.9) and not mode.active(40)
    assert not FailureMode(enabled=False, probability=1).active(1)


def test_settings_from_environment(monkeypatch):
    monkeypatch.setenv("GENERATOR_PAYMENT_TIMEOUT__PROBABILITY", "0.5")
    monkeypatch.setenv("GENERATOR_BOT_WAVE__ENABLED", "false")
    monkeypatch.setenv("GENERATOR_DROP_LIVE__WORKERS", "12")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    settings = Settings(_env_file=None)
    assert settings.payment_timeout.probability == 0.5 and settings.payment_timeout.end_s == 90
    assert not settings.bot_wave.enabled
    assert settings.drop_live.workers == 12 and settings.drop_live.duration_s == 90
    assert settings.otlp_endpoint == "http://collector:4318"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GENERATOR_LATENCY__DATABASE": '{"p50_ms": 50, "p99_ms": 10}'}, "p99_ms"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "http/protobuf or grpc"),
        ({"GENERATOR_CACHE_STAMPEDE__PROBABILITY": "1.5"}, "less than or equal to 1"),
        ({"GENERATOR_MAX_PENDING": "32000"}, "queue sizes must exceed max_pending"),
    ],
)
def test_bad_settings_are_clear_errors(monkeypatch, env, message):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None)


def test_command_line(monkeypatch):
    monkeypatch.setenv("GENERATOR_SEED", "3")
    settings = settings_from(parse_args(["--once", "--time-scale", "10"]))
    assert (settings.cycles, settings.time_scale, settings.seed, settings.flat_out) == (1, 10.0, 3, False)
    settings = settings_from(parse_args(["--seed", "9", "--cycles", "4", "--duration", "30", "--flat-out"]))
    assert (settings.seed, settings.cycles, settings.duration_s, settings.flat_out) == (9, 4, 30.0, True)


def drop_spans(seed: int, load: float = 1.0) -> list:
    """Three shoppers' requests of a drop, exported in memory."""
    spans = InMemorySpanExporter()
    settings = Settings(_env_file=None, seed=seed)
    telemetry = Telemetry(settings, Exporters(spans, InMemoryLogRecordExporter()))
    state = new_drop(settings, 0)
    state.enter(Phase.DROP_LIVE)
    journeys = Journeys(settings, telemetry, state)
    journeys.load = load
    rng = random.Random(seed)
    telemetry.ids.bind(random.Random(rng.getrandbits(64)))
    for _ in range(3):
        shopper = journeys.new_shopper(rng)
        while not shopper.done and shopper.requests < 8:
            journeys.step(rng, shopper)
    telemetry.shutdown()
    return list(spans.get_finished_spans())


def drop_traffic(seed: int) -> list[tuple]:
    """The spans without their timestamps."""
    return [
        (s.context.trace_id, s.context.span_id, s.name, s.kind, s.status.status_code, dict(s.attributes))
        for s in drop_spans(seed)
    ]


def test_latency_rises_with_load():
    quiet, busy = drop_spans(4, load=1.0), drop_spans(4, load=1.56)  # 5 vs 40 shoppers
    assert [s.name for s in quiet] == [s.name for s in busy]
    for a, b in zip(quiet, busy, strict=True):
        assert b.end_time - b.start_time >= a.end_time - a.start_time, a.name
    # fixed-length waits (a provider timeout, a lock timeout) do not grow with load: compare the other traces
    failed = {s.context.trace_id for s in quiet if s.status.status_code.name == "ERROR"}
    pairs = [(a, b) for a, b in zip(quiet, busy, strict=True) if a.context.trace_id not in failed]
    assert len(pairs) > 20
    busy_ns = sum(b.end_time - b.start_time for _, b in pairs)
    total = busy_ns / sum(a.end_time - a.start_time for a, _ in pairs)
    assert total > 1.3


def test_a_seed_reproduces_the_traffic():
    first = drop_traffic(5)
    assert len(first) > 20
    assert drop_traffic(5) == first
    assert drop_traffic(6) != first


def _raise(exc: Exception, depth: int) -> None:
    if depth:
        _raise(exc, depth - 1)
    raise exc


def test_stacktrace_is_the_standard_format_once_per_raise_path():
    import traceback

    from snkrs_generator.failures import BotBlocked, PaymentDeclined, exception_attributes, stacktrace

    texts = {}
    for kind, message in ((BotBlocked, "a"), (BotBlocked, "b"), (PaymentDeclined, "c")):
        for depth in (0, 2, 2):  # the second raise from the same path takes the formatted frames
            try:
                _raise(kind(message), depth)
            except Exception as caught:
                text = stacktrace(caught)
                assert text == "".join(traceback.format_exception(caught))
                texts.setdefault((message, depth), set()).add(text)
    assert all(len(t) == 1 for t in texts.values()) and len(set().union(*texts.values())) == 6
    try:  # a chained exception goes the standard way
        try:
            _raise(PaymentDeclined("inner"), 1)
        except PaymentDeclined as inner:
            raise BotBlocked("outer") from inner
    except BotBlocked as outer:
        assert stacktrace(outer) == "".join(traceback.format_exception(outer))
        assert "The above exception was the direct cause" in stacktrace(outer)
    unraised = PaymentDeclined("not raised")
    assert exception_attributes(unraised)["exception.stacktrace"] == "".join(
        traceback.format_exception(unraised)
    )


def test_fewer_collections_is_scoped():
    import gc

    from snkrs_generator.simulation import GC_YOUNG_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_service_resource_hashes_once_and_equals_the_sdk_resource():
    from opentelemetry.sdk.resources import Resource
    from snkrs_generator.telemetry import ServiceResource, service_resource

    resource = service_resource("checkout", Settings(_env_file=None), random.Random(1))
    plain = Resource(resource.attributes, resource.schema_url)
    assert isinstance(resource, ServiceResource) and resource.attributes["service.name"] == "checkout"
    assert resource == plain and hash(resource) == hash(plain)
    assert {resource: 1}[plain] == 1
