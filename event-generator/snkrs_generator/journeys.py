"""What shoppers (and the back office) do in each phase. Each `step` is one request: one trace (plus, for
an order, the fulfilment trace its Kafka message starts), laid out on the simulated clock."""

from __future__ import annotations

import random

from . import catalog
from .clock import WallClock
from .drop import DropState, Phase, RateMeter
from .failures import DeployRegression
from .incidents import Ledger, bump_version
from .latency import LatencyModel
from .services.account import Account
from .services.common import Shopper, short_id
from .services.feed import Feed
from .services.gateway import Gateway
from .services.launch import Launch
from .services.orders import Orders
from .services.payment import Payment
from .services.waiting_room import WaitingRoom
from .settings import Settings
from .telemetry import ServiceTelemetry, Telemetry
from .timeline import Timeline


class Journeys(Gateway, Feed, Account, WaitingRoom, Launch, Payment, Orders):
    def __init__(
        self,
        settings: Settings,
        telemetry: Telemetry,
        state: DropState,
        clock: WallClock | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.s = settings
        self.state = state
        self.telemetry = telemetry
        self.clock = clock or WallClock(settings.time_scale)
        self.incidents = ledger or Ledger()
        self.canaries: dict[str, ServiceTelemetry] = {}  # service name → the instance a bad deploy runs on
        svc = telemetry.services
        self.gw, self.room, self.account = svc["api-gateway"], svc["waiting-room"], svc["account"]
        self.feed, self.launch, self.inventory = svc["feed"], svc["launch"], svc["inventory"]
        self.checkout, self.payment, self.bots = svc["checkout"], svc["payment"], svc["bot-detection"]
        self.notify, self.fulfil = svc["notification"], svc["order-fulfillment"]
        lat = settings.latency
        self.l_gateway, self.l_net = LatencyModel(lat.gateway), LatencyModel(lat.network)
        self.l_handler, self.l_cache = LatencyModel(lat.handler), LatencyModel(lat.cache)
        self.l_db, self.l_provider = LatencyModel(lat.database), LatencyModel(lat.payment_provider)
        self.l_bots, self.l_kafka = LatencyModel(lat.bot_scoring), LatencyModel(lat.kafka)
        self.l_push = LatencyModel(lat.push_provider)
        self.rebuilds = RateMeter(self.clock)
        self.load = 1.0

    # --- incidents ------------------------------------------------------------------------------------

    def canary(self, service: str) -> ServiceTelemetry:
        """The instance a bad deploy of `service` runs on (created on first use, with the next version)."""
        instance = self.canaries.get(service)
        if instance is None:
            base = self.telemetry[service]
            version = bump_version(str(base.resource.attributes["service.version"]))
            instance = self.canaries[service] = self.telemetry.add_instance(service, version)
            instance.fault = self._deploy_fault
        return instance

    def _deploy_fault(self, t: Timeline) -> None:
        inc = self.incidents.active("bad_deploy")
        if inc is None:
            return
        self.incidents.hit("bad_deploy", t)
        instance = self.canaries[inc.target]
        version = instance.resource.attributes["service.version"]
        raise DeployRegression(
            f"KeyError: 'size_run' building the order total (pricing rules {version}); request failed"
        )

    def route(self, callee: ServiceTelemetry, t: Timeline) -> ServiceTelemetry:
        inc = self.incidents.active("bad_deploy")
        if inc is not None and inc.target == callee.name and t.rng.random() < inc.strength:
            return self.canary(callee.name)
        return callee

    def tick(self) -> None:
        """Before each request: services slowed by a live decoy are slow, the others are not."""
        slow = self.incidents.active("slow_healthy")
        for name, svc in self.telemetry.services.items():
            svc.slowdown = slow.strength if slow is not None and slow.target == name else 1.0

    # --- shoppers -------------------------------------------------------------------------------------

    def new_shopper(self, rng: random.Random) -> Shopper:
        shopper = Shopper(
            tier=rng.choices(catalog.MEMBER_TIERS, catalog.TIER_WEIGHTS)[0],
            region=rng.choices(catalog.REGIONS, catalog.REGION_WEIGHTS)[0],
            platform=rng.choices(catalog.PLATFORMS, catalog.PLATFORM_WEIGHTS)[0],
            size=rng.choices(catalog.SIZES, catalog.SIZE_WEIGHTS)[0],
        )
        wave = self.s.bot_wave
        live = self.state.phase is Phase.DROP_LIVE and wave.active(self.state.seconds_into_phase())
        if live and rng.random() < wave.probability:
            shopper.bot = True
            shopper.platform = rng.choice(catalog.BOT_USER_AGENTS)
        return shopper

    def timeline(self, rng: random.Random, shopper: Shopper) -> Timeline:
        attrs = {
            "snkrs.drop.id": self.state.drop_id,
            "snkrs.drop.phase": self.state.phase.value,
            "snkrs.product.sku": self.state.product.sku,
            "snkrs.member.tier": shopper.tier,
            "snkrs.region": shopper.region,
            "user_agent.original": shopper.platform,
        }
        return Timeline(rng, self.clock.now_ns(), attrs, self.load, self.route)

    def step(self, rng: random.Random, shopper: Shopper) -> float:
        """One request by `shopper` in the current phase; returns its simulated duration in seconds."""
        shopper.requests += 1
        self.tick()
        t = self.timeline(rng, shopper)
        phase = self.state.phase
        if phase is Phase.DROP_LIVE:
            self._drop_live(t, rng, shopper)
        elif phase is Phase.PRE_DROP:
            self._pre_drop(t, rng, shopper)
        else:
            self._post_drop(t, rng, shopper)
        return t.elapsed_s

    def _pre_drop(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        roll = rng.random()
        if roll < 0.45:
            self.request(t, "GET", "/api/feed", "/api/feed", lambda: self.call_feed_list(t, rng))
        elif roll < 0.75:
            self.view_product(t, rng)
        else:
            self.request(
                t,
                "GET",
                "/api/account/eligibility",
                "/api/account/eligibility",
                lambda: self.call_eligibility(t, rng, shopper),
            )
        shopper.done = shopper.requests >= 4

    def _drop_live(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        drop = self.state.drop_id
        if shopper.requests == 1 and not shopper.bot:
            self.view_product(t, rng)  # everyone opens the product page as the drop goes live
        elif not shopper.joined:
            path = f"/api/waiting-room/{drop}/join"
            response = self.request(
                t,
                "POST",
                "/api/waiting-room/{dropId}/join",
                path,
                lambda: self.guarded(t, rng, shopper, lambda: self.call_join(t, rng, shopper)),
            )
            shopper.done = response.status in (403, 429)
        elif not shopper.admitted:
            path = f"/api/waiting-room/{drop}/status"
            self.request(
                t, "GET", "/api/waiting-room/{dropId}/status", path, lambda: self.call_poll(t, rng, shopper)
            )
        elif not shopper.entered:
            path = f"/api/launch/{drop}/entries"
            self.request(
                t,
                "POST",
                "/api/launch/{dropId}/entries",
                path,
                lambda: self.guarded(t, rng, shopper, lambda: self.call_entry(t, rng, shopper)),
            )
            shopper.entered = True
        else:
            self.request(
                t, "POST", "/api/checkout", "/api/checkout", lambda: self.call_checkout(t, rng, shopper)
            )
            shopper.done = True

    def _post_drop(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        roll = rng.random()
        if roll < 0.4:
            orders = self.state.orders
            order_id = rng.choice(orders) if orders else short_id(rng, "ord")
            self.request(
                t,
                "GET",
                "/api/orders/{orderId}",
                f"/api/orders/{order_id}",
                lambda: self.call_order_status(t, rng, order_id),
            )
        elif roll < 0.6:
            self.request(t, "GET", "/api/feed", "/api/feed", lambda: self.call_feed_list(t, rng))
        elif roll < 0.8:
            self.draw_results_job(t, rng, shopper)
        else:
            self.refund_job(t, rng, shopper)
        shopper.done = shopper.requests >= 3
