"""`python -m enricher.status` (`just enrichment-status`): how far the enricher is, read from ClickHouse."""

from __future__ import annotations

import logging

from click_common.backoff import GaveUp, short_reason
from click_common.config import load_settings, run_main
from click_common.migrations import HOW_TO_MIGRATE
from clickhouse_connect.driver.exceptions import DatabaseError
from rich.console import Console
from rich.table import Table

from .pipeline import fmt_us
from .settings import Settings
from .store import Status, Store


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render(status: Status) -> Table:
    table = Table(title="embedding enricher: otel.otel_traces → otel.otel_traces_enriched", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    last = "never" if status.last_batch_age is None else f"{status.last_batch_age:.0f}s ago"
    rows = [
        ("enriched rows", f"{status.enriched:,}"),
        ("pending rows", f"{status.pending:,}"),
        (
            "watermark (arrival time)",
            fmt_us(status.watermark_us) + " UTC" if status.watermark_us else "none yet",
        ),
        ("lag (oldest pending span)", f"{status.lag_seconds:.1f}s"),
        ("cache hit rate (distinct texts, last hour)", _pct(status.cache_hit_rate)),
        ("spans that needed no model run (last hour)", _pct(status.reuse_rate)),
        ("spans/s (last minute)", f"{status.spans_per_second:.1f}"),
        ("last batch (within the last hour)", last),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> int:
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    settings = load_settings(Settings)
    store = Store(settings, give_up_seconds=0)
    console = Console()
    try:
        missing = store.missing_tables()
        if missing:
            console.print(f"[red]missing table {', '.join(missing)}[/] — {HOW_TO_MIGRATE}")
            return 2
        console.print(render(store.status(settings.name, int(settings.lookback_seconds * 1e6))))
    except (DatabaseError, GaveUp) as exc:  # GaveUp: unreachable (give_up_seconds=0 tries once)
        reason = short_reason(exc.__cause__ if isinstance(exc, GaveUp) else exc)
        console.print(f"[red]cannot read the status from {settings.describe()}:[/] {reason}")
        return 1
    return 0


if __name__ == "__main__":
    run_main("enricher.status", main)
