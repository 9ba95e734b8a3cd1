"""ClickHouse access for the tools: one client as the read-only user, retries on a dead connection."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt, wait_exponential

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
    return " ".join(text.split())[:500]


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


def connection_reason(exc: BaseException | None) -> str:
    """`Connection refused` rather than urllib3's nested repr."""
    text = str(exc)
    found = _ERRNO.search(text)
    return found.group(1).strip() if found else " ".join(text.split())[:160]


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0
    log.warning(
        "ClickHouse unreachable (%s), retry %d in %.1f s", connection_reason(exc), state.attempt_number, wait
    )


_retry_connection = retry(
    retry=retry_if_exception_type(OperationalError),
    wait=wait_exponential(multiplier=0.5, max=8),
    stop=stop_after_attempt(4),
    before_sleep=_log_retry,
    reraise=True,
)


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None

    @property
    def target(self) -> str:
        s = self.settings
        return f"{s.clickhouse_user}@{s.clickhouse_host}:{s.clickhouse_port}"

    def client(self) -> Client:
        if self._client is None:
            s = self.settings
            self._client = clickhouse_connect.get_client(
                host=s.clickhouse_host,
                port=s.clickhouse_port,
                username=s.clickhouse_user,
                password=s.clickhouse_password,
                connect_timeout=5,
                send_receive_timeout=s.query_timeout_s + 15,
                autogenerate_session_id=False,
            )
        return self._client

    def query(self, sql: str, parameters: dict[str, Any] | None = None) -> Rows:
        started = time.perf_counter()
        try:
            result = self._query(sql, parameters)
        except OperationalError as exc:  # a DatabaseError subclass: check it first
            raise QueryError(
                f"ClickHouse at {self.target} is unreachable: {connection_reason(exc)}"
            ) from None
        except DatabaseError as exc:
            raise QueryError(clickhouse_message(exc)) from None
        elapsed = (time.perf_counter() - started) * 1000
        read_rows = int(result.summary.get("read_rows", 0) or 0) if result.summary else 0
        return Rows(list(result.column_names), result.result_rows, elapsed, read_rows)

    @_retry_connection
    def _query(self, sql: str, parameters: dict[str, Any] | None):
        return self.client().query(sql, parameters=parameters)

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
