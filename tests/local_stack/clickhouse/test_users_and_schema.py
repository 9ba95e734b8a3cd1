from pathlib import Path

from click_common.migrations import TABLE, load, migrate
from local_stack.clickhouse.engine import Engine
from local_stack.clickhouse.server_config import shared_server_settings
from local_stack.clickhouse.users import load_users
from local_stack.launch import Launcher
from local_stack.paths import CONFIG_XML, MIGRATIONS, USERS_XML

TRACE_COLUMNS = [
    ("Timestamp", "DateTime64(9)"),
    ("TraceId", "String"),
    ("SpanId", "String"),
    ("ParentSpanId", "String"),
    ("TraceState", "String"),
    ("SpanName", "LowCardinality(String)"),
    ("SpanKind", "LowCardinality(String)"),
    ("ServiceName", "LowCardinality(String)"),
    ("ResourceAttributes", "Map(LowCardinality(String), String)"),
    ("ScopeName", "String"),
    ("ScopeVersion", "String"),
    ("SpanAttributes", "Map(LowCardinality(String), String)"),
    ("Duration", "UInt64"),
    ("StatusCode", "LowCardinality(String)"),
    ("StatusMessage", "String"),
    ("Events.Timestamp", "Array(DateTime64(9))"),
    ("Events.Name", "Array(LowCardinality(String))"),
    ("Events.Attributes", "Array(Map(LowCardinality(String), String))"),
    ("Links.TraceId", "Array(String)"),
    ("Links.SpanId", "Array(String)"),
    ("Links.TraceState", "Array(String)"),
    ("Links.Attributes", "Array(Map(LowCardinality(String), String))"),
]


def test_users_file_gives_agent_a_readonly_profile():
    users = load_users(USERS_XML)
    assert users["agent"].readonly
    assert users["agent"].settings["result_overflow_mode"] == "break"
    assert not users["default"].readonly
    assert {"collector", "loader", "enricher"} <= users.keys()


def _columns(engine: Engine, table: str) -> list[tuple[str, str]]:
    rows = engine._main.query(
        f"SELECT name, type FROM system.columns WHERE concat(database, '.', table) = '{table}' "
        "ORDER BY position",
        "TabSeparated",
    )
    return [tuple(line.split("\t")) for line in rows.bytes().decode().splitlines()]


def test_the_migrations_apply_once_and_match_the_exporter_schema(tmp_path: Path):
    engine = Engine(tmp_path / "ch")
    try:
        migrations = load(MIGRATIONS)
        assert [m.name for m in migrate(engine, migrations)] == [m.name for m in migrations]
        assert migrate(engine, migrations) == []
        # and their statements run twice (a migration that failed part-way runs again from its first)
        assert sum(engine.run_script(m.sql) for m in migrations) > 10
        default_traces = _columns(engine, "default.otel_traces")
        assert default_traces == TRACE_COLUMNS
        # the loader's target carries the exporter's columns in the same order (plus additions after them)
        assert _columns(engine, "otel.otel_traces")[: len(TRACE_COLUMNS)] == TRACE_COLUMNS
        tables = engine._main.query(
            "SELECT concat(database, '.', name) FROM system.tables WHERE database IN ('default', 'otel') "
            "ORDER BY 1",
            "TabSeparated",
        )
        names = set(tables.bytes().decode().split())
        for kind in ("gauge", "sum", "histogram", "exponential_histogram", "summary"):
            assert f"default.otel_metrics_{kind}" in names
        assert {
            "default.otel_logs",
            "default.otel_traces_trace_id_ts",
            "otel.otel_traces_trace_id_ts",
        } <= names
    finally:
        engine.close()


def test_the_local_stack_runs_with_the_docker_stacks_shared_server_settings(local_stack):
    """The settings of config/clickhouse-config.xml that chDB takes reach the stack's chDB, values and all."""
    wanted = shared_server_settings(CONFIG_XML)
    assert wanted == {"max_build_vector_similarity_index_thread_pool_size": "1"}
    rows = (
        local_stack.client()
        .query(
            "SELECT name, value FROM system.server_settings WHERE name IN {names:Array(String)}",
            parameters={"names": list(wanted)},
        )
        .result_rows
    )
    assert dict(rows) == wanted


def test_the_local_stack_reaches_the_latest_migration_at_start(local_stack):
    latest = load(MIGRATIONS)
    rows = local_stack.client().query(f"SELECT version, name FROM {TABLE} FINAL ORDER BY version").result_rows
    assert rows == [(m.version, m.name) for m in latest]


def test_the_local_stack_upgrades_a_data_dir_of_an_older_level_at_start(tmp_path: Path):
    """A data directory at migration N-1 (an older checkout's), with rows: the stack applies N at start."""
    migrations = load(MIGRATIONS)
    engine = Engine(tmp_path / "data" / "clickhouse")  # where the stack keeps its chDB data
    try:
        migrate(engine, migrations[:-1])
        engine.command(
            "INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId) VALUES (now64(9), 'aa', 'bb')"
        )
    finally:
        engine.close()
    with Launcher(tmp_path / "data") as stack:
        client = stack.client()
        rows = client.query(f"SELECT version, name FROM {TABLE} FINAL ORDER BY version").result_rows
        assert rows == [(m.version, m.name) for m in migrations]
        assert client.query("SELECT TraceId FROM otel.otel_traces").result_rows == [("aa",)]
    log = (tmp_path / "local_stack.log").read_text()
    assert f"applied migration 1/1: {migrations[-1].name}" in log, log
