"""Start-up checks and wiring shared by the one-shot and the interactive modes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .db import Database, QueryError
from .loop import Agent, Events, make_client
from .settings import Settings
from .startup import EXIT_CONFIG, StartupError, require_api_key
from .tools import ToolContext


def check_database(db: Database, settings: Settings) -> list[str]:
    """Read-only user and the tables the tools need; returns warnings for what only some tools need."""
    try:
        readonly = db.readonly_level()
        missing = db.missing_tables(
            [settings.traces_table, settings.trace_lookup_table, settings.enriched_table]
        )
    except QueryError as exc:
        raise StartupError(
            str(exc) if "unreachable" in str(exc) else f"ClickHouse at {db.target}: {exc}"
        ) from None
    if readonly == 0:
        raise StartupError(
            f"refusing to start: ClickHouse user {settings.clickhouse_user!r} can write (readonly=0); the "
            "agent must use a read-only user (AGENT_CLICKHOUSE_USER, default 'agent')",
            EXIT_CONFIG,
        )
    required = [t for t in missing if t != settings.enriched_table]
    if required:
        raise StartupError(
            f"table {required[0]} does not exist in ClickHouse at {db.target}: apply config/init-db.sql "
            "(the local stack and the ClickHouse container do it at start)"
        )
    return [f"{t} does not exist yet: semantic_search will fail until the enricher has run" for t in missing]


@dataclass
class Session:
    settings: Settings
    db: Database
    ctx: ToolContext
    agent: Agent
    warnings: list[str]

    def close(self) -> None:
        self.db.close()


def open_session(settings: Settings, events: Events | None = None) -> Session:
    require_api_key(settings)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    db = Database(settings)
    warnings = check_database(db, settings)
    ctx = ToolContext(db, settings)
    agent = Agent(make_client(settings), ctx, settings, events)
    return Session(settings, db, ctx, agent, warnings)
