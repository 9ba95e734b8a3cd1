"""What shoppers (and the back office) do in each phase. Each `step` is one request: one trace (plus, for
an order, the fulfilment trace its Kafka message starts), laid out on the simulated clock."""

from __future__ import annotations

import random

from opentelemetry.trace import SpanKind, get_current_span

from . import catalog
from .clock import WallClock
from .drop import DropState, Phase, RateMeter
from .failures import ClientClosedRequest, DeployRegression
from .incidents import INJECTION_TEXT, Ledger, bump_version
from .services.account import Account
from .services.common import INFO, PG, Latencies, Replicas, Shopper, World, short_id
from .services.feed import Feed
from .services.gateway import Gateway
from .services.launch import Launch
from .services.notification import Notification
from .services.orders import Orders
from .services.payment import MINOR_UNITS_BUG, Payment
from .services.waiting_room import WaitingRoom
from .settings import Settings
from .telemetry import ServiceTelemetry, Telemetry
from .timeline import Response, Timeline

RECONCILER_VERSION = "0.4.2"


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
        self.siblings: dict[str, ServiceTelemetry] = {}  # service name → its second instance
        self.deploys: dict[str, ServiceTelemetry] = {}  # service name → its instance after a rolling deploy
        self._reconciler: ServiceTelemetry | None = None
        self._reconciled = 0  # the batch job's runs so far
        # load balancing and the batch job draw from their own stream: the shoppers' draws stay as they were
        self._balance = random.Random(f"balance-{settings.seed}")
        self.latency_db = Latencies.from_settings(settings).database
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

    def sibling(self, service: str) -> ServiceTelemetry:
        """A second instance of `service` at the same version (created on first use): the one that leaks."""
        instance = self.siblings.get(service)
        if instance is None:
            instance = self.siblings[service] = self.telemetry.add_instance(service)
        return instance

    def deployed(self, service: str) -> ServiceTelemetry:
        """`service` after a rolling deploy of its next version (created on first use)."""
        instance = self.deploys.get(service)
        if instance is None:
            base = self.telemetry[service]
            version = bump_version(str(base.resource.attributes["service.version"]))
            instance = self.deploys[service] = self.telemetry.add_instance(service, version)
        return instance

    def reconciler(self) -> ServiceTelemetry:
        """order-reconciler, the batch job's own service (created when an incident plans it)."""
        if self._reconciler is None:
            self._reconciler = self.telemetry.add_instance("order-reconciler", RECONCILER_VERSION)
        return self._reconciler

    def _deploy_fault(self, t: Timeline) -> None:
        interaction = self.world.incidents.active("region_version")
        if interaction is not None and t.attrs.get("snkrs.region") == interaction.target:
            self.world.incidents.hit("region_version", t)
            t.marks.add(MINOR_UNITS_BUG)
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
        inc = self.world.incidents.active("bad_deploy") or self.world.incidents.active("region_version")
        target = "checkout" if inc is not None and inc.kind == "region_version" else inc and inc.target
        if inc is not None and target == callee.name and t.rng.random() < inc.strength:
            return self.canary(callee.name)
        leak = self.world.incidents.planned("instance_leak")
        if leak is not None and leak.target == callee.name and self._balance.random() < 0.5:
            if self.world.incidents.active("instance_leak") is not None:
                self.world.incidents.hit("instance_leak", t)  # served by the leaking instance
            return self.sibling(callee.name)  # two instances behind the load balancer all drop long
        return callee

    def tick(self) -> None:
        """Before each request: services slowed by a live decoy are slow, the others are not (set again only
        when the decoy starts, ends or changes); the hard incidents' state follows the clock."""
        self._hard_incidents()
        slow = self.world.incidents.active("slow_healthy")
        key = (slow.target, slow.strength) if slow is not None else None
        if key == self._slowed:
            return
        self._slowed = key
        for name, svc in self.telemetry.services.items():
            svc.slowdown = slow.strength if slow is not None and slow.target == name else 1.0

    def _hard_incidents(self) -> None:
        incidents = self.world.incidents
        if not incidents.plan:
            return
        now = self.clock.now_ns()
        leak = incidents.planned("instance_leak")
        if leak is not None:
            sibling = self.sibling(leak.target)
            live = incidents.active("instance_leak")
            if live is not None and sibling.leak_since_ns is None:
                sibling.leak_since_ns, sibling.leak_mb_per_s = now, live.strength
            elif live is None and sibling.leak_since_ns is not None:
                sibling.leak_since_ns = None  # restarted by its liveness probe: memory back to normal
        n_plus_one = incidents.planned("n_plus_one")
        if n_plus_one is not None:
            live = incidents.active("n_plus_one") is not None
            self.launch.telemetry = self.deployed("launch") if live else self.telemetry["launch"]
            self.telemetry["account"].slowdown = 4.0 if live else 1.0  # N+1 load on account
        if incidents.planned("periodic_lock") is not None:
            self._reconcile(now)

    def _reconcile(self, now: int) -> None:
        """order-reconciler's batch job: every `strength` seconds while the incident is live, it locks the
        inventory table for a few seconds while it reconciles the drop's orders."""
        inc = self.world.incidents.active("periodic_lock")
        since = self.world.state.seconds_since_live()
        if inc is None or since is None:
            return
        period = inc.strength
        runs = int((since - inc.start_s) // period)
        if runs < self._reconciled:
            return
        self._reconciled = runs + 1
        start = now - int((since - inc.start_s - runs * period) * 1e9)
        rng = self._balance
        hold = rng.uniform(2.5, 4.0)
        svc = self.reconciler()
        t = Timeline(
            rng, start, {"snkrs.drop.id": self.world.state.drop_id, "snkrs.job.name": "reconcile-orders"}
        )
        with t.span(svc, "reconcile orders", SpanKind.INTERNAL, dict(t.attrs)):
            self.world.incidents.hit("periodic_lock", t)
            t.database(
                svc, "postgresql", "LOCK", "inventory", "LOCK TABLE inventory IN SHARE ROW EXCLUSIVE MODE",
                self.latency_db, **PG, seconds=0.002,
            )  # fmt: skip
            began = t.t
            t.database(
                svc, "postgresql", "UPDATE", "inventory",
                "UPDATE inventory i SET reserved = o.n FROM (SELECT sku, size, count(*) AS n FROM orders "
                "GROUP BY sku, size) o WHERE i.sku = o.sku AND i.size = o.size",
                self.latency_db, **PG, seconds=hold,
            )  # fmt: skip
            self.world.locks.append((began, t.t))
            t.log(
                svc, INFO, f"reconciled inventory against orders in {hold:.1f}s",
                {"snkrs.job.name": "reconcile-orders"}, "snkrs.job.reconciled",
            )  # fmt: skip

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
                lambda: self._poll(t, rng, shopper),
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
                lambda: self._checkout(t, rng, shopper),
            )
            shopper.done = True

    def _poll(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        """A waiting-room status poll; during the disconnects decoy some shoppers close the app mid-poll,
        which the gateway records as 499 (expected: nothing is broken)."""
        decoy = self.world.incidents.active("client_disconnects")
        if decoy is not None and rng.random() < decoy.strength:
            self.world.incidents.hit("client_disconnects", t)
            t.advance(rng.uniform(0.2, 1.5))
            raise ClientClosedRequest("client closed request (499) before the waiting-room status was sent")
        return self.waiting_room.call_poll(t, rng, shopper)

    def _checkout(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        injected = self.world.incidents.active("injection_header")
        if injected is not None and rng.random() < injected.strength:
            # a request header the gateway records, written by whoever sent the request
            self.world.incidents.hit("injection_header", t)
            get_current_span(t.ctx).set_attribute("http.request.header.x-support-note", INJECTION_TEXT)
        return self.orders.call_checkout(t, rng, shopper)

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
