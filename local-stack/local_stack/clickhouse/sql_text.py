"""Pure SQL-text helpers: take a ClickHouse HTTP request apart (statement, inline data, output
format), and quote identifiers and literals for the statements the engine
writes itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_INSERT_FORMAT = re.compile(
    rb"^\s*(?P<stmt>INSERT\s+INTO\s+.+?)\s+FORMAT\s+(?P<fmt>[A-Za-z][A-Za-z0-9_]*)(?:[ \t]*\r?\n|[ \t]+|$)",
    re.IGNORECASE | re.DOTALL,
)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*;?\s*$", re.IGNORECASE)

CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values; charset=UTF-8",
    "CSV": "text/csv; charset=UTF-8; header=absent",
    "JSON": "application/json; charset=UTF-8",
}


@dataclass(frozen=True)
class Insert:
    """An INSERT whose rows travel as data in `fmt` (the engine runs it as `INSERT … FROM INFILE`)."""

    statement: str
    fmt: str
    data: bytes | Path  # the rows, or a spool file already holding them


def streamable_insert(query_param: str) -> Insert | None:
    """An `INSERT … FORMAT X` given whole in the URL: its body is pure data and can be streamed."""
    match = _INSERT_FORMAT.match(query_param.encode())
    if match and match.end() >= len(query_param.encode().rstrip()):
        return Insert(match["stmt"].decode(), match["fmt"].decode(), b"")
    return None


@dataclass(frozen=True)
class Query:
    sql: str
    fmt: str


def parse_request(query_param: str, body: bytes, default_format: str) -> Insert | Query:
    """Work out what an HTTP request asks for, the way clickhouse-server reads `?query=` plus the body.

    The query may be in the URL, the body, or split between them; an `INSERT … FORMAT X` is followed by
    its data (in the body, or inline after the statement when the statement itself is the body).
    """
    if query_param:
        text = query_param.encode()
        match = _INSERT_FORMAT.match(text)
        if match:
            return Insert(match["stmt"].decode(), match["fmt"].decode(), text[match.end() :] + body)
        sql = query_param if not body else f"{query_param}\n{body.decode()}"
    else:
        match = _INSERT_FORMAT.match(body)
        if match:
            return Insert(match["stmt"].decode(), match["fmt"].decode(), body[match.end() :])
        sql = body.decode()
    sql = sql.strip()
    fmt_match = _TRAILING_FORMAT.search(sql)
    return Query(sql, fmt_match.group(1) if fmt_match else default_format)


def content_type(fmt: str) -> str:
    if fmt in CONTENT_TYPES:
        return CONTENT_TYPES[fmt]
    if fmt.startswith("TabSeparated") or fmt.startswith("TSV"):
        return CONTENT_TYPES["TabSeparated"]
    if fmt.startswith("CSV"):
        return CONTENT_TYPES["CSV"]
    if fmt.startswith("JSON"):
        return CONTENT_TYPES["JSON"]
    return "application/octet-stream"


_SETTINGS = re.compile(r"\s+SETTINGS\s+", re.IGNORECASE)


def split_settings(statement: str) -> tuple[str, str]:
    """`INSERT INTO t (a) SETTINGS x=1` → (`INSERT INTO t (a)`, ` SETTINGS x=1`): FROM INFILE goes between."""
    parts = _SETTINGS.split(statement, maxsplit=1)
    return parts[0], f" SETTINGS {parts[1]}" if len(parts) == 2 else ""


def quote_ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
