"""compare_windows' arithmetic (pure): per-service rates, error rates, p95 and how much each changed."""

from __future__ import annotations

from typing import Any


def _pct(before: float, now: float) -> float | None:
    return None if before == 0 else round((now - before) / before * 100, 1)


def compare_row(row: dict[str, Any], minutes: float) -> dict[str, Any]:
    """Rates, error rates and changes for one service; `change_score` ranks 1 pp of error rate like a 10 %
    change of latency or traffic, and a service present in one window only above all."""
    before, now = row["spans_before"], row["spans_now"]
    err_before = round(row["errors_before"] / before, 4) if before else 0.0
    err_now = round(row["errors_now"] / now, 4) if now else 0.0
    p95_before = row["p95_ms_before"] if before else None
    p95_now = row["p95_ms_now"] if now else None
    out = {
        "service": row["service"],
        "spans_per_min_before": round(before / minutes, 2),
        "spans_per_min_now": round(now / minutes, 2),
        "rate_change_pct": _pct(before, now),
        "error_rate_before": err_before,
        "error_rate_now": err_now,
        "error_rate_change_pp": round((err_now - err_before) * 100, 2),
        "p95_ms_before": p95_before,
        "p95_ms_now": p95_now,
        "p95_change_pct": _pct(p95_before or 0, p95_now or 0) if p95_before and p95_now is not None else None,
    }
    if not before or not now:
        score = 1e9
    else:
        score = max(
            abs(out["error_rate_change_pp"]),
            abs(out["rate_change_pct"] or 0) / 10,
            abs(out["p95_change_pct"] or 0) / 10,
        )
    out["change_score"] = score
    return out


def describe_change(row: dict[str, Any]) -> str:
    name = row["service"]
    if not row["spans_per_min_before"]:
        return f"{name}: new in the current window ({row['spans_per_min_now']} spans/min)"
    if not row["spans_per_min_now"]:
        return f"{name}: no spans in the current window (was {row['spans_per_min_before']} spans/min)"
    parts = []
    if row["error_rate_change_pp"]:
        parts.append(
            f"error rate {row['error_rate_before'] * 100:.2f}% → {row['error_rate_now'] * 100:.2f}% "
            f"({row['error_rate_change_pp']:+.2f} pp)"
        )
    if row["p95_change_pct"]:
        parts.append(f"p95 {row['p95_ms_before']} → {row['p95_ms_now']} ms ({row['p95_change_pct']:+.1f}%)")
    if row["rate_change_pct"]:
        parts.append(
            f"traffic {row['spans_per_min_before']} → {row['spans_per_min_now']} spans/min "
            f"({row['rate_change_pct']:+.1f}%)"
        )
    return f"{name}: " + ("; ".join(parts) if parts else "no change")
