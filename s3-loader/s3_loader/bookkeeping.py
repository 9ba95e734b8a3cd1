"""ClickHouse side: the tables the loader needs, idempotent inserts, and otel.s3_loader_files."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from click_common import clickhouse
from click_common.backoff import call_with_backoff
from click_common.migrations import HOW_TO_MIGRATE
from clickhouse_connect.driver.client import Client

from .documents import TABLES
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")
T = TypeVar("T")
Outage = Callable[[BaseException], bool]  # which errors are waited out (retried with backoff)

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
DATA_TABLES = tuple(table for table, _ in TABLES.values())
OTLP_TABLE = "s3_loader_otlp_traces"  # Null table + view doing the conversion in ClickHouse
BATCHES_TABLE = "s3_loader_batches"  # claimed batches of small files (config/migrations)
COUNTS_TABLE = "s3_loader_otlp_counts"  # spans of each document OTLP_TABLE's view converted, by token
# How ClickHouse must read an OTLP JSON document so it accepts exactly what the OTLP JSON rules accept.
OTLP_READ_SETTINGS = {
    "input_format_json_read_numbers_as_strings": 0,
    "input_format_json_read_bools_as_strings": 0,
    "input_format_json_read_bools_as_numbers": 0,
    "input_format_json_read_objects_as_strings": 0,
    "input_format_skip_unknown_fields": 1,
    "input_format_json_ignore_unknown_keys_in_named_tuple": 1,
    "input_format_json_defaults_for_missing_elements_in_named_tuple": 1,
    "input_format_null_as_default": 1,
}


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
    def __init__(self, settings: LoaderSettings, stop: threading.Event | None = None) -> None:
        self.stop = stop
        self.settings = settings
        self.database = settings.database
        self.bucket = settings.s3_bucket
        self._client: Client | None = None
        self.give_up_after: float | None = None  # set for --once: how long an outage may last

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self._call(self._connect)
        return self._client

    @property
    def _max_wait(self) -> float:
        return self.settings.max_outage_backoff

    def _connect(self) -> Client:
        return clickhouse.client_from(self.settings, query_retries=0)  # the retries are _call's

    def _call(self, fn: Callable[[], T], is_outage: Outage = clickhouse.is_outage) -> T:
        return call_with_backoff(
            clickhouse.where(self.settings), is_outage, fn,
            log=log, max_wait=self._max_wait, stop=self.stop, give_up_after=self.give_up_after,
        )  # fmt: skip

    def check_tables(self) -> None:
        """Raise MissingTable naming the first table the migrations should have created but did not."""
        needed = (*DATA_TABLES, FILES_TABLE, OTLP_TABLE, BATCHES_TABLE, COUNTS_TABLE)
        found = dict(
            self._call(
                lambda: (
                    self.client.query(
                        "SELECT name, engine_full FROM system.tables "
                        "WHERE database = {db:String} AND name IN {names:Array(String)}",
                        parameters={"db": self.database, "names": list(needed)},
                    ).result_rows
                )
            )
        )
        for name in needed:
            if name not in found:
                raise MissingTable(f"table {self.database}.{name} does not exist: {HOW_TO_MIGRATE}")
        for name in (*DATA_TABLES, BATCHES_TABLE):
            if "non_replicated_deduplication_window" not in found[name]:
                raise MissingTable(
                    f"table {self.database}.{name} has no non_replicated_deduplication_window setting, "
                    f"which exactly-once loading needs: {HOW_TO_MIGRATE}"
                )
        document_type = self._call(
            lambda: (
                self.client.query(
                    "SELECT type FROM system.columns WHERE database = {db:String} AND table = {t:String} "
                    "AND name = 'resourceSpans'",
                    parameters={"db": self.database, "t": OTLP_TABLE},
                ).result_rows
            )
        )
        if not document_type or "bytesValue" not in document_type[0][0]:
            raise MissingTable(
                f"table {self.database}.{OTLP_TABLE} predates the values its view refuses (arrays, kvlists, "
                f"bytes): drop it and {self.database}.{OTLP_TABLE}_mv, then create both as "
                "config/migrations/0001_baseline.sql does"
            )

    def insert_file(self, kind: str, token: str, payload: bytes) -> None:
        """Insert one object's rows; its token makes a replay (after a crash, by a second loader) a no-op."""
        table, columns = TABLES[kind]
        self._call(
            lambda: self.client.raw_insert(
                f"{self.database}.{table}",
                column_names=list(columns),
                insert_block=payload,
                settings={"insert_deduplication_token": token, "insert_deduplicate": 1},
                fmt="JSONCompactEachRow",
            )
        )

    def insert_otlp(self, token: str, document: bytes) -> int:
        """Stream a traces document for ClickHouse to convert; returns the rows ClickHouse says it wrote
        (the document's one row plus what the views wrote)."""
        summary = self._call(
            lambda: self.client.raw_insert(
                f"{self.database}.{OTLP_TABLE}",
                insert_block=document,
                settings={**OTLP_READ_SETTINGS, "insert_deduplication_token": token, "insert_deduplicate": 1},
                fmt="JSONEachRow",
            )
        )
        return summary.written_rows

    def insert_from_s3(self, token: str, url: str, etag: str, access_key: str, secret_key: str) -> int | None:
        """ClickHouse reads one traces document from the bucket itself (its s3() table function, signed with
        the loader's read-only keys) into OTLP_TABLE, whose view converts it. Only the listed version is
        kept (its ETag compared in the same read). Returns the document's spans, or None when ClickHouse read
        nothing: the object changed since it was listed.

        Raises what ClickHouse answered when it refused the document or could not read the object; only an
        unreachable ClickHouse is waited for here (an error ClickHouse answers may be about the bucket, and
        the caller falls back to downloading)."""
        sql = (
            f"INSERT INTO {self.database}.{OTLP_TABLE} "
            "SELECT * FROM s3({url:String}, {access_key:String}, {secret_key:String}, 'JSONEachRow') "
            "WHERE trim(BOTH '\"' FROM _etag) = {etag:String}"
        )
        params = {"url": url, "access_key": access_key, "secret_key": secret_key, "etag": etag}
        settings = {
            **OTLP_READ_SETTINGS,
            "insert_deduplication_token": token,
            "insert_deduplicate": 1,
            "use_structure_from_insertion_table_in_table_functions": 1,
            # a bucket ClickHouse cannot reach fails fast (its default is minutes of retries): the loader
            # downloads the file instead
            "s3_retry_attempts": 2,
            "s3_max_single_read_retries": 2,
            "s3_connect_timeout_ms": 2000,
            # A document is one row: neither its parsing nor its conversion has anything to run in parallel,
            # and the loader runs LOADER_INSERT_WORKERS of these statements at once (threads of their own
            # only contend: 25 files of 8192 spans loaded 10-15% faster with one each here).
            "max_threads": 1,
            "input_format_parallel_parsing": 0,
        }
        self._call(
            lambda: self.client.query(sql, parameters=params, settings=settings),
            is_outage=clickhouse.is_unreachable,
        )
        counted = self._call(
            lambda: (
                self.client.query(
                    f"SELECT max(spans), count() FROM {self.database}.{COUNTS_TABLE} "
                    "WHERE token = {token:String}",
                    parameters={"token": token},
                ).result_rows
            )
        )
        spans, attempts = counted[0] if counted else (0, 0)
        return int(spans) if attempts else None

    def token(self, key: str, etag: str) -> str:
        return f"s3-loader:{self.bucket}/{key}@{etag}"

    def batch_token(self, window: int, seq: int) -> str:
        """The token of a claimed batch: its claim in s3_loader_batches, and its insert into each table."""
        return f"s3-loader-batch:{self.bucket}:{window}:{seq}"

    def read_batches(self, windows: list[int]) -> dict[tuple[int, int], list[tuple[str, str]]]:
        """The claimed batches of these windows: (window, seq) → members (key, etag)."""
        if not windows:
            return {}
        rows = self._call(
            lambda: (
                self.client.query(
                    f"SELECT window, seq, members FROM {self.database}.{BATCHES_TABLE} "
                    "WHERE bucket = {bucket:String} AND window IN {windows:Array(UInt64)}",
                    parameters={"bucket": self.bucket, "windows": sorted(set(windows))},
                ).result_rows
            )
        )
        return {(w, seq): _members(members) for w, seq, members in rows}

    def claim_batch(self, window: int, seq: int, members: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Claim (window, seq) for these members; returns the members of the claim that stands, which are
        another loader's when it claimed (window, seq) first: ClickHouse drops the second insert of a token
        as a duplicate, so one claim of a (window, seq) is ever written. (Read back rather than trusting
        written_rows, which not every server reports for a deduplicated insert.)"""
        row = [[self.bucket, window, seq, members, utcnow()]]
        self._call(
            lambda: self.client.insert(
                f"{self.database}.{BATCHES_TABLE}",
                row,
                column_names=["bucket", "window", "seq", "members", "claimed_at"],
                settings={
                    "insert_deduplication_token": self.batch_token(window, seq),
                    "insert_deduplicate": 1,
                },
            )
        )
        stands = self._call(
            lambda: (
                self.client.query(
                    f"SELECT members FROM {self.database}.{BATCHES_TABLE} WHERE bucket = {{bucket:String}} "
                    "AND window = {window:UInt64} AND seq = {seq:UInt32} ORDER BY claimed_at LIMIT 1",
                    parameters={"bucket": self.bucket, "window": window, "seq": seq},
                ).result_rows
            )
        )
        return _members(stands[0][0]) if stands else []

    def load_records(self, keys: list[str] | None = None) -> dict[tuple[str, str], FileRecord]:
        """The newest record of every file, or of these keys only."""
        if keys is not None and not keys:
            return {}
        where = "" if keys is None else " WHERE key IN {keys:Array(String)}"
        rows = self._call(
            lambda: (
                self.client.query(
                    f"SELECT {', '.join(FILES_COLUMNS)} FROM {self.database}.{FILES_TABLE} FINAL{where}",
                    parameters=None if keys is None else {"keys": keys},
                ).result_rows
            )
        )
        return {(row[0], row[1]): FileRecord(*(_utc(v) for v in row)) for row in rows}

    def record(self, records: list[FileRecord]) -> None:
        if not records:
            return
        data = [[getattr(r, c) for c in FILES_COLUMNS] for r in records]
        self._call(
            lambda: self.client.insert(
                f"{self.database}.{FILES_TABLE}", data, column_names=list(FILES_COLUMNS)
            )
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


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
