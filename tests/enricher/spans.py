"""Spans for the enricher's tests: a catalogue of SNKRS drop traffic, written to otel.otel_traces the way the
exporter and loader write them (rows from `tests.support.spans`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.support.spans import insert as insert_spans
from tests.support.spans import span_row


@dataclass
class Span:
    service: str
    name: str
    kind: str = "Server"
    status: str = "Unset"
    message: str = ""
    duration_ms: float = 20.0
    attributes: dict[str, str] = field(default_factory=dict)
    exception: tuple[str, str] | None = None
    timestamp: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 10, 0, tzinfo=UTC))

    def row(self, rng: random.Random) -> list:
        n = str(rng.randrange(1, 10))  # values in messages vary from span to span, as in real traffic
        events: list[tuple[str, dict]] = []
        if self.exception:
            message = self.exception[1].replace("{n}", n)
            events = [("exception", {"exception.type": self.exception[0], "exception.message": message})]
        return span_row(
            self.timestamp, f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}",
            parent_span_id=f"{rng.getrandbits(64):016x}", name=self.name, kind=self.kind,
            service=self.service, resource={"service.name": self.service}, scope=("snkrs", "1.0"),
            attributes=self.attributes, duration=int(self.duration_ms * 1e6), status=self.status,
            message=self.message.replace("{n}", n), events=events,
        )  # fmt: skip


def catalogue() -> list[Span]:
    """SNKRS drop traffic shaped like event-generator's: healthy calls, and its failure modes with the
    same routes, status codes, error types and exception messages (ids and values vary per span)."""
    http = {"http.request.method": "POST", "url.scheme": "https", "network.protocol.version": "1.1"}
    pg = {"db.system.name": "postgresql", "db.namespace": "snkrs", "server.address": "pg-primary"}
    provider = {
        **http,
        "server.address": "api.payments-provider.example",
        "url.template": "/v1/authorizations",
    }
    reserve = {**http, "http.route": "/inventory/{sku}/reservations", "server.address": "inventory-service"}
    return [
        Span("api-gateway", "GET /products/{sku}", duration_ms=9,
             attributes={**http, "http.request.method": "GET", "http.route": "/products/{sku}",
                         "http.response.status_code": "200"}),
        Span("catalog-service", "SELECT products", kind="Client", duration_ms=4, attributes={**pg,
             "db.operation.name": "SELECT", "db.collection.name": "products"}),
        Span("checkout-service", "POST /checkouts", duration_ms=480, attributes={**http,
             "http.route": "/checkouts", "http.response.status_code": "201"}),
        Span("payment-service", "POST /v1/authorizations", kind="Client", status="Error", duration_ms=3000,
             message="payment provider timed out after 3.0s (attempt {n}/3)",
             attributes={**provider, "error.type": "timeout"},
             exception=("PaymentProviderTimeout", "payment provider timed out after 3.0s (attempt {n}/3)")),
        Span("payment-service", "POST /payments", status="Error", duration_ms=9400,
             message="payment provider timed out on all 3 attempts (3.0s each); authorization abandoned",
             attributes={**http, "http.route": "/payments", "http.response.status_code": "504",
                         "error.type": "timeout"},
             exception=("PaymentProviderTimeout", "payment provider timed out on all 3 attempts (3.0s each); "
                        "authorization abandoned")),
        Span("payment-service", "POST /v1/authorizations", kind="Client", status="Error", duration_ms=240,
             message="card declined by issuer", attributes={**provider, "http.response.status_code": "402",
                                                            "error.type": "402"}),
        Span("payment-service", "POST /v1/authorizations", kind="Client", duration_ms=210,
             attributes={**provider, "http.response.status_code": "201"}),
        Span("inventory-service", "POST /inventory/{sku}/reservations", duration_ms=14,
             attributes={**reserve, "http.response.status_code": "409"},
             exception=("SoldOut", "DZ{n}-612 sold out in size 1{n} (drop drop-7-00{n})")),
        Span("inventory-service", "POST /inventory/{sku}/reservations", duration_ms=18,
             attributes={**reserve, "http.response.status_code": "201"}),
        Span("inventory-service", "POST /inventory/{sku}/reservations", status="Error", duration_ms=1530,
             message="lock wait timeout on inventory row DZ{n}-612/1{n} after 1.5s ({n}7 reservations/s on "
                     "one hot row)",
             attributes={**reserve, "http.response.status_code": "503", "error.type": "lock_wait_timeout"},
             exception=("InventoryLockTimeout", "lock wait timeout on inventory row DZ{n}-612/1{n} after "
                                                "1.5s")),
        Span("api-gateway", "POST /launch/entries", duration_ms=6, attributes={**http, "http.route":
             "/launch/entries", "http.response.status_code": "429", "error.type": "rate_limited"},
             exception=("RateLimited", "rate limit exceeded for client {n}")),
        Span("checkout-service", "INSERT orders", kind="Client", duration_ms=7, attributes={**pg,
             "db.operation.name": "INSERT", "db.collection.name": "orders"}),
    ]  # fmt: skip


def make_rows(count: int, seed: int, base: datetime | None = None) -> list[list]:
    """`count` spans from the catalogue with random ids and timestamps spread over a day."""
    rng = random.Random(seed)
    spans = catalogue()
    base = base or datetime(2026, 11, 22, tzinfo=UTC)
    rows = []
    for _ in range(count):
        span = rng.choice(spans)
        span.timestamp = base + timedelta(seconds=rng.uniform(0, 86400))
        rows.append(span.row(rng))
    return rows


def insert(client, rows: list[list], table: str = "otel.otel_traces") -> None:
    insert_spans(client, rows, table)
