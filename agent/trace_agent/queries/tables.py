"""Queries about the tables themselves: their columns, their time span, their newest span."""

from __future__ import annotations

from .filters import Query


def table_overview(table: str) -> Query:
    database, name = table.split(".")
    sql = """
SELECT name, type FROM system.columns
WHERE database = {database:String} AND table = {table:String}
ORDER BY position"""
    return sql, {"database": database, "table": name}


def table_span(table: str) -> Query:
    return f"SELECT count() AS rows, min(Timestamp) AS oldest, max(Timestamp) AS newest FROM {table}", {}


def newest_span(table: str) -> Query:
    return f"SELECT max(Timestamp) AS newest FROM {table}", {}
