"""Counting what the SDK does with every span and log record, pacing shoppers to the exporter, and
failing fast (with one readable line per interval) while the collector is down.

The SDK's batch processors drop the oldest item silently when their queue is full. We wrap the processor
(counts items in) and the exporter (counts items out: exported or failed), so `emitted - handed` is what
sits in the queue plus what the SDK dropped; after a flush the queue is empty and it is exactly the drops.
Shoppers wait while `emitted - handed` exceeds `max_pending`, which keeps the queue below its size."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry.context import Context
from opentelemetry.sdk._logs import LogRecordProcessor, ReadWriteLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult
from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

log = logging.getLogger("snkrs_generator")


class SignalCounts:
    """Items of one signal through the pipeline: emitted → handed to the exporter → exported | failed."""

    def __init__(self, signal: str) -> None:
        self.signal = signal
        self._lock = threading.Lock()
        self.emitted = 0
        self.handed = 0
        self.exported = 0
        self.failed = 0
        self.queued: Callable[[], int] | None = None
        self.progress = threading.Condition()  # notified after every export: wakes paced shoppers

    def watch_queue(self, processor: object) -> None:
        """Read the SDK processor's queue length where the SDK exposes it (1.x keeps it in a deque)."""
        queue = getattr(getattr(processor, "_batch_processor", None), "_queue", None)
        if queue is not None and hasattr(queue, "__len__"):
            self.queued = queue.__len__

    def add_emitted(self) -> None:
        with self._lock:
            self.emitted += 1

    def add_result(self, count: int, ok: bool) -> None:
        with self._lock:
            self.handed += count
            if ok:
                self.exported += count
            else:
                self.failed += count
        with self.progress:
            self.progress.notify_all()

    @property
    def pending(self) -> int:
        """Waiting in the SDK processor's queue (without access to it: queued plus whatever it dropped)."""
        return self.queued() if self.queued is not None else self.emitted - self.handed

    def snapshot(self) -> CountsSnapshot:
        with self._lock:
            return CountsSnapshot(self.emitted, self.handed, self.exported, self.failed)


@dataclass(frozen=True, slots=True)
class CountsSnapshot:
    emitted: int = 0
    handed: int = 0
    exported: int = 0
    failed: int = 0

    def __sub__(self, other: CountsSnapshot) -> CountsSnapshot:
        return CountsSnapshot(
            self.emitted - other.emitted,
            self.handed - other.handed,
            self.exported - other.exported,
            self.failed - other.failed,
        )

    @property
    def dropped(self) -> int:
        """Exact once the processor has been flushed (nothing left queued)."""
        return self.emitted - self.handed


class CollectorHealth:
    """Shared by every exporter. While the collector is down, one export per `probe_interval_s` tries it;
    the others fail fast so shoppers keep shopping. One log line per `log_interval_s` says it is down."""

    def __init__(
        self,
        endpoint: str,
        log_interval_s: float,
        probe_interval_s: float = 1.0,
        last_error: Callable[[], str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.last_error = last_error
        self.log_interval_s = log_interval_s
        self.probe_interval_s = probe_interval_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._last_probe = 0.0
        self._last_log = 0.0
        self._lost: dict[str, int] = {}
        self._reason = ""
        self.outages = 0

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def should_try(self) -> bool:
        with self._lock:
            if self._down_since is None:
                return True
            now = time.monotonic()
            if now - self._last_probe >= self.probe_interval_s:
                self._last_probe = now
                return True
            return False

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            down_for = time.monotonic() - self._down_since
            lost = " ".join(f"{k}={v}" for k, v in sorted(self._lost.items())) or "nothing"
            self._down_since = None
            self._lost = {}
        log.info(
            "collector reachable again at %s after %.1f s: export resumed (not exported: %s)",
            self.endpoint,
            down_for,
            lost,
        )

    def failed(self, signal: str, count: int, reason: str) -> None:
        with self._lock:
            now = time.monotonic()
            if self._down_since is None:
                self._down_since = now
                self._last_probe = now
                self._last_log = 0.0
                self.outages += 1
            self._lost[signal] = self._lost.get(signal, 0) + count
            if reason == "export failed" and self.last_error is not None:
                reason = self.last_error() or reason
            if reason == "skipped while down":
                reason = self._reason
            self._reason = reason
            if now - self._last_log < self.log_interval_s:
                return
            self._last_log = now
            down_for = now - self._down_since
            lost = " ".join(f"{k}={v}" for k, v in sorted(self._lost.items()))
        log.warning(
            "collector unreachable at %s for %.0f s (%s): still simulating, not exported so far: %s",
            self.endpoint,
            down_for,
            reason,
            lost,
        )


def _guarded_export(
    health: CollectorHealth, counts: SignalCounts, batch_len: int, export: Callable[[], bool]
) -> bool:
    if not health.should_try():
        counts.add_result(batch_len, ok=False)
        health.failed(counts.signal, batch_len, "skipped while down")
        return False
    try:
        ok = export()
        reason = "export failed"
    except Exception as exc:  # an exporter bug or transport error must not kill the SDK's worker thread
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    counts.add_result(batch_len, ok)
    if ok:
        health.succeeded()
    else:
        health.failed(counts.signal, batch_len, reason)
    return ok


class GuardedSpanExporter(SpanExporter):
    def __init__(self, delegate: SpanExporter, counts: SignalCounts, health: CollectorHealth) -> None:
        self.delegate, self.counts, self.health = delegate, counts, health

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        ok = _guarded_export(
            self.health,
            self.counts,
            len(spans),
            lambda: self.delegate.export(spans) is SpanExportResult.SUCCESS,
        )
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


class GuardedLogExporter(LogRecordExporter):
    def __init__(self, delegate: LogRecordExporter, counts: SignalCounts, health: CollectorHealth) -> None:
        self.delegate, self.counts, self.health = delegate, counts, health

    def export(self, batch: Sequence) -> LogRecordExportResult:
        ok = _guarded_export(
            self.health,
            self.counts,
            len(batch),
            lambda: self.delegate.export(batch) is LogRecordExportResult.SUCCESS,
        )
        return LogRecordExportResult.SUCCESS if ok else LogRecordExportResult.FAILURE

    def shutdown(self) -> None:
        self.delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


class SharedMetricExporter(MetricExporter):
    """One exporter behind every service's metric reader: readers' shutdowns are ignored (the owner shuts
    the delegate down once, after the last reader's final collection)."""

    def __init__(self, delegate: MetricExporter, counts: SignalCounts, health: CollectorHealth) -> None:
        super().__init__(
            preferred_temporality=delegate._preferred_temporality,
            preferred_aggregation=delegate._preferred_aggregation,
        )
        self.delegate, self.counts, self.health = delegate, counts, health
        self._lock = threading.Lock()

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs
    ) -> MetricExportResult:
        points = sum(
            len(metric.data.data_points)
            for rm in metrics_data.resource_metrics
            for sm in rm.scope_metrics
            for metric in sm.metrics
        )
        with self._lock:  # one request at a time: the delegate's HTTP session is not shared across threads
            ok = _guarded_export(
                self.health,
                self.counts,
                points,
                lambda: (
                    self.delegate.export(metrics_data, timeout_millis=timeout_millis)
                    is MetricExportResult.SUCCESS
                ),
            )
        return MetricExportResult.SUCCESS if ok else MetricExportResult.FAILURE

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        pass

    def close(self) -> None:
        self.delegate.shutdown()


class CountingSpanProcessor(SpanProcessor):
    def __init__(self, delegate: SpanProcessor, counts: SignalCounts) -> None:
        self.delegate, self.counts = delegate, counts

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        self.counts.add_emitted()
        self.delegate.on_end(span)

    def shutdown(self) -> None:
        pass  # every service's provider shares this processor: the owner shuts the delegate down once

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


class CountingLogProcessor(LogRecordProcessor):
    def __init__(self, delegate: LogRecordProcessor, counts: SignalCounts) -> None:
        self.delegate, self.counts = delegate, counts

    def on_emit(self, log_record: ReadWriteLogRecord) -> None:
        self.counts.add_emitted()
        self.delegate.on_emit(log_record)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.delegate.force_flush(timeout_millis)


class Backpressure:
    """Shoppers call `wait` before each request: it returns once the export backlog is below the limit.
    Waiting shoppers sleep on the exporters' progress condition (no polling that would starve the exporter
    thread of the GIL)."""

    def __init__(self, counts: Sequence[SignalCounts], max_pending: int, health: CollectorHealth) -> None:
        self.counts, self.max_pending, self.health = tuple(counts), max_pending, health
        self.waited_s = 0.0
        self._lock = threading.Lock()

    def _over(self) -> SignalCounts | None:
        if self.health.down:  # shoppers keep going: what cannot be exported is counted
            return None
        return next((c for c in self.counts if c.pending > self.max_pending), None)

    def wait(self, stop: threading.Event) -> None:
        if self._over() is None:
            return
        started = time.monotonic()
        while not stop.is_set() and (over := self._over()) is not None:
            with over.progress:
                over.progress.wait(0.05)
        with self._lock:
            self.waited_s += time.monotonic() - started
