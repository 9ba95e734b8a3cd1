"""The warehouse writes: a document's rows into otel.otel_traces / otel.otel_logs, each insert under a
deduplication token (a replay after a crash, or by a second loader, is a no-op), and the two ways ClickHouse
converts a traces document itself (the schema's otel.s3_loader_otlp_traces view): streamed by the loader, or
read from the bucket by ClickHouse's s3()."""

from __future__ import annotations

from click_common import clickhouse

from .clickhouse_calls import ClickHouseCalls
from .documents import TABLES
from .settings import LoaderSettings

DATA_TABLES = tuple(table for table, _ in TABLES.values())
OTLP_TABLE = "s3_loader_otlp_traces"  # Null table + view doing the conversion in ClickHouse
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


class Warehouse:
    def __init__(self, settings: LoaderSettings, calls: ClickHouseCalls | None = None) -> None:
        self.calls = calls or ClickHouseCalls(settings)
        self.settings = settings

    def insert_file(self, kind: str, token: str, payload: bytes) -> None:
        """Insert one object's rows; its token makes a replay (after a crash, by a second loader) a no-op."""
        table, columns = TABLES[kind]
        self.calls(
            lambda: self.calls.client.raw_insert(
                f"{self.settings.database}.{table}",
                column_names=list(columns),
                insert_block=payload,
                settings={"insert_deduplication_token": token, "insert_deduplicate": 1},
                fmt="JSONCompactEachRow",
            )
        )

    def insert_otlp(self, token: str, document: bytes) -> int:
        """Stream a traces document for ClickHouse to convert; returns the rows ClickHouse says it wrote
        (the document's one row plus what the views wrote)."""
        summary = self.calls(
            lambda: self.calls.client.raw_insert(
                f"{self.settings.database}.{OTLP_TABLE}",
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
            f"INSERT INTO {self.settings.database}.{OTLP_TABLE} "
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
        self.calls(
            lambda: self.calls.client.query(sql, parameters=params, settings=settings),
            is_outage=clickhouse.is_unreachable,
        )
        counted = self.calls(
            lambda: (
                self.calls.client.query(
                    f"SELECT max(spans), count() FROM {self.settings.database}.{COUNTS_TABLE} "
                    "WHERE token = {token:String}",
                    parameters={"token": token},
                ).result_rows
            )
        )
        spans, attempts = counted[0] if counted else (0, 0)
        return int(spans) if attempts else None

    def token(self, key: str, etag: str) -> str:
        return f"s3-loader:{self.settings.s3_bucket}/{key}@{etag}"

    def close(self) -> None:
        self.calls.close()
