"""The SQL each tool runs, as pure builders: (sql, parameters). The benchmark runs the same text bare."""

from __future__ import annotations

from typing import Any

from .timewindow import Window

Query = tuple[str, dict[str, Any]]
_TIME_TYPE = "DateTime64(6, 'UTC')"


def _ts(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def window_filter(window: Window, prefix: str = "") -> tuple[str, dict[str, Any]]:
    start, end = f"{prefix}start", f"{prefix}end"
    sql = f"Timestamp >= {{{start}:{_TIME_TYPE}}} AND Timestamp < {{{end}:{_TIME_TYPE}}}"
    return sql, {start: _ts(window.start), end: _ts(window.end)}


def _contains(column: str, param: str) -> str:
    return f"positionCaseInsensitiveUTF8({column}, {{{param}:String}}) > 0"


def list_services(
    table: str, window: Window, service: str | None, sort_by: str, limit: int, exclude: str | None = None
) -> Query:
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
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
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
    if match:
        where += f" AND ({_contains('ServiceName', 'match')} OR {_contains('SpanName', 'match')})"
        params["match"] = match
    if span_name:
        where += f" AND {_contains('SpanName', 'span_name')}"
        params["span_name"] = span_name
    if min_duration_ns > 0:
        where += " AND Duration >= {min_duration:UInt64}"
        params["min_duration"] = int(min_duration_ns)
    if status:
        where += " AND StatusCode = {status:String}"
        params["status"] = status
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
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
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


# Numbers, hex ids and ids like ord-1a2b… become <n> / <id>, so log lines of one kind share one template.
_TEMPLATE = (
    "replaceRegexpAll(replaceRegexpAll(replaceRegexpAll(substring(Body, 1, 300), "
    "'\\\\b[a-z]+-[0-9a-f]{8,}\\\\b', '<id>'), '\\\\b[0-9a-f]{16,}\\\\b', '<id>'), "
    "'[0-9]+(\\\\.[0-9]+)?', '<n>')"
)


def log_summary(
    table: str,
    window: Window,
    service: str | None,
    min_severity: int,
    match: str | None,
    examples: int,
    limit: int,
    exclude: str | None = None,
) -> Query:
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
    where += " AND SeverityNumber >= {min_severity:UInt8}"
    params["min_severity"] = int(min_severity)
    if match:
        where += f" AND {_contains('Body', 'match')}"
        params["match"] = match
    sql = f"""
SELECT ServiceName AS service, SeverityText AS severity, {_TEMPLATE} AS template, count() AS records,
       uniqExact(TraceId) AS traces, min(Timestamp) AS first_seen, max(Timestamp) AS last_seen,
       groupUniqArray({int(examples)})(TraceId) AS example_trace_ids,
       any(substring(Body, 1, 300)) AS example
FROM {table}
WHERE {where}
GROUP BY service, severity, template
ORDER BY records DESC, service, template
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
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
    params["attribute"] = attribute
    if span_name:
        where += f" AND {_contains('SpanName', 'span_name')}"
        params["span_name"] = span_name
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


def _one_trace(table: str, lookup_table: str, trace_id: str, max_spans: int, columns: str) -> Query:
    """One trace's spans (`columns`, then total_spans), at most max_spans + 1: the lookup table's (Start, End)
    for the trace bounds the scan of the spans table to its partitions."""
    sql = f"""
WITH (SELECT (min(Start), max(End)) FROM {lookup_table} WHERE TraceId = {{trace_id:String}}) AS bounds
SELECT {columns}, count() OVER () AS total_spans
FROM {table}
WHERE TraceId = {{trace_id:String}}
  AND Timestamp >= bounds.1 AND toDateTime(Timestamp) <= bounds.2
ORDER BY Timestamp, SpanId
LIMIT {int(max_spans) + 1}"""
    return sql, {"trace_id": trace_id}


def trace_spans(table: str, lookup_table: str, trace_id: str, max_spans: int) -> Query:
    """One trace's spans for its tree."""
    columns = (
        "Timestamp, SpanId, ParentSpanId, ServiceName, SpanName, SpanKind, Duration, StatusCode, "
        "StatusMessage,\n       SpanAttributes"
    )
    return _one_trace(table, lookup_table, trace_id, max_spans, columns)


def vector_literal(vector: list[float]) -> str:
    # The vector goes into the SQL text, not a URL parameter: 384 floats would make a long URL.
    return "CAST([" + ",".join(f"{v:.7g}" for v in vector) + "] AS Array(Float32))"


def _span_filters(
    where: str, params: dict[str, Any], service: str | None, status: str | None, exclude: str | None
) -> str:
    if service:
        where += f" AND {_contains('ServiceName', 'service')}"
        params["service"] = service
    if status:
        where += " AND StatusCode = {status:String}"
        params["status"] = status
    if exclude:
        where += " AND ServiceName != {exclude:String}"
        params["exclude"] = exclude
    return where


def nearest_spans(table: str, window: Window, vector_sql: str, exclude: str | None, fetch: int) -> Query:
    """The k nearest spans by the vector index: ClickHouse rewrites only `ORDER BY <distance> LIMIT k` (k ≤
    max_limit_for_vector_search_queries) into an HNSW search; parts without the index are searched exactly.
    Only the window (and the agent's own service) filter here: a narrow filter after the index would
    leave too few rows, so service/status filters take the exact path instead."""
    where, params = window_filter(window)
    where = _span_filters(where, params, None, None, exclude)
    sql = f"""
SELECT EmbeddingText AS text, cosineDistance(Embedding, {vector_sql}) AS distance
FROM {table}
WHERE {where}
ORDER BY cosineDistance(Embedding, {vector_sql})
LIMIT {int(fetch)}"""
    return sql, params


_KIND_COLUMNS = """count() AS spans, arraySort(groupUniqArray(5)(ServiceName)) AS services,
       arraySort(groupUniqArray(3)(StatusCode)) AS statuses,
       round(quantileExact(0.5)(Duration) / 1e6, 2) AS p50_ms,
       min(Timestamp) AS first_seen, max(Timestamp) AS last_seen,
       groupUniqArray({examples})(TraceId) AS example_trace_ids"""


def semantic_kinds(
    table: str,
    window: Window,
    vector_sql: str,
    service: str | None,
    status: str | None,
    exclude: str | None,
    limit: int,
    examples: int,
    texts: list[str] | None = None,
) -> Query:
    """Kinds of span (one row per distinct EmbeddingText) nearest to the vector. With `texts` (the index
    path's candidates) only those kinds are counted; without, every kind in the window is ranked exactly
    (the distance computed once per kind, on one of its identical vectors)."""
    where, params = window_filter(window)
    where = _span_filters(where, params, service, status, exclude)
    if texts is not None:
        where += " AND EmbeddingText IN {texts:Array(String)}"
        params["texts"] = texts
    columns = _KIND_COLUMNS.format(examples=int(examples))
    sql = f"""
SELECT EmbeddingText AS text, round(cosineDistance(any(Embedding), {vector_sql}), 4) AS distance,
       {columns}
FROM {table}
WHERE {where}
GROUP BY EmbeddingText
ORDER BY distance, text
LIMIT {int(limit) + 1}"""
    return sql, params


def span_embedding(table: str, trace_id: str, span_id: str) -> Query:
    sql = f"""
SELECT Embedding, EmbeddingText, ServiceName, SpanName, StatusCode, Timestamp
FROM {table}
WHERE TraceId = {{trace_id:String}} AND SpanId = {{span_id:String}}
ORDER BY EnrichedAt DESC
LIMIT 1"""
    return sql, {"trace_id": trace_id, "span_id": span_id}


def trace_path_spans(table: str, lookup_table: str, trace_id: str, max_spans: int) -> Query:
    """One trace's spans with nanosecond starts, for the critical path (bounded like trace_spans)."""
    columns = (
        "toUnixTimestamp64Nano(Timestamp) AS start_ns, SpanId, ParentSpanId, ServiceName, SpanName, Duration,"
        "\n       StatusCode"
    )
    return _one_trace(table, lookup_table, trace_id, max_spans, columns)


def log_templates(
    table: str,
    current: Window,
    baseline: Window,
    service: str | None,
    min_severity: int,
    exclude: str | None,
    examples: int,
    cap: int,
) -> Query:
    """Log records of both windows grouped by a masked body (numbers and ids → <n>/<id>), per service and
    severity: the rows Drain3 then clusters into templates (one line per masked body, weighted by count)."""
    cur_where, params = window_filter(current, "cur_")
    base_where, base_params = window_filter(baseline, "base_")
    params.update(base_params)
    where = f"(({cur_where}) OR ({base_where})) AND SeverityNumber >= {{min_severity:UInt8}}"
    params["min_severity"] = int(min_severity)
    where = _span_filters(where, params, service, None, exclude)
    sql = f"""
WITH ({cur_where}) AS in_cur
SELECT {_TEMPLATE} AS masked, ServiceName AS service, SeverityText AS severity,
       countIf(in_cur) AS records, countIf(NOT in_cur) AS baseline_records,
       minIf(Timestamp, in_cur) AS first_seen, maxIf(Timestamp, in_cur) AS last_seen,
       groupUniqArrayIf({int(examples)})(TraceId, in_cur AND TraceId != '') AS example_trace_ids
FROM {table}
WHERE {where}
GROUP BY masked, service, severity
ORDER BY records DESC, baseline_records DESC, masked, service, severity
LIMIT {int(cap) + 1}"""
    return sql, params


def compare_windows(
    table: str, current: Window, baseline: Window, service: str | None, exclude: str | None = None
) -> Query:
    cur_where, params = window_filter(current, "cur_")
    base_where, base_params = window_filter(baseline, "base_")
    params.update(base_params)
    where = f"(({cur_where}) OR ({base_where}))"
    where = _span_filters(where, params, service, None, exclude)
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


def table_overview(table: str) -> Query:
    database, name = table.split(".")
    sql = """
SELECT name, type FROM system.columns
WHERE database = {database:String} AND table = {table:String}
ORDER BY position"""
    return sql, {"database": database, "table": name}


def table_span(table: str) -> Query:
    return f"SELECT count() AS rows, min(Timestamp) AS oldest, max(Timestamp) AS newest FROM {table}", {}


def newest_span(table: str) -> Query:
    return f"SELECT max(Timestamp) AS newest FROM {table}", {}


# --- service_map, metric_series, span_deltas (issue 26) -------------------------------------------------

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
    where, params = window_filter(window)
    where = _span_filters(where, params, None, None, exclude)
    params["slow_ns"] = int(slow_ns)
    having = ""
    if service:
        having = f"WHERE {_contains('caller', 'service')} OR {_contains('callee', 'service')}"
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


METRIC_TABLES = ("gauge", "sum", "histogram")


def _metric_window(window: Window) -> tuple[str, dict[str, Any]]:
    sql = f"TimeUnix >= {{start:{_TIME_TYPE}}} AND TimeUnix < {{end:{_TIME_TYPE}}}"
    return sql, {"start": _ts(window.start), "end": _ts(window.end)}


def metric_names(prefix: str, window: Window | None = None) -> Query:
    """Every metric name with its kind, unit, description, services and points (in `window` if given)."""
    parts = []
    params: dict[str, Any] = {}
    where = "1"
    if window is not None:
        where, params = _metric_window(window)
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
    where, params = _metric_window(window)
    where += " AND MetricName = {metric:String}"
    params["metric"] = metric
    if service:
        where += f" AND {_contains('ServiceName', 'service')}"
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


def _subset(kind: str) -> str:
    if kind == "errors":
        return "StatusCode = 'Error'"
    return "Duration > {slow_ns:UInt64}"


def span_subset_sizes(
    table: str, window: Window, kind: str, slow_ns: int, service: str | None, exclude: str | None = None
) -> Query:
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
    params["slow_ns"] = int(slow_ns)
    sql = f"SELECT countIf({_subset(kind)}) AS subset, count() - subset AS rest FROM {table} WHERE {where}"
    return sql, params


def span_deltas(
    table: str, window: Window, kind: str, slow_ns: int, service: str | None, exclude: str | None = None
) -> Query:
    """Every (attribute, value) of the spans in the window — service.name, span.name, span.kind, status and
    every resource and span attribute — counted in the subset (error spans, or spans over slow_ns) and in
    the rest; values seen on fewer than 2 subset spans are left out."""
    where, params = window_filter(window)
    where = _span_filters(where, params, service, None, exclude)
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
