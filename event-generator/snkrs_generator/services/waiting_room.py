"""waiting-room: joins, polls, admission and the backlog."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.trace import SpanKind, get_current_span

from .. import catalog
from ..failures import (
    WaitingRoomBacklog,
)
from ..timeline import Response, Timeline
from .common import ACCEPTED, OK, Service, Shopper
from .gateway import Gateway


@dataclass(slots=True)
class WaitingRoom(Service):
    gateway: Gateway

    def backlog(self) -> bool:
        mode = self.world.settings.waiting_room_backlog
        return self.world.in_window(mode)

    def backlog_error(self) -> WaitingRoomBacklog:
        depth = self.world.state.waiting * self.world.settings.waiting_room_crowd_scale
        return WaitingRoomBacklog(
            f"waiting room backlog: {depth} shoppers queued for {self.world.state.drop_id}, "
            "admission stalled; retry in 5s"
        )

    def call_join(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.world.state.drop_id

        def handler() -> Response:
            self.room_op(t, "ZADD", f"ZADD waiting-room:{drop} NX ? ?")
            if self.backlog() and rng.random() < self.world.settings.waiting_room_backlog.probability:
                self.world.incidents.hit("waiting_room_backlog", t)
                raise self.backlog_error()
            shopper.joined = True
            self.world.state.join_queue()
            return ACCEPTED

        route, path = "/rooms/{dropId}/join", f"/rooms/{drop}/join"
        return self.serve(t, self.gateway.telemetry, "POST", route, path, handler)

    def call_poll(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.world.state.drop_id

        def handler() -> Response:
            backlog = self.backlog()
            self.room_op(
                t, "ZRANK", f"ZRANK waiting-room:{drop} ?", load=self.world.load * (3.0 if backlog else 1.0)
            )
            if backlog and rng.random() < self.world.settings.waiting_room_backlog.probability / 2:
                self.world.incidents.hit("waiting_room_backlog", t)
                raise self.backlog_error()
            admit = self.world.settings.waiting_room_admit_probability * (0.25 if backlog else 1.0)
            if rng.random() < admit:
                shopper.admitted = True
                self.world.state.leave_queue()
            get_current_span(t.ctx).set_attribute("snkrs.waiting_room.admitted", shopper.admitted)
            return OK

        route, path = "/rooms/{dropId}/status", f"/rooms/{drop}/status"
        return self.serve(t, self.gateway.telemetry, "GET", route, path, handler)

    def room_op(self, t: Timeline, op: str, query: str, load: float | None = None) -> None:
        with t.span(
            self.telemetry,
            op,
            SpanKind.CLIENT,
            {
                "db.system.name": "redis",
                "db.operation.name": op,
                "db.query.text": query,
                "db.namespace": "1",
                "server.address": catalog.REDIS_HOST,
                "server.port": 6379,
            },
        ):
            t.wait(self.latency.cache, load)
