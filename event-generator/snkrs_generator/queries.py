"""The business questions in event-generator/snkrs_queries.sql: parse them, and run them all against the
ClickHouse HTTP interface of whichever stack is up (`python -m snkrs_generator.queries`)."""

from __future__ import annotations

import argparse
import base64
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

QUERIES_FILE = Path(__file__).resolve().parents[1] / "snkrs_queries.sql"


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


class ClickHouse(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")
    host: str = Field("localhost", validation_alias="CLICKHOUSE_HOST")
    port: int = Field(8123, validation_alias="CLICKHOUSE_PORT")
    user: str = Field("default", validation_alias="CLICKHOUSE_USER")
    password: str = Field("", validation_alias="CLICKHOUSE_PASSWORD")

    def query(self, sql: str, fmt: str = "PrettyCompactMonoBlock", timeout: float = 60.0) -> str:
        url = f"http://{self.host}:{self.port}/?" + urllib.parse.urlencode({"default_format": fmt})
        request = urllib.request.Request(url, data=sql.encode(), method="POST")
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(exc.read().decode(errors="replace").strip()) from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snkrs_generator.queries", description=__doc__)
    parser.add_argument("--file", type=Path, default=QUERIES_FILE)
    parser.add_argument("--name", help="run only the queries whose name contains this")
    args = parser.parse_args(argv)
    clickhouse = ClickHouse()
    failed = 0
    for query in load_queries(args.file.read_text()):
        if args.name and args.name.lower() not in query.name.lower():
            continue
        print(f"\n== {query.name}")
        try:
            print(clickhouse.query(query.sql).rstrip() or "(no rows)")
        except (RuntimeError, OSError) as exc:
            failed += 1
            print(f"failed: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
