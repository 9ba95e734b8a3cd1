"""The SQL guard: one read-only statement, checked before anything is sent (the server enforces it again)."""

from __future__ import annotations

import re

ALLOWED_FIRST_WORDS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN")
# Table functions that reach outside the database (files, URLs, object stores, lakes, other servers, programs,
# the embedding process): every table function ClickHouse 26.9 / chDB knows except those that only read what
# the database holds or makes up (numbers, zeros, values, view, merge, generateRandom…). The `agent` user's
# readonly profile refuses most of them too; the guard names the reason before the query leaves the process.
# The fuzz target `sql_guard` checks this list against the engine's own list of table functions.
EXTERNAL_TABLE_FUNCTIONS = frozenset(
    {
        "url", "urlcluster", "s3", "s3cluster", "gcs", "oss", "cosn", "azureblobstorage",
        "azureblobstoragecluster", "file", "filecluster", "filesystem", "hdfs", "hdfscluster", "remote",
        "remotesecure", "cluster", "clusterallreplicas", "mysql", "postgresql", "jdbc", "odbc", "sqlite",
        "mongodb", "redis", "bigquery", "ytsaurus", "arrowflight", "arrowstream", "executable", "python",
        "eval", "input", "iceberg", "icebergs3", "icebergazure", "iceberghdfs", "iceberglocal",
        "icebergcluster",
        "icebergs3cluster", "icebergazurecluster", "iceberghdfscluster", "iceberglocalcluster", "deltalake",
        "deltalakes3", "deltalakeazure", "deltalakelocal", "deltalakecluster", "deltalakes3cluster",
        "deltalakeazurecluster", "hudi", "hudicluster", "paimon", "paimons3", "paimonazure", "paimonhdfs",
        "paimonlocal", "paimoncluster", "paimons3cluster", "paimonazurecluster", "paimonhdfscluster",
        "prometheusquery", "prometheusqueryrange", "fuzzjson", "fuzzquery",
    }
)  # fmt: skip
_FORBIDDEN_CLAUSES = (("INTO", "OUTFILE"), ("FORMAT",))


class SqlRejected(ValueError):
    """The query is not a single read-only statement."""


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<line_comment>(?:--|\#)[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<string>'(?:[^'\\]|\\.|'')*')
  | (?P<quoted>"(?:[^"\\]|\\.|"")*"|`(?:[^`\\]|\\.|``)*`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<semicolon>;)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(sql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "other"
        text = match.group()
        if kind == "other" and (text in "'\"`" or sql.startswith("/*", match.start())):
            raise SqlRejected("the query has an unterminated string, quoted name or comment")
        if kind not in ("ws", "line_comment", "block_comment"):
            tokens.append((kind, text))
    return tokens


def check_sql(sql: str) -> str:
    """Return the single statement (without a trailing `;`) or raise SqlRejected saying why."""
    if not sql or not sql.strip():
        raise SqlRejected("the query is empty")
    tokens = _tokens(sql)
    while tokens and tokens[-1][0] == "semicolon":
        tokens.pop()
    if not tokens:
        raise SqlRejected("the query is empty")
    if any(kind == "semicolon" for kind, _ in tokens):
        raise SqlRejected("only one statement is allowed (found `;` between statements)")
    first = tokens[0][1].upper() if tokens[0][0] == "word" else tokens[0][1]
    if first == "(":
        first = next((t.upper() for k, t in tokens if k == "word"), "(")
    if first not in ALLOWED_FIRST_WORDS:
        raise SqlRejected(f"only SELECT, WITH, SHOW, DESCRIBE or EXPLAIN queries are allowed, not {first}")
    words = [(i, text.upper()) for i, (kind, text) in enumerate(tokens) if kind == "word"]
    for n, (i, word) in enumerate(words):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        preceding = tokens[i - 1] if i > 0 else None
        if word == "SETTINGS" and preceding != ("other", ".") and following != ("other", "("):
            raise SqlRejected("SETTINGS clauses are not allowed: the server fixes this user's limits")
        for clause in _FORBIDDEN_CLAUSES:
            if (
                word == clause[0]
                and following != ("other", "(")
                and all(n + k < len(words) and words[n + k][1] == part for k, part in enumerate(clause))
            ):
                raise SqlRejected(f"the {' '.join(clause)} clause is not allowed (results come back as data)")
    for i, (kind, text) in enumerate(tokens[:-1]):
        # a call, by its plain or quoted name (`file`(…) and "file"(…) call file() too)
        name = text[1:-1] if kind == "quoted" else text if kind == "word" else ""
        if tokens[i + 1] == ("other", "(") and name.lower() in EXTERNAL_TABLE_FUNCTIONS:
            raise SqlRejected(
                f"the table function {name.lower()}() reaches outside the database; not allowed"
            )
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def is_wrappable(sql: str) -> bool:
    """SELECT / WITH queries can be wrapped in `SELECT * FROM (…) LIMIT n`; SHOW/DESCRIBE/EXPLAIN cannot."""
    tokens = _tokens(sql)
    first = next((t.upper() for k, t in tokens if k == "word"), "")
    return first in ("SELECT", "WITH")


def with_limit(sql: str, limit: int) -> str:
    """Cap a checked query at `limit` rows (the server's max_result_rows caps everything else)."""
    checked = check_sql(sql)
    if not is_wrappable(checked):
        return checked
    return f"SELECT * FROM (\n{checked}\n) LIMIT {int(limit)}"
