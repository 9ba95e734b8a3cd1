"""ClickHouse access for the tools: one client as the read-only user (built by click_common.clickhouse), a
dead connection retried with click_common.backoff (its one log line per retry) for a few seconds."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from click_common import clickhouse
from click_common.backoff import GaveUp, call_with_backoff, short_reason
from click_common.text import one_line
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from .settings import Settings

log = logging.getLogger("trace_agent.db")


class QueryError(RuntimeError):
    """ClickHouse refused or failed the query; the message is ClickHouse's own first line."""


@dataclass
class Rows:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    elapsed_ms: float
    read_rows: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def clickhouse_message(exc: Exception) -> str:
    """`Code: 164. DB::Exception: … (READONLY)` without the client's wrapping and the server version."""
    text = str(exc)
    start = text.find("Code:")
    text = text[start:] if start >= 0 else text
    text = text.split("(version")[0].split("(for url")[0]
    return one_line(text)


# A dead connection is retried for this long (backoff from 0.5 s, one log line per retry), then the tool call
# answers that ClickHouse is unreachable: a question waits seconds, not minutes, for a server that is down.
RETRY_SECONDS = 4.0


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            timeout = self.settings.query_timeout_s + 15
            self._client = clickhouse.client_from(self.settings, send_receive_timeout=timeout)
        return self._client

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> Rows:
        started = time.perf_counter()
        try:
            result = call_with_backoff(
                self.settings.describe(),
                clickhouse.is_unreachable,
                lambda: self.client().query(sql, parameters=parameters),
                log=log,
                max_wait=8.0,
                give_up_after=RETRY_SECONDS,
            )
        except GaveUp as exc:
            raise QueryError(f"{self.settings.describe()}: {short_reason(exc.__cause__)}") from None
        except DatabaseError as exc:
            raise QueryError(clickhouse_message(exc)) from None
        elapsed = (time.perf_counter() - started) * 1000
        read_rows = int(result.summary.get("read_rows", 0) or 0) if result.summary else 0
        return Rows(list(result.column_names), result.result_rows, elapsed, read_rows)

    def readonly_level(self) -> int:
        return int(self.query("SELECT getSetting('readonly')").rows[0][0])

    def missing_tables(self, tables: list[str]) -> list[str]:
        present = {
            f"{db}.{name}"
            for db, name in self.query(
                "SELECT database, name FROM system.tables WHERE database IN {dbs:Array(String)}",
                {"dbs": sorted({t.split(".")[0] for t in tables})},
            ).rows
        }
        return [t for t in tables if t not in present]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
