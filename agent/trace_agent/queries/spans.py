"""Queries over the spans table as a whole: per service, per attribute value, two windows side by side, the
caller → callee edges, and what sets a subset of spans (errors, slow ones) apart."""

from __future__ import annotations

from ..timewindow import Window
from .filters import Query, contains, span_filters, spans_where, two_windows


def list_services(
    table: str, window: Window, service: str | None, sort_by: str, limit: int, exclude: str | None = None
) -> Query:
    where, params = spans_where(window, service, exclude=exclude)
    sql = f"""
SELECT service, spans, errors, round(errors / spans, 4) AS error_rate,
       round(q[1] / 1e6, 2) AS p50_ms, round(q[2] / 1e6, 2) AS p95_ms, round(q[3] / 1e6, 2) AS p99_ms
FROM
(
    SELECT ServiceName AS service, count() AS spans, countIf(StatusCode = 'Error') AS errors,
           quantilesExact(0.5, 0.95, 0.99)(Duration) AS q
    FROM {table}
    WHERE {where}
    GROUP BY ServiceName
)
ORDER BY {sort_by} DESC, service
LIMIT {int(limit) + 1}"""
    return sql, params


def find_slow_spans(
    table: str,
    window: Window,
    match: str | None,
    service: str | None,
    span_name: str | None,
    min_duration_ns: int,
    status: str | None,
    limit: int,
    exclude: str | None = None,
) -> Query:
    where, params = spans_where(window, service, status, exclude, span_name)
    if match:
        where += f" AND ({contains('ServiceName', 'match')} OR {contains('SpanName', 'match')})"
        params["match"] = match
    if min_duration_ns > 0:
        where += " AND Duration >= {min_duration:UInt64}"
        params["min_duration"] = int(min_duration_ns)
    sql = f"""
SELECT Timestamp AS time, TraceId AS trace_id, SpanId AS span_id, ServiceName AS service, SpanName AS span,
       round(Duration / 1e6, 2) AS duration_ms, StatusCode AS status, StatusMessage AS status_message
FROM {table}
WHERE {where}
ORDER BY Duration DESC, TraceId, SpanId
LIMIT {int(limit) + 1}"""
    return sql, params


def error_summary(
    table: str, window: Window, service: str | None, examples: int, limit: int, exclude: str | None = None
) -> Query:
    where, params = spans_where(window, service, exclude=exclude)
    where += " AND StatusCode = 'Error'"
    sql = f"""
SELECT ServiceName AS service, substring(StatusMessage, 1, 200) AS status_message, count() AS errors,
       groupUniqArray({int(examples)})(TraceId) AS example_trace_ids, max(Timestamp) AS last_seen,
       min(Timestamp) AS first_seen, uniqExact(TraceId) AS traces
FROM {table}
WHERE {where}
GROUP BY service, status_message
ORDER BY errors DESC, service, status_message
LIMIT {int(limit) + 1}"""
    return sql, params


def attribute_breakdown(
    table: str,
    window: Window,
    attribute: str,
    service: str | None,
    span_name: str | None,
    limit: int,
    exclude: str | None = None,
) -> Query:
    """Spans grouped by one attribute (resource attributes first, then span attributes)."""
    where, params = spans_where(window, service, exclude=exclude, span_name=span_name)
    params["attribute"] = attribute
    value = (
        "if(mapContains(ResourceAttributes, {attribute:String}), ResourceAttributes[{attribute:String}], "
        "SpanAttributes[{attribute:String}])"
    )
    sql = f"""
SELECT {value} AS value, count() AS spans, arraySort(groupUniqArray(5)(ServiceName)) AS services,
       countIf(StatusCode = 'Error') AS errors, round(errors / spans, 4) AS error_rate,
       round(quantileExact(0.5)(Duration) / 1e6, 2) AS p50_ms,
       round(quantileExact(0.95)(Duration) / 1e6, 2) AS p95_ms,
       round(max(Duration) / 1e6, 2) AS max_ms,
       minIf(Timestamp, StatusCode = 'Error' OR Duration > 1000000000) AS first_bad,
       maxIf(Timestamp, StatusCode = 'Error' OR Duration > 1000000000) AS last_bad,
       anyIf(TraceId, StatusCode = 'Error') AS example_error_trace,
       argMax(TraceId, Duration) AS slowest_trace
FROM {table}
WHERE {where}
  AND (mapContains(ResourceAttributes, {{attribute:String}})
       OR mapContains(SpanAttributes, {{attribute:String}}))
GROUP BY value
ORDER BY errors DESC, p95_ms DESC, value
LIMIT {int(limit) + 1}"""
    return sql, params


def compare_windows(
    table: str, current: Window, baseline: Window, service: str | None, exclude: str | None = None
) -> Query:
    cur_where, base_where, params = two_windows(current, baseline)
    where = span_filters(f"(({cur_where}) OR ({base_where}))", params, service, None, exclude)
    sql = f"""
WITH ({cur_where}) AS in_cur, ({base_where}) AS in_base
SELECT ServiceName AS service,
       countIf(in_base) AS spans_before, countIf(in_cur) AS spans_now,
       countIf(in_base AND StatusCode = 'Error') AS errors_before,
       countIf(in_cur AND StatusCode = 'Error') AS errors_now,
       round(quantileExactIf(0.95)(Duration, in_base) / 1e6, 2) AS p95_ms_before,
       round(quantileExactIf(0.95)(Duration, in_cur) / 1e6, 2) AS p95_ms_now
FROM {table}
WHERE {where}
GROUP BY service
ORDER BY service"""
    return sql, params


# The callee of a CLIENT or PRODUCER span: the peer service, else the topic it sends to, else the host it
# calls (a database, a provider, another service: HTTP clients put the callee's name in server.address).
_CALLEE = (
    "multiIf(SpanAttributes['peer.service'] != '', SpanAttributes['peer.service'], "
    "SpanAttributes['messaging.destination.name'] != '', "
    "concat('topic:', SpanAttributes['messaging.destination.name']), "
    "SpanAttributes['server.address'] != '', SpanAttributes['server.address'], "
    "SpanAttributes['db.system.name'])"
)
_EDGE_KIND = (
    "multiIf(SpanAttributes['messaging.system'] != '', 'messaging', SpanAttributes['db.system.name'] != '', "
    "'db', 'http')"
)


def service_map(
    table: str, window: Window, service: str | None, slow_ns: int, limit: int, exclude: str | None = None
) -> Query:
    """caller → callee edges: every CLIENT/PRODUCER span is a call from its service to its callee (see
    _CALLEE), every CONSUMER span a delivery from its topic to its service; measured as the caller saw it."""
    where, params = spans_where(window, exclude=exclude)
    params["slow_ns"] = int(slow_ns)
    having = ""
    if service:
        having = f"WHERE {contains('caller', 'service')} OR {contains('callee', 'service')}"
        params["service"] = service
    sql = f"""
SELECT caller, callee, kind, count() AS calls, countIf(StatusCode = 'Error') AS errors,
       round(errors / calls, 4) AS error_rate,
       round(quantileExact(0.5)(Duration) / 1e6, 2) AS p50_ms,
       round(quantileExact(0.95)(Duration) / 1e6, 2) AS p95_ms,
       round(max(Duration) / 1e6, 2) AS max_ms,
       countIf(Duration > {{slow_ns:UInt64}}) AS slow_calls,
       minIf(Timestamp, StatusCode = 'Error') AS first_error,
       minIf(Timestamp, Duration > {{slow_ns:UInt64}}) AS first_slow,
       argMax(TraceId, Duration) AS slowest_trace_id,
       anyIf(TraceId, StatusCode = 'Error') AS error_trace_id
FROM
(
    SELECT ServiceName AS caller, {_CALLEE} AS callee, {_EDGE_KIND} AS kind, Duration, StatusCode, Timestamp,
           TraceId
    FROM {table}
    WHERE {where} AND SpanKind IN ('Client', 'Producer')
    UNION ALL
    SELECT concat('topic:', SpanAttributes['messaging.destination.name']) AS caller, ServiceName AS callee,
           'messaging' AS kind, Duration, StatusCode, Timestamp, TraceId
    FROM {table}
    WHERE {where} AND SpanKind = 'Consumer' AND SpanAttributes['messaging.destination.name'] != ''
)
{having}
GROUP BY caller, callee, kind
HAVING callee != ''
ORDER BY errors DESC, slow_calls DESC, calls DESC, caller, callee
LIMIT {int(limit) + 1}"""
    return sql, params


def _subset(kind: str) -> str:
    if kind == "errors":
        return "StatusCode = 'Error'"
    return "Duration > {slow_ns:UInt64}"


def span_subset_sizes(
    table: str, window: Window, kind: str, slow_ns: int, service: str | None, exclude: str | None = None
) -> Query:
    where, params = spans_where(window, service, exclude=exclude)
    params["slow_ns"] = int(slow_ns)
    sql = f"SELECT countIf({_subset(kind)}) AS subset, count() - subset AS rest FROM {table} WHERE {where}"
    return sql, params


def span_deltas(
    table: str, window: Window, kind: str, slow_ns: int, service: str | None, exclude: str | None = None
) -> Query:
    """Every (attribute, value) of the spans in the window — service.name, span.name, span.kind, status and
    every resource and span attribute — counted in the subset (error spans, or spans over slow_ns) and in
    the rest; values seen on fewer than 2 subset spans are left out."""
    where, params = spans_where(window, service, exclude=exclude)
    params["slow_ns"] = int(slow_ns)
    sql = f"""
SELECT kv.1 AS attribute, kv.2 AS value, countIf(hit) AS subset_spans, countIf(NOT hit) AS rest_spans,
       minIf(Timestamp, hit) AS first_seen, maxIf(Timestamp, hit) AS last_seen,
       arraySort(groupUniqArrayIf(3)(TraceId, hit)) AS example_trace_ids
FROM
(
    SELECT Timestamp, TraceId, {_subset(kind)} AS hit,
           arrayConcat([('service.name', ServiceName), ('span.name', SpanName), ('span.kind', SpanKind)],
                       arrayFilter(kv -> kv.1 != 'service.name',
                                   arrayZip(mapKeys(ResourceAttributes), mapValues(ResourceAttributes))),
                       arrayZip(mapKeys(SpanAttributes), mapValues(SpanAttributes))) AS kvs
    FROM {table}
    WHERE {where}
)
ARRAY JOIN kvs AS kv
GROUP BY attribute, value
HAVING subset_spans >= 2
ORDER BY subset_spans DESC
LIMIT 5000"""
    return sql, params
