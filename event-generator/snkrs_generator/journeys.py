"""What shoppers (and the back office) do in each phase. Each `step` is one request: one trace (plus, for
an order, the fulfilment trace its Kafka message starts), laid out on the simulated clock."""

from __future__ import annotations

import random

from . import catalog
from .clock import WallClock
from .drop import DropState, Phase, RateMeter
from .failures import DeployRegression
from .incidents import Ledger, bump_version
from .services.account import Account
from .services.common import Latencies, Replicas, Shopper, World, short_id
from .services.feed import Feed
from .services.gateway import Gateway
from .services.launch import Launch
from .services.notification import Notification
from .services.orders import Orders
from .services.payment import Payment
from .services.waiting_room import WaitingRoom
from .settings import Settings
from .telemetry import ServiceTelemetry, Telemetry
from .timeline import Timeline


class Journeys:
    """The shoppers' requests, phase by phase, through the simulated services (each an object built with what
    it needs: the shared `World`, latency models, the telemetry of the services it speaks for, the services
    it calls)."""

    def __init__(
        self,
        settings: Settings,
        telemetry: Telemetry,
        state: DropState,
        clock: WallClock | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.clock = clock or WallClock(settings.time_scale)
        self.world = World(settings, state, ledger or Ledger(), RateMeter(self.clock))
        self.canaries: dict[str, ServiceTelemetry] = {}  # service name → the instance a bad deploy runs on
        self._slowed: tuple[str, float] | None = None  # the decoy `tick` last applied
        world, svc = self.world, telemetry.services
        latency = Latencies.from_settings(settings)
        replicas = Replicas(world, latency.database)
        common = {"world": world, "latency": latency}
        self.gateway = Gateway(**common, telemetry=svc["api-gateway"], bot_detection=svc["bot-detection"])
        self.feed = Feed(**common, telemetry=svc["feed"], gateway=self.gateway, replicas=replicas)
        self.account = Account(
            **common, telemetry=svc["account"], gateway=self.gateway, launch=svc["launch"], replicas=replicas
        )
        self.waiting_room = WaitingRoom(**common, telemetry=svc["waiting-room"], gateway=self.gateway)
        self.payment = Payment(**common, telemetry=svc["payment"])
        self.notification = Notification(**common, telemetry=svc["notification"])
        self.launch = Launch(
            **common,
            telemetry=svc["launch"],
            gateway=self.gateway,
            account=self.account,
            payment=self.payment,
            notification=self.notification,
            replicas=replicas,
        )
        self.orders = Orders(
            **common,
            telemetry=svc["checkout"],
            gateway=self.gateway,
            inventory=svc["inventory"],
            fulfilment=svc["order-fulfillment"],
            payment=self.payment,
            notification=self.notification,
            replicas=replicas,
        )

    # The load factor of the current phase (the simulation sets it; tests too).
    @property
    def load(self) -> float:
        return self.world.load

    @load.setter
    def load(self, value: float) -> None:
        self.world.load = value

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
        inc = self.world.incidents.active("bad_deploy")
        if inc is None:
            return
        self.world.incidents.hit("bad_deploy", t)
        instance = self.canaries[inc.target]
        version = instance.resource.attributes["service.version"]
        raise DeployRegression(
            f"KeyError: 'size_run' building the order total (pricing rules {version}); request failed"
        )

    def route(self, callee: ServiceTelemetry, t: Timeline) -> ServiceTelemetry:
        inc = self.world.incidents.active("bad_deploy")
        if inc is not None and inc.target == callee.name and t.rng.random() < inc.strength:
            return self.canary(callee.name)
        return callee

    def tick(self) -> None:
        """Before each request: services slowed by a live decoy are slow, the others are not (set again only
        when the decoy starts, ends or changes)."""
        slow = self.world.incidents.active("slow_healthy")
        key = (slow.target, slow.strength) if slow is not None else None
        if key == self._slowed:
            return
        self._slowed = key
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
        wave = self.world.settings.bot_wave
        if self.world.in_window(wave) and rng.random() < wave.probability:
            shopper.bot = True
            shopper.platform = rng.choice(catalog.BOT_USER_AGENTS)
        return shopper

    def timeline(self, rng: random.Random, shopper: Shopper) -> Timeline:
        attrs = {
            "snkrs.drop.id": self.world.state.drop_id,
            "snkrs.drop.phase": self.world.state.phase.value,
            "snkrs.product.sku": self.world.state.product.sku,
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
        phase = self.world.state.phase
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
            self.gateway.request(t, "GET", "/api/feed", "/api/feed", lambda: self.feed.call_feed_list(t, rng))
        elif roll < 0.75:
            self.feed.view_product(t, rng)
        else:
            self.gateway.request(
                t,
                "GET",
                "/api/account/eligibility",
                "/api/account/eligibility",
                lambda: self.account.call_eligibility(t, rng, shopper),
            )
        shopper.done = shopper.requests >= 4

    def _drop_live(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        drop = self.world.state.drop_id
        if shopper.requests == 1 and not shopper.bot:
            self.feed.view_product(t, rng)  # everyone opens the product page as the drop goes live
        elif not shopper.joined:
            path = f"/api/waiting-room/{drop}/join"
            response = self.gateway.request(
                t,
                "POST",
                "/api/waiting-room/{dropId}/join",
                path,
                lambda: self.gateway.guarded(
                    t, rng, shopper, lambda: self.waiting_room.call_join(t, rng, shopper)
                ),
            )
            shopper.done = response.status in (403, 429)
        elif not shopper.admitted:
            path = f"/api/waiting-room/{drop}/status"
            self.gateway.request(
                t,
                "GET",
                "/api/waiting-room/{dropId}/status",
                path,
                lambda: self.waiting_room.call_poll(t, rng, shopper),
            )
        elif not shopper.entered:
            path = f"/api/launch/{drop}/entries"
            self.gateway.request(
                t,
                "POST",
                "/api/launch/{dropId}/entries",
                path,
                lambda: self.gateway.guarded(
                    t, rng, shopper, lambda: self.launch.call_entry(t, rng, shopper)
                ),
            )
            shopper.entered = True
        else:
            self.gateway.request(
                t,
                "POST",
                "/api/checkout",
                "/api/checkout",
                lambda: self.orders.call_checkout(t, rng, shopper),
            )
            shopper.done = True

    def _post_drop(self, t: Timeline, rng: random.Random, shopper: Shopper) -> None:
        roll = rng.random()
        if roll < 0.4:
            orders = self.world.state.orders
            order_id = rng.choice(orders) if orders else short_id(rng, "ord")
            self.gateway.request(
                t,
                "GET",
                "/api/orders/{orderId}",
                f"/api/orders/{order_id}",
                lambda: self.orders.call_order_status(t, rng, order_id),
            )
        elif roll < 0.6:
            self.gateway.request(t, "GET", "/api/feed", "/api/feed", lambda: self.feed.call_feed_list(t, rng))
        elif roll < 0.8:
            self.launch.draw_results_job(t, rng, shopper)
        else:
            self.payment.refund_job(t, rng, shopper)
        shopper.done = shopper.requests >= 3
