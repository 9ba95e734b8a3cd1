"""What every door (CLI, MCP server) checks before serving: a read-only user, the tables the tools read."""

from __future__ import annotations

from click_common.migrations import HOW_TO_MIGRATE

from .db import Database, QueryError
from .settings import Settings
from .startup import EXIT_CONFIG, StartupError


def check_database(db: Database, settings: Settings) -> list[str]:
    """Read-only user and the tables the tools need; returns warnings for what only some tools need."""
    try:
        readonly = db.readonly_level()
        missing = db.missing_tables(
            [settings.traces_table, settings.trace_lookup_table, settings.enriched_table]
        )
    except QueryError as exc:
        raise StartupError(
            str(exc) if "unreachable" in str(exc) else f"{settings.describe()}: {exc}"
        ) from None
    if readonly == 0:
        raise StartupError(
            f"refusing to start: ClickHouse user {settings.clickhouse_user!r} can write (readonly=0); the "
            "agent must use a read-only user (AGENT_CLICKHOUSE_USER, default 'agent')",
            EXIT_CONFIG,
        )
    required = [t for t in missing if t != settings.enriched_table]
    if required:
        raise StartupError(f"table {required[0]} does not exist in {settings.describe()}: {HOW_TO_MIGRATE}")
    return [f"{t} does not exist yet: semantic_search will fail until the enricher has run" for t in missing]
