"""account: launch eligibility by member tier."""

from __future__ import annotations

import random

from ..timeline import Response, Timeline
from .common import OK, PG, ServiceBase, Shopper


class Account(ServiceBase):
    def call_eligibility(self, t: Timeline, rng: random.Random, shopper: Shopper, caller=None) -> Response:
        def handler() -> Response:
            t.database(
                self.account,
                "postgresql",
                "SELECT",
                "members",
                "SELECT tier, strikes, launch_eligible FROM members WHERE member_id = $1",
                self.l_db,
                **PG,
            )
            return OK

        route, path = "/members/{tier}/eligibility", f"/members/{shopper.tier}/eligibility"
        return t.call(
            caller or self.gw, self.account, "GET", route, path, handler, self.l_handler, self.l_net
        )
