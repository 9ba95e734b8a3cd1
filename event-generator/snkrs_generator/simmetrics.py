"""Gauges on the simulated clock. The SDK's metric readers stamp each collection with the wall clock, so on
the simulated clock (a drop generated in seconds) every SDK point lands at the run's end. The runtime and
connection-pool gauges the incidents need are kept here instead: each measurement is bucketed by the
simulated time it was taken at, and at shutdown every bucket becomes one gauge point (the bucket's mean,
stamped at the bucket's end) exported through the shared metric exporter with its instance's resource."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry.sdk.metrics.export import (
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

NS = 1_000_000_000
BUCKET_S = 5


@dataclass(slots=True)
class _Bucket:
    total: float = 0.0
    count: int = 0


@dataclass
class SimGauges:
    """Gauge measurements by (resource, metric, attributes, simulated bucket)."""

    scope: InstrumentationScope
    bucket_s: int = BUCKET_S
    units: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (unit, description)
    _buckets: dict[tuple[Resource, str, tuple[tuple[str, str], ...], int], _Bucket] = field(
        default_factory=dict
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self,
        resource: Resource,
        name: str,
        value: float,
        t_ns: int,
        attributes: dict[str, str] | None = None,
        unit: str = "",
        description: str = "",
    ) -> None:
        key = (resource, name, tuple(sorted((attributes or {}).items())), t_ns // (self.bucket_s * NS))
        with self._lock:
            self.units.setdefault(name, (unit, description))
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket()
            bucket.total += value
            bucket.count += 1

    def points(self) -> int:
        return len(self._buckets)

    def metrics_data(self) -> MetricsData | None:
        """Every bucket as one gauge point, per resource and metric; None when nothing was recorded."""
        with self._lock:
            buckets = dict(self._buckets)
        if not buckets:
            return None
        width = self.bucket_s * NS
        by_resource: dict[Resource, dict[str, list[NumberDataPoint]]] = {}
        for (resource, name, attrs, index), bucket in sorted(
            buckets.items(), key=lambda kv: (kv[0][1], kv[0][3])
        ):
            by_resource.setdefault(resource, {}).setdefault(name, []).append(
                NumberDataPoint(
                    attributes=dict(attrs),
                    start_time_unix_nano=index * width,
                    time_unix_nano=(index + 1) * width,
                    value=bucket.total / bucket.count,
                )
            )
        resource_metrics = []
        for resource, metrics in by_resource.items():
            items = [
                Metric(name, self.units[name][1], self.units[name][0], Gauge(points))
                for name, points in metrics.items()
            ]
            resource_metrics.append(ResourceMetrics(resource, [ScopeMetrics(self.scope, items, "")], ""))
        return MetricsData(resource_metrics)

    def flush(self, export: Callable[[MetricsData], object]) -> None:
        data = self.metrics_data()
        if data is not None:
            export(data)
        with self._lock:
            self._buckets.clear()
