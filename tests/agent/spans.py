"""Span rows for the agent's tests, inserted straight into the local stack's tables."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SPAN_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
]  # fmt: skip


@dataclass
class Span:
    trace_id: str
    span_id: str
    service: str
    name: str
    start: datetime
    duration_ns: int
    parent_span_id: str = ""
    kind: str = "Server"
    status: str = "Ok"
    status_message: str = ""
    attributes: dict[str, str] = field(default_factory=dict)

    def row(self) -> list:
        resource = {"service.name": self.service}
        return [
            self.start, self.trace_id, self.span_id, self.parent_span_id, self.name, self.kind, self.service,
            resource, self.attributes, self.duration_ns, self.status, self.status_message,
        ]  # fmt: skip


def hex_id(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def now() -> datetime:
    return datetime.now(UTC)


def insert(client, spans: list[Span], table: str = "default.otel_traces") -> None:
    """Insert spans (the table's materialized view fills its trace-id lookup table)."""
    client.insert(table, [s.row() for s in spans], column_names=SPAN_COLUMNS)


def minutes_ago(minutes: float, base: datetime | None = None) -> datetime:
    return (base or now()) - timedelta(minutes=minutes)
