"""The business questions in event-generator/snkrs_queries.sql: parse them, and run them all against the
ClickHouse of whichever stack answers on CLICKHOUSE_HOST:CLICKHOUSE_PORT (`just snkrs-queries`,
`python -m local_stack.tools.snkrs_queries`)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from click_common import clickhouse
from clickhouse_connect.driver.exceptions import ClickHouseError

from ..paths import REPO_ROOT

QUERIES_FILE = REPO_ROOT / "event-generator" / "snkrs_queries.sql"


@dataclass(frozen=True)
class Query:
    name: str
    sql: str


def load_queries(text: str) -> list[Query]:
    """Split on statement-ending semicolons; each statement is named by its `-- name:` comment."""
    queries = []
    for chunk in re.split(r";[ \t]*(?:\n|$)", text):
        match = re.search(r"^--\s*name:\s*(.+)$", chunk, re.MULTILINE)
        body = "\n".join(line for line in chunk.splitlines() if not line.lstrip().startswith("--")).strip()
        if not body:
            continue
        if match is None:
            raise ValueError(f"statement without a '-- name:' line: {body[:80]!r}")
        queries.append(Query(match.group(1).strip(), body))
    return queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just snkrs-queries", description=__doc__)
    parser.add_argument("--file", type=Path, default=QUERIES_FILE)
    parser.add_argument("--name", help="run only the queries whose name contains this")
    args = parser.parse_args(argv)
    queries = load_queries(args.file.read_text())
    settings = clickhouse.ClickHouseSettings()
    # The driver logs each failed attempt itself; one line of our own says what happened.
    logging.getLogger("clickhouse_connect").setLevel(logging.CRITICAL)
    try:
        client = clickhouse.client_from(settings, send_receive_timeout=60)
    except (ClickHouseError, OSError) as exc:  # connection refused, auth: one readable line
        print(
            f"snkrs-queries: cannot reach {settings.describe()} ({exc}); is a stack up?",
            file=sys.stderr,
        )
        return 1
    failed = 0
    try:
        for query in queries:
            if args.name and args.name.lower() not in query.name.lower():
                continue
            print(f"\n== {query.name}")
            try:
                shown = client.raw_query(query.sql, fmt="PrettyCompactMonoBlock").decode()
            except (ClickHouseError, OSError) as exc:
                failed += 1
                print(f"failed: {' '.join(str(exc).split())}", file=sys.stderr)
                continue
            print(shown.rstrip() or "(no rows)")
    finally:
        client.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
