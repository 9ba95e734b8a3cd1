"""One request's spans laid out on a simulated clock: spans get explicit start/end times from sampled
latencies instead of sleeping, children nest inside their parents, and logs and metric measurements are
recorded in the active span's context (so logs carry its ids and histograms get exemplars)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry._logs import SeverityNumber
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, set_span_in_context

from .failures import SimulatedFailure, exception_attributes
from .latency import LatencyModel
from .telemetry import ServiceTelemetry

NS = 1_000_000_000
EMPTY = Context()


@dataclass(slots=True)
class Response:
    status: int
    message: str = ""


class SpanScope:
    """The block of one `Timeline.span` (a plain context manager: a generator-based one costs a span twice as
    much bookkeeping)."""

    __slots__ = ("parent", "span", "timeline")

    def __init__(self, timeline: Timeline, span: Span, parent: Context) -> None:
        self.timeline, self.span, self.parent = timeline, span, parent

    def __enter__(self) -> Span:
        return self.span

    def __exit__(self, *exc: object) -> None:
        self.span.end(end_time=self.timeline.t)
        self.timeline.ctx = self.parent


class Timeline:
    """A trace under construction. `t` is the simulated clock in ns since the epoch."""

    __slots__ = ("attrs", "ctx", "load", "marks", "rng", "router", "start_ns", "t")

    def __init__(
        self,
        rng: random.Random,
        start_ns: int,
        attrs: dict,
        load: float = 1.0,
        router: Callable[[ServiceTelemetry, Timeline], ServiceTelemetry] | None = None,
    ) -> None:
        self.rng = rng
        self.t = self.start_ns = start_ns
        self.ctx: Context = EMPTY
        self.attrs = attrs  # shopper/drop attributes put on every SERVER span
        self.load = load
        self.router = router  # picks the instance of a callee that serves an internal call
        self.marks: set[str] = set()  # what an incident did to this request, for services further down

    @property
    def elapsed_s(self) -> float:
        return (self.t - self.start_ns) / NS

    def advance(self, seconds: float) -> None:
        self.t += int(seconds * NS)

    def wait(self, model: LatencyModel, load: float | None = None) -> float:
        seconds = model.sample(self.rng, self.load if load is None else load)
        self.t += int(seconds * NS)
        return seconds

    def span(
        self,
        svc: ServiceTelemetry,
        name: str,
        kind: SpanKind,
        attributes: dict,
        links: list[Link] | None = None,
    ) -> SpanScope:
        """`with t.span(...) as span:` a span from now to the end of the block, the active one inside it."""
        span = svc.tracer.start_span(
            name, context=self.ctx, kind=kind, attributes=attributes, links=links, start_time=self.t
        )
        scope = SpanScope(self, span, self.ctx)
        self.ctx = set_span_in_context(span, EMPTY)
        return scope

    def log(
        self,
        svc: ServiceTelemetry,
        severity: SeverityNumber,
        body: str,
        attributes: dict | None = None,
        event_name: str | None = None,
        exception: BaseException | None = None,
    ) -> None:
        svc.log(self.ctx, self.t, severity, body, attributes, event_name, exception)

    def fail(self, svc: ServiceTelemetry, span: Span, exc: SimulatedFailure, *, error: bool) -> None:
        """The failure's signature: exception event on the span, status (when it is an error for this span)
        and an exception log record."""
        span.add_event("exception", exception_attributes(exc), timestamp=self.t)
        if error:
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            span.set_attribute("error.type", exc.error_type)
        svc.log(
            self.ctx,
            self.t,
            SeverityNumber.ERROR if error else SeverityNumber.WARN,
            str(exc),
            {"error.type": exc.error_type, "http.response.status_code": exc.status_code},
            "snkrs.failure",
            exc,
        )

    def server(
        self,
        svc: ServiceTelemetry,
        method: str,
        route: str,
        path: str,
        handler: Callable[[], Response],
        handler_latency: LatencyModel,
        extra: dict | None = None,
    ) -> Response:
        """A SERVER span in `svc` running `handler`; a raised SimulatedFailure becomes the response."""
        attrs = {
            "http.request.method": method,
            "http.route": route,
            "url.path": path,
            "url.scheme": "https",
            "server.address": svc.name,
            "network.protocol.version": "1.1",
            **self.attrs,
        }
        if extra:
            attrs.update(extra)
        start = self.t
        slowdown = svc.slowdown * svc.pressure_slowdown(self.t)
        with self.span(svc, f"{method} {route}", SpanKind.SERVER, attrs) as span:
            self.wait(handler_latency, self.load * slowdown)
            try:
                if svc.fault is not None:
                    svc.fault(self)
                response = handler()
            except SimulatedFailure as exc:
                self.fail(svc, span, exc, error=exc.is_server_error)
                response = Response(exc.status_code, str(exc))
            self.wait(handler_latency, self.load * slowdown)
            if svc.leak_since_ns is not None:
                self.advance(svc.gc_stall(self.t))
            status = response.status
            span.set_attribute("http.response.status_code", status)
            if status >= 500 and span.status.status_code is not StatusCode.ERROR:
                span.set_status(Status(StatusCode.ERROR, response.message or f"HTTP {status}"))
                span.set_attribute("error.type", str(status))
            metric_attrs = {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
                "snkrs.drop.phase": self.attrs.get("snkrs.drop.phase", ""),
            }
            if status >= 500:
                metric_attrs["error.type"] = str(status)
            duration = (self.t - start) / NS
            svc.server_duration.record(duration, metric_attrs, context=self.ctx)
            svc.record_runtime(self.t)
            svc.server_requests.add(1, metric_attrs, context=self.ctx)
        return response

    def call(
        self,
        caller: ServiceTelemetry,
        callee: ServiceTelemetry,
        method: str,
        route: str,
        path: str,
        handler: Callable[[], Response],
        handler_latency: LatencyModel,
        network: LatencyModel,
        extra: dict | None = None,
    ) -> Response:
        """An internal HTTP hop: a CLIENT span in the caller around the callee's SERVER span."""
        if self.router is not None:
            callee = self.router(callee, self)
        attrs = {
            "http.request.method": method,
            "url.full": f"http://{callee.name}{path}",
            "url.template": route,
            "server.address": callee.name,
            "server.port": 8080,
        }
        with self.span(caller, f"{method} {route}", SpanKind.CLIENT, attrs) as span:
            self.wait(network)
            response = self.server(callee, method, route, path, handler, handler_latency, extra)
            self.wait(network)
            span.set_attribute("http.response.status_code", response.status)
            if response.status >= 400:
                span.set_status(
                    Status(StatusCode.ERROR, f"{callee.name} answered {response.status}: {response.message}")
                )
                span.set_attribute("error.type", str(response.status))
        return response

    def database(
        self,
        svc: ServiceTelemetry,
        system: str,
        operation: str,
        collection: str,
        query: str,
        latency: LatencyModel,
        *,
        host: str,
        port: int,
        namespace: str,
        load: float | None = None,
        seconds: float | None = None,
        error: SimulatedFailure | None = None,
        db_status: str = "",
    ) -> float:
        """A database CLIENT span; `seconds` overrides the sampled latency (contention, timeouts).
        With `error` the span fails with it (the caller raises it, and the SERVER span logs it)."""
        name = f"{operation} {collection}" if collection else operation
        attrs = {
            "db.system.name": system,
            "db.operation.name": operation,
            "db.query.text": query,
            "db.namespace": namespace,
            "server.address": host,
            "server.port": port,
        }
        if collection:
            attrs["db.collection.name"] = collection
        with self.span(svc, name, SpanKind.CLIENT, attrs) as span:
            if seconds is None:
                seconds = self.wait(latency, load)
            else:
                self.advance(seconds)
            if error is not None:
                span.add_event("exception", exception_attributes(error), timestamp=self.t)
                span.set_status(Status(StatusCode.ERROR, str(error)))
                span.set_attribute("error.type", error.error_type)
                if db_status:
                    span.set_attribute("db.response.status_code", db_status)
            svc.db_duration.record(
                seconds,
                {"db.system.name": system, "db.operation.name": operation, "server.address": host},
                context=self.ctx,
            )
        return seconds
