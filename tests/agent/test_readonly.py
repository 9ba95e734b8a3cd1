"""The read-only guarantee at the server: the `agent` user cannot write, alter, drop or lift readonly,
whatever it sends (the SQL guard is bypassed here on purpose)."""

from __future__ import annotations

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from trace_agent.db import Database, QueryError

from tests.support.spans import Span, insert, minutes_ago

ATTEMPTS = [
    "INSERT INTO default.otel_traces (TraceId, SpanId) VALUES ('x', 'y')",
    "INSERT INTO otel.otel_traces SELECT * FROM default.otel_traces",
    "ALTER TABLE default.otel_traces DELETE WHERE 1",
    "ALTER TABLE default.otel_traces ADD COLUMN pwned UInt8",
    "ALTER TABLE default.otel_traces UPDATE StatusCode = 'Ok' WHERE 1",
    "DROP TABLE default.otel_traces",
    "DROP DATABASE otel",
    "TRUNCATE TABLE default.otel_traces",
    "CREATE TABLE default.pwned (a UInt8) ENGINE = MergeTree ORDER BY a",
    "RENAME TABLE default.otel_traces TO default.gone",
    "SET readonly = 0",
    "SELECT 1 SETTINGS readonly = 0",
    "SET max_result_rows = 0",
    "SELECT count() FROM default.otel_traces SETTINGS max_rows_to_read = 0",
]


def snapshot(client) -> tuple:
    tables = client.query(
        "SELECT database, name, engine FROM system.tables WHERE database IN ('default', 'otel') ORDER BY 1, 2"
    ).result_rows
    columns = client.query(
        "SELECT count() FROM system.columns WHERE database IN ('default', 'otel')"
    ).result_rows
    rows = client.query(
        "SELECT count(), sum(cityHash64(SpanId, StatusCode)) FROM default.otel_traces"
    ).result_rows
    return tables, columns, rows


@pytest.mark.parametrize("sql", ATTEMPTS)
def test_agent_user_cannot_write(stack, sql):
    writer = stack.client()
    insert(
        writer, [Span("a" * 32, "b" * 16, "checkout-service", "POST /checkout", minutes_ago(1), 5_000_000)]
    )
    before = snapshot(writer)
    agent = stack.client(user="agent")
    with pytest.raises(DatabaseError) as refused:
        agent.command(sql)
    assert "READONLY" in str(refused.value) or "readonly" in str(refused.value)
    assert snapshot(writer) == before
    writer.close()
    agent.close()


def test_agent_profile_limits_are_set_by_the_server(settings):
    db = Database(settings)
    try:
        assert db.readonly_level() == 1
        limits = db.query(
            "SELECT getSetting('max_execution_time'), getSetting('max_result_rows'), "
            "getSetting('result_overflow_mode'), getSetting('max_rows_to_read')"
        ).rows[0]
        assert limits[1] == 10000 and limits[2] == "break" and limits[3] > 0 and limits[0] > 0
        # result_overflow_mode=break: a huge result stops near the cap (checked per block) instead of failing
        rows = db.query("SELECT number FROM numbers(1000000)").rows
        assert 10000 <= len(rows) < 1000000
        with pytest.raises(QueryError, match="READONLY"):
            db.query("SELECT 1 SETTINGS max_result_rows = 0")
    finally:
        db.close()
