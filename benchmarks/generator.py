"""The SNKRS generator flat-out vs a bare OpenTelemetry SDK loop replaying the same telemetry, in the same
run, both exporting OTLP/HTTP to the same local sink (its own process, decoding every request).

- generator: `snkrs_generator.run` with `flat_out` (no think time) over one compressed drop cycle: 11
  services, logs and metrics included, paced only by its export backlog.
- bare: plain SDK providers (one per service resource, one span and one log pipeline, a metric reader per
  resource) replaying what the generator handed the SDK in a recorded flat-out cycle: every span with its
  parent, kind, attributes, events, links and status, every log record and every metric measurement taken
  in it; as many spans per phase as the generator exported in that phase, through the generator's exporters
  and batch settings. The ratio is then the generator's own overhead (its simulation, its bookkeeping).
- the same replay with the SDK's default BatchSpanProcessor, to show what the default queue drops.
- a paced (not flat-out) compressed cycle for the DROP_LIVE vs PRE_DROP span rate.
- the flat-out cycle again with `--processes N` (default 2), against the same sink.

Generator, bare loop and multi-process runs alternate for `--rounds` (default 2); the RESULT takes the best
run of each kind (on a shared machine a slower run is one that got less of it) and prints every run's load
average. `cpu_ratio` compares spans per CPU-second of this process (load-independent); `multi_vs_one`
includes starting the processes, `multi_vs_one_running` compares the rates over the drop cycle itself.

Floors (issue 3): generator/bare ≥ 0.7, drops 0, DROP_LIVE span rate ≥ 10× PRE_DROP's; (issue 17)
generator/bare ≥ 0.85, --processes 2 ≥ 1.6× one process.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import resource
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, InMemoryLogRecordExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    get_current_span,
    set_span_in_context,
)
from snkrs_generator import Exporters, Settings, run, run_processes
from snkrs_generator.exporters import otlp_exporters
from snkrs_generator.simulation import Simulation, fewer_collections
from snkrs_generator.telemetry import ServiceTelemetry, Telemetry

from tests.support.otlp_sink import OtlpSink

# --- the sink, in its own process ----------------------------------------------------------------------


def _serve_sink(conn) -> None:
    with OtlpSink(keep=False) as sink:
        conn.send(sink.endpoint)
        while (request := conn.recv()) != "stop":
            conn.send(sink.count(request))


class SinkProcess:
    """An `OtlpSink` in a process of its own: it decodes every request without taking this process's GIL."""

    def __enter__(self) -> SinkProcess:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_sink, args=(child,), name="otlp-sink", daemon=True)
        self._process.start()
        self.endpoint: str = self._conn.recv()
        return self

    def count(self, signal: str) -> int:
        self._conn.send(signal)
        return self._conn.recv()

    def cpu_seconds(self) -> float:
        """The sink process's CPU time so far (user + system)."""
        with open(f"/proc/{self._process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc) -> None:
        self._conn.send("stop")
        self._process.join(10)


# --- recording what the generator hands the SDK --------------------------------------------------------


@dataclass(frozen=True)
class InstrumentKey:
    resource: Resource
    kind: str  # "histogram" | "counter"
    name: str
    unit: str
    description: str
    buckets: tuple[float, ...] | None


@dataclass
class Recording:
    spans: list[ReadableSpan] = field(default_factory=list)
    logs: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))  # span id → log records
    measurements: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))  # span id → …


def _span_id(context: Context | None) -> int:
    return get_current_span(context).get_span_context().span_id if context is not None else 0


class _Noted:
    """An instrument that notes every measurement (and the span it was taken in) before passing it on."""

    def __init__(self, inner, key: InstrumentKey, recording: Recording) -> None:
        self._inner, self._key, self._recording = inner, key, recording

    def record(self, amount, attributes=None, context=None) -> None:
        self._recording.measurements[_span_id(context)].append((self._key, amount, attributes))
        self._inner.record(amount, attributes, context=context)

    def add(self, amount, attributes=None, context=None) -> None:
        self._recording.measurements[_span_id(context)].append((self._key, amount, attributes))
        self._inner.add(amount, attributes, context=context)


class _NotingMeter:
    def __init__(self, inner, resource: Resource, recording: Recording) -> None:
        self._inner, self._resource, self._recording = inner, resource, recording

    def _key(self, kind: str, name: str, unit: str, description: str, buckets=None) -> InstrumentKey:
        bounds = tuple(buckets) if buckets else None
        return InstrumentKey(self._resource, kind, name, unit, description, bounds)

    def create_histogram(self, name, unit="", description="", explicit_bucket_boundaries_advisory=None):
        inner = self._inner.create_histogram(
            name, unit=unit, description=description,
            explicit_bucket_boundaries_advisory=explicit_bucket_boundaries_advisory,
        )  # fmt: skip
        key = self._key("histogram", name, unit, description, explicit_bucket_boundaries_advisory)
        return _Noted(inner, key, self._recording)

    def create_counter(self, name, unit="", description=""):
        inner = self._inner.create_counter(name, unit=unit, description=description)
        return _Noted(inner, self._key("counter", name, unit, description), self._recording)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def _note_measurements(svc: ServiceTelemetry, recording: Recording) -> ServiceTelemetry:
    meter = _NotingMeter(svc.meter, svc.resource, recording)
    for attr in ("server_duration", "server_requests", "client_duration", "db_duration"):
        instrument = getattr(svc, attr)
        advisory = getattr(getattr(instrument, "_advisory", None), "explicit_bucket_boundaries", None)
        kind = "histogram" if hasattr(instrument, "record") else "counter"
        key = meter._key(kind, instrument.name, instrument.unit, instrument.description, advisory)
        setattr(svc, attr, _Noted(instrument, key, recording))
    svc.meter = meter
    return svc


def record_cycle(settings: Settings) -> dict[str, Recording]:
    """One flat-out drop cycle of the generator into memory: per phase, the spans, and by span the log records
    and metric measurements taken in it."""
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    telemetry = Telemetry(settings, Exporters(spans, logs))
    recording = Recording()
    for svc in telemetry.instances:
        _note_measurements(svc, recording)
    add_instance = telemetry.add_instance  # a bad deploy's instance comes up during the drop
    telemetry.add_instance = lambda *a: _note_measurements(add_instance(*a), recording)  # type: ignore[method-assign]
    report = Simulation(settings, telemetry, threading.Event()).run(None)
    telemetry.shutdown()
    for record in logs.get_finished_logs():
        recording.logs[record.log_record.span_id or 0].append(record)
    finished = list(spans.get_finished_spans())
    phases, start = {}, 0
    for p in report.phases:  # each phase ends with a flush: the finished spans are in phase order
        end = start + p.spans.exported
        phases[p.phase.value] = Recording(finished[start:end], recording.logs, recording.measurements)
        start = end
    return phases


# --- the bare SDK loop ---------------------------------------------------------------------------------


class ReplayIds(IdGenerator):
    """The recorded trace and span ids, set before each span starts (the trees are the generator's)."""

    trace_id = span_id = 1

    def generate_span_id(self) -> int:
        return self.span_id

    def generate_trace_id(self) -> int:
        return self.trace_id


@dataclass
class BarePipelines:
    """Plain SDK providers, one set per resource, sharing one span and one log pipeline."""

    settings: Settings
    default_span_processor: bool = False
    ids: ReplayIds = field(default_factory=ReplayIds)

    def __post_init__(self) -> None:
        s = self.settings
        exporters = otlp_exporters(s)
        if self.default_span_processor:  # the SDK defaults: 2048 queue, 512 batch, 5 s delay
            self.spans = BatchSpanProcessor(exporters.spans)
        else:  # the generator's queue and batch settings (`pending` keeps the loop below its queue size)
            self.spans = BatchSpanProcessor(
                exporters.spans, max_queue_size=s.span_queue_size,
                schedule_delay_millis=s.export_delay_ms, max_export_batch_size=s.export_batch_size,
            )  # fmt: skip
        self.logs = BatchLogRecordProcessor(
            exporters.logs, max_queue_size=s.log_queue_size,
            schedule_delay_millis=s.export_delay_ms, max_export_batch_size=s.export_batch_size,
        )  # fmt: skip
        self.pending = self.spans._batch_processor._queue.__len__  # the SDK 1.x queue (a deque)
        self.tracers: dict[Resource, Any] = {}
        self.loggers: dict[Resource, Any] = {}
        self.meter_providers: dict[Resource, MeterProvider] = {}
        self.instruments: dict[InstrumentKey, Any] = {}

    def tracer(self, resource: Resource):
        if (tracer := self.tracers.get(resource)) is None:
            provider = TracerProvider(resource=resource, id_generator=self.ids, shutdown_on_exit=False)
            provider.add_span_processor(self.spans)
            tracer = self.tracers[resource] = provider.get_tracer("bare-loop")
        return tracer

    def logger(self, resource: Resource):
        if (logger := self.loggers.get(resource)) is None:
            provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
            provider.add_log_record_processor(self.logs)
            logger = self.loggers[resource] = provider.get_logger("bare-loop")
        return logger

    def instrument(self, key: InstrumentKey):
        if (instrument := self.instruments.get(key)) is None:
            provider = self.meter_providers.get(key.resource)
            if provider is None:
                exporter = otlp_exporters(self.settings).metrics
                reader = PeriodicExportingMetricReader(
                    exporter, export_interval_millis=self.settings.metric_interval_ms
                )
                provider = self.meter_providers[key.resource] = MeterProvider(
                    resource=key.resource, metric_readers=[reader], shutdown_on_exit=False
                )
            meter = provider.get_meter("bare-loop")
            if key.kind == "histogram":
                instrument = meter.create_histogram(
                    key.name, unit=key.unit, description=key.description,
                    explicit_bucket_boundaries_advisory=key.buckets,
                ).record  # fmt: skip
            else:
                instrument = meter.create_counter(key.name, unit=key.unit, description=key.description).add
            self.instruments[key] = instrument
        return instrument

    def shutdown(self) -> None:
        for provider in self.meter_providers.values():
            provider.shutdown()
        self.spans.shutdown()
        self.logs.shutdown()


def replay_plan(pipelines: BarePipelines, recording: Recording) -> list[tuple]:
    """Each recorded span as the SDK calls that make it again, prepared ahead (not timed)."""
    plan = []
    for s in recording.spans:
        ctx = s.context
        parent = None
        if s.parent is not None:
            parent_span = NonRecordingSpan(SpanContext(ctx.trace_id, s.parent.span_id, False, TraceFlags(1)))
            parent = set_span_in_context(parent_span, Context())
        links = [(link.context, dict(link.attributes or {})) for link in s.links]
        events = [(e.name, dict(e.attributes or {}), e.timestamp) for e in s.events]
        status = s.status if s.status.status_code.value else None
        logs = [(pipelines.logger(r.resource), r.log_record) for r in recording.logs.get(ctx.span_id, ())]
        measured = [
            (pipelines.instrument(key), amount, attributes)
            for key, amount, attributes in recording.measurements.get(ctx.span_id, ())
        ]
        plan.append((
            pipelines.tracer(s.resource), s.name, s.kind, dict(s.attributes or {}), links, s.start_time,
            s.end_time, parent, ctx.trace_id, ctx.span_id, events, status, logs, measured,
        ))  # fmt: skip
    return plan


def bare_loop(sink: SinkProcess, settings: Settings, phases: list[tuple[Recording, int]], default=False):
    """Seconds (wall, and this process's CPU) until the phases' span counts are replayed and exported, and
    how many spans the sink missed."""
    before = sink.count("traces")
    pipelines = BarePipelines(settings, default_span_processor=default)
    plans = [(replay_plan(pipelines, recording), count) for recording, count in phases]
    ids, pending, max_pending = pipelines.ids, pipelines.pending, settings.max_pending
    with fewer_collections():  # the generator's GC settings (they are not its own overhead)
        started, cpu = time.perf_counter(), time.process_time()
        total = _replay(plans, ids, pending, max_pending, default)
        pipelines.shutdown()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return seconds, cpu, total - (sink.count("traces") - before)


def _replay(plans: list, ids: ReplayIds, pending, max_pending: int, default: bool) -> int:
    total = 0
    for plan, count in plans:
        n = len(plan)
        total += count
        for i in range(count):
            if not default:
                while pending() > max_pending:  # as the generator paces itself: wait for the exporter
                    time.sleep(0.001)
            (tracer, name, kind, attributes, links, start, end, parent, trace_id, span_id, events, status,
             logs, measured) = plan[i % n]  # fmt: skip
            ids.trace_id, ids.span_id = trace_id, span_id
            span = tracer.start_span(
                name, context=parent, kind=kind, attributes=attributes,
                links=[Link(c, a) for c, a in links] if links else None, start_time=start,
            )  # fmt: skip
            for event_name, event_attributes, timestamp in events:
                span.add_event(event_name, event_attributes, timestamp=timestamp)
            if status is not None:
                span.set_status(status)
            span.end(end_time=end)
            if logs or measured:
                ctx = set_span_in_context(span, Context())
                for logger, r in logs:
                    logger.emit(
                        timestamp=r.timestamp, observed_timestamp=r.observed_timestamp, context=ctx,
                        severity_number=r.severity_number, severity_text=r.severity_text, body=r.body,
                        attributes=dict(r.attributes or {}), event_name=r.event_name,
                    )  # fmt: skip
                for instrument, amount, measure_attributes in measured:
                    instrument(amount, measure_attributes, context=ctx)
    return total


@dataclass
class Measured:
    spans: int
    seconds: float  # wall clock, from the call to the report (processes started, telemetry shut down)
    running_s: float  # the run's own seconds (the drop cycle, without start-up and shutdown)
    cpu_s: float
    drops: int
    load: float  # the machine's 1-minute load average when the run started

    @property
    def rate(self) -> float:
        return self.spans / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.spans / self.cpu_s

    def line(self) -> str:
        running = self.spans / self.running_s
        return (
            f"{self.spans} spans in {self.seconds:.1f} s = {self.rate:.0f}/s ({running:.0f}/s over the "
            f"cycle's {self.running_s:.1f} s), dropped={self.drops}; CPU {self.cpu_s:.1f} s = "
            f"{self.cpu_rate:.0f} spans per CPU-second; load average {self.load:.1f}"
        )


def generator_run(sink: SinkProcess, settings: Settings):
    """The generator flat out (`settings.processes` processes), measured."""
    before, sink_cpu, load = sink.count("traces"), sink.cpu_seconds(), os.getloadavg()[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, cpu = time.perf_counter(), time.process_time()
    report = run_processes(settings)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # a pool's processes, joined by now
    cpu += after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    received = sink.count("traces") - before
    if received != report.spans.exported:
        print(f"  note: the sink received {received} spans, the generator counted {report.spans.exported}")
    drops = report.spans.dropped + report.spans.failed
    measured = Measured(report.spans.exported, seconds, report.seconds, cpu, drops, load)
    print(f"  {measured.line()}; {measured.cpu_s / seconds:.2f} cores busy; sink CPU "
          f"{sink.cpu_seconds() - sink_cpu:.1f} s (+{report.logs.exported} logs, "
          f"{report.metric_points.exported} metric points)", flush=True)  # fmt: skip
    return measured, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-scale", type=float, default=10.0, help="compression of the flat-out cycle")
    parser.add_argument("--paced-time-scale", type=float, default=10.0, help="compression of the paced cycle")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--processes", type=int, default=2, help="processes of the multi-process run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="generator, bare loop and multi-process runs, interleaved"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("snkrs_generator").setLevel(logging.WARNING)

    with SinkProcess() as sink:
        # a generous export timeout: a loaded machine must not make an exporter time out and re-send a batch
        # (the sink would count its spans twice)
        base = Settings(
            _env_file=None, seed=args.seed, cycles=1, otlp_endpoint=sink.endpoint, export_timeout_s=30
        )

        print(f"paced cycle at time-scale {args.paced_time_scale:g} (phase span rates) ...", flush=True)
        paced = run(base.model_copy(update={"time_scale": args.paced_time_scale}))
        rates = {p.phase.value: p.span_rate for p in paced.phases}
        rate_ratio = rates["DROP_LIVE"] / rates["PRE_DROP"]
        for p in paced.phases:
            print(
                f"  {p.phase.value:9} {p.spans.emitted:7d} spans in {p.seconds:5.1f} s = {p.span_rate:7.0f}/s"
            )

        flat = base.model_copy(update={"time_scale": args.time_scale, "flat_out": True})
        # the telemetry to replay: a flat-out cycle recorded in memory (shorter: the same phase mix)
        recorded = record_cycle(flat.model_copy(update={"time_scale": args.time_scale * 4}))
        spans = [s for r in recorded.values() for s in r.spans]
        logs = sum(len(v) for v in next(iter(recorded.values())).logs.values())
        measured = sum(len(v) for v in next(iter(recorded.values())).measurements.values())
        attrs = sum(len(s.attributes or {}) for s in spans) / len(spans)
        print(f"bare SDK loop replays {len(spans)} recorded generator spans ({attrs:.1f} attributes/span, "
              f"{logs} logs, {measured} measurements) through the generator's exporters and batch "
              "settings", flush=True)  # fmt: skip

        ones, bares, multis = [], [], []
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}: generator flat-out, one cycle at time-scale {args.time_scale:g} ...")
            one, report = generator_run(sink, flat)
            ones.append(one)
            phases = [(recorded[p.phase.value], p.spans.exported) for p in report.phases]
            print(f"round {round_}: bare SDK loop, as many spans per phase ...", flush=True)
            load = os.getloadavg()[0]
            bare_seconds, bare_cpu, bare_drops = bare_loop(sink, flat, phases)
            bare = Measured(one.spans - bare_drops, bare_seconds, bare_seconds, bare_cpu, bare_drops, load)
            bares.append(bare)
            print(f"  {bare.line()}; generator/bare {one.rate / bare.rate:.2f} (CPU "
                  f"{one.cpu_rate / bare.cpu_rate:.2f})", flush=True)  # fmt: skip
            print(f"round {round_}: generator flat-out, --processes {args.processes} ...", flush=True)
            multi, _ = generator_run(sink, flat.model_copy(update={"processes": args.processes}))
            multis.append(multi)
            print(f"  --processes {args.processes} vs one: {multi.rate / one.rate:.2f}", flush=True)

        print("bare SDK loop with the SDK's default BatchSpanProcessor ...", flush=True)
        default_seconds, _, default_drops = bare_loop(sink, flat, phases, default=True)
        share = 100 * default_drops / one.spans
        print(f"  {one.spans - default_drops} of {one.spans} spans exported in {default_seconds:.1f} s: "
              f"the default queue dropped {default_drops} ({share:.0f}%)")  # fmt: skip

    # the best run of each kind (the machine is shared: a slower run is one that got less of it)
    one = max(ones, key=lambda m: m.rate)
    bare = max(bares, key=lambda m: m.rate)
    multi = max(multis, key=lambda m: m.rate)
    one_running = max(m.spans / m.running_s for m in ones)
    multi_running = max(m.spans / m.running_s for m in multis)
    loads = "/".join(f"{m.load:.1f}" for trio in zip(ones, bares, multis, strict=True) for m in trio)
    print(
        f"RESULT generator_spans_per_s={one.rate:.0f} bare_spans_per_s={bare.rate:.0f} spans={one.spans} "
        f"drops={max(m.drops for m in ones)} drop_live_vs_pre_drop={rate_ratio:.1f} "
        f"sdk_default_drops={default_drops} ratio={one.rate / bare.rate:.2f} "
        f"cpu_ratio={max(m.cpu_rate for m in ones) / max(m.cpu_rate for m in bares):.2f} "
        f"processes={args.processes} multi_spans_per_s={multi.rate:.0f} "
        f"multi_drops={max(m.drops for m in multis)} multi_vs_one={multi.rate / one.rate:.2f} "
        f"multi_vs_one_running={multi_running / one_running:.2f} "
        f"multi_cores_busy={multi.cpu_s / multi.seconds:.2f} load_avg={loads}"
    )


if __name__ == "__main__":
    main()
