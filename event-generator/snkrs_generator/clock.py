"""The simulation's clock. `WallClock` is real time compressed by the time scale (live traffic); `SimClock`
is a simulated clock a single-threaded loop moves forward, so a seed reproduces a run exactly (same traces,
same span counts, same incidents) and a drop takes only the CPU time its telemetry costs.

`mark()` is simulated seconds on a monotonic scale (differences are what count); `now_ns()` is the epoch
time stamped on spans."""

from __future__ import annotations

import time

NS = 1_000_000_000


class WallClock:
    simulated = False

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale

    def mark(self) -> float:
        return time.monotonic() * self.time_scale

    def now_ns(self) -> int:
        return time.time_ns()


class SimClock:
    simulated = True

    def __init__(self, start_ns: int) -> None:
        self.t_ns = start_ns

    def mark(self) -> float:
        return self.t_ns / NS

    def now_ns(self) -> int:
        return self.t_ns

    def set(self, t_ns: int) -> None:
        self.t_ns = max(self.t_ns, t_ns)
