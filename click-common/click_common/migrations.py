"""Numbered schema migrations: `NNNN_name.sql` files applied in order, each recorded once applied.

A migration is a file of `;`-separated statements, named `0001_baseline.sql`, `0002_….sql`, …: its number is
its version. `migrate` applies those a database has not recorded yet, in order, and records each in
`click_ai.schema_migrations` (version, name, checksum, applied_at) as soon as its last statement ran. Running
it again is a no-op. A migration whose file changed after it was applied is refused (a new migration is how
the schema changes), and so is a database that records a version the folder lacks (a newer checkout made it).

ClickHouse has no transactional DDL: a migration that fails part-way leaves its earlier statements applied and
is not recorded, so it runs again from its first statement next time. Write statements that can run twice
(`IF NOT EXISTS`, `MODIFY SETTING`, …).

The tool talks to ClickHouse through an `Executor`: a clickhouse-connect client (`ClientExecutor`: the Docker
stack's `migrate` service, `python -m click_common.migrate`) or the local stack's chDB engine.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from clickhouse_connect.driver.client import Client

from .clickhouse import REFUSED_LOGIN, error_code
from .sql_script import statements
from .text import one_line

log = logging.getLogger("click_common.migrations")

DATABASE = "click_ai"
TABLE = f"{DATABASE}.schema_migrations"
FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# What a service that finds a table missing tells its user.
HOW_TO_MIGRATE = "apply the schema migrations with `just migrate` (both stacks apply them at every start)"

CREATE_TABLE = (
    f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
    f"CREATE TABLE IF NOT EXISTS {TABLE} (version UInt32, name String, checksum String, "
    "applied_at DateTime64(3) DEFAULT now64(3)) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version",
)


class MigrationError(Exception):
    """Migrations cannot be applied: the message is one line that says which and why."""


class Executor(Protocol):
    """Where the statements run: one statement per call."""

    def command(self, sql: str) -> None: ...

    def rows(self, sql: str) -> Sequence[Sequence[Any]]: ...


class ClientExecutor:
    """An Executor over a clickhouse-connect client (ClickHouse's HTTP interface)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def command(self, sql: str) -> None:
        self.client.command(sql)

    def rows(self, sql: str) -> Sequence[Sequence[Any]]:
        return self.client.query(sql).result_rows


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file name, `0002_loader_deduplication_window.sql`
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def statements(self) -> list[str]:
        return statements(self.sql)


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str


def load(folder: Path) -> list[Migration]:
    """The migrations of `folder` in version order. MigrationError for a `.sql` file not named
    `NNNN_name.sql`, two files of one version, or a gap in the numbers."""
    if not folder.is_dir():
        raise MigrationError(f"no migrations folder at {folder}")
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: a migration is named NNNN_name.sql (lowercase, digits, _)")
        version = int(match[1])
        if version in found:
            raise MigrationError(f"{path.name} and {found[version].name} have the same number")
        found[version] = Migration(version, path.name, path.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(
            f"migrations in {folder} are numbered {versions}: they must run 1, 2, 3, … without gaps"
        )
    return [found[v] for v in versions]


def pending(migrations: Sequence[Migration], applied: Sequence[Applied]) -> list[Migration]:
    """The migrations still to apply, in order. MigrationError when an applied one's file changed since, or
    the database records a version the folder does not have."""
    by_version = {m.version: m for m in migrations}
    for record in applied:
        migration = by_version.get(record.version)
        if migration is None:
            raise MigrationError(
                f"the database records migration {record.name}, which this checkout does not have: "
                "a newer checkout migrated it (update this one)"
            )
        if migration.checksum != record.checksum:
            raise MigrationError(
                f"migration {migration.name} changed after it was applied (checksum {record.checksum[:12]} "
                f"recorded, {migration.checksum[:12]} now): restore it and put the change in a new migration"
            )
    done = {record.version for record in applied}
    return [m for m in migrations if m.version not in done]


def applied(executor: Executor) -> list[Applied]:
    """What the database records (creating the record table when it is missing)."""
    try:
        for statement in CREATE_TABLE:
            executor.command(statement)
        rows = executor.rows(f"SELECT version, name, checksum FROM {TABLE} FINAL ORDER BY version")
    except Exception as exc:
        if error_code(exc) in REFUSED_LOGIN:
            raise
        raise MigrationError(f"cannot create or read {TABLE}: {one_line(str(exc), 300)}") from exc
    return [Applied(int(version), str(name), str(checksum)) for version, name, checksum in rows]


def apply(executor: Executor, migration: Migration) -> None:
    """Run the migration's statements in order and record it; MigrationError names a statement that fails."""
    todo = migration.statements
    for number, statement in enumerate(todo, 1):
        try:
            executor.command(statement)
        except Exception as exc:
            raise MigrationError(
                f"migration {migration.name} failed at statement {number}/{len(todo)} "
                f"({one_line(statement, 80)}): {one_line(str(exc), 300)}"
            ) from exc
    executor.command(
        f"INSERT INTO {TABLE} (version, name, checksum) "
        f"VALUES ({migration.version}, '{migration.name}', '{migration.checksum}')"
    )


def migrate(executor: Executor, migrations: Sequence[Migration]) -> list[Migration]:
    """Apply the migrations the database has not recorded, in order; one log line per migration applied.
    Returns those applied (none: the database was up to date)."""
    todo = pending(migrations, applied(executor))
    latest = migrations[-1].name if migrations else "none"
    if not todo:
        log.info("schema up to date at %s: nothing to apply", latest)
        return []
    for number, migration in enumerate(todo, 1):
        started = time.monotonic()
        apply(executor, migration)
        log.info(
            "applied migration %d/%d: %s (%d statements, %.1f s)",
            number, len(todo), migration.name, len(migration.statements), time.monotonic() - started,
        )  # fmt: skip
    log.info("schema up to date at %s", latest)
    return list(todo)
