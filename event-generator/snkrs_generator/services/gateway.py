"""api-gateway: bot detection in front of the drop's write paths."""

from __future__ import annotations

import random

from opentelemetry.trace import get_current_span

from .. import catalog
from ..failures import (
    BotBlocked,
    RateLimited,
)
from ..timeline import Response, Timeline
from .common import OK, ServiceBase, Shopper


class Gateway(ServiceBase):
    def guarded(self, t: Timeline, rng: random.Random, shopper: Shopper, then) -> Response:
        """Bot detection in front of the drop's write paths; blocked requests never reach the service."""
        verdict = t.call(
            self.gw,
            self.bots,
            "POST",
            "/score",
            "/score",
            lambda: self.score(t, rng, shopper),
            self.l_handler,
            self.l_net,
        )
        return verdict if verdict.status >= 400 else then()

    def score(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        t.wait(self.l_bots)
        threshold = self.s.bot_block_threshold
        score = rng.uniform(threshold, 1.0) if shopper.bot else rng.betavariate(1.2, 12.0) * threshold
        span = get_current_span(t.ctx)
        span.set_attribute("snkrs.bot.score", round(score, 3))
        if score < threshold:
            return OK
        if shopper.bot:
            self.incidents.hit("bot_wave", t)
        asn = rng.choice(catalog.BOT_ASNS)
        if rng.random() < 0.4:
            rate = rng.randint(25, 90)
            raise RateLimited(f"rate limited: {rate} req/s from {asn} exceeds the 10 req/s per-client limit")
        raise BotBlocked(f"bot blocked: score {score:.2f} >= {threshold:.2f} ({shopper.platform} from {asn})")
