"""checkout, inventory (the hot row), Kafka orders, fulfilment, order status and notifications."""

from __future__ import annotations

import random

from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from .. import catalog
from ..drop import Phase
from ..failures import (
    InventoryLockTimeout,
    PushProviderTLSError,
    exception_attributes,
)
from ..timeline import NS, Response, Timeline
from .common import ACCEPTED, CREATED, INFO, OK, PG, WARN, ServiceBase, Shopper, short_id


class Orders(ServiceBase):
    def call_checkout(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        orders = self.checkout.counter("snkrs.orders", "{order}", "Checkout attempts by result.")
        producer_ctx = None
        order_id = short_id(rng, "ord")

        def handler() -> Response:
            nonlocal producer_ctx
            reserved = self.call_reserve(t, rng, shopper)
            if reserved.status >= 400:
                result = "sold_out" if reserved.status == 409 else "inventory_error"
                orders.add(1, {"snkrs.order.result": result, "snkrs.region": shopper.region}, context=t.ctx)
                return reserved
            paid = self.call_payment(t, rng, shopper, "authorization", caller=self.checkout)
            if paid.status >= 400:
                self.call_release(t, rng, shopper)
                orders.add(
                    1, {"snkrs.order.result": "payment_failed", "snkrs.region": shopper.region}, context=t.ctx
                )
                return paid
            t.database(
                self.checkout,
                "postgresql",
                "INSERT",
                "orders",
                "INSERT INTO orders (order_id, sku, size, tier, region, status) "
                "VALUES ($1, $2, $3, $4, $5, 'placed')",
                self.l_db,
                load=self.load,
                **PG,
            )
            producer_ctx = self.publish_order(t, rng, order_id)
            orders.add(1, {"snkrs.order.result": "placed", "snkrs.region": shopper.region}, context=t.ctx)
            t.log(
                self.checkout,
                INFO,
                f"order {order_id} placed: {self.state.product.sku} size {shopper.size}",
                {"snkrs.order.id": order_id, "snkrs.product.size": shopper.size},
                "snkrs.order.placed",
            )
            self.state.add_order(order_id)
            return CREATED

        response = t.call(
            self.gw,
            self.checkout,
            "POST",
            "/checkouts",
            "/checkouts",
            handler,
            self.l_handler,
            self.l_net,
            {"snkrs.product.size": shopper.size},
        )
        if producer_ctx is not None:
            self.fulfil_order(t, rng, shopper, order_id, producer_ctx)
        return response

    def call_reserve(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        sku, size = self.state.product.sku, shopper.size
        query = (
            "UPDATE inventory SET available = available - 1 WHERE sku = $1 AND size = $2 AND available > 0"
        )

        def handler() -> Response:
            s = self.s
            rate = self.state.reservations.hit()
            contention = min(8.0, 1.0 + s.inventory_contention_per_rps * rate)
            mode = s.inventory_contention
            live = self.state.phase is Phase.DROP_LIVE and mode.active(self.state.seconds_into_phase())
            if live and rng.random() < mode.probability * min(1.0, rate / 20.0):
                self.incidents.hit("inventory_contention", t)
                exc = InventoryLockTimeout(
                    f"lock wait timeout on inventory row {sku}/{size} after "
                    f"{s.inventory_lock_timeout_s:.1f}s ({rate:.0f} reservations/s "
                    "on one hot row)"
                )
                t.database(
                    self.inventory,
                    "postgresql",
                    "UPDATE",
                    "inventory",
                    query,
                    self.l_db,
                    seconds=s.inventory_lock_timeout_s,
                    error=exc,
                    db_status="55P03",
                    **PG,
                )
                raise exc
            t.database(
                self.inventory,
                "postgresql",
                "UPDATE",
                "inventory",
                query,
                self.l_db,
                load=self.load * contention,
                **PG,
            )
            _, last = self.state.reserve(size)  # SoldOut → 409
            if last:
                t.log(
                    self.inventory,
                    WARN,
                    f"{sku} sold out {self.state.sold_out_after_s:.1f}s into the drop "
                    f"({self.state.initial_units} pairs)",
                    {
                        "snkrs.drop.id": self.state.drop_id,
                        "snkrs.product.sku": sku,
                        "snkrs.drop.seconds_to_sellout": round(self.state.sold_out_after_s or 0.0, 3),
                    },
                    "snkrs.inventory.sold_out",
                )
            return CREATED

        route, path = "/inventory/{sku}/reservations", f"/inventory/{sku}/reservations"
        return t.call(
            self.checkout,
            self.inventory,
            "POST",
            route,
            path,
            handler,
            self.l_handler,
            self.l_net,
            {"snkrs.product.size": size},
        )

    def call_release(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        sku, size = self.state.product.sku, shopper.size

        def handler() -> Response:
            t.database(
                self.inventory,
                "postgresql",
                "UPDATE",
                "inventory",
                "UPDATE inventory SET available = available + 1 WHERE sku = $1 AND size = $2",
                self.l_db,
                load=self.load,
                **PG,
            )
            self.state.release(size)
            return Response(204)

        route = "/inventory/{sku}/reservations/{reservationId}"
        path = f"/inventory/{sku}/reservations/{short_id(rng, 'res')}"
        return t.call(
            self.checkout, self.inventory, "DELETE", route, path, handler, self.l_handler, self.l_net
        )

    def publish_order(self, t: Timeline, rng: random.Random, order_id: str):
        partition = rng.randrange(catalog.ORDERS_PARTITIONS)
        with t.span(
            self.checkout,
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
            t.wait(self.l_kafka)
            return span.get_span_context()

    def fulfil_order(
        self, t: Timeline, rng: random.Random, shopper: Shopper, order_id: str, producer
    ) -> None:
        """The consumer side: a new trace, linked to the producer span. A lagging consumer (an incident)
        picks the message up later and later."""
        delay = rng.uniform(0.05, 0.6)
        lag = self.incidents.active("consumer_lag")
        since = self.state.seconds_since_live()
        if lag is not None and since is not None:
            delay += lag.strength * (since - lag.start_s)
        c = Timeline(rng, t.t + int(delay * NS), t.attrs, self.load, t.router)
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
        with c.span(self.fulfil, f"process {catalog.ORDERS_TOPIC}", SpanKind.CONSUMER, attrs, links=[link]):
            c.wait(self.l_handler)
            self.fulfil_lag.record(delay, {"messaging.destination.name": catalog.ORDERS_TOPIC}, context=c.ctx)
            if delay > 2.0:
                self.incidents.hit("consumer_lag", c)
                c.log(
                    self.fulfil,
                    WARN,
                    f"order {order_id} consumed {delay:.1f}s after it was published: consumer group "
                    f"order-fulfillment is behind on {catalog.ORDERS_TOPIC}",
                    {"snkrs.order.id": order_id, "messaging.destination.name": catalog.ORDERS_TOPIC},
                    "snkrs.orders.consumer_lag",
                )
            c.database(
                self.fulfil,
                "postgresql",
                "INSERT",
                "shipments",
                "INSERT INTO shipments (order_id, warehouse, status) VALUES ($1, $2, 'allocated')",
                self.l_db,
                **PG,
            )
            c.log(
                self.fulfil,
                INFO,
                f"order {order_id} allocated to a warehouse",
                {"snkrs.order.id": order_id},
                "snkrs.order.allocated",
            )
            self.call_notify(c, rng, self.fulfil, "order_confirmed")

    @property
    def fulfil_lag(self):
        if not hasattr(self, "_fulfil_lag"):
            self._fulfil_lag = self.fulfil.meter.create_histogram(
                "messaging.process.lag",
                unit="s",
                description="Time from an orders message's publication to its processing.",
            )
        return self._fulfil_lag

    def call_order_status(self, t: Timeline, rng: random.Random, order_id: str) -> Response:
        def handler() -> Response:
            self.read(
                t, rng, self.fulfil, "orders", "SELECT status, carrier, eta FROM orders WHERE order_id = $1"
            )
            return OK

        return t.call(
            self.gw,
            self.fulfil,
            "GET",
            "/orders/{orderId}",
            f"/orders/{order_id}",
            handler,
            self.l_handler,
            self.l_net,
            {"snkrs.order.id": order_id},
        )

    # --- after the drop: notifications and refunds ----------------------------------------------------

    def call_notify(self, t: Timeline, rng: random.Random, caller, template: str) -> Response:
        def handler() -> Response:
            sent = self.notify.counter("snkrs.notifications", "{notification}", "Push notifications sent.")
            tls = self.incidents.active("push_tls_failure")
            attrs = {
                "http.request.method": "POST",
                "server.address": catalog.PUSH_PROVIDER_HOST,
                "server.port": 443,
                "url.full": f"https://{catalog.PUSH_PROVIDER_HOST}/v3/messages",
                "url.template": "/v3/messages",
            }
            if tls is not None and rng.random() < tls.strength:
                self.incidents.hit("push_tls_failure", t)
                exc = PushProviderTLSError(
                    f"TLS handshake with {catalog.PUSH_PROVIDER_HOST}:443 failed: "
                    "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired"
                )
                with t.span(self.notify, "POST /v3/messages", SpanKind.CLIENT, attrs) as span:
                    t.advance(rng.uniform(0.03, 0.09))
                    span.add_event("exception", exception_attributes(exc), timestamp=t.t)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    span.set_attribute("error.type", exc.error_type)
                sent.add(
                    1, {"snkrs.notification.template": template, "error.type": exc.error_type}, context=t.ctx
                )
                raise exc
            with t.span(
                self.notify, "POST /v3/messages", SpanKind.CLIENT, {**attrs, "http.response.status_code": 202}
            ):
                t.wait(self.l_push)
            sent.add(1, {"snkrs.notification.template": template}, context=t.ctx)
            return ACCEPTED

        return t.call(
            caller,
            self.notify,
            "POST",
            "/notifications",
            "/notifications",
            handler,
            self.l_handler,
            self.l_net,
            {"snkrs.notification.template": template},
        )
