"""notification: push notifications through the external push provider (its TLS can fail: an incident)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import catalog
from ..failures import PushProviderTLSError, exception_attributes
from ..incidents import INJECTION_TEXT
from ..timeline import Response, Timeline
from .common import ACCEPTED, INFO, Service


@dataclass(slots=True)
class Notification(Service):
    def call_notify(self, t: Timeline, rng: random.Random, caller, template: str) -> Response:
        def handler() -> Response:
            sent = self.telemetry.counter("snkrs.notifications", "{notification}", "Push notifications sent.")
            tls = self.world.incidents.active("push_tls_failure")
            attrs = {
                "http.request.method": "POST",
                "server.address": catalog.PUSH_PROVIDER_HOST,
                "server.port": 443,
                "url.full": f"https://{catalog.PUSH_PROVIDER_HOST}/v3/messages",
                "url.template": "/v3/messages",
            }
            if tls is not None and rng.random() < tls.strength:
                self.world.incidents.hit("push_tls_failure", t)
                exc = PushProviderTLSError(
                    f"TLS handshake with {catalog.PUSH_PROVIDER_HOST}:443 failed: "
                    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
                )
                with t.span(self.telemetry, "POST /v3/messages", SpanKind.CLIENT, attrs) as span:
                    t.advance(rng.uniform(0.03, 0.09))
                    span.add_event("exception", exception_attributes(exc), timestamp=t.t)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    span.set_attribute("error.type", exc.error_type)
                sent.add(
                    1, {"snkrs.notification.template": template, "error.type": exc.error_type}, context=t.ctx
                )
                raise exc
            with t.span(
                self.telemetry,
                "POST /v3/messages",
                SpanKind.CLIENT,
                {**attrs, "http.response.status_code": 202},
            ):
                t.wait(self.latency.push_provider)
            sent.add(1, {"snkrs.notification.template": template}, context=t.ctx)
            injected = self.world.incidents.active("injection_log")
            if injected is not None and rng.random() < injected.strength:
                # a template whose footer someone edited: every message it renders logs the text
                self.world.incidents.hit("injection_log", t)
                t.log(
                    self.telemetry,
                    INFO,
                    f"rendered {template} for push; footer: {INJECTION_TEXT}",
                    {"snkrs.notification.template": template},
                    "snkrs.notification.rendered",
                )
            return ACCEPTED

        return self.serve(
            t,
            caller,
            "POST",
            "/notifications",
            "/notifications",
            handler,
            {"snkrs.notification.template": template},
        )
