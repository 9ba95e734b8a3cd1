"""What the conversion knows of each signal, in one place: its document's keys, what its items are called, its
tables with their columns, and its row function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import logs, metrics, traces
from .columns import LOG_COLUMNS, LOGS_TABLE, METRIC_COLUMNS, METRIC_TABLES, TRACE_COLUMNS, TRACES_TABLE

Rows = list[list[Any]]


@dataclass(frozen=True)
class SignalRows:
    name: str  # traces | logs | metrics
    keys: tuple[str, str, str]  # a document's resource, scope and item keys: resourceSpans, scopeSpans, spans
    unit: str  # what its items are called: spans | log records | data points
    tables: dict[str, tuple[str, ...]]  # the exporter's default tables → their insert columns
    rows: Callable[[dict[str, Any]], dict[str, Rows]]  # a document → {table: rows}


def _trace_tables(document: dict[str, Any]) -> dict[str, Rows]:
    return {TRACES_TABLE: traces.trace_rows(document)}


def _log_tables(document: dict[str, Any]) -> dict[str, Rows]:
    return {LOGS_TABLE: logs.log_rows(document)}


def _metric_tables(document: dict[str, Any]) -> dict[str, Rows]:
    """Only the tables that get rows (a document holds few of the five kinds)."""
    return {METRIC_TABLES[kind]: rows for kind, rows in metrics.metric_rows(document).items() if rows}


TRACES = SignalRows("traces", traces.KEYS, "spans", {TRACES_TABLE: TRACE_COLUMNS}, _trace_tables)
LOGS = SignalRows("logs", logs.KEYS, "log records", {LOGS_TABLE: LOG_COLUMNS}, _log_tables)
METRICS = SignalRows(
    "metrics",
    metrics.KEYS,
    "data points",
    {METRIC_TABLES[kind]: columns for kind, columns in METRIC_COLUMNS.items()},
    _metric_tables,
)
SIGNALS: dict[str, SignalRows] = {s.name: s for s in (TRACES, LOGS, METRICS)}


def table_columns(table: str) -> tuple[str, ...]:
    """The insert columns of one of the exporter's tables; KeyError for any other table."""
    for signal in SIGNALS.values():
        if table in signal.tables:
            return signal.tables[table]
    raise KeyError(table)
