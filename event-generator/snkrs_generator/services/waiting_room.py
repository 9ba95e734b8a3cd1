"""waiting-room: joins, polls, admission and the backlog."""

from __future__ import annotations

import random

from opentelemetry.trace import SpanKind, get_current_span

from .. import catalog
from ..drop import Phase
from ..failures import (
    WaitingRoomBacklog,
)
from ..timeline import Response, Timeline
from .common import ACCEPTED, OK, ServiceBase, Shopper


class WaitingRoom(ServiceBase):
    def backlog(self) -> bool:
        mode = self.s.waiting_room_backlog
        return self.state.phase is Phase.DROP_LIVE and mode.active(self.state.seconds_into_phase())

    def backlog_error(self) -> WaitingRoomBacklog:
        depth = self.state.waiting * self.s.waiting_room_crowd_scale
        return WaitingRoomBacklog(
            f"waiting room backlog: {depth} shoppers queued for {self.state.drop_id}, "
            "admission stalled; retry in 5s"
        )

    def call_join(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.state.drop_id

        def handler() -> Response:
            self.room_op(t, "ZADD", f"ZADD waiting-room:{drop} NX ? ?")
            if self.backlog() and rng.random() < self.s.waiting_room_backlog.probability:
                self.incidents.hit("waiting_room_backlog", t)
                raise self.backlog_error()
            shopper.joined = True
            self.state.join_queue()
            return ACCEPTED

        route, path = "/rooms/{dropId}/join", f"/rooms/{drop}/join"
        return t.call(self.gw, self.room, "POST", route, path, handler, self.l_handler, self.l_net)

    def call_poll(self, t: Timeline, rng: random.Random, shopper: Shopper) -> Response:
        drop = self.state.drop_id

        def handler() -> Response:
            backlog = self.backlog()
            self.room_op(
                t, "ZRANK", f"ZRANK waiting-room:{drop} ?", load=self.load * (3.0 if backlog else 1.0)
            )
            if backlog and rng.random() < self.s.waiting_room_backlog.probability / 2:
                self.incidents.hit("waiting_room_backlog", t)
                raise self.backlog_error()
            admit = self.s.waiting_room_admit_probability * (0.25 if backlog else 1.0)
            if rng.random() < admit:
                shopper.admitted = True
                self.state.leave_queue()
            get_current_span(t.ctx).set_attribute("snkrs.waiting_room.admitted", shopper.admitted)
            return OK

        route, path = "/rooms/{dropId}/status", f"/rooms/{drop}/status"
        return t.call(self.gw, self.room, "GET", route, path, handler, self.l_handler, self.l_net)

    def room_op(self, t: Timeline, op: str, query: str, load: float | None = None) -> None:
        with t.span(
            self.room,
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
            t.wait(self.l_cache, load)
