"""The ClickHouse endpoint alone: chDB behind ClickHouse's HTTP interface, nothing else.

It is the Docker stack's ClickHouse stand-in (local-stack/standins/clickhouse), started as the official image
lays its files out: the users and server settings the compose file mounts under /etc/clickhouse-server, the
data in /var/lib/clickhouse, and every `*.sql` of /docker-entrypoint-initdb.d run at each start (the stack
sets CLICKHOUSE_ALWAYS_RUN_INITDB_SCRIPTS; the scripts are idempotent). `python -m local_stack` runs the same
endpoint with the S3 server and the OTLP receiver beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from click_common.config import load_settings, run_main

from ..paths import CONFIG_XML, INIT_SQL, USERS_XML
from ..settings import LocalStackSettings, parse_origins
from ..stack import LocalStack, serve_until_signal


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack.clickhouse", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--data-dir", type=Path, default=Path(".local"))
    parser.add_argument("--users-xml", type=Path, default=USERS_XML)
    parser.add_argument("--config-xml", type=Path, default=CONFIG_XML)
    parser.add_argument("--init-sql", type=Path, default=INIT_SQL, help="a .sql file, or a folder of them")
    parser.add_argument("--connections", type=int, default=2, help="chDB connections per user profile")
    return parser.parse_args()


def init_scripts(path: Path) -> list[Path]:
    """The scripts to run at start, in name order (as the official image's entrypoint runs its folder)."""
    return sorted(path.glob("*.sql")) if path.is_dir() else [path]


async def serve(args: argparse.Namespace) -> None:
    scripts = init_scripts(args.init_sql)
    if not scripts:
        raise SystemExit(f"clickhouse: no .sql file in {args.init_sql}")
    settings = load_settings(LocalStackSettings)
    stack = LocalStack(
        args.host, args.port, 0, args.data_dir, "", "", init_sql=scripts[0], users_xml=args.users_xml,
        config_xml=args.config_xml, clickhouse_connections=args.connections, serve_s3=False,
        allowed_origins=parse_origins(settings.allowed_origins),
    )  # fmt: skip

    def run_the_other_scripts(started: LocalStack) -> None:
        assert started.engine is not None
        for script in scripts[1:]:
            count = started.engine.run_script(script.read_text())
            logging.getLogger("local_stack").info(
                "clickhouse: applied %s (%d statements)", script.name, count
            )

    await serve_until_signal(stack, "clickhouse", run_the_other_scripts)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    run_main("local_stack.clickhouse", main)
