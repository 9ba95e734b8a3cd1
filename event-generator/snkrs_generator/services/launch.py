"""launch: draw entries (with payment pre-authorisation) and, after the drop, draw results."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.trace import SpanKind

from ..timeline import Response, Timeline
from .account import Account
from .common import CREATED, INFO, PG, Replicas, Service, Shopper, short_id
from .gateway import Gateway
from .notification import Notification
from .payment import Payment


@dataclass(slots=True)
class Launch(Service):
    gateway: Gateway
    account: Account
    payment: Payment
    notification: Notification
    replicas: Replicas

    def call_entry(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.world.state.drop_id

        def handler() -> Response:
            eligible = self.account.call_eligibility(t, rng, shopper, caller=self.telemetry)
            n_plus_one = self.world.incidents.active("n_plus_one")
            if n_plus_one is not None and eligible.status < 400:
                # the new version checks every size of the size run, one call each (the N+1)
                self.world.incidents.hit("n_plus_one", t)
                for _ in range(int(n_plus_one.strength)):
                    eligible = self.account.call_eligibility(t, rng, shopper, caller=self.telemetry)
                    if eligible.status >= 400:
                        break
            if eligible.status >= 400:
                return eligible
            preauth = self.payment.call_payment(t, rng, shopper, "preauthorization", caller=self.telemetry)
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
            full = self.world.disk_full(t, rng)
            t.database(
                self.telemetry,
                "postgresql",
                "INSERT",
                "entries",
                "INSERT INTO entries (entry_id, launch_id, sku, size, tier) VALUES ($1, $2, $3, $4, $5)",
                self.latency.database,
                load=self.world.load,
                error=full,
                db_status="53100" if full else "",
                **PG,
            )
            if full is not None:
                raise full
            t.log(
                self.telemetry,
                INFO,
                f"draw entry {entry_id} accepted for {self.world.state.product.sku} size {shopper.size}",
                {"snkrs.entry.id": entry_id, "snkrs.product.size": shopper.size},
                "snkrs.launch.entry",
            )
            self.world.state.entries += 1
            return CREATED

        route, path = "/launches/{dropId}/entries", f"/launches/{drop}/entries"
        extra = {"snkrs.product.size": shopper.size}
        return self.serve(t, self.gateway.telemetry, "POST", route, path, handler, extra)

    @property
    def launch_entries(self):
        return self.telemetry.counter("snkrs.launch.entries", "{entry}", "Draw entries submitted.")

    def draw_results_job(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        won = rng.random() < 0.08
        attrs = {**t.attrs, "snkrs.draw.won": won}
        with t.span(self.telemetry, "publish draw result", SpanKind.INTERNAL, attrs):
            self.replicas.read(
                t, rng, self.telemetry, "entries",
                "SELECT entry_id, result FROM entries WHERE launch_id = $1 AND notified = false LIMIT 100",
            )  # fmt: skip
            self.notification.call_notify(t, rng, self.telemetry, "draw_won" if won else "draw_lost")
