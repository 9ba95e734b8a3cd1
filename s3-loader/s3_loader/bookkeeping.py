"""The loader's books in ClickHouse: otel.s3_loader_files, the claimed batches, and the tables it needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from click_common.migrations import HOW_TO_MIGRATE

from .clickhouse_calls import ClickHouseCalls
from .settings import LoaderSettings
from .warehouse import COUNTS_TABLE, DATA_TABLES, OTLP_TABLE

FILES_TABLE = "s3_loader_files"
FILES_COLUMNS = (
    "key",
    "etag",
    "size",
    "last_modified",
    "kind",
    "status",
    "rows",
    "error",
    "attempts",
    "first_seen",
    "loaded_at",
    "updated_at",
)
BATCHES_TABLE = "s3_loader_batches"  # claimed batches of small files (config/migrations)


class MissingTable(Exception):
    """A table the migrations should have created is not there (or lacks what exactly-once needs)."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    """The newest row of otel.s3_loader_files for one (key, etag)."""

    key: str
    etag: str
    size: int
    last_modified: datetime
    kind: str
    status: str  # loaded | failed | skipped
    rows: int
    error: str
    attempts: int
    first_seen: datetime
    loaded_at: datetime | None
    updated_at: datetime


class ClickHouseBooks:
    """otel.s3_loader_files (what became of each file) and otel.s3_loader_batches (claimed batches), and
    the check that every table the loader needs is there."""

    def __init__(self, settings: LoaderSettings, calls: ClickHouseCalls | None = None) -> None:
        self.calls = calls or ClickHouseCalls(settings)
        self.settings = settings

    def check_tables(self) -> None:
        """Raise MissingTable naming the first table the migrations should have created but did not."""
        db = self.settings.database
        needed = (*DATA_TABLES, FILES_TABLE, OTLP_TABLE, BATCHES_TABLE, COUNTS_TABLE)
        found = dict(
            self.calls(
                lambda: (
                    self.calls.client.query(
                        "SELECT name, engine_full FROM system.tables "
                        "WHERE database = {db:String} AND name IN {names:Array(String)}",
                        parameters={"db": db, "names": list(needed)},
                    ).result_rows
                )
            )
        )
        for name in needed:
            if name not in found:
                raise MissingTable(f"table {db}.{name} does not exist: {HOW_TO_MIGRATE}")
        for name in (*DATA_TABLES, BATCHES_TABLE):
            if "non_replicated_deduplication_window" not in found[name]:
                raise MissingTable(
                    f"table {db}.{name} has no non_replicated_deduplication_window setting, "
                    f"which exactly-once loading needs: {HOW_TO_MIGRATE}"
                )
        document_type = self.calls(
            lambda: (
                self.calls.client.query(
                    "SELECT type FROM system.columns WHERE database = {db:String} AND table = {t:String} "
                    "AND name = 'resourceSpans'",
                    parameters={"db": db, "t": OTLP_TABLE},
                ).result_rows
            )
        )
        if not document_type or "bytesValue" not in document_type[0][0]:
            raise MissingTable(
                f"table {db}.{OTLP_TABLE} predates the values its view refuses (arrays, kvlists, "
                f"bytes): drop it and {db}.{OTLP_TABLE}_mv, then create both as "
                "config/migrations/0001_baseline.sql does"
            )

    def batch_token(self, window: int, seq: int) -> str:
        """The token of a claimed batch: its claim in s3_loader_batches, and its insert into each table."""
        return f"s3-loader-batch:{self.settings.s3_bucket}:{window}:{seq}"

    def read_batches(self, windows: list[int]) -> dict[tuple[int, int], list[tuple[str, str]]]:
        """The claimed batches of these windows: (window, seq) → members (key, etag)."""
        if not windows:
            return {}
        rows = self.calls(
            lambda: (
                self.calls.client.query(
                    f"SELECT window, seq, members FROM {self.settings.database}.{BATCHES_TABLE} "
                    "WHERE bucket = {bucket:String} AND window IN {windows:Array(UInt64)}",
                    parameters={"bucket": self.settings.s3_bucket, "windows": sorted(set(windows))},
                ).result_rows
            )
        )
        return {(w, seq): _members(members) for w, seq, members in rows}

    def claim_batch(self, window: int, seq: int, members: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Claim (window, seq) for these members; returns the members of the claim that stands, which are
        another loader's when it claimed (window, seq) first: ClickHouse drops the second insert of a token
        as a duplicate, so one claim of a (window, seq) is ever written. (Read back rather than trusting
        written_rows, which not every server reports for a deduplicated insert.)"""
        row = [[self.settings.s3_bucket, window, seq, members, utcnow()]]
        self.calls(
            lambda: self.calls.client.insert(
                f"{self.settings.database}.{BATCHES_TABLE}",
                row,
                column_names=["bucket", "window", "seq", "members", "claimed_at"],
                settings={
                    "insert_deduplication_token": self.batch_token(window, seq),
                    "insert_deduplicate": 1,
                },
            )
        )
        stands = self.calls(
            lambda: (
                self.calls.client.query(
                    f"SELECT members FROM {self.settings.database}.{BATCHES_TABLE} "
                    "WHERE bucket = {bucket:String} "
                    "AND window = {window:UInt64} AND seq = {seq:UInt32} ORDER BY claimed_at LIMIT 1",
                    parameters={"bucket": self.settings.s3_bucket, "window": window, "seq": seq},
                ).result_rows
            )
        )
        return _members(stands[0][0]) if stands else []

    def load_records(self, keys: list[str] | None = None) -> dict[tuple[str, str], FileRecord]:
        """The newest record of every file, or of these keys only."""
        if keys is not None and not keys:
            return {}
        where = "" if keys is None else " WHERE key IN {keys:Array(String)}"
        table = f"{self.settings.database}.{FILES_TABLE}"
        rows = self.calls(
            lambda: (
                self.calls.client.query(
                    f"SELECT {', '.join(FILES_COLUMNS)} FROM {table} FINAL{where}",
                    parameters=None if keys is None else {"keys": keys},
                ).result_rows
            )
        )
        return {(row[0], row[1]): FileRecord(*(_utc(v) for v in row)) for row in rows}

    def record(self, records: list[FileRecord]) -> None:
        if not records:
            return
        data = [[getattr(r, c) for c in FILES_COLUMNS] for r in records]
        self.calls(
            lambda: self.calls.client.insert(
                f"{self.settings.database}.{FILES_TABLE}", data, column_names=list(FILES_COLUMNS)
            )
        )

    def close(self) -> None:
        self.calls.close()


def _members(value: list) -> list[tuple[str, str]]:
    """clickhouse-connect reads a named Tuple as a dict."""
    return [(m["key"], m["etag"]) if isinstance(m, dict) else (m[0], m[1]) for m in value]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value):
    """clickhouse-connect returns naive datetimes in the server's zone; every stored time here is UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
