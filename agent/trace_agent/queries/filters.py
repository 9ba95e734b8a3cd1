"""The WHERE clauses the tools' queries share: a time window as query parameters, substring matches, and the
service / status / span-name / own-service filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..timewindow import Window

Query = tuple[str, dict[str, Any]]
_TIME_TYPE = "DateTime64(6, 'UTC')"


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def window_filter(window: Window, prefix: str = "", column: str = "Timestamp") -> tuple[str, dict[str, Any]]:
    """`column` in [start, end) as two parameters named `<prefix>start` and `<prefix>end`."""
    start, end = f"{prefix}start", f"{prefix}end"
    sql = f"{column} >= {{{start}:{_TIME_TYPE}}} AND {column} < {{{end}:{_TIME_TYPE}}}"
    return sql, {start: _ts(window.start), end: _ts(window.end)}


def contains(column: str, param: str) -> str:
    return f"positionCaseInsensitiveUTF8({column}, {{{param}:String}}) > 0"


def span_filters(
    where: str,
    params: dict[str, Any],
    service: str | None,
    status: str | None,
    exclude: str | None,
    span_name: str | None = None,
) -> str:
    """`where` narrowed to a service (substring), a status, not the agent's own service, a span name
    (substring); each given value becomes a parameter in `params`."""
    if service:
        where += f" AND {contains('ServiceName', 'service')}"
        params["service"] = service
    if status:
        where += " AND StatusCode = {status:String}"
        params["status"] = status
    if exclude:
        where += " AND ServiceName != {exclude:String}"
        params["exclude"] = exclude
    if span_name:
        where += f" AND {contains('SpanName', 'span_name')}"
        params["span_name"] = span_name
    return where


def spans_where(
    window: Window,
    service: str | None = None,
    status: str | None = None,
    exclude: str | None = None,
    span_name: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The window and the span filters (see `span_filters`): the WHERE of most tools."""
    where, params = window_filter(window)
    return span_filters(where, params, service, status, exclude, span_name), params


def two_windows(current: Window, baseline: Window) -> tuple[str, str, dict[str, Any]]:
    """The current and the baseline window's conditions (parameters `cur_*` and `base_*`), for queries that
    count both in one scan."""
    cur_where, params = window_filter(current, "cur_")
    base_where, base_params = window_filter(baseline, "base_")
    return cur_where, base_where, params | base_params
