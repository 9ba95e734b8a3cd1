"""A drop's shared state: phase, inventory race, waiting-room crowd, recent reservation rate."""

from __future__ import annotations

import enum
import threading
from collections import deque

from .catalog import SIZE_WEIGHTS, SIZES, Product
from .clock import WallClock
from .failures import SoldOut


class Phase(enum.Enum):
    PRE_DROP = "PRE_DROP"
    DROP_LIVE = "DROP_LIVE"
    POST_DROP = "POST_DROP"


PHASES: tuple[Phase, ...] = (Phase.PRE_DROP, Phase.DROP_LIVE, Phase.POST_DROP)


def split_inventory(units: int) -> dict[str, int]:
    """Spread `units` over the sizes by the size curve (largest remainders get the leftovers)."""
    total = sum(SIZE_WEIGHTS)
    exact = [units * w / total for w in SIZE_WEIGHTS]
    counts = [int(x) for x in exact]
    leftovers = sorted(range(len(SIZES)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in leftovers[: units - sum(counts)]:
        counts[i] += 1
    return dict(zip(SIZES, counts, strict=True))


class RateMeter:
    """Events per simulated second over the last simulated second."""

    def __init__(self, clock: WallClock) -> None:
        self.clock = clock
        self.window = 1.0
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def hit(self) -> float:
        now = self.clock.mark()
        with self._lock:
            self._events.append(now)
            while self._events and self._events[0] < now - self.window:
                self._events.popleft()
            return float(len(self._events))


class DropState:
    def __init__(self, cycle: int, drop_id: str, product: Product, units: int, clock: WallClock) -> None:
        self.cycle = cycle
        self.drop_id = drop_id
        self.product = product
        self.clock = clock
        self.phase = Phase.PRE_DROP
        self.phase_started = clock.mark()
        self.live_started: float | None = None  # clock mark when DROP_LIVE began
        self.live_started_ns: int | None = None
        self.inventory = split_inventory(units)
        self.initial_units = units
        self.sold = 0
        self.sold_out_after_s: float | None = None
        self.waiting = 0
        self.orders: list[str] = []
        self.entries = 0
        self.reservations = RateMeter(clock)
        self._lock = threading.Lock()

    def enter(self, phase: Phase) -> None:
        self.phase = phase
        self.phase_started = self.clock.mark()
        if phase is Phase.DROP_LIVE:
            self.live_started, self.live_started_ns = self.phase_started, self.clock.now_ns()

    def seconds_into_phase(self) -> float:
        """Simulated seconds since the current phase began."""
        return self.clock.mark() - self.phase_started

    def seconds_since_live(self) -> float | None:
        """Simulated seconds since DROP_LIVE began (None before it): incidents are scheduled on this scale."""
        return None if self.live_started is None else self.clock.mark() - self.live_started

    @property
    def remaining(self) -> int:
        return sum(self.inventory.values())

    def reserve(self, size: str) -> tuple[int, bool]:
        """Take one pair of `size`: (pairs left overall, whether this took the last one). Raises SoldOut."""
        with self._lock:
            left = self.inventory.get(size, 0)
            if left <= 0:
                what = "every size" if self.remaining == 0 else f"size {size}"
                raise SoldOut(f"{self.product.sku} sold out in {what} (drop {self.drop_id})")
            self.inventory[size] = left - 1
            self.sold += 1
            remaining = self.remaining
            last = remaining == 0 and self.sold_out_after_s is None
            if last:
                self.sold_out_after_s = self.seconds_into_phase()
            return remaining, last

    def release(self, size: str) -> None:
        with self._lock:
            self.inventory[size] = self.inventory.get(size, 0) + 1
            self.sold -= 1

    def join_queue(self) -> None:
        with self._lock:
            self.waiting += 1

    def leave_queue(self) -> None:
        with self._lock:
            self.waiting = max(0, self.waiting - 1)

    def add_order(self, order_id: str) -> None:
        with self._lock:
            self.orders.append(order_id)
