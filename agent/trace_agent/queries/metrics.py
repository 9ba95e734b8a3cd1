"""Queries over the metric tables (<prefix>gauge, <prefix>sum, <prefix>histogram): the metric names, and one
metric bucketed per series."""

from __future__ import annotations

from typing import Any

from ..timewindow import Window
from .filters import Query, contains, window_filter

METRIC_TABLES = ("gauge", "sum", "histogram")


def metric_names(prefix: str, window: Window | None = None) -> Query:
    """Every metric name with its kind, unit, description, services and points (in `window` if given)."""
    parts = []
    params: dict[str, Any] = {}
    where = "1"
    if window is not None:
        where, params = window_filter(window, column="TimeUnix")
    for kind in METRIC_TABLES:
        parts.append(
            f"SELECT MetricName AS metric, '{kind}' AS kind, any(MetricUnit) AS unit, "
            f"any(MetricDescription) AS description, arraySort(groupUniqArray(20)(ServiceName)) AS services, "
            f"count() AS points FROM {prefix}{kind} WHERE {where} GROUP BY MetricName"
        )
    return "\nUNION ALL\n".join(parts) + "\nORDER BY metric, kind", params


def metric_series(
    prefix: str, window: Window, metric: str, group_by: str, service: str | None, bucket_s: int
) -> Query:
    """One metric bucketed over the window, per series: gauges and sums by their value (a counter's is its
    running total), histograms by their mean (Sum / Count of each point). group_by is 'service', 'instance'
    (service.instance.id) or any attribute key (the point's attributes first, then the resource's)."""
    where, params = window_filter(window, column="TimeUnix")
    where += " AND MetricName = {metric:String}"
    params["metric"] = metric
    if service:
        where += f" AND {contains('ServiceName', 'service')}"
        params["service"] = service
    if group_by == "service":
        series = "ServiceName"
    elif group_by == "instance":
        series = "concat(ServiceName, ' ', ResourceAttributes['service.instance.id'])"
    else:
        series = (
            "concat(ServiceName, ' ', if(mapContains(Attributes, {group:String}), "
            "Attributes[{group:String}], ResourceAttributes[{group:String}]))"
        )
        params["group"] = group_by
    values = {"gauge": "Value", "sum": "Value", "histogram": "if(Count > 0, Sum / Count, 0)"}
    parts = [
        f"SELECT {series} AS series, TimeUnix, {values[kind]} AS value FROM {prefix}{kind} WHERE {where}"
        for kind in METRIC_TABLES
    ]
    sql = f"""
SELECT series, toStartOfInterval(TimeUnix, toIntervalSecond({int(bucket_s)})) AS bucket, avg(value) AS value,
       count() AS points
FROM
(
    {" UNION ALL ".join(parts)}
)
GROUP BY series, bucket
ORDER BY series, bucket
LIMIT 20000"""
    return sql, params
