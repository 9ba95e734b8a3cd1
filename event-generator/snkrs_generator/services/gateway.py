"""api-gateway: bot detection in front of the drop's write paths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.trace import get_current_span

from .. import catalog
from ..failures import (
    BotBlocked,
    RateLimited,
)
from ..telemetry import ServiceTelemetry
from ..timeline import Response, Timeline
from .common import OK, Service, Shopper


@dataclass(slots=True)
class Gateway(Service):
    """api-gateway: the root span of every shopper request, and bot detection in front of the write paths."""

    bot_detection: ServiceTelemetry

    def request(self, t: Timeline, method: str, route: str, path: str, handler) -> Response:
        """The root: the api-gateway's SERVER span for a shopper's request."""
        return t.server(self.telemetry, method, route, path, handler, self.latency.gateway)

    def guarded(self, t: Timeline, rng: random.Random, shopper: Shopper, then) -> Response:
        """Bot detection in front of the drop's write paths; blocked requests never reach the service."""
        verdict = self.serve(
            t,
            self.telemetry,
            "POST",
            "/score",
            "/score",
            lambda: self.score(t, rng, shopper),
            None,
            callee=self.bot_detection,
        )
        return verdict if verdict.status >= 400 else then()

    def score(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        t.wait(self.latency.bot_scoring)
        threshold = self.world.settings.bot_block_threshold
        score = rng.uniform(threshold, 1.0) if shopper.bot else rng.betavariate(1.2, 12.0) * threshold
        span = get_current_span(t.ctx)
        span.set_attribute("snkrs.bot.score", round(score, 3))
        if score < threshold:
            return OK
        if shopper.bot:
            self.world.incidents.hit("bot_wave", t)
        asn = rng.choice(catalog.BOT_ASNS)
        if rng.random() < 0.4:
            rate = rng.randint(25, 90)
            raise RateLimited(f"rate limited: {rate} req/s from {asn} exceeds the 10 req/s per-client limit")
        raise BotBlocked(f"bot blocked: score {score:.2f} >= {threshold:.2f} ({shopper.platform} from {asn})")
