"""checkout, inventory (the hot row), Kafka orders, fulfilment, order status and notifications."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import partial

from opentelemetry.metrics import Histogram
from opentelemetry.trace import Link, SpanKind

from .. import catalog
from ..failures import InventoryLockTimeout, UpstreamDeadline
from ..telemetry import ServiceTelemetry
from ..timeline import NS, Response, Timeline
from .common import CREATED, INFO, OK, PG, WARN, Replicas, Service, Shopper, short_id
from .gateway import Gateway
from .notification import Notification
from .payment import Payment

RESERVE_DEADLINE_S = 2.0  # checkout's deadline on a stock reservation
POOL_SIZE = 20.0  # inventory's database connections


@dataclass(slots=True)
class Orders(Service):
    """checkout (`telemetry`), inventory and order-fulfilment: an order from the checkout to its shipment."""

    gateway: Gateway
    inventory: ServiceTelemetry
    fulfilment: ServiceTelemetry
    payment: Payment
    notification: Notification
    replicas: Replicas
    _fulfilment_lag: Histogram | None = field(default=None, init=False, repr=False)
    _pool_rng: random.Random = field(
        default_factory=lambda: random.Random("inventory-pool"), init=False, repr=False
    )

    def call_checkout(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        orders = self.telemetry.counter("snkrs.orders", "{order}", "Checkout attempts by result.")
        producer_ctx = None
        order_id = short_id(rng, "ord")

        def handler() -> Response:
            nonlocal producer_ctx
            asked = t.t
            reserved = self.call_reserve(t, rng, shopper)
            waited = (t.t - asked) / NS
            if waited > RESERVE_DEADLINE_S and reserved.status < 400:
                orders.add(
                    1, {"snkrs.order.result": "timeout", "snkrs.region": shopper.region}, context=t.ctx
                )
                raise UpstreamDeadline(
                    f"context deadline exceeded after {RESERVE_DEADLINE_S:.1f}s waiting for the stock "
                    "reservation"
                )
            if reserved.status >= 400:
                result = "sold_out" if reserved.status == 409 else "inventory_error"
                orders.add(1, {"snkrs.order.result": result, "snkrs.region": shopper.region}, context=t.ctx)
                return reserved
            paid = self.payment.call_payment(t, rng, shopper, "authorization", caller=self.telemetry)
            if paid.status >= 400:
                self.call_release(t, rng, shopper)
                orders.add(
                    1, {"snkrs.order.result": "payment_failed", "snkrs.region": shopper.region}, context=t.ctx
                )
                return paid
            full = self.world.disk_full(t, rng)
            t.database(
                self.telemetry,
                "postgresql",
                "INSERT",
                "orders",
                "INSERT INTO orders (order_id, sku, size, tier, region, status) "
                "VALUES ($1, $2, $3, $4, $5, 'placed')",
                self.latency.database,
                load=self.world.load,
                error=full,
                db_status="53100" if full else "",
                **PG,
            )
            if full is not None:
                self.call_release(t, rng, shopper)
                raise full
            producer_ctx = self.publish_order(t, rng, order_id)
            orders.add(1, {"snkrs.order.result": "placed", "snkrs.region": shopper.region}, context=t.ctx)
            t.log(
                self.telemetry,
                INFO,
                f"order {order_id} placed: {self.world.state.product.sku} size {shopper.size}",
                {"snkrs.order.id": order_id, "snkrs.product.size": shopper.size},
                "snkrs.order.placed",
            )
            self.world.state.add_order(order_id)
            return CREATED

        response = self.serve(
            t,
            self.gateway.telemetry,
            "POST",
            "/checkouts",
            "/checkouts",
            handler,
            {"snkrs.product.size": shopper.size},
        )
        if producer_ctx is not None:
            self.fulfil_order(t, rng, shopper, order_id, producer_ctx)
        return response

    def call_reserve(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        sku, size = self.world.state.product.sku, shopper.size
        query = (
            "UPDATE inventory SET available = available - 1 WHERE sku = $1 AND size = $2 AND available > 0"
        )

        def handler() -> Response:
            s = self.world.settings
            rate = self.world.state.reservations.hit()
            contention = min(8.0, 1.0 + s.inventory_contention_per_rps * rate)
            update_row = partial(
                t.database,
                self.inventory,
                "postgresql",
                "UPDATE",
                "inventory",
                query,
                self.latency.database,
                **PG,
            )
            self.wait_for_connection(t, rng, rate)
            locked = self.world.locked_until(t.t)
            if locked is not None:
                self.world.incidents.hit("periodic_lock", t)
                wait = (locked - t.t) / NS
                if wait > s.inventory_lock_timeout_s:
                    exc = InventoryLockTimeout(
                        f"lock wait timeout on inventory row {sku}/{size} after "
                        f"{s.inventory_lock_timeout_s:.1f}s"
                    )
                    update_row(seconds=s.inventory_lock_timeout_s, error=exc, db_status="55P03")
                    raise exc
                update_row(seconds=wait + self.latency.database.sample(rng))
                self.world.state.reserve(size)  # SoldOut → 409
                return CREATED
            mode = s.inventory_contention
            live = self.world.in_window(mode)
            if live and rng.random() < mode.probability * min(1.0, rate / 20.0):
                self.world.incidents.hit("inventory_contention", t)
                exc = InventoryLockTimeout(
                    f"lock wait timeout on inventory row {sku}/{size} after "
                    f"{s.inventory_lock_timeout_s:.1f}s ({rate:.0f} reservations/s "
                    "on one hot row)"
                )
                update_row(seconds=s.inventory_lock_timeout_s, error=exc, db_status="55P03")
                raise exc
            update_row(load=self.world.load * contention)
            _, last = self.world.state.reserve(size)  # SoldOut → 409
            if last:
                t.log(
                    self.inventory,
                    WARN,
                    f"{sku} sold out {self.world.state.sold_out_after_s:.1f}s into the drop "
                    f"({self.world.state.initial_units} pairs)",
                    {
                        "snkrs.drop.id": self.world.state.drop_id,
                        "snkrs.product.sku": sku,
                        "snkrs.drop.seconds_to_sellout": round(self.world.state.sold_out_after_s or 0.0, 3),
                    },
                    "snkrs.inventory.sold_out",
                )
            return CREATED

        route, path = "/inventory/{sku}/reservations", f"/inventory/{sku}/reservations"
        return self.serve(
            t,
            self.telemetry,
            "POST",
            route,
            path,
            handler,
            {"snkrs.product.size": size},
            callee=self.inventory,
        )

    def wait_for_connection(self, t: Timeline, rng: random.Random, rate: float) -> None:
        """A connection from inventory's pool (20 connections): a saturated pool (an incident) makes the
        request wait for one, a wait no span shows, only the pool's gauges and the handler's time."""
        pool = self.world.incidents.active("pool_exhaustion")
        if pool is None:  # a free connection at once (within the handler's time; the gauges' own stream)
            wait = self._pool_rng.uniform(0.0, 0.004)
            used = min(POOL_SIZE, max(1.0, rate / 6.0 + self._pool_rng.uniform(-1.0, 1.0)))
        else:
            wait = rng.uniform(0.3, 1.0) * pool.strength
            used = POOL_SIZE
            if wait > 0.5:
                self.world.incidents.hit("pool_exhaustion", t)
            t.advance(wait)
        attrs = {"db.client.connection.pool.name": "inventory-primary"}
        self.inventory.gauge("db.client.connection.wait_time", wait, t.t, attrs, "s")
        self.inventory.gauge(
            "db.client.connection.count",
            used,
            t.t,
            {**attrs, "db.client.connection.state": "used"},
            "{connection}",
        )
        if pool is not None and wait > 1.0 and rng.random() < 0.2:
            t.log(
                self.inventory,
                WARN,
                f"slow request: POST /inventory/{{sku}}/reservations took {wait * 1000:.0f} ms",
                {"http.route": "/inventory/{sku}/reservations"},
                "snkrs.http.slow_request",
            )

    def call_release(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        sku, size = self.world.state.product.sku, shopper.size

        def handler() -> Response:
            t.database(
                self.inventory,
                "postgresql",
                "UPDATE",
                "inventory",
                "UPDATE inventory SET available = available + 1 WHERE sku = $1 AND size = $2",
                self.latency.database,
                load=self.world.load,
                **PG,
            )
            self.world.state.release(size)
            return Response(204)

        route = "/inventory/{sku}/reservations/{reservationId}"
        path = f"/inventory/{sku}/reservations/{short_id(rng, 'res')}"
        return self.serve(t, self.telemetry, "DELETE", route, path, handler, None, callee=self.inventory)

    def publish_order(self, t: Timeline, rng: random.Random, order_id: str):
        partition = rng.randrange(catalog.ORDERS_PARTITIONS)
        with t.span(
            self.telemetry,
            f"send {catalog.ORDERS_TOPIC}",
            SpanKind.PRODUCER,
            {
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.operation.name": "send",
                "messaging.destination.name": catalog.ORDERS_TOPIC,
                "messaging.destination.partition.id": str(partition),
                "messaging.kafka.message.key": order_id,
                "server.address": catalog.KAFKA_HOST,
                "server.port": 9092,
            },
        ) as span:
            t.wait(self.latency.kafka)
            return span.get_span_context()

    def fulfil_order(
        self, t: Timeline, rng: random.Random, shopper: Shopper, order_id: str, producer
    ) -> None:
        """The consumer side: a new trace, linked to the producer span. A lagging consumer (an incident)
        picks the message up later and later."""
        delay = rng.uniform(0.05, 0.6)
        lag = self.world.incidents.active("consumer_lag")
        since = self.world.state.seconds_since_live()
        if lag is not None and since is not None:
            delay += lag.strength * (since - lag.start_s)
        c = Timeline(rng, t.t + int(delay * NS), t.attrs, self.world.load, t.router)
        attrs = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.operation.name": "process",
            "messaging.destination.name": catalog.ORDERS_TOPIC,
            "messaging.consumer.group.name": "order-fulfillment",
            "messaging.kafka.message.key": order_id,
            "server.address": catalog.KAFKA_HOST,
            "server.port": 9092,
            **t.attrs,
        }
        link = Link(producer, {"messaging.operation.type": "send"})
        with c.span(
            self.fulfilment, f"process {catalog.ORDERS_TOPIC}", SpanKind.CONSUMER, attrs, links=[link]
        ):
            c.wait(self.latency.handler)
            self.fulfilment_lag.record(
                delay, {"messaging.destination.name": catalog.ORDERS_TOPIC}, context=c.ctx
            )
            if delay > 2.0:
                self.world.incidents.hit("consumer_lag", c)
                c.log(
                    self.fulfilment,
                    WARN,
                    f"order {order_id} consumed {delay:.1f}s after it was published: consumer group "
                    f"order-fulfillment is behind on {catalog.ORDERS_TOPIC}",
                    {"snkrs.order.id": order_id, "messaging.destination.name": catalog.ORDERS_TOPIC},
                    "snkrs.orders.consumer_lag",
                )
            c.database(
                self.fulfilment,
                "postgresql",
                "INSERT",
                "shipments",
                "INSERT INTO shipments (order_id, warehouse, status) VALUES ($1, $2, 'allocated')",
                self.latency.database,
                **PG,
            )
            c.log(
                self.fulfilment,
                INFO,
                f"order {order_id} allocated to a warehouse",
                {"snkrs.order.id": order_id},
                "snkrs.order.allocated",
            )
            self.notification.call_notify(c, rng, self.fulfilment, "order_confirmed")

    @property
    def fulfilment_lag(self) -> Histogram:
        if self._fulfilment_lag is None:
            self._fulfilment_lag = self.fulfilment.meter.create_histogram(
                "messaging.process.lag",
                unit="s",
                description="Time from an orders message's publication to its processing.",
            )
        return self._fulfilment_lag

    def call_order_status(self, t: Timeline, rng: random.Random, order_id: str) -> Response:
        def handler() -> Response:
            self.replicas.read(
                t,
                rng,
                self.fulfilment,
                "orders",
                "SELECT status, carrier, eta FROM orders WHERE order_id = $1",
            )
            return OK

        return self.serve(
            t,
            self.gateway.telemetry,
            "GET",
            "/orders/{orderId}",
            f"/orders/{order_id}",
            handler,
            {"snkrs.order.id": order_id},
            callee=self.fulfilment,
        )
