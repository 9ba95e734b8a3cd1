"""account: launch eligibility by member tier."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..failures import DependencyOverloaded
from ..telemetry import ServiceTelemetry
from ..timeline import Response, Timeline
from .common import OK, WARN, Replicas, Service, Shopper
from .gateway import Gateway


@dataclass(slots=True)
class Account(Service):
    gateway: Gateway
    launch: ServiceTelemetry  # the caller whose eligibility client retries (the retry storm)
    replicas: Replicas

    def call_eligibility(self, t: Timeline, rng: random.Random, shopper: Shopper, caller=None) -> Response:
        def handler() -> Response:
            self.replicas.read(
                t, rng, self.telemetry, "members",
                "SELECT tier, strikes, launch_eligible FROM members WHERE member_id = $1",
            )  # fmt: skip
            return OK

        route, path = "/members/{tier}/eligibility", f"/members/{shopper.tier}/eligibility"
        storm = self.world.incidents.active("retry_storm") if caller is self.launch else None
        n_plus_one = self.world.incidents.active("n_plus_one")
        if n_plus_one is not None and caller is not None and caller.name == "launch":
            return self.serve(t, caller, "GET", route, path, lambda: self.shedding(t, rng, handler))
        if storm is None:
            return self.serve(t, caller or self.gateway.telemetry, "GET", route, path, handler)
        return self.retry_storm(t, rng, route, path, handler, storm)

    def shedding(self, t: Timeline, rng: random.Random, handler) -> Response:
        """Under N+1 load (an incident upstream) account sheds a share of its requests."""
        if rng.random() < 0.18:
            raise DependencyOverloaded("account overloaded: concurrency limit (200) reached; shedding load")
        return handler()

    def retry_storm(self, t: Timeline, rng: random.Random, route, path, handler, storm) -> Response:
        """launch's eligibility client retries at once, up to `strength` times, on any 5xx: the extra load
        overloads account, which sheds more, which brings more retries."""
        self.world.incidents.hit("retry_storm", t)
        attempts = max(2, int(storm.strength))

        def overloaded() -> Response:
            if rng.random() < 0.55:
                inflight = rng.randint(600, 1400)
                raise DependencyOverloaded(
                    f"account overloaded: {inflight} requests in flight (limit 200); shedding load"
                )
            return handler()

        response = OK
        for attempt in range(attempts):
            extra = {"http.request.resend_count": attempt} if attempt else None
            response = self.serve(t, self.launch, "GET", route, path, overloaded, extra)
            if response.status < 500:
                return response
            t.log(
                self.launch,
                WARN,
                f"eligibility check failed with {response.status}; retrying immediately "
                f"(attempt {attempt + 2} of {attempts})",
                {"http.request.resend_count": attempt + 1, "server.address": self.telemetry.name},
                "snkrs.launch.retry",
            )
        return response
