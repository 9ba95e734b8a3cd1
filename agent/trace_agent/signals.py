"""The arithmetic behind metric_series and span_deltas (pure): where a bucketed series departs from its
baseline, and which attribute values a subset of spans over-represents."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MIN_RELATIVE_CHANGE = 0.25  # a departure is at least this share of the baseline's level…
MAD_FACTOR = 4.0  # …and this many median absolute deviations of the baseline buckets
_COUNTED = ("attribute", "value", "subset_spans", "rest_spans")


@dataclass(frozen=True)
class Change:
    """A series' first sustained departure from its leading baseline."""

    index: int | None  # the first departed bucket; None when the series never departs
    baseline: float  # the median of the leading buckets
    peak: float  # the value furthest from the baseline
    ratio: float  # peak / baseline (peak itself when the baseline is 0)


def change_point(values: Sequence[float]) -> Change:
    """The baseline is the median of the first quarter of the buckets (at least 3); a bucket departs when
    it differs from the baseline by more than both MIN_RELATIVE_CHANGE of the baseline and MAD_FACTOR
    median absolute deviations; the change is the first departed bucket whose next bucket (if any) departs
    too, so a lone spike is not a change but a step, a ramp or a lasting spike is."""
    if not values:
        return Change(None, 0.0, 0.0, 0.0)
    lead = list(values[: max(3, len(values) // 4)])
    baseline = statistics.median(lead)
    mad = statistics.median(abs(v - baseline) for v in lead)
    threshold = max(MIN_RELATIVE_CHANGE * abs(baseline), MAD_FACTOR * mad, 1e-12)
    peak = max(values, key=lambda v: abs(v - baseline))
    ratio = peak / baseline if baseline else peak
    departed = [abs(v - baseline) > threshold for v in values]
    for i, gone in enumerate(departed):
        if i < len(lead) // 2:  # the baseline's own buckets cannot be the change
            continue
        if gone and (i + 1 == len(values) or departed[i + 1]):
            return Change(i, baseline, peak, ratio)
    return Change(None, baseline, peak, ratio)


@dataclass(frozen=True)
class Delta:
    attribute: str
    value: str
    subset_spans: int
    rest_spans: int
    subset_share: float  # of the subset's spans, the share with this value
    rest_share: float  # of the other spans, the share with this value
    delta: float  # subset_share - rest_share: how much the subset over-represents the value
    lift: float  # subset_share / rest_share (subset_share / (0.5 / rest_total) when the rest has none)
    extra: dict[str, Any]


def rank_deltas(
    rows: Sequence[dict[str, Any]], subset_total: int, rest_total: int, limit: int, min_delta: float = 0.02
) -> list[Delta]:
    """Attribute values ranked by how much more often they occur in the subset than in the rest (rows carry
    attribute, value, subset_spans, rest_spans and anything else, kept as `extra`). Values the subset does
    not over-represent by at least `min_delta` are left out."""
    if subset_total <= 0:
        return []
    out = []
    for row in rows:
        subset, rest = int(row["subset_spans"]), int(row["rest_spans"])
        subset_share = subset / subset_total
        rest_share = rest / rest_total if rest_total else 0.0
        delta = subset_share - rest_share
        if delta < min_delta:
            continue
        floor = 0.5 / rest_total if rest_total else 1.0
        lift = subset_share / max(rest_share, floor)
        extra = {k: v for k, v in row.items() if k not in _COUNTED}
        out.append(
            Delta(
                str(row["attribute"]),
                str(row["value"]),
                subset,
                rest,
                round(subset_share, 4),
                round(rest_share, 4),
                round(delta, 4),
                round(lift, 2),
                extra,
            )
        )
    out.sort(key=lambda d: (-d.delta, -d.lift, d.attribute, d.value))
    return out[:limit]
