"""A phase's shoppers, three ways: on the simulated clock (one thread, each shopper's next request an event
in time order), flat out (one thread, the shoppers taking turns) or in real time (a thread per shopper,
thinking between requests). Every way derives each shopper's seeded streams alike and survives a failed
request the same way."""

from __future__ import annotations

import heapq
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field

from .clock import NS, SimClock, WallClock
from .journeys import Journeys
from .reports import RunReport
from .services.common import Shopper
from .settings import PhaseSpec, Settings
from .telemetry import Telemetry

log = logging.getLogger("snkrs_generator")


@dataclass
class Shoppers:
    settings: Settings
    telemetry: Telemetry
    journeys: Journeys
    clock: WallClock | SimClock
    stop: threading.Event
    report: RunReport
    _errors_lock: threading.Lock = field(default_factory=threading.Lock)

    def streams(self, seeds: random.Random) -> tuple[random.Random, random.Random]:
        """A shopper's behaviour stream and, derived from it, its id stream."""
        rng = random.Random(seeds.getrandbits(64))
        return rng, random.Random(rng.getrandbits(64))

    def step(self, rng: random.Random, shopper: Shopper, index: int) -> float:
        """One request of a shopper (its seconds); a request that fails is counted and logged, and the shopper
        is done (the caller starts a new one)."""
        try:
            return self.journeys.step(rng, shopper)
        except Exception:
            with self._errors_lock:
                self.report.worker_errors += 1
            log.exception("shopper %d failed a request (continuing with a new shopper)", index)
            shopper.done = True
            return 0.0

    def think(self, rng: random.Random, polling: bool, mu: float) -> float:
        """Seconds until a shopper's next request: a waiting-room poll, or a think time."""
        return self.settings.waiting_room_poll_s if polling else rng.lognormvariate(mu, 0.5)

    def simulated(
        self, spec: PhaseSpec, live: bool, workers: int, seeds: random.Random, requests: list[int]
    ) -> None:
        """The phase on the simulated clock, one thread: each shopper's next request is an event, taken in
        time order; the clock jumps from one to the next (no sleeping, and the same seed gives the same
        run)."""
        tel, journeys, clock = self.telemetry, self.journeys, self.clock
        assert isinstance(clock, SimClock)
        begin = clock.now_ns()
        end = begin + int(spec.duration_s * NS)
        mu = math.log(spec.think_s)
        shoppers, events = [], []
        for i in range(workers):
            rng, ids = self.streams(seeds)
            shoppers.append([rng, ids, journeys.new_shopper(rng)])
            first = 0.0 if live else rng.uniform(0, spec.think_s)
            events.append((begin + int(first * NS), i))
        heapq.heapify(events)
        while events and not self.stop.is_set():
            t_ns, i = heapq.heappop(events)
            if t_ns >= end:
                break
            clock.set(t_ns)
            tel.backpressure.wait(self.stop)
            rng, ids, shopper = shoppers[i]
            tel.ids.bind(ids)
            took = self.step(rng, shopper, i)
            requests[i] += 1
            polling = shopper.joined and not shopper.admitted
            if shopper.done:
                shoppers[i][2] = journeys.new_shopper(rng)
            think = self.think(rng, polling, mu)  # after the new shopper: the seeded streams' order
            heapq.heappush(events, (t_ns + int((took + think) * NS), i))
        clock.set(end)

    def flat_out(self, ends: float, workers: int, seeds: random.Random, requests: list[int]) -> None:
        """The phase flat out: no think time, so the shoppers take turns in this one thread, a request each,
        until the phase's wall-clock end (threads would only contend for the GIL and the SDK's locks). Each
        shopper keeps its own seeded streams, derived as the threaded shoppers derive theirs."""
        tel, journeys = self.telemetry, self.journeys
        shoppers = []
        for _ in range(workers):
            rng, ids = self.streams(seeds)
            shoppers.append([rng, ids, journeys.new_shopper(rng)])
        stop, backpressure, bind, step = self.stop, tel.backpressure, tel.ids.bind, self.step
        while not stop.is_set() and time.monotonic() < ends:
            for i, turn in enumerate(shoppers):
                backpressure.wait(stop)
                if stop.is_set():
                    break
                rng, ids, shopper = turn
                bind(ids)
                step(rng, shopper, i)
                requests[i] += 1
                if shopper.done:
                    turn[2] = journeys.new_shopper(rng)

    def threaded(
        self,
        spec: PhaseSpec,
        live: bool,
        name: str,
        ends: float,
        workers: int,
        seeds: random.Random,
        requests: list[int],
    ) -> None:
        """The phase in real time: a thread per shopper until the phase's wall-clock end (or a stop)."""
        phase_stop = threading.Event()
        threads = [
            threading.Thread(
                target=self.shopper,
                name=f"shopper-{name}-{i}",
                daemon=True,
                args=(phase_stop, random.Random(seeds.getrandbits(64)), spec, live, requests, i),
            )
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        while not self.stop.is_set() and (remaining := ends - time.monotonic()) > 0:
            self.stop.wait(remaining)
        phase_stop.set()
        for thread in threads:
            thread.join()

    def shopper(
        self,
        phase_stop: threading.Event,
        rng: random.Random,
        spec: PhaseSpec,
        live: bool,
        requests: list[int],
        index: int,
    ) -> None:
        s, tel, journeys = self.settings, self.telemetry, self.journeys
        tel.ids.bind(random.Random(rng.getrandbits(64)))
        mu = math.log(spec.think_s)
        shopper = journeys.new_shopper(rng)
        if not s.flat_out and not live:  # the drop starts with everyone at once
            phase_stop.wait(rng.uniform(0, spec.think_s) / s.time_scale)
        while not phase_stop.is_set():
            tel.backpressure.wait(phase_stop)
            if phase_stop.is_set():
                break
            took = self.step(rng, shopper, index)
            requests[index] += 1
            polling = shopper.joined and not shopper.admitted
            if shopper.done:
                shopper = journeys.new_shopper(rng)
            if s.flat_out:
                continue
            phase_stop.wait((took + self.think(rng, polling, mu)) / s.time_scale)
