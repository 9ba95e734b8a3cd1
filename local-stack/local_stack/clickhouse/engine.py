"""One chDB engine behind many HTTP clients: a connection per user profile, one query at a time."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import chdb
from click_common.sql_script import split_statements, statements

from .sql_text import Insert, Query, literal, quote_ident, split_settings
from .users import User

_CODE = re.compile(r"Code: (\d+)\.")
_NAME = re.compile(r"\(([A-Z_]+)\)\s*(?:\(version [^)]*\))?\s*$")


class ClickHouseError(Exception):
    """An error in ClickHouse's own words: `Code: N. DB::Exception: … (NAME)`."""

    def __init__(self, message: str, code: int | None = None) -> None:
        message = message.strip()
        found = _CODE.search(message)
        self.code = code if code is not None else int(found.group(1)) if found else 1000
        if not message.startswith("Code:"):
            message = f"Code: {self.code}. DB::Exception: {message}"
        super().__init__(message)


@dataclass
class Result:
    body: bytes | memoryview  # a view into chDB's result buffer: large results are not copied
    fmt: str
    read_rows: int = 0
    read_bytes: int = 0
    written_rows: int = 0
    written_bytes: int = 0
    elapsed_ns: int = 0
    owner: object = None  # keeps chDB's result (and so the buffer `body` views) alive


@dataclass(frozen=True)
class SessionRef:
    """An HTTP session (`session_id`): its own connection, keeping its SET settings and temporary tables."""

    session_id: str
    timeout: float = 60.0  # session_timeout: seconds idle before it is closed
    check: bool = False  # session_check=1: the session must exist already


@dataclass
class _Session:
    conn: object
    lock: threading.Lock
    timeout: float
    last_used: float


class Engine:
    """chDB opened once on `data_dir`; users with a profile of their own get a connection carrying it.

    Profile settings (readonly, max_result_rows, …) are connection settings, so the engine itself
    enforces them: a `SET readonly = 0` on the agent's connection fails with ClickHouse's error.
    A chDB connection runs one query at a time; each profile gets up to `connections` of them, so that many
    queries run in parallel (every connection keeps its own settings and current database).
    """

    def __init__(
        self, data_dir: Path, connections: int = 2, server_settings: Mapping[str, str] | None = None
    ) -> None:
        self.path = str(data_dir.resolve())
        data_dir.mkdir(parents=True, exist_ok=True)
        self.spool = Path(f"{self.path}-spool")  # INSERT bodies wait here for FROM INFILE
        self.spool.mkdir(exist_ok=True)
        for leftover in self.spool.glob("*.data"):
            leftover.unlink()
        # the first connection opens chDB's data and takes its server settings
        self._main = chdb.connect(self.path + (f"?{urlencode(server_settings)}" if server_settings else ""))
        self._main_lock = threading.Lock()
        self._connections = max(1, connections)
        self._pools: dict[str, queue.Queue] = {}  # profile → idle connections (None: not opened yet)
        self._opened: list = []
        self._pools_lock = threading.Lock()
        self._sessions: dict[tuple[str, str, str], _Session] = {}  # (user, profile, session_id) → connection
        self._sessions_lock = threading.Lock()
        self.version = self._main.query("SELECT version()", "TabSeparated").bytes().decode().strip()

    @contextlib.contextmanager
    def _connection(self, user: User) -> Iterator:
        with self._pools_lock:
            pool = self._pools.get(user.profile)
            if pool is None:
                pool = self._pools[user.profile] = queue.Queue()
                for _ in range(self._connections):
                    pool.put(None)
        conn = pool.get()  # waits while all of this profile's connections are busy
        try:
            if conn is None:
                suffix = f"?{urlencode(user.settings)}" if user.settings else ""
                conn = chdb.connect(self.path + suffix)
                with self._pools_lock:
                    self._opened.append(conn)
            yield conn
        finally:
            pool.put(conn)

    @contextlib.contextmanager
    def _session(self, user: User, ref: SessionRef) -> Iterator:
        """The session's connection, as clickhouse-server: one query at a time (a concurrent one fails with
        SESSION_IS_LOCKED), closed after `timeout` idle seconds, sessions of different users apart."""
        now = time.monotonic()
        with self._sessions_lock:
            for key, idle in list(self._sessions.items()):
                if now - idle.last_used > idle.timeout and idle.lock.acquire(blocking=False):
                    del self._sessions[key]
                    idle.conn.close()
            # by profile too: a GET's read-only twin (request.effective_user) never shares a POST's connection
            key = (user.name, user.profile, ref.session_id)
            session = self._sessions.get(key)
            if session is None:
                if ref.check:
                    raise ClickHouseError(
                        f"Session {ref.session_id} not found. (SESSION_NOT_FOUND)", code=372
                    )
                suffix = f"?{urlencode(user.settings)}" if user.settings else ""
                session = _Session(chdb.connect(self.path + suffix), threading.Lock(), ref.timeout, now)
                self._sessions[key] = session
            session.timeout = ref.timeout
        if not session.lock.acquire(blocking=False):
            raise ClickHouseError(
                f"Session {ref.session_id} is locked by a concurrent client. (SESSION_IS_LOCKED)", code=373
            )
        try:
            yield session.conn
        finally:
            session.last_used = time.monotonic()
            session.lock.release()

    def run_script(self, sql: str) -> int:
        """Run a file of `;`-separated statements; returns how many ran."""
        todo = statements(sql)
        with self._main_lock:
            for statement in todo:
                self._run(self._main, statement, "TabSeparated")
        return len(todo)

    # The engine as click_common.migrations' Executor: the local stack migrates its schema before it serves.
    def command(self, sql: str) -> None:
        """Run one statement as the engine itself (no user's profile)."""
        with self._main_lock:
            self._run(self._main, sql, "TabSeparated")

    def rows(self, sql: str) -> list[list[Any]]:
        """One query's rows, as the engine itself, typed as JSON carries them."""
        with self._main_lock:
            res = self._run(self._main, sql, "JSONCompact")
        return json.loads(res.bytes())["data"] if res.size() else []

    def execute(
        self,
        user: User,
        request: Insert | Query,
        database: str | None,
        settings: dict[str, str],
        params: dict[str, str],
        session: SessionRef | None = None,
    ) -> Result:
        with self._session(user, session) if session else self._connection(user) as conn:
            undo: list[str] = []
            try:
                if database and database != "default":
                    self._run(conn, f"USE {quote_ident(database)}", "TabSeparated")
                    undo.append("USE default")
                if settings:
                    assignments = ", ".join(f"{name} = {literal(v)}" for name, v in settings.items())
                    self._run(conn, f"SET {assignments}", "TabSeparated")
                    undo.append("SET " + ", ".join(f"{name} = DEFAULT" for name in settings))
                if isinstance(request, Insert):
                    return self._insert(conn, request)
                return self._query(conn, request, params)
            except ClickHouseError as exc:
                # chDB runs everything as its one internal user; name the user who asked, as the server would
                raise ClickHouseError(
                    str(exc).replace("DB::Exception: default: ", f"DB::Exception: {user.name}: ", 1), exc.code
                ) from None
            finally:
                for statement in undo:
                    with contextlib.suppress(ClickHouseError):
                        self._run(conn, statement, "TabSeparated")

    def _query(self, conn, request: Query, params: dict[str, str]) -> Result:
        started = time.perf_counter_ns()
        res = self._run(conn, request.sql, request.fmt, params or None)
        return Result(
            body=res.get_memview().view() if res.size() else b"",
            fmt=request.fmt,
            read_rows=res.rows_read(),
            read_bytes=res.bytes_read(),
            written_rows=res.rows_written(),
            elapsed_ns=time.perf_counter_ns() - started,
            owner=res,
        )

    def _insert(self, conn, request: Insert) -> Result:
        """INSERT … FROM INFILE, not chDB's streaming inserter: that one reports rows as written even when a
        materialized view or a CHECK constraint rejects (and drops) them; here the error surfaces."""
        started = time.perf_counter_ns()
        path = request.data if isinstance(request.data, Path) else self.spool_file(request.data)
        target, settings = split_settings(request.statement)
        sql = f"{target} FROM INFILE {literal(str(path))}{settings} FORMAT {request.fmt}"
        try:
            res = self._run(conn, sql, "TabSeparated")
        finally:
            if not isinstance(request.data, Path):
                path.unlink(missing_ok=True)
        return Result(
            body=b"",
            fmt=request.fmt,
            written_rows=res.rows_written(),
            written_bytes=res.bytes_written(),
            elapsed_ns=time.perf_counter_ns() - started,
        )

    def spool_file(self, data: bytes = b"") -> Path:
        """A fresh file in the spool directory for an INSERT's data (the caller removes it)."""
        fd, name = tempfile.mkstemp(dir=self.spool, suffix=".data")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return Path(name)

    @staticmethod
    def _run(conn, sql: str, fmt: str, params: dict[str, str] | None = None):
        try:
            return conn.query(sql, fmt, params=params) if params else conn.query(sql, fmt)
        except Exception as exc:
            raise ClickHouseError(str(exc)) from None

    def close(self) -> None:
        with self._pools_lock, self._main_lock, self._sessions_lock:
            for conn in [*self._opened, *(session.conn for session in self._sessions.values())]:
                conn.close()
            self._sessions.clear()
            self._main.close()


def check_single_statement(sql: str) -> None:
    """clickhouse-server runs one statement per HTTP request; chDB alone would run many."""
    statements = [s for s in split_statements(sql) if s.strip()]
    if not statements:
        raise ClickHouseError("Empty query. (SYNTAX_ERROR)", code=62)
    if len(statements) > 1:
        raise ClickHouseError(
            "Syntax error (Multi-statements are not allowed): failed at position "
            f"{len(statements[0]) + 1} (end of query). (SYNTAX_ERROR)",
            code=62,
        )
