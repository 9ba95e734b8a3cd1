"""What every simulated service shares: the shopper, response constants, the `World` the services see (the
drop's state, the settings, the incident ledger, the current load), the latency models by name, and reads on
the database replicas."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from opentelemetry._logs import SeverityNumber

from .. import catalog
from ..drop import DropState, Phase, RateMeter
from ..failures import DiskFull, ReplicaStatementTimeout
from ..incidents import Ledger
from ..latency import LatencyModel
from ..settings import FailureMode, Settings
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


@dataclass(slots=True)
class World:
    """The simulation's mutable state that every service reads: the current drop's settings and state
    (replaced at each new drop), the incident ledger, the load factor of the current phase."""

    settings: Settings
    state: DropState
    incidents: Ledger
    rebuilds: RateMeter  # the feed's cache rebuilds per second
    load: float = 1.0
    locks: list[tuple[int, int]] = field(default_factory=list)  # table locks a batch job held (start, end ns)

    def locked_until(self, t_ns: int) -> int | None:
        """When the inventory table lock held at `t_ns` (by the batch job, an incident) is released."""
        for start, end in reversed(self.locks[-3:]):
            if start <= t_ns < end:
                return end
        return None

    def disk_full(self, t: Timeline, rng: random.Random) -> DiskFull | None:
        """A write to the primary while its disk fills (an incident): the failure rate climbs linearly
        from 0.1 % at the start to `strength` at the end."""
        inc = self.incidents.active("disk_filling")
        since = self.state.seconds_since_live()
        if inc is None or since is None:
            return None
        progress = (since - inc.start_s) / (inc.end_s - inc.start_s)
        if rng.random() >= 0.001 + (inc.strength - 0.001) * progress:
            return None
        self.incidents.hit("disk_filling", t)
        return DiskFull(
            f'could not extend file "base/16384/{rng.randrange(24576, 24700)}": No space left on device '
            "(SQLSTATE 53100)"
        )

    def in_window(self, mode: FailureMode) -> bool:
        """The drop is live and `mode`'s window (seconds into DROP_LIVE) is open."""
        return self.state.phase is Phase.DROP_LIVE and mode.active(self.state.seconds_into_phase())


@dataclass(frozen=True, slots=True)
class Latencies:
    """The latency models, by what they time."""

    gateway: LatencyModel
    network: LatencyModel
    handler: LatencyModel
    cache: LatencyModel
    database: LatencyModel
    payment_provider: LatencyModel
    bot_scoring: LatencyModel
    kafka: LatencyModel
    push_provider: LatencyModel

    @classmethod
    def from_settings(cls, settings: Settings) -> Latencies:
        lat = settings.latency
        return cls(
            gateway=LatencyModel(lat.gateway),
            network=LatencyModel(lat.network),
            handler=LatencyModel(lat.handler),
            cache=LatencyModel(lat.cache),
            database=LatencyModel(lat.database),
            payment_provider=LatencyModel(lat.payment_provider),
            bot_scoring=LatencyModel(lat.bot_scoring),
            kafka=LatencyModel(lat.kafka),
            push_provider=LatencyModel(lat.push_provider),
        )


@dataclass(slots=True)
class Service:
    """A simulated service: the shared world, the latency models, and its own telemetry."""

    world: World
    latency: Latencies
    telemetry: ServiceTelemetry

    def serve(
        self,
        t: Timeline,
        caller: ServiceTelemetry,
        method: str,
        route: str,
        path: str,
        handler: Callable[[], Response],
        extra: dict | None = None,
        callee: ServiceTelemetry | None = None,
    ) -> Response:
        """`caller` calls this service (or `callee`) over HTTP, with the usual handler and network latency."""
        return t.call(
            caller, callee or self.telemetry, method, route, path, handler,
            self.latency.handler, self.latency.network, extra,
        )  # fmt: skip


@dataclass(slots=True)
class Replicas:
    """Reads on the Postgres read replicas, which an incident can slow down."""

    world: World
    database: LatencyModel

    def read(
        self, t: Timeline, rng: random.Random, svc: ServiceTelemetry, collection: str, query: str
    ) -> None:
        """A SELECT on one of the read replicas; a slow replica (an incident) crawls or hits the statement
        timeout, which fails the request."""
        host = rng.choice(catalog.DB_REPLICAS)
        where = {"host": host, "port": 5432, "namespace": "snkrs"}
        incidents = self.world.incidents
        inc = incidents.active("slow_db_replica")
        if inc is None or inc.target != host:
            t.database(svc, "postgresql", "SELECT", collection, query, self.database, **where)
            return
        incidents.hit("slow_db_replica", t)
        seconds = self.database.sample(rng, inc.strength)
        timeout = 1.0
        if seconds < timeout:
            t.database(
                svc, "postgresql", "SELECT", collection, query, self.database, seconds=seconds, **where
            )
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
            svc, "postgresql", "SELECT", collection, query, self.database,
            seconds=timeout, error=exc, db_status="57014", **where,
        )  # fmt: skip
        raise exc
