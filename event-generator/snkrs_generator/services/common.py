"""What every simulated service shares: the shopper, response constants, and the attributes the service
mixins of `Journeys` read (the drop's state, the settings, each service's telemetry, latency models)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry._logs import SeverityNumber

from .. import catalog
from ..drop import DropState, RateMeter
from ..failures import ReplicaStatementTimeout
from ..incidents import Ledger
from ..latency import LatencyModel
from ..settings import Settings
from ..telemetry import ServiceTelemetry
from ..timeline import Response, Timeline

OK = Response(200)
CREATED = Response(201)
ACCEPTED = Response(202)
INFO, WARN = SeverityNumber.INFO, SeverityNumber.WARN
PG = {"host": catalog.POSTGRES_HOST, "port": 5432, "namespace": "snkrs"}


@dataclass(slots=True)
class Shopper:
    tier: str
    region: str
    platform: str
    size: str
    bot: bool = False
    joined: bool = False
    admitted: bool = False
    entered: bool = False
    done: bool = False
    requests: int = 0


def short_id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}-{rng.getrandbits(48):012x}"


class ServiceBase:
    """The attributes `Journeys.__init__` sets, for the service mixins."""

    s: Settings
    state: DropState
    load: float
    rebuilds: RateMeter
    gw: ServiceTelemetry
    room: ServiceTelemetry
    account: ServiceTelemetry
    feed: ServiceTelemetry
    launch: ServiceTelemetry
    inventory: ServiceTelemetry
    checkout: ServiceTelemetry
    payment: ServiceTelemetry
    bots: ServiceTelemetry
    notify: ServiceTelemetry
    fulfil: ServiceTelemetry
    l_gateway: LatencyModel
    l_net: LatencyModel
    l_handler: LatencyModel
    l_cache: LatencyModel
    l_db: LatencyModel
    l_provider: LatencyModel
    l_bots: LatencyModel
    l_kafka: LatencyModel
    l_push: LatencyModel
    incidents: Ledger

    def read(
        self, t: Timeline, rng: random.Random, svc: ServiceTelemetry, collection: str, query: str
    ) -> None:
        """A SELECT on one of the read replicas; a slow replica (an incident) crawls or hits the statement
        timeout, which fails the request."""
        host = rng.choice(catalog.DB_REPLICAS)
        where = {"host": host, "port": 5432, "namespace": "snkrs"}
        inc = self.incidents.active("slow_db_replica")
        if inc is None or inc.target != host:
            t.database(svc, "postgresql", "SELECT", collection, query, self.l_db, **where)
            return
        self.incidents.hit("slow_db_replica", t)
        seconds = self.l_db.sample(rng, inc.strength)
        timeout = 1.0
        if seconds < timeout:
            t.database(svc, "postgresql", "SELECT", collection, query, self.l_db, seconds=seconds, **where)
            if seconds > 0.25:
                t.log(
                    svc,
                    WARN,
                    f"slow query: {seconds * 1000:.0f} ms on {host}: {query}",
                    {"server.address": host, "db.collection.name": collection},
                    "snkrs.db.slow_query",
                )
            return
        exc = ReplicaStatementTimeout(
            f"canceling statement due to statement timeout ({timeout:.0f}s) on {host}: SELECT {collection}"
        )
        t.database(
            svc, "postgresql", "SELECT", collection, query, self.l_db,
            seconds=timeout, error=exc, db_status="57014", **where,
        )  # fmt: skip
        raise exc

    def request(self, t: Timeline, method: str, route: str, path: str, handler) -> Response:
        """The root: the api-gateway's SERVER span for a shopper's request."""
        return t.server(self.gw, method, route, path, handler, self.l_gateway)
