"""`just bench`: how much is in each table, how fast it is arriving, and whether the S3 path lost spans.

Works against whichever stack answers on CLICKHOUSE_HOST:CLICKHOUSE_PORT (the Docker or the local stack):
- the row count of every table in `default` and `otel`;
- rows per second over the last 60 s, by each table's own time column (insert time where the table has
  one, else span start, log time, point time);
- the gap between spans exported directly (default.otel_traces) and spans loaded back from S3
  (otel.otel_traces), in total and for spans older than the settle time (the loader's lag is excluded
  there, so a gap is a loss).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from click_common import clickhouse
from otlp_rows import TRACES_TABLE

DATABASES = ("default", "otel")
DIRECT_SPANS = f"default.{TRACES_TABLE}"  # the collector's exporter writes here
LOADED_SPANS = f"otel.{TRACES_TABLE}"  # the loader, from the S3 copy
# The column that says when a row arrived (insert time) or else happened (event time), by preference;
# otherwise the first DateTime column of the table.
TIME_COLUMNS = ("InsertedAt", "EnrichedAt", "UpdatedAt", "updated_at", "Timestamp", "TimeUnix", "Start")


@dataclass(frozen=True)
class TableStats:
    table: str
    rows: int
    time_column: str | None
    recent_rows: int | None  # rows whose time column is within the window; None without a time column

    def rate(self, window_s: int) -> float | None:
        return None if self.recent_rows is None else self.recent_rows / window_s


@dataclass(frozen=True)
class SpanGap:
    direct: int
    loaded: int
    settled_direct: int
    settled_loaded: int
    duplicate_direct: int = 0  # rows beyond the first of a (TraceId, SpanId): at-least-once redeliveries
    duplicate_loaded: int = 0

    @property
    def missing(self) -> int:
        return self.direct - self.loaded

    @property
    def settled_missing(self) -> int:
        return self.settled_direct - self.settled_loaded


def pick_time_column(columns: Sequence[tuple[str, str]]) -> str | None:
    """The column to measure arrival rate by: a preferred name of a DateTime type, else the first DateTime."""
    datetimes = [name for name, type_ in columns if type_.removeprefix("Nullable(").startswith("DateTime")]
    for preferred in TIME_COLUMNS:
        if preferred in datetimes:
            return preferred
    return datetimes[0] if datetimes else None


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "-"


def format_report(stats: Sequence[TableStats], gap: SpanGap | None, window_s: int, settle_s: int) -> str:
    width = max([len("table"), *(len(s.table) for s in stats)])
    lines = [f"{'table':<{width}}  {'rows':>12}  {f'rows/s ({window_s}s)':>14}  by column"]
    for s in stats:
        rate = s.rate(window_s)
        rate_text = "-" if rate is None else f"{rate:,.1f}"
        lines.append(f"{s.table:<{width}}  {s.rows:>12,}  {rate_text:>14}  {s.time_column or '-'}")
    if gap is None:
        lines.append(f"\nspan gap: {DIRECT_SPANS} or {LOADED_SPANS} is missing")
        return "\n".join(lines)
    lines.append("")
    lines.append(
        f"span gap (direct {DIRECT_SPANS} vs loaded from S3 {LOADED_SPANS}): "
        f"direct={gap.direct:,} loaded={gap.loaded:,} "
        f"missing={gap.missing:,} ({percent(gap.missing, gap.direct)})"
    )
    lines.append(
        f"  spans older than {settle_s}s (loader lag excluded): direct={gap.settled_direct:,} "
        f"loaded={gap.settled_loaded:,} missing={gap.settled_missing:,} "
        f"({percent(gap.settled_missing, gap.settled_direct)})"
    )
    if gap.duplicate_direct or gap.duplicate_loaded:
        lines.append(
            f"  DUPLICATES: {gap.duplicate_direct:,} direct and {gap.duplicate_loaded:,} loaded rows repeat "
            "a (TraceId, SpanId) already stored (at-least-once redelivery, e.g. after a collector crash)"
        )
    if gap.settled_missing > 0:
        verdict = "LOSS: settled spans are missing from the S3 path (or the loader is stuck: see loader-logs)"
    elif gap.settled_missing < 0:
        verdict = "DUPLICATES: the S3 path holds more settled spans than were exported"
    else:
        verdict = "OK: every settled span exported directly was also loaded from S3"
    lines.append(f"  {verdict}")
    return "\n".join(lines)


def collect(client, window_s: int, settle_s: int) -> tuple[list[TableStats], SpanGap | None]:
    columns: dict[str, list[tuple[str, str]]] = {}
    result = client.query(
        "SELECT database, table, name, type FROM system.columns "
        "WHERE database IN {dbs:Array(String)} ORDER BY database, table, position",
        parameters={"dbs": list(DATABASES)},
    )
    for database, table, name, type_ in result.result_rows:
        columns.setdefault(f"{database}.{table}", []).append((name, type_))
    tables = client.query(
        "SELECT database, name FROM system.tables WHERE database IN {dbs:Array(String)} "
        "AND engine LIKE '%MergeTree%' ORDER BY database, name",
        parameters={"dbs": list(DATABASES)},
    ).result_rows
    stats = []
    for database, name in tables:
        table = f"{database}.{name}"
        time_column = pick_time_column(columns.get(table, []))
        quoted = f"`{database}`.`{name}`"
        if time_column is None:
            rows = client.query(f"SELECT count() FROM {quoted}").result_rows[0][0]
            stats.append(TableStats(table, int(rows), None, None))
            continue
        rows, recent = client.query(
            f"SELECT count(), countIf(`{time_column}` >= now() - {int(window_s)}) FROM {quoted}"
        ).result_rows[0]
        stats.append(TableStats(table, int(rows), time_column, int(recent)))
    names = {s.table for s in stats}
    gap = None
    if DIRECT_SPANS in names and LOADED_SPANS in names:
        counts = client.query(
            f"SELECT (SELECT count() FROM {DIRECT_SPANS}), (SELECT count() FROM {LOADED_SPANS}), "
            f"(SELECT countIf(Timestamp < now() - {int(settle_s)}) FROM {DIRECT_SPANS}), "
            f"(SELECT countIf(Timestamp < now() - {int(settle_s)}) FROM {LOADED_SPANS}), "
            f"(SELECT count() - uniqExact(TraceId, SpanId) FROM {DIRECT_SPANS}), "
            f"(SELECT count() - uniqExact(TraceId, SpanId) FROM {LOADED_SPANS})"
        ).result_rows[0]
        gap = SpanGap(*(int(c) for c in counts))
    return stats, gap


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just bench", description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=60, help="seconds for the rows/s column (default 60)")
    parser.add_argument(
        "--settle", type=int, default=120, help="seconds after which a span must be loaded (default 120)"
    )
    args = parser.parse_args(argv)

    # The driver logs each failed attempt itself; one line of our own says what happened.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    settings = clickhouse.ClickHouseSettings()
    try:
        client = clickhouse.client_from(settings)
    except Exception as exc:  # connection refused, auth: one readable line, not a traceback
        print(f"bench: cannot reach {settings.describe()} ({exc}); is a stack up?", file=sys.stderr)
        return 1
    try:
        stats, gap = collect(client, args.window, args.settle)
    finally:
        client.close()
    print(settings.describe())
    print(format_report(stats, gap, args.window, args.settle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
