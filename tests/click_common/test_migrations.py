"""The schema migrations tool (click_common.migrations) under the real engine: chDB opened in this process
(the local stack's Engine, which is the tool's Executor there) and, for the command line, the local stack's
HTTP endpoint through clickhouse-connect."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click_common.migrations import TABLE, MigrationError, load, migrate, pending
from local_stack.clickhouse.engine import Engine
from local_stack.launch import Launcher
from local_stack.paths import MIGRATIONS

from tests.support.stack import REPO

LATEST = load(MIGRATIONS)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = Engine(tmp_path / "ch")
    yield engine
    engine.close()


def recorded(engine: Engine) -> list[tuple[int, str]]:
    return [(v, n) for v, n in engine.rows(f"SELECT version, name FROM {TABLE} FINAL ORDER BY version")]


def create_queries(engine: Engine) -> dict[str, str]:
    rows = engine.rows(
        "SELECT concat(database, '.', name), create_table_query FROM system.tables "
        "WHERE database IN ('default', 'otel')"
    )
    return dict(rows)


def test_the_folder_holds_the_baseline_and_numbers_without_gaps():
    assert [m.version for m in LATEST] == list(range(1, len(LATEST) + 1))
    assert LATEST[0].name == "0001_baseline.sql" and len(LATEST) >= 2
    assert all(m.statements for m in LATEST)


def test_a_database_at_an_older_level_upgrades_and_keeps_its_rows(engine: Engine, tmp_path: Path):
    """Made by the migrations up to N-1, with rows in its tables; the tool brings it to N and the rows stay.
    It ends exactly where a new database ends."""
    migrate(engine, LATEST[:-1])
    assert recorded(engine) == [(m.version, m.name) for m in LATEST[:-1]]
    engine.command(
        "INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId, SpanName, ServiceName, Duration) "
        "VALUES (now64(9), 'aaaa', 'bbbb', 'GET /feed', 'feed', 42), "
        "(now64(9), 'cccc', 'dddd', 'GET /', 'api', 7)"
    )
    engine.command(
        "INSERT INTO default.otel_logs (Timestamp, ServiceName, Body) VALUES (now64(9), 'feed', 'hi')"
    )
    engine.command(
        "INSERT INTO otel.s3_loader_files (key, etag, status, updated_at) "
        "VALUES ('otel/a.json', 'e1', 'loaded', now64(6))"
    )
    before = engine.rows("SELECT TraceId, SpanName, Duration FROM otel.otel_traces ORDER BY TraceId")

    applied = migrate(engine, LATEST)

    assert [m.name for m in applied] == [LATEST[-1].name]
    assert recorded(engine) == [(m.version, m.name) for m in LATEST]
    assert engine.rows("SELECT TraceId, SpanName, Duration FROM otel.otel_traces ORDER BY TraceId") == before
    assert engine.rows(
        "SELECT TraceId, min(Start) > 0 FROM otel.otel_traces_trace_id_ts GROUP BY 1 ORDER BY 1"
    ) == [
        ["aaaa", 1],
        ["cccc", 1],
    ]
    assert engine.rows("SELECT Body FROM default.otel_logs") == [["hi"]]
    assert engine.rows("SELECT key, status FROM otel.s3_loader_files FINAL") == [["otel/a.json", "loaded"]]
    upgraded = create_queries(engine)
    engine.close()
    fresh = Engine(tmp_path / "fresh")
    try:
        migrate(fresh, LATEST)
        assert create_queries(fresh) == upgraded
    finally:
        fresh.close()


def test_a_second_run_is_a_no_op(engine: Engine):
    assert [m.name for m in migrate(engine, LATEST)] == [m.name for m in LATEST]
    first = engine.rows(f"SELECT version, applied_at FROM {TABLE} ORDER BY version")
    assert migrate(engine, LATEST) == []
    assert engine.rows(f"SELECT version, applied_at FROM {TABLE} ORDER BY version") == first


def test_a_database_made_before_migrations_existed_takes_the_baseline_as_a_no_op(engine: Engine):
    """A volume made by config/init-db.sql (every table, no record table) adopts the migrations: the
    baseline's statements are IF NOT EXISTS, the later ones idempotent, and its rows stay."""
    for migration in LATEST:  # what init-db.sql made: the same statements, never recorded
        engine.run_script(migration.sql)
    engine.command(
        "INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId) VALUES (now64(9), 'aaaa', 'bbbb')"
    )
    migrate(engine, LATEST)
    assert recorded(engine) == [(m.version, m.name) for m in LATEST]
    assert engine.rows("SELECT count() FROM otel.otel_traces") == [[1]]


def test_a_changed_applied_migration_is_refused_in_one_line(engine: Engine, tmp_path: Path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    migrate(engine, load(folder))
    baseline = folder / LATEST[0].name
    baseline.write_text(
        baseline.read_text() + "\nCREATE TABLE IF NOT EXISTS otel.sneaked_in (x UInt8) ENGINE = Memory;\n"
    )
    with pytest.raises(MigrationError) as refused:
        migrate(engine, load(folder))
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"migration {LATEST[0].name} changed after it was applied"), message
    assert engine.rows("SELECT count() FROM system.tables WHERE name = 'sneaked_in'") == [[0]]


def test_a_failing_statement_is_named_and_its_migration_not_recorded(engine: Engine, tmp_path: Path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    broken = f"{len(LATEST) + 1:04d}_broken.sql"
    (folder / broken).write_text(
        "CREATE TABLE IF NOT EXISTS otel.first_half (x UInt8) ENGINE = Memory;\n"
        "ALTER TABLE otel.no_such_table ADD COLUMN y UInt8;\n"
    )
    with pytest.raises(MigrationError) as failed:
        migrate(engine, load(folder))
    message = str(failed.value)
    assert message.startswith(
        f"migration {broken} failed at statement 2/2 (ALTER TABLE otel.no_such_table"
    ), message
    assert "no_such_table" in message.split("):", 1)[1] and "\n" not in message
    assert recorded(engine) == [(m.version, m.name) for m in LATEST]  # the good ones stay recorded
    # fixed, it runs again from its first statement (which is why statements are written to run twice)
    (folder / broken).write_text("CREATE TABLE IF NOT EXISTS otel.first_half (x UInt8) ENGINE = Memory;\n")
    assert [m.name for m in migrate(engine, load(folder))] == [broken]


def test_a_database_newer_than_the_checkout_is_refused(engine: Engine):
    migrate(engine, LATEST)
    with pytest.raises(
        MigrationError, match=f"records migration {LATEST[-1].name}, which this checkout does not"
    ):
        migrate(engine, LATEST[:-1])


def test_badly_named_or_gapped_folders_are_refused(tmp_path: Path):
    (tmp_path / "0001_baseline.sql").write_text("SELECT 1")
    (tmp_path / "0003_later.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match="without gaps"):
        load(tmp_path)
    (tmp_path / "2_Later.sql").write_text("SELECT 1")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load(tmp_path)
    assert pending(load(MIGRATIONS), []) == LATEST


def run_migrate(stack: Launcher, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "click_common.migrate", *args],
        cwd=REPO, env=stack.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_command_line_finds_the_local_stack_up_to_date(local_stack: Launcher):
    """`just migrate` over HTTP with the CLICKHOUSE_* settings: the stack migrated itself at start."""
    done = run_migrate(local_stack)
    assert done.returncode == 0, done.stderr
    assert f"schema up to date at {LATEST[-1].name}: nothing to apply" in done.stderr


def test_the_command_line_refuses_a_changed_migration_with_one_line(local_stack: Launcher, tmp_path: Path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / LATEST[-1].name).write_text("-- edited\n" + LATEST[-1].sql)
    refused = run_migrate(local_stack, str(folder))
    assert refused.returncode == 1
    assert (
        refused.stderr.strip().splitlines()[-1].startswith(f"migrate: migration {LATEST[-1].name} changed")
    ), refused.stderr


def test_the_command_line_names_a_refused_login_and_a_user_that_may_not_migrate(local_stack: Launcher):
    refused = subprocess.run(
        [sys.executable, "-m", "click_common.migrate"],
        cwd=REPO, env=local_stack.env(CLICKHOUSE_USER="nobody"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 78, refused.stderr
    assert "CLICKHOUSE_PASSWORD" in refused.stderr.strip().splitlines()[-1]
    readonly = subprocess.run(
        [sys.executable, "-m", "click_common.migrate"],
        cwd=REPO, env=local_stack.env(CLICKHOUSE_USER="agent"), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert readonly.returncode == 1, readonly.stderr
    assert readonly.stderr.strip().splitlines()[-1].startswith(f"migrate: cannot create or read {TABLE}: "), (
        readonly.stderr
    )
