"""feed: the product catalogue behind a Redis cache, and its stampede at drop start."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import partial

from opentelemetry.trace import SpanKind, get_current_span

from .. import catalog
from ..failures import (
    CacheStampedeTimeout,
)
from ..incidents import INJECTION_TEXT
from ..timeline import Response, Timeline
from .common import INFO, OK, PG, Replicas, Service
from .gateway import Gateway


@dataclass(slots=True)
class Feed(Service):
    gateway: Gateway
    replicas: Replicas

    def call_feed_list(self, t: Timeline, rng: random.Random) -> Response:
        def handler() -> Response:
            hit = rng.random() < 0.92
            self.cache_get(t, "feed:upcoming", hit)
            if not hit:
                self.replicas.read(
                    t, rng, self.telemetry, "products",
                    "SELECT sku, name, launch_at FROM products WHERE launch_at > $1 "
                    "ORDER BY launch_at LIMIT 50",
                )  # fmt: skip
            return OK

        return self.serve(t, self.gateway.telemetry, "GET", "/products", "/products", handler)

    def view_product(self, t: Timeline, rng: random.Random) -> None:
        sku = self.world.state.product.sku
        self.gateway.request(
            t,
            "GET",
            "/api/feed/products/{sku}",
            f"/api/feed/products/{sku}",
            lambda: self.serve(
                t,
                self.gateway.telemetry,
                "GET",
                "/products/{sku}",
                f"/products/{sku}",
                lambda: self.product_handler(t, rng),
            ),
        )

    def product_handler(self, t: Timeline, rng: random.Random) -> Response:
        key = f"product:{self.world.state.product.sku}"
        query = "SELECT sku, name, price, sizes FROM products WHERE sku = $1"
        mode = self.world.settings.cache_stampede
        if self.world.in_window(mode):
            # the product key was invalidated at drop start: every request misses and rebuilds it at once
            select_product = partial(
                t.database,
                self.telemetry,
                "postgresql",
                "SELECT",
                "products",
                query,
                self.latency.database,
                **PG,
            )
            self.cache_get(t, key, hit=False)
            rebuilds = self.world.rebuilds.hit()
            if rng.random() < mode.probability:
                self.world.incidents.hit("cache_stampede", t)
                exc = CacheStampedeTimeout(
                    f"cache stampede on {key}: {rebuilds:.0f} concurrent rebuilds/s, "
                    "product query timed out after 2.0s"
                )
                select_product(seconds=2.0, error=exc, db_status="57014")
                raise exc
            contention = min(20.0, 1.0 + rebuilds / 10.0)
            select_product(load=self.world.load * contention)
            self.cache_set(t, key)
            return OK
        hit = rng.random() < 0.85
        self.cache_get(t, key, hit)
        if not hit:
            self.replicas.read(t, rng, self.telemetry, "products", query)
            self.cache_set(t, key)
        injection = self.world.incidents.active("injection")
        if injection is not None and rng.random() < injection.strength:
            # user-generated content that reached the telemetry: aimed at whoever reads it with an LLM
            self.world.incidents.hit("injection", t)
            get_current_span(t.ctx).set_attribute("snkrs.product.review", INJECTION_TEXT)
            t.log(
                self.telemetry,
                INFO,
                INJECTION_TEXT,
                {"snkrs.product.sku": self.world.state.product.sku},
                "snkrs.review",
            )
        return OK

    def cache_get(self, t: Timeline, key: str, hit: bool) -> None:
        with t.span(
            self.telemetry,
            "GET",
            SpanKind.CLIENT,
            {
                "db.system.name": "redis",
                "db.operation.name": "GET",
                "db.query.text": f"GET {key}",
                "db.namespace": "0",
                "server.address": catalog.REDIS_HOST,
                "server.port": 6379,
                "snkrs.cache.hit": hit,
            },
        ):
            t.wait(self.latency.cache)

    def cache_set(self, t: Timeline, key: str) -> None:
        with t.span(
            self.telemetry,
            "SET",
            SpanKind.CLIENT,
            {
                "db.system.name": "redis",
                "db.operation.name": "SET",
                "db.query.text": f"SET {key} ? EX 300",
                "db.namespace": "0",
                "server.address": catalog.REDIS_HOST,
                "server.port": 6379,
            },
        ):
            t.wait(self.latency.cache)
