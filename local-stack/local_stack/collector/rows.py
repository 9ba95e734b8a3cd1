"""OTLP JSON → rows of the collector clickhouseexporter's tables, through the conversion the S3 loader uses
too (the `otlp_rows` library), so a span exported directly and one loaded from S3 cannot differ."""

from __future__ import annotations

import otlp_rows
from otlp_rows import table_columns

from .payload import BadPayload, Signal

__all__ = ["table_columns", "table_rows"]


def table_rows(signal: Signal, document: dict) -> dict[str, list[list]]:
    """{table: rows} for one OTLP JSON document; a document the conversion refuses is a BadPayload."""
    try:
        return signal.spec.rows.rows(document)
    except otlp_rows.OTLPFormatError as exc:
        raise BadPayload(str(exc)) from None
