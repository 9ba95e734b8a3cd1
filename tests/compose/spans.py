"""A small, realistic SNKRS drop, written straight into the tables in the shape the exporter writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

SPAN_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "SpanAttributes", "Duration", "StatusCode", "StatusMessage",
]  # fmt: skip


def drop_spans(traces: int, start: datetime | None = None, seed: int = 7) -> list[list]:
    """`traces` checkout traces of three spans each (gateway → checkout → inventory), some failing."""
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
            [t0, trace_id, root, "", f"POST {route}", "Server", "snkrs-gateway", resource,
             {"http.route": route, "http.request.method": "POST"}, 180_000_000 + i, status, message],
            [t0 + timedelta(milliseconds=2), trace_id, child, root, "checkout.reserve", "Internal",
             "checkout-service", resource, {}, 150_000_000, status, message],
            [t0 + timedelta(milliseconds=3), trace_id, leaf, child, "SELECT inventory", "Client",
             "inventory-service", resource, {"db.system.name": "postgresql"}, 20_000_000, status,
             message if failed else ""],
        ]  # fmt: skip
    return rows
