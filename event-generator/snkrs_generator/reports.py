"""What a run reports: per phase (requests, spans and logs emitted and exported) and for the whole run, and
the one log line a finished run writes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .accounting import CountsSnapshot
from .drop import Phase

log = logging.getLogger("snkrs_generator")


@dataclass(frozen=True)
class PhaseReport:
    cycle: int
    phase: Phase
    drop_id: str
    seconds: float
    requests: int
    spans: CountsSnapshot
    logs: CountsSnapshot

    @property
    def span_rate(self) -> float:
        return self.spans.emitted / self.seconds if self.seconds > 0 else 0.0


@dataclass
class RunReport:
    phases: list[PhaseReport] = field(default_factory=list)
    spans: CountsSnapshot = field(default_factory=CountsSnapshot)
    logs: CountsSnapshot = field(default_factory=CountsSnapshot)
    metric_points: CountsSnapshot = field(default_factory=CountsSnapshot)
    worker_errors: int = 0
    backpressure_s: float = 0.0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Everything emitted was exported: nothing dropped by the SDK, nothing refused by the collector."""
        return (
            self.worker_errors == 0
            and self.spans.exported == self.spans.emitted
            and self.logs.exported == self.logs.emitted
            and self.metric_points.failed == 0
        )


def log_finished(report: RunReport, what: str) -> None:
    log.info(
        "%s: seconds=%.1f spans=%d exported=%d dropped=%d failed=%d logs=%d logs_exported=%d "
        "logs_dropped=%d metric_points=%d metric_failed=%d backpressure_s=%.1f worker_errors=%d",
        what,
        report.seconds,
        report.spans.emitted,
        report.spans.exported,
        report.spans.dropped,
        report.spans.failed,
        report.logs.emitted,
        report.logs.exported,
        report.logs.dropped,
        report.metric_points.exported,
        report.metric_points.failed,
        report.backpressure_s,
        report.worker_errors,
    )
