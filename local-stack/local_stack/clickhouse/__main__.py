"""The ClickHouse endpoint alone: chDB behind ClickHouse's HTTP interface, nothing else.

It is the Docker stack's ClickHouse stand-in (local-stack/standins/clickhouse), started as the official image
lays its files out: the users and server settings the compose file mounts under /etc/clickhouse-server, the
data in /var/lib/clickhouse, and the `*.sql` of /docker-entrypoint-initdb.d, when there are any, run at
each start (the Docker stack mounts none: its `migrate` service applies config/migrations). Like the official
server, it applies no migrations itself. `python -m local_stack` runs the same endpoint with the S3 server and
the OTLP receiver beside it, and applies the migrations at start.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from click_common.config import load_settings, run_main

from ..paths import CONFIG_XML, USERS_XML
from ..settings import LocalStackSettings, parse_origins
from ..stack import LocalStack, serve_until_signal


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack.clickhouse", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--data-dir", type=Path, default=Path(".local"))
    parser.add_argument("--users-xml", type=Path, default=USERS_XML)
    parser.add_argument("--config-xml", type=Path, default=CONFIG_XML)
    parser.add_argument(
        "--init-sql", type=Path, help="a .sql file, or a folder of them (none there: nothing to run)"
    )
    parser.add_argument("--connections", type=int, default=2, help="chDB connections per user profile")
    return parser.parse_args()


def init_scripts(path: Path | None) -> tuple[Path, ...]:
    """The scripts to run at start, in name order (as the official image's entrypoint runs its folder)."""
    if path is None:
        return ()
    return tuple(sorted(path.glob("*.sql"))) if path.is_dir() else (path,)


async def serve(args: argparse.Namespace) -> None:
    settings = load_settings(LocalStackSettings)
    stack = LocalStack(
        args.host, args.port, 0, args.data_dir, "", "",
        migrations=None, init_scripts=init_scripts(args.init_sql), users_xml=args.users_xml,
        config_xml=args.config_xml, clickhouse_connections=args.connections, serve_s3=False,
        allowed_origins=parse_origins(settings.allowed_origins),
    )  # fmt: skip
    await serve_until_signal(stack, "clickhouse")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    run_main("local_stack.clickhouse", main)
