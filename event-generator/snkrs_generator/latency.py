"""Log-normal latencies from a p50/p99 pair, stretched by load."""

from __future__ import annotations

import math
import random

from .settings import Latency

Z99 = 2.326347874  # the standard normal's 99th percentile


def lognormal_params(p50_s: float, p99_s: float) -> tuple[float, float]:
    """mu and sigma of the log-normal whose median is p50_s and 99th percentile p99_s."""
    mu = math.log(p50_s)
    sigma = (math.log(p99_s) - mu) / Z99
    return mu, sigma


class LatencyModel:
    __slots__ = ("mu", "sigma")

    def __init__(self, latency: Latency) -> None:
        self.mu, self.sigma = lognormal_params(latency.p50_ms / 1000.0, latency.p99_ms / 1000.0)

    def sample(self, rng: random.Random, load: float = 1.0) -> float:
        """Seconds; `load` >= 1 multiplies the draw (1 = unloaded)."""
        return rng.lognormvariate(self.mu, self.sigma) * load


def load_factor(workers: int, baseline_workers: int, sensitivity: float) -> float:
    """Latency multiplier for `workers` concurrent shoppers relative to the quiet baseline."""
    extra = max(0.0, workers / max(1, baseline_workers) - 1.0)
    return 1.0 + sensitivity * extra
