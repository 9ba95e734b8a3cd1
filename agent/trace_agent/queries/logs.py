"""Queries over the log records: grouped by a masked message template, and the templates of two windows
for Drain."""

from __future__ import annotations

from ..timewindow import Window
from .filters import Query, contains, span_filters, spans_where, two_windows

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
    where, params = spans_where(window, service, exclude=exclude)
    where += " AND SeverityNumber >= {min_severity:UInt8}"
    params["min_severity"] = int(min_severity)
    if match:
        where += f" AND {contains('Body', 'match')}"
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
    cur_where, base_where, params = two_windows(current, baseline)
    where = f"(({cur_where}) OR ({base_where})) AND SeverityNumber >= {{min_severity:UInt8}}"
    params["min_severity"] = int(min_severity)
    where = span_filters(where, params, service, None, exclude)
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
