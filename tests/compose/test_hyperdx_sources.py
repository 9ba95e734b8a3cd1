"""HyperDX's DEFAULT_CONNECTIONS / DEFAULT_SOURCES (docker-compose.yaml) against config/migrations' schema.

Every expression a source names is run as `SELECT <expression> FROM <database>.<table> LIMIT 0` on the local
stack (chDB, migrated at start): a missing database, table or column, or a typo, fails here instead of
as an empty HyperDX page.
"""

from __future__ import annotations

import re

import pytest

from .conftest import hyperdx_json

# Fields every source of a kind must carry (HyperDX's source schema), and the ones holding SQL expressions.
REQUIRED = {
    "trace": {
        "defaultTableSelectExpression", "durationExpression", "durationPrecision", "traceIdExpression",
        "spanIdExpression", "parentSpanIdExpression", "spanNameExpression", "spanKindExpression",
    },
    "log": {"defaultTableSelectExpression"},
    "metric": {"metricTables", "resourceAttributesExpression"},
}  # fmt: skip
CROSS_LINKS = ("logSourceId", "traceSourceId", "metricSourceId", "sessionSourceId")


@pytest.fixture(scope="module")
def sources(compose):
    return hyperdx_json(compose, "DEFAULT_SOURCES")


@pytest.fixture(scope="module")
def connections(compose):
    return hyperdx_json(compose, "DEFAULT_CONNECTIONS")


def expressions(source: dict) -> dict[str, str]:
    return {k: v for k, v in source.items() if k.endswith("Expression") and isinstance(v, str) and v}


def test_the_connection_is_clickhouse_over_http_from_inside_the_hyperdx_container(connections, compose):
    assert [c["name"] for c in connections] == ["ClickHouse"]
    (connection,) = connections
    assert connection["host"] == "http://clickhouse:8123"
    assert connection["username"] == "default"
    assert connection["password"] == compose["services"]["clickhouse"]["environment"]["CLICKHOUSE_PASSWORD"]


def test_sources_are_complete_and_their_references_resolve(sources, connections):
    names = [s["name"] for s in sources]
    assert len(names) == len(set(names))
    assert {"Traces", "Logs", "Metrics", "Traces (loaded from S3)"} <= set(names)
    for source in sources:
        assert source["connection"] in {c["name"] for c in connections}, source["name"]
        assert REQUIRED[source["kind"]] <= set(source), (
            source["name"],
            REQUIRED[source["kind"]] - set(source),
        )
        assert source["timestampValueExpression"], source["name"]
        for link in CROSS_LINKS:
            if link in source:
                assert source[link] in names, (source["name"], link, source[link])
    by_name = {s["name"]: s for s in sources}
    assert by_name["Traces"]["from"] == {"databaseName": "default", "tableName": "otel_traces"}
    assert by_name["Traces (loaded from S3)"]["from"] == {"databaseName": "otel", "tableName": "otel_traces"}
    assert by_name["Logs"]["from"] == {"databaseName": "default", "tableName": "otel_logs"}
    assert by_name["Traces"]["durationPrecision"] == 9  # Duration is in nanoseconds


def source_tables(source: dict) -> list[str]:
    database = source["from"]["databaseName"]
    if source["kind"] == "metric":
        return [f"{database}.{table}" for table in source["metricTables"].values()]
    return [f"{database}.{source['from']['tableName']}"]


def test_every_database_table_and_column_a_source_names_exists(sources, local_stack):
    client = local_stack.client()
    try:
        checked = 0
        for source in sources:
            for table in source_tables(source):
                assert re.fullmatch(r"\w+\.\w+", table), table
                described = client.query(f"DESCRIBE TABLE {table}").result_rows
                assert described, table
                for field, expression in expressions(source).items():
                    try:
                        client.query(f"SELECT {expression} FROM {table} LIMIT 0")
                    except Exception as exc:  # the engine's message names the missing column
                        pytest.fail(f"source {source['name']!r} {field}={expression!r} on {table}: {exc}")
                    checked += 1
    finally:
        client.close()
    assert checked >= 60  # every expression of every source, not a vacuous pass


def test_metric_source_names_every_metric_table_of_the_exporter(sources, collector_config):
    (metrics,) = [s for s in sources if s["kind"] == "metric"]
    exporter_tables = {
        t["name"] for t in collector_config["exporters"]["clickhouse"]["metrics_tables"].values()
    }
    assert set(metrics["metricTables"].values()) == exporter_tables
    assert set(metrics["metricTables"]) == {"gauge", "sum", "histogram", "summary", "exponential histogram"}
