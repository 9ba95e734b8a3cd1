"""One provider set (traces, metrics, logs) per simulated service, all feeding one span pipeline and one log
pipeline (records carry their own resource, so the OTLP encoder groups them per service)."""

from __future__ import annotations

import random
import threading
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Tracer

from .accounting import (
    Backpressure,
    CollectorHealth,
    CountingLogProcessor,
    CountingSpanProcessor,
    CountsSnapshot,
    GuardedLogExporter,
    GuardedSpanExporter,
    SharedMetricExporter,
    SignalCounts,
)
from .catalog import SERVICE_VERSIONS
from .failures import exception_attributes
from .settings import Settings
from .simmetrics import SimGauges
from .version import __version__

SCOPE = "snkrs_generator"
# semantic-convention advisory buckets for HTTP durations, in seconds
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


class DiscardLogs(LogRecordExporter):
    def export(self, batch) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


class DiscardMetrics(MetricExporter):
    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs) -> MetricExportResult:
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        pass


@dataclass
class Exporters:
    """Where telemetry goes (any SDK exporters). `metrics` is shared by every service's metric reader; logs
    and metrics left out are discarded."""

    spans: SpanExporter
    logs: LogRecordExporter = field(default_factory=DiscardLogs)
    metrics: MetricExporter = field(default_factory=DiscardMetrics)
    endpoint: str = "injected exporters"


class SeededIdGenerator(IdGenerator):
    """Trace and span ids from the calling shopper's seeded RNG, so a seed reproduces a run's ids."""

    def __init__(self, seed: int) -> None:
        self._local = threading.local()
        self._fallback = random.Random(f"ids-{seed}")
        self._fallback_lock = threading.Lock()

    def bind(self, rng: random.Random) -> None:
        self._local.rng = rng

    def _bits(self, n: int) -> int:
        rng = getattr(self._local, "rng", None)
        if rng is None:
            with self._fallback_lock:
                value = self._fallback.getrandbits(n)
        else:
            value = rng.getrandbits(n)
        return value or 1

    def generate_span_id(self) -> int:
        return self._bits(64)

    def generate_trace_id(self) -> int:
        return self._bits(128)


class ServiceTelemetry:
    """A simulated service's tracer, logger and instruments."""

    def __init__(
        self,
        name: str,
        resource: Resource,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        logger_provider: LoggerProvider,
        gauges: SimGauges | None = None,
    ) -> None:
        self.name = name
        self.gauges = gauges  # gauges on the simulated clock (runtime, connection pools)
        self.resource = resource
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self.tracer: Tracer = tracer_provider.get_tracer(SCOPE, __version__)
        self.meter = meter_provider.get_meter(SCOPE, __version__)
        self.logger = logger_provider.get_logger(SCOPE, __version__)
        self._counters: dict[str, Counter] = {}
        self._counters_lock = threading.Lock()
        self.slowdown = 1.0  # multiplies its handlers' latency (an incident or a decoy sets it)
        self.fault: Callable[[Any], None] | None = None  # raises for every request this instance serves
        self.leak_since_ns: int | None = None  # a memory leak (an incident) began then
        self.leak_mb_per_s = 0.0
        # its own stream, so recording runtime gauges leaves the requests' random draws as they were
        self._runtime_rng = random.Random(
            zlib.crc32(str(resource.attributes.get("service.instance.id")).encode())
        )
        self.server_duration: Histogram = self.meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            description="Duration of HTTP server requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.server_requests: Counter = self.meter.create_counter(
            "snkrs.http.server.requests", unit="{request}", description="HTTP requests served."
        )
        self.client_duration: Histogram = self.meter.create_histogram(
            "http.client.request.duration",
            unit="s",
            description="Duration of HTTP client requests.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.db_duration: Histogram = self.meter.create_histogram(
            "db.client.operation.duration",
            unit="s",
            description="Duration of database client operations.",
            explicit_bucket_boundaries_advisory=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0),
        )

    def gauge(
        self, name: str, value: float, t_ns: int, attributes: dict | None = None, unit: str = ""
    ) -> None:
        """A gauge measurement at simulated time `t_ns` (see simmetrics)."""
        if self.gauges is not None:
            self.gauges.record(self.resource, name, value, t_ns, attributes, unit)

    def memory_mb(self, t_ns: int) -> float:
        """Resident memory: a steady base, plus what a leak (an incident) has accumulated since it began."""
        base = 180.0 + zlib.crc32(self.name.encode()) % 40
        if self.leak_since_ns is None or t_ns < self.leak_since_ns:
            return base
        return base + self.leak_mb_per_s * (t_ns - self.leak_since_ns) / 1e9

    def pressure_slowdown(self, t_ns: int) -> float:
        """How much slower a leaking instance serves: GC pauses grow as its heap fills."""
        if self.leak_since_ns is None:
            return 1.0
        pressure = max(0.0, self.memory_mb(t_ns) / 512.0 - 0.4)
        return 1.0 + 25.0 * pressure * pressure

    def gc_stall(self, t_ns: int) -> float:
        """A stop-the-world collection a request of a leaking instance sits through (seconds; mostly 0): the
        fuller the heap, the likelier."""
        if self.leak_since_ns is None:
            return 0.0
        pressure = max(0.0, self.memory_mb(t_ns) / 512.0 - 0.4)
        if self._runtime_rng.random() < 0.25 * pressure:
            return self._runtime_rng.uniform(1.0, 2.5)
        return 0.0

    def record_runtime(self, t_ns: int) -> None:
        """The runtime gauges of one served request: memory in use and the GC pause it saw (a heap near its
        limit pauses longer)."""
        if self.gauges is None:
            return
        memory = self.memory_mb(t_ns)
        pressure = max(0.0, memory / 512.0 - 0.4)
        pause = self._runtime_rng.uniform(0.001, 0.004) * (1.0 + 40.0 * pressure * pressure)
        self.gauges.record(self.resource, "process.memory.usage", memory * 1024 * 1024, t_ns, None, "By")
        self.gauges.record(self.resource, "process.runtime.gc.pause", pause, t_ns, None, "s")

    def counter(self, name: str, unit: str, description: str) -> Counter:
        counter = self._counters.get(name)
        if counter is not None:
            return counter
        with self._counters_lock:  # shoppers' threads create instruments lazily; register each once
            counter = self._counters.get(name)
            if counter is not None:
                return counter
            counter = self._counters[name] = self.meter.create_counter(
                name, unit=unit, description=description
            )
        return counter

    def log(
        self,
        ctx: Context,
        t_ns: int,
        severity: SeverityNumber,
        body: str,
        attributes: dict | None = None,
        event_name: str | None = None,
        exception: BaseException | None = None,
    ) -> None:
        self.logger.emit(
            timestamp=t_ns,
            observed_timestamp=t_ns,
            context=ctx,
            severity_number=severity,
            severity_text=severity.name.rstrip("0123456789") or severity.name,
            body=body,
            attributes={**exception_attributes(exception), **(attributes or {})} if exception else attributes,
            event_name=event_name,
        )


class ServiceResource(Resource):
    """A Resource whose hash is computed once. The OTLP encoders group every exported span, log record and
    metric by resource, and the SDK's `Resource.__hash__` serialises the attributes to JSON on each call; a
    resource never changes, so its hash need not either."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return other is self or super().__eq__(other)


def service_resource(
    name: str, settings: Settings, rng: random.Random, version: str | None = None
) -> Resource:
    return ServiceResource(
        Resource.create(
            {
                "service.name": name,
                "service.version": version or SERVICE_VERSIONS[name],
                "service.namespace": settings.service_namespace,
                "service.instance.id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "deployment.environment.name": settings.environment,
            }
        )
    )


class Telemetry:
    """Every service's providers plus the shared, counted export pipelines."""

    def __init__(
        self, settings: Settings, exporters: Exporters, last_error: Callable[[], str] | None = None
    ) -> None:
        self.settings = settings
        self.health = CollectorHealth(
            exporters.endpoint, settings.outage_log_interval_s, last_error=last_error
        )
        self.spans = SignalCounts("spans")
        self.logs = SignalCounts("logs")
        self.metric_points = SignalCounts("metric_points")
        self.ids = SeededIdGenerator(settings.seed)
        self.span_processor = BatchSpanProcessor(
            GuardedSpanExporter(exporters.spans, self.spans, self.health),
            max_queue_size=settings.span_queue_size,
            schedule_delay_millis=settings.export_delay_ms,
            max_export_batch_size=settings.export_batch_size,
        )
        self.log_processor = BatchLogRecordProcessor(
            GuardedLogExporter(exporters.logs, self.logs, self.health),
            max_queue_size=settings.log_queue_size,
            schedule_delay_millis=settings.export_delay_ms,
            max_export_batch_size=settings.export_batch_size,
        )
        self.spans.watch_queue(self.span_processor)
        self.logs.watch_queue(self.log_processor)
        self.metric_exporter = SharedMetricExporter(exporters.metrics, self.metric_points, self.health)
        self.backpressure = Backpressure((self.spans, self.logs), settings.max_pending, self.health)
        counting_spans = CountingSpanProcessor(self.span_processor, self.spans)
        counting_logs = CountingLogProcessor(self.log_processor, self.logs)
        self._counting = (counting_spans, counting_logs)
        self.gauges = SimGauges(InstrumentationScope(SCOPE, __version__))
        self._rng = random.Random(f"resources-{settings.seed}")
        self.services: dict[str, ServiceTelemetry] = {}
        self.instances: list[ServiceTelemetry] = []
        for name in SERVICE_VERSIONS:
            self.services[name] = self.add_instance(name)

    def add_instance(self, name: str, version: str | None = None) -> ServiceTelemetry:
        """One more instance of service `name` (its own service.instance.id; `version` for a new deploy)."""
        resource = service_resource(name, self.settings, self._rng, version)
        counting_spans, counting_logs = self._counting
        tracer_provider = TracerProvider(resource=resource, id_generator=self.ids, shutdown_on_exit=False)
        tracer_provider.add_span_processor(counting_spans)
        logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        logger_provider.add_log_record_processor(counting_logs)
        interval_ms = self.settings.metric_interval_ms
        reader = PeriodicExportingMetricReader(self.metric_exporter, export_interval_millis=interval_ms)
        meter_provider = MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)
        instance = ServiceTelemetry(
            name, resource, tracer_provider, meter_provider, logger_provider, self.gauges
        )
        self.instances.append(instance)
        return instance

    def __getitem__(self, name: str) -> ServiceTelemetry:
        return self.services[name]

    def flush(self) -> None:
        """Export everything queued so far (drop counts are exact afterwards)."""
        self.span_processor.force_flush()
        self.log_processor.force_flush()

    def snapshot(self) -> tuple[CountsSnapshot, CountsSnapshot]:
        return self.spans.snapshot(), self.logs.snapshot()

    def shutdown(self) -> None:
        """The simulated-clock gauges, the final metric collection, then drain the span and log queues,
        then close the exporters."""
        self.gauges.flush(self.metric_exporter.export)
        for service in self.instances:
            service.meter_provider.shutdown()
        self.span_processor.shutdown()
        self.log_processor.shutdown()
        self.metric_exporter.close()
