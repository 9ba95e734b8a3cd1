"""The drop cycle: PRE_DROP → DROP_LIVE → POST_DROP, each phase a pool of shoppers (`shoppers`), then a new
drop with a new product and fresh inventory. `run` is the API other tools reuse."""

from __future__ import annotations

import gc
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.metrics import CallbackOptions, Observation

from .catalog import PRODUCTS
from .clock import NS, SimClock, WallClock
from .drop import PHASES, DropState, Phase
from .exporters import ExporterErrors, otlp_exporters
from .incidents import Ledger, apply_legacy, plan_for, write_labels
from .journeys import Journeys
from .latency import load_factor
from .reports import PhaseReport, RunReport, log_finished
from .settings import PhaseSpec, Settings
from .shoppers import Shoppers
from .telemetry import Exporters, Telemetry

__all__ = ["PhaseReport", "RunReport", "Simulation", "fewer_collections", "log_finished", "run", "share"]

log = logging.getLogger("snkrs_generator")


def share(total: int, index: int, count: int) -> int:
    """Process `index` of `count`'s part of `total` (the parts add up to it; the first ones get the rest)."""
    return total // count + (1 if index < total % count else 0)


def new_drop(settings: Settings, cycle: int, clock: WallClock | SimClock | None = None) -> DropState:
    product = PRODUCTS[(settings.seed + cycle) % len(PRODUCTS)]
    drop_id = f"drop-{settings.seed}-{cycle + 1:03d}"
    return DropState(
        cycle, drop_id, product, settings.inventory_units, clock or WallClock(settings.time_scale)
    )


def cycle_seconds(settings: Settings) -> float:
    return settings.pre_drop.duration_s + settings.drop_live.duration_s + settings.post_drop.duration_s


def make_clock(settings: Settings) -> WallClock | SimClock:
    """The simulated clock starts so that the last drop ends now (or at `sim_start_ns`, for exact repeats)."""
    if not settings.simulated_clock:
        return WallClock(settings.time_scale)
    start = settings.sim_start_ns
    if start is None:
        start = time.time_ns() - int((settings.cycles or 1) * cycle_seconds(settings) * NS)
    return SimClock(start)


class Simulation:
    def __init__(
        self, settings: Settings, telemetry: Telemetry, stop: threading.Event, shard: tuple[int, int] = (0, 1)
    ) -> None:
        self.settings = settings
        self.shard = shard  # (index, count): this process's share of the shoppers (see processes.py)
        self.telemetry = telemetry
        self.stop = stop
        self.clock = make_clock(settings)
        self.ledger = Ledger()
        self.drops: list[dict[str, Any]] = []
        self.state = self._new_drop(0)
        self.journeys = Journeys(self.drop_settings, telemetry, self.state, self.clock, self.ledger)
        self.report = RunReport()
        self.shoppers = Shoppers(settings, telemetry, self.journeys, self.clock, stop, self.report)
        if shard[0] == 0:  # one process reports the drop's gauges (its own share of the inventory)
            self._register_gauges()

    def _new_drop(self, cycle: int) -> DropState:
        """The drop's incident plan decides its settings (the original failure modes, the inventory)."""
        self.plan = plan_for(self.settings.incidents, self.settings.seed, cycle)
        self.drop_settings = apply_legacy(self.settings, self.plan)
        index, count = self.shard
        drop_settings = self.drop_settings
        if count > 1:  # this process's share of the pairs
            units = max(1, share(drop_settings.inventory_units, index, count))
            drop_settings = drop_settings.model_copy(update={"inventory_units": units})
        state = new_drop(drop_settings, cycle, self.clock)
        self.ledger.start_drop(state, self.plan)
        return state

    def labels(self) -> dict[str, Any]:
        return self.ledger.labels(self.settings.seed, self.settings.incidents, self.drops)

    def _register_gauges(self) -> None:
        scale = self.settings.waiting_room_crowd_scale

        def inventory(options: CallbackOptions):
            state = self.state
            for size, left in list(state.inventory.items()):
                yield Observation(
                    left,
                    {
                        "snkrs.drop.id": state.drop_id,
                        "snkrs.product.sku": state.product.sku,
                        "snkrs.product.size": size,
                    },
                )

        def queue_depth(options: CallbackOptions):
            state = self.state
            yield Observation(
                state.waiting * scale, {"snkrs.drop.id": state.drop_id, "snkrs.drop.phase": state.phase.value}
            )

        self.telemetry["inventory"].meter.create_observable_gauge(
            "snkrs.inventory.remaining", [inventory], unit="{pair}", description="Pairs left per size."
        )
        self.telemetry["waiting-room"].meter.create_observable_gauge(
            "snkrs.waiting_room.queue_depth",
            [queue_depth],
            unit="{shopper}",
            description="Shoppers waiting for admission.",
        )

    def spec(self, phase: Phase) -> PhaseSpec:
        s = self.settings
        return {Phase.PRE_DROP: s.pre_drop, Phase.DROP_LIVE: s.drop_live, Phase.POST_DROP: s.post_drop}[phase]

    def run(self, deadline: float | None) -> RunReport:
        s = self.settings
        started = time.monotonic()
        cycle = 0
        while not self.stop.is_set() and (s.cycles is None or cycle < s.cycles):
            if cycle:
                self.state = self._new_drop(cycle)
                self.journeys.world.state = self.state
                self.journeys.world.settings = self.drop_settings
            if self.plan:
                log.info(
                    "drop=%s incidents planned: %d (kinds are in the labels file, never in the telemetry)",
                    self.state.drop_id,
                    len(self.plan),
                )
            log.info(
                "drop=%s product=%s %r inventory=%d cycle=%d",
                self.state.drop_id,
                self.state.product.sku,
                self.state.product.name,
                self.state.initial_units,
                cycle + 1,
            )
            for index, phase in enumerate(PHASES):
                if self.stop.is_set():
                    break
                upcoming = PHASES[index + 1].value if index + 1 < len(PHASES) else "PRE_DROP(new drop)"
                self.run_phase(phase, deadline, upcoming)
                if deadline is not None and time.monotonic() >= deadline:
                    self.stop.set()
            cycle += 1
            # after every drop, so a run that never ends has its labels too
            if s.labels_file is not None and self.shard[0] == 0:
                write_labels(s.labels_file, self.labels())
        self.report.seconds = time.monotonic() - started
        return self.report

    def run_phase(self, phase: Phase, deadline: float | None, upcoming: str) -> None:
        s, spec, tel = self.settings, self.spec(phase), self.telemetry
        self.state.enter(phase)
        if phase is Phase.DROP_LIVE:
            self._drop_live()
        self.journeys.load = load_factor(spec.workers, s.pre_drop.workers, s.load_sensitivity)
        spans0, logs0 = tel.snapshot()
        started = time.monotonic()
        index, count = self.shard
        workers = share(spec.workers, index, count)
        requests = [0] * workers
        # one process: the original seeding; N processes: each its own stream, fixed by seed, N and index
        shard = f"-{index}/{count}" if count > 1 else ""
        seeds = random.Random(f"{s.seed}-{self.state.cycle}-{phase.value}{shard}")
        ends = started + spec.duration_s / s.time_scale
        if deadline is not None:
            ends = min(ends, deadline)
        live = phase is Phase.DROP_LIVE
        if self.clock.simulated:
            self.shoppers.simulated(spec, live, workers, seeds, requests)
        elif s.flat_out:
            self.shoppers.flat_out(ends, workers, seeds, requests)
        else:
            self.shoppers.threaded(spec, live, phase.value, ends, workers, seeds, requests)
        tel.flush()
        seconds = time.monotonic() - started
        spans1, logs1 = tel.snapshot()
        report = PhaseReport(
            self.state.cycle,
            phase,
            self.state.drop_id,
            seconds,
            sum(requests),
            spans1 - spans0,
            logs1 - logs0,
        )
        self.report.phases.append(report)
        sold_out = self.state.sold_out_after_s
        log.info(
            "phase=%s drop=%s seconds=%.1f requests=%d spans=%d exported=%d dropped=%d failed=%d logs=%d "
            "logs_dropped=%d span_rate=%.0f/s remaining=%d%s next=%s",
            phase.value,
            self.state.drop_id,
            seconds,
            report.requests,
            report.spans.emitted,
            report.spans.exported,
            report.spans.dropped,
            report.spans.failed,
            report.logs.emitted,
            report.logs.dropped,
            report.span_rate,
            self.state.remaining,
            f" sold_out_after={sold_out:.1f}s" if sold_out is not None and phase is Phase.DROP_LIVE else "",
            upcoming,
        )

    def _drop_live(self) -> None:
        """DROP_LIVE begins: a bad deploy's instance comes up, and the incidents get their absolute times."""
        entities = {}
        for inc in self.plan or ():
            if inc.kind == "bad_deploy":
                canary = self.journeys.canary(inc.target)
                attributes = canary.resource.attributes
                entities[inc.kind] = str(attributes["service.version"])
                entities[f"{inc.kind}.instance"] = str(attributes["service.instance.id"])
            elif inc.kind == "region_version":  # the new version, where it meets the one region
                version = self.journeys.canary("checkout").resource.attributes["service.version"]
                entities[inc.kind] = f"{version}@{inc.target}"
            elif inc.kind == "n_plus_one":
                entities[inc.kind] = str(
                    self.journeys.deployed("launch").resource.attributes["service.version"]
                )
            elif inc.kind == "instance_leak":
                sibling = self.journeys.sibling(inc.target)
                entities[inc.kind] = str(sibling.resource.attributes["service.instance.id"])
                entities[f"{inc.kind}.instance"] = entities[inc.kind]
        assert self.state.live_started_ns is not None
        self.ledger.drop_live(self.state.live_started_ns, entities)
        self.drops.append(
            {
                "drop_id": self.state.drop_id,
                "sku": self.state.product.sku,
                "live_start": _iso(self.state.live_started_ns),
                "live_end": _iso(self.state.live_started_ns + int(self.settings.drop_live.duration_s * NS)),
            }
        )


# young-generation collections: every this many net container allocations instead of Python's 700
GC_YOUNG_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic GC tuned for telemetry (restored afterwards). Every span allocates dozens of short-lived
    containers, freed by reference counting; at Python's default threshold the collector runs every few spans
    and rescans the spans waiting for export (~15% of a flat-out run's CPU). Objects alive at the start (the
    modules, the settings) are frozen out of the scans."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _iso(t_ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t_ns / NS)) + f".{t_ns // 1_000_000 % 1000:03d}Z"


def run(
    settings: Settings | None = None,
    exporters: Exporters | None = None,
    stop: threading.Event | None = None,
    shard: tuple[int, int] = (0, 1),
) -> RunReport:
    """Simulate drops and export their telemetry; returns what was emitted, exported and dropped.

    `exporters` replaces the OTLP exporters (e.g. in-memory ones); `stop` ends the run early (gracefully:
    the current phase is cut short and everything is flushed). Bound the run with `settings.cycles` or
    `settings.duration_s`, compress it with `settings.time_scale`, and set `settings.flat_out` to generate as
    fast as export allows."""
    settings = settings or Settings()
    stop = stop or threading.Event()
    errors = None
    if exporters is None:
        errors = ExporterErrors.install()
        exporters = otlp_exporters(settings)
    telemetry = Telemetry(settings, exporters, last_error=(lambda: errors.last) if errors else None)
    log.info(
        "generator starting: endpoint=%s seed=%d time_scale=%g cycles=%s duration=%s flat_out=%s services=%d",
        exporters.endpoint,
        settings.seed,
        settings.time_scale,
        settings.cycles,
        settings.duration_s,
        settings.flat_out,
        len(telemetry.services),
    )
    deadline = time.monotonic() + settings.duration_s if settings.duration_s else None
    simulation = Simulation(settings, telemetry, stop, shard)
    try:
        with fewer_collections():
            report = simulation.run(deadline)
    finally:
        telemetry.shutdown()
        if settings.labels_file is not None and shard[0] == 0:
            write_labels(settings.labels_file, simulation.labels())
            log.info("labels written to %s", settings.labels_file)
    report.spans, report.logs = telemetry.snapshot()
    report.metric_points = telemetry.metric_points.snapshot()
    report.backpressure_s = telemetry.backpressure.waited_s
    log_finished(report, "run finished")
    return report
