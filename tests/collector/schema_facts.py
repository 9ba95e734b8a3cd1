"""A table's schema as comparable facts (columns, indexes, keys, TTL, settings), read from system tables."""

from __future__ import annotations

import re
from typing import Any

EXPORTER_TABLES = (
    "otel_traces",
    "otel_traces_trace_id_ts",
    "otel_traces_trace_id_ts_mv",
    "otel_logs",
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exponential_histogram",
    "otel_metrics_summary",
)

_TAIL = re.compile(r"\b(TTL|SETTINGS)\b (.*?)(?= TTL | SETTINGS |$)", re.S)


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


def table_facts(client: Any, database: str, table: str) -> dict[str, str]:
    """{item: value}: `column X` → type, default and codec; `index X` → expression, type, granularity;
    engine, partition_key, sorting_key, primary_key, ttl, settings; `as_select` for a materialized view."""
    facts: dict[str, str] = {}
    params = {"db": database, "t": table}
    rows = client.query(
        "SELECT name, type, default_kind, default_expression, compression_codec, comment FROM system.columns "
        "WHERE database = {db:String} AND table = {t:String} ORDER BY position",
        parameters=params,
    ).result_rows
    for position, (name, type_, kind, expression, codec, comment) in enumerate(rows):
        default = f" {kind} {expression}" if kind else ""
        facts[f"column {name}"] = f"#{position} {type_}{default} {codec}".rstrip()
        if comment:
            facts[f"comment {name}"] = comment
    for name, type_full, expr, granularity in client.query(
        "SELECT name, type_full, expr, granularity FROM system.data_skipping_indices "
        "WHERE database = {db:String} AND table = {t:String}",
        parameters=params,
    ).result_rows:
        facts[f"index {name}"] = f"{expr} TYPE {type_full} GRANULARITY {granularity}"
    engine, partition_key, sorting_key, primary_key, create, as_select = client.query(
        "SELECT engine, partition_key, sorting_key, primary_key, create_table_query, as_select "
        "FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        parameters=params,
    ).result_rows[0]
    facts["engine"] = engine
    if engine == "MaterializedView":
        facts["as_select"] = _one_line(as_select).replace(f"{database}.", "<db>.")
        target = re.search(r"\bTO (\S+)", create)
        facts["to"] = target[1].replace(f"{database}.", "<db>.") if target else ""
        return facts
    facts.update(partition_key=partition_key, sorting_key=sorting_key, primary_key=primary_key)
    tail = _one_line(create).rsplit(") ENGINE = ", 1)[-1]
    for word, value in _TAIL.findall(tail):
        facts[word.lower()] = value.strip()
    return facts


def differences(exporter: dict[str, str], project: dict[str, str]) -> dict[str, tuple[str, str]]:
    """item → (what the exporter created, what config/migrations create); '' where one side lacks the item."""
    return {
        item: (exporter.get(item, ""), project.get(item, ""))
        for item in sorted(exporter.keys() | project.keys())
        if exporter.get(item) != project.get(item)
    }
