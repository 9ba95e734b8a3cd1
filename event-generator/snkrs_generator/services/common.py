"""What every simulated service shares: the shopper, response constants, and the attributes the service
mixins of `Journeys` read (the drop's state, the settings, each service's telemetry, latency models)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry._logs import SeverityNumber

from .. import catalog
from ..drop import DropState, RateMeter
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

    def request(self, t: Timeline, method: str, route: str, path: str, handler) -> Response:
        """The root: the api-gateway's SERVER span for a shopper's request."""
        return t.server(self.gw, method, route, path, handler, self.l_gateway)
