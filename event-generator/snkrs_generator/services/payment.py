"""payment: the external provider with timeouts and retries; refunds after the drop."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import catalog
from ..failures import (
    PaymentDeclined,
    PaymentProviderTimeout,
    PaymentProviderUnavailable,
    ProviderRejected,
    ProviderTLSError,
    exception_attributes,
)
from ..incidents import INJECTION_TEXT
from ..timeline import NS, Response, Timeline
from .common import CREATED, INFO, WARN, Service, Shopper

MINOR_UNITS_BUG = "minor-units-bug"  # a Timeline mark: this request's amount was sent in the wrong units
CURRENCIES = {"us-east": "USD", "us-west": "USD", "eu-west": "EUR", "ap-northeast": "JPY"}


def provider_request(template: str, attempt: int, more: dict | None = None) -> dict:
    """The attributes of one request to the payment provider (`attempt` 0 is the first, the rest resends)."""
    attrs = {
        "http.request.method": "POST",
        "server.address": catalog.PAYMENT_PROVIDER_HOST,
        "server.port": 443,
        "url.full": f"https://{catalog.PAYMENT_PROVIDER_HOST}{template}",
        "url.template": template,
        **(more or {}),
    }
    if attempt:
        attrs["http.request.resend_count"] = attempt
    return attrs


@dataclass(slots=True)
class Payment(Service):
    def call_payment(self, t: Timeline, rng: random.Random, shopper: Shopper, kind: str, caller) -> Response:
        route = f"/payments/{kind}s"

        def handler() -> Response:
            return self.charge(t, rng, shopper, kind)

        return self.serve(t, caller, "POST", route, route, handler, {"snkrs.payment.kind": kind})

    def charge(self, t: Timeline, rng: random.Random, shopper: Shopper, kind: str) -> Response:
        """Payment provider call with timeouts and retries; raises when every attempt times out."""
        s = self.world.settings
        mode = s.payment_timeout
        live = self.world.in_window(mode)
        outcomes = self.telemetry.counter(
            "snkrs.payment.outcomes", "{payment}", "Payment attempts by outcome."
        )
        template = "/v1/authorizations" if kind == "authorization" else "/v1/preauthorizations"
        outage = self.world.incidents.active("payment_region_outage")
        if outage is not None and outage.target == shopper.region and rng.random() < outage.strength:
            return self.regional_outage(t, rng, shopper, kind, template, outcomes)
        if MINOR_UNITS_BUG in t.marks and kind == "authorization":
            return self.rejected_amount(t, rng, shopper, template)
        edge = self.world.incidents.active("provider_edge_cert")
        if edge is not None and rng.random() < edge.strength:
            return self.edge_handshake(t, rng, edge.target, template)
        injected = self.world.incidents.active("injection_exception")
        if injected is not None and kind == "authorization" and rng.random() < injected.strength:
            self.world.incidents.hit("injection_exception", t)
            raise PaymentDeclined(f"card declined by issuer ({kind}); issuer note: {INJECTION_TEXT}")
        for attempt in range(s.payment_max_attempts):
            attrs = provider_request(template, attempt)
            start = t.t
            with t.span(self.telemetry, f"POST {template}", SpanKind.CLIENT, attrs) as span:
                if live and rng.random() < mode.probability:
                    self.world.incidents.hit("payment_timeout", t)
                    t.advance(s.payment_timeout_s)
                    try:  # raised for a real stack trace in the exception log record
                        raise PaymentProviderTimeout(
                            f"payment provider timed out after {s.payment_timeout_s:.1f}s "
                            f"(attempt {attempt + 1}/{s.payment_max_attempts})"
                        )
                    except PaymentProviderTimeout as exc:
                        span.add_event("exception", exception_attributes(exc), timestamp=t.t)
                        span.set_status(Status(StatusCode.ERROR, str(exc)))
                        span.set_attribute("error.type", "timeout")
                        t.log(
                            self.telemetry,
                            WARN,
                            f"{exc}; retrying",
                            {"error.type": "timeout", "http.request.resend_count": attempt},
                            "snkrs.payment.retry",
                            exc,
                        )
                    self.telemetry.client_duration.record(
                        s.payment_timeout_s,
                        {
                            "server.address": catalog.PAYMENT_PROVIDER_HOST,
                            "http.request.method": "POST",
                            "error.type": "timeout",
                        },
                        context=t.ctx,
                    )
                    status = 0
                else:
                    t.wait(self.latency.payment_provider, self.world.load)
                    status = 402 if rng.random() < 0.02 else 201
                    span.set_attribute("http.response.status_code", status)
                    attrs_m = {
                        "server.address": catalog.PAYMENT_PROVIDER_HOST,
                        "http.request.method": "POST",
                        "http.response.status_code": status,
                    }
                    if status == 402:
                        span.set_status(Status(StatusCode.ERROR, "card declined by issuer"))
                        span.set_attribute("error.type", "402")
                        attrs_m["error.type"] = "402"
                    self.telemetry.client_duration.record((t.t - start) / NS, attrs_m, context=t.ctx)
            if status == 201:
                outcome = "approved_after_retry" if attempt else "approved"
                outcomes.add(1, {"snkrs.payment.kind": kind, "snkrs.payment.outcome": outcome}, context=t.ctx)
                return CREATED
            if status == 402:
                outcomes.add(
                    1, {"snkrs.payment.kind": kind, "snkrs.payment.outcome": "declined"}, context=t.ctx
                )
                raise PaymentDeclined(f"card declined by issuer ({kind})")
            t.advance(0.1 * 2**attempt)  # backoff before the retry
        outcomes.add(1, {"snkrs.payment.kind": kind, "snkrs.payment.outcome": "timeout"}, context=t.ctx)
        raise PaymentProviderTimeout(
            f"payment provider timed out on all {s.payment_max_attempts} attempts "
            f"({s.payment_timeout_s:.1f}s each); {kind} abandoned"
        )

    def rejected_amount(self, t: Timeline, rng: random.Random, shopper: Shopper, template: str) -> Response:
        """The provider refuses an amount sent in the wrong minor units (a checkout bug, an incident)."""
        currency = CURRENCIES.get(shopper.region, "USD")
        attrs = provider_request(template, 0, {"http.response.status_code": 422})
        with t.span(self.telemetry, f"POST {template}", SpanKind.CLIENT, attrs) as span:
            t.wait(self.latency.payment_provider, self.world.load)
            amount = self.world.state.product.price_usd * 150 * 100
            message = (
                f"provider rejected the authorization: amount {amount:.2f} {currency} is invalid "
                f"(invalid_amount: {currency} has no minor units)"
            )
            span.set_status(Status(StatusCode.ERROR, message))
            span.set_attribute("error.type", "422")
        raise ProviderRejected(message)

    def edge_handshake(self, t: Timeline, rng: random.Random, host: str, template: str) -> Response:
        """One edge node of the provider serves an expired certificate (an incident): the handshake fails
        and the payment with it (the client does not retry TLS failures)."""
        self.world.incidents.hit("provider_edge_cert", t)
        attrs = provider_request(template, 0, {"network.peer.address": host})
        with t.span(self.telemetry, f"POST {template}", SpanKind.CLIENT, attrs) as span:
            t.advance(rng.uniform(0.03, 0.08))
            message = (
                "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired "
                f"(_ssl.c:1006) connecting to {host}"
            )
            span.set_status(Status(StatusCode.ERROR, message))
            span.set_attribute("error.type", "ssl.SSLCertVerificationError")
        raise ProviderTLSError(message)

    def regional_outage(
        self, t: Timeline, rng: random.Random, shopper: Shopper, kind: str, template: str, outcomes
    ):
        """The provider's edge for the shopper's region answers 503 at once, on every attempt."""
        self.world.incidents.hit("payment_region_outage", t)
        s = self.world.settings
        for attempt in range(s.payment_max_attempts):
            attrs = provider_request(template, attempt, {"http.response.status_code": 503})
            start = t.t
            with t.span(self.telemetry, f"POST {template}", SpanKind.CLIENT, attrs) as span:
                t.advance(rng.uniform(0.02, 0.06))
                message = (
                    f"payment provider answered 503 for region {shopper.region}: upstream connect error or "
                    "disconnect/reset before headers"
                )
                span.set_status(Status(StatusCode.ERROR, message))
                span.set_attribute("error.type", "503")
                t.log(
                    self.telemetry,
                    WARN,
                    f"{message} (attempt {attempt + 1}/{s.payment_max_attempts})",
                    {
                        "error.type": "503",
                        "http.request.resend_count": attempt,
                        "snkrs.region": shopper.region,
                    },
                    "snkrs.payment.retry",
                )
                self.telemetry.client_duration.record(
                    (t.t - start) / NS,
                    {
                        "server.address": catalog.PAYMENT_PROVIDER_HOST,
                        "http.request.method": "POST",
                        "http.response.status_code": 503,
                        "error.type": "503",
                    },
                    context=t.ctx,
                )
            t.advance(0.1 * 2**attempt)
        outcomes.add(
            1,
            {
                "snkrs.payment.kind": kind,
                "snkrs.payment.outcome": "provider_error",
                "snkrs.region": shopper.region,
            },
            context=t.ctx,
        )
        raise PaymentProviderUnavailable(
            f"payment provider unavailable for region {shopper.region} on all {s.payment_max_attempts} "
            f"attempts (503); {kind} abandoned"
        )

    def refund_job(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        """Losing entries' payment pre-authorisations are released."""
        outcomes = self.telemetry.counter(
            "snkrs.payment.outcomes", "{payment}", "Payment attempts by outcome."
        )
        with t.span(self.telemetry, "release preauthorization", SpanKind.INTERNAL, dict(t.attrs)):
            with t.span(
                self.telemetry,
                "POST /v1/refunds",
                SpanKind.CLIENT,
                {
                    "http.request.method": "POST",
                    "server.address": catalog.PAYMENT_PROVIDER_HOST,
                    "server.port": 443,
                    "url.full": f"https://{catalog.PAYMENT_PROVIDER_HOST}/v1/refunds",
                    "url.template": "/v1/refunds",
                    "http.response.status_code": 201,
                },
            ):
                t.wait(self.latency.payment_provider)
            outcomes.add(
                1, {"snkrs.payment.kind": "refund", "snkrs.payment.outcome": "refunded"}, context=t.ctx
            )
            t.log(
                self.telemetry,
                INFO,
                f"pre-authorisation released for a losing {self.world.state.drop_id} entry",
                {"snkrs.payment.kind": "refund"},
                "snkrs.payment.refund",
            )
