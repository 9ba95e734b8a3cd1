"""launch: draw entries (with payment pre-authorisation) and, after the drop, draw results."""

from __future__ import annotations

import random

from opentelemetry.trace import SpanKind

from ..timeline import Response, Timeline
from .common import CREATED, INFO, PG, ServiceBase, Shopper, short_id


class Launch(ServiceBase):
    def call_entry(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.state.drop_id

        def handler() -> Response:
            eligible = self.call_eligibility(t, rng, shopper, caller=self.launch)
            if eligible.status >= 400:
                return eligible
            preauth = self.call_payment(t, rng, shopper, "preauthorization", caller=self.launch)
            result = "accepted" if preauth.status < 400 else "payment_failed"
            self.launch_entries.add(
                1,
                {
                    "snkrs.entry.result": result,
                    "snkrs.member.tier": shopper.tier,
                    "snkrs.region": shopper.region,
                },
                context=t.ctx,
            )
            if preauth.status >= 400:
                return preauth
            entry_id = short_id(rng, "ent")
            t.database(
                self.launch,
                "postgresql",
                "INSERT",
                "entries",
                "INSERT INTO entries (entry_id, launch_id, sku, size, tier) VALUES ($1, $2, $3, $4, $5)",
                self.l_db,
                load=self.load,
                **PG,
            )
            t.log(
                self.launch,
                INFO,
                f"draw entry {entry_id} accepted for {self.state.product.sku} size {shopper.size}",
                {"snkrs.entry.id": entry_id, "snkrs.product.size": shopper.size},
                "snkrs.launch.entry",
            )
            self.state.entries += 1
            return CREATED

        route, path = "/launches/{dropId}/entries", f"/launches/{drop}/entries"
        extra = {"snkrs.product.size": shopper.size}
        return t.call(self.gw, self.launch, "POST", route, path, handler, self.l_handler, self.l_net, extra)

    @property
    def launch_entries(self):
        return self.launch.counter("snkrs.launch.entries", "{entry}", "Draw entries submitted.")

    def draw_results_job(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        won = rng.random() < 0.08
        attrs = {**t.attrs, "snkrs.draw.won": won}
        with t.span(self.launch, "publish draw result", SpanKind.INTERNAL, attrs):
            self.read(
                t, rng, self.launch, "entries",
                "SELECT entry_id, result FROM entries WHERE launch_id = $1 AND notified = false LIMIT 100",
            )  # fmt: skip
            self.call_notify(t, rng, self.launch, "draw_won" if won else "draw_lost")
