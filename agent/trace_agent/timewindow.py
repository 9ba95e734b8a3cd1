"""Time windows: `15m`, `1h`, `2d` relative to now, or explicit ISO-8601 bounds (all UTC)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day|w)s?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hr": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
}
MAX_WINDOW = timedelta(days=31)


class WindowError(ValueError):
    pass


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text or "")
    if not match:
        raise WindowError(f"not a duration: {text!r} (use e.g. 15m, 1h, 6h, 2d)")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise WindowError(f"the duration must be positive: {text!r}")
    if seconds > MAX_WINDOW.total_seconds():
        raise WindowError(f"the duration is longer than {MAX_WINDOW.days} days: {text!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WindowError(f"not an ISO-8601 time: {text!r} (use e.g. 2026-11-22T10:00:00Z)") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def label(self) -> str:
        return format_duration(self.length)

    def as_dict(self) -> dict[str, str]:
        return {"start": iso(self.start), "end": iso(self.end)}

    def shifted(self, delta: timedelta) -> Window:
        return Window(self.start - delta, self.end - delta)


def resolve_window(
    window: str | None, start: str | None, end: str | None, *, default: str, now: datetime
) -> Window:
    """`start`/`end` win over `window`; a missing end is now, a missing start is end − window."""
    end_at = parse_time(end) if end else now
    if start:
        start_at = parse_time(start)
        if window and not end:
            end_at = start_at + parse_duration(window)
    else:
        start_at = end_at - parse_duration(window or default)
    if start_at >= end_at:
        raise WindowError(f"the window is empty: start {iso(start_at)} is not before end {iso(end_at)}")
    if end_at - start_at > MAX_WINDOW:
        raise WindowError(f"the window is longer than {MAX_WINDOW.days} days")
    return Window(start_at, end_at)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def utcnow() -> datetime:
    return datetime.now(UTC)
