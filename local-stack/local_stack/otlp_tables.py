"""OTLP JSON → rows of the collector clickhouseexporter's tables, through the conversion the S3 loader uses
too (the `otlp_rows` library), so a span exported directly and one loaded from S3 cannot differ."""

from __future__ import annotations

import otlp_rows
from otlp_rows import LOGS_TABLE, TRACES_TABLE

from .otlp_payload import BadPayload, Signal


def table_columns(table: str) -> tuple[str, ...]:
    if table == TRACES_TABLE:
        return otlp_rows.TRACE_COLUMNS
    if table == LOGS_TABLE:
        return otlp_rows.LOG_COLUMNS
    for kind, name in otlp_rows.METRIC_TABLES.items():
        if name == table:
            return otlp_rows.METRIC_COLUMNS[kind]
    raise KeyError(table)


def table_rows(signal: Signal, document: dict) -> dict[str, list[list]]:
    """{table: rows} for one OTLP JSON document; a document the conversion refuses is a BadPayload."""
    try:
        if signal is Signal.TRACES:
            return {TRACES_TABLE: otlp_rows.trace_rows(document)}
        if signal is Signal.LOGS:
            return {LOGS_TABLE: otlp_rows.log_rows(document)}
        by_kind = otlp_rows.metric_rows(document)
    except otlp_rows.OTLPFormatError as exc:
        raise BadPayload(str(exc)) from None
    return {otlp_rows.METRIC_TABLES[kind]: rows for kind, rows in by_kind.items() if rows}
