"""Span rows written straight into the trace tables, in the shape the collector's clickhouseexporter inserts
them: one row builder on the exporter's column list (`otlp_rows.TRACE_COLUMNS`; the tables fill InsertedAt
themselves), a `Span` for tests that pick their own ids and times, and a small SNKRS drop."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from otlp_rows import TRACE_COLUMNS

SPAN_COLUMNS: list[str] = list(TRACE_COLUMNS)


def span_row(
    ts: datetime,
    trace_id: str | bytes,
    span_id: str | bytes,
    *,
    parent_span_id: str | bytes = "",
    name: str | bytes = "",
    kind: str = "",
    service: str | bytes = "",
    resource: dict | None = None,
    scope: tuple[str, str] = ("", ""),
    attributes: dict | None = None,
    duration: int = 0,
    status: str = "",
    message: str | bytes = "",
    events: Sequence[tuple[str | bytes, dict]] = (),
) -> list[Any]:
    """One row in the exporter's column order, with whatever values (odd ones too) a test needs; each event
    (name, attributes) is stamped with the span's start."""
    values: dict[str, Any] = {
        "Timestamp": ts,
        "TraceId": trace_id,
        "SpanId": span_id,
        "ParentSpanId": parent_span_id,
        "TraceState": "",
        "SpanName": name,
        "SpanKind": kind,
        "ServiceName": service,
        "ResourceAttributes": resource or {},
        "ScopeName": scope[0],
        "ScopeVersion": scope[1],
        "SpanAttributes": attributes or {},
        "Duration": duration,
        "StatusCode": status,
        "StatusMessage": message,
        "Events.Timestamp": [ts] * len(events),
        "Events.Name": [event[0] for event in events],
        "Events.Attributes": [event[1] for event in events],
        "Links.TraceId": [],
        "Links.SpanId": [],
        "Links.TraceState": [],
        "Links.Attributes": [],
    }
    return [values[column] for column in SPAN_COLUMNS]


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

    def row(self) -> list[Any]:
        return span_row(
            self.start, self.trace_id, self.span_id, parent_span_id=self.parent_span_id, name=self.name,
            kind=self.kind, service=self.service, resource={"service.name": self.service},
            attributes=self.attributes, duration=self.duration_ns, status=self.status,
            message=self.status_message,
        )  # fmt: skip


def insert(client, spans: Sequence[Span | list[Any]], table: str = "default.otel_traces") -> None:
    """Insert spans or rows (a `default` table's materialized view fills its trace-id lookup table)."""
    rows = [span.row() if isinstance(span, Span) else span for span in spans]
    client.insert(table, rows, column_names=SPAN_COLUMNS)


def hex_id(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def now() -> datetime:
    return datetime.now(UTC)


def minutes_ago(minutes: float, base: datetime | None = None) -> datetime:
    return (base or now()) - timedelta(minutes=minutes)


def drop_spans(traces: int, start: datetime | None = None, seed: int = 7) -> list[list[Any]]:
    """A small SNKRS drop: `traces` checkout traces of three spans each (gateway → checkout → inventory),
    every fifth failing."""
    rng = random.Random(seed)
    start = start or datetime.now(UTC) - timedelta(minutes=5)
    rows = []
    for i in range(traces):
        trace_id = f"{rng.getrandbits(128):032x}"
        root, child, leaf = (f"{rng.getrandbits(64):016x}" for _ in range(3))
        t0 = start + timedelta(milliseconds=37 * i)
        failed = i % 5 == 0
        status, message = ("Error", "inventory exhausted") if failed else ("Unset", "")
        route = "/launch/{sku}/entry"
        resource = {"deployment.environment.name": "playground"}
        rows += [
            span_row(t0, trace_id, root, name=f"POST {route}", kind="Server", service="snkrs-gateway",
                     resource=resource, attributes={"http.route": route, "http.request.method": "POST"},
                     duration=180_000_000 + i, status=status, message=message),
            span_row(t0 + timedelta(milliseconds=2), trace_id, child, parent_span_id=root,
                     name="checkout.reserve", kind="Internal", service="checkout-service", resource=resource,
                     duration=150_000_000, status=status, message=message),
            span_row(t0 + timedelta(milliseconds=3), trace_id, leaf, parent_span_id=child,
                     name="SELECT inventory", kind="Client", service="inventory-service", resource=resource,
                     attributes={"db.system.name": "postgresql"}, duration=20_000_000, status=status,
                     message=message if failed else ""),
        ]  # fmt: skip
    return rows
