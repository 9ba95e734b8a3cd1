"""`python -m click_common.migrate [FOLDER]`: apply the schema migrations of FOLDER (default
`config/migrations`) that ClickHouse has not recorded yet, as the CLICKHOUSE_* settings say (the admin user:
migrations create and alter tables). One log line per migration applied; exit 1 with one line when a
migration is refused or fails, 78 when a setting is wrong. `just migrate` runs it against either stack; the
Docker stack's `migrate` service runs it at every start."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .backoff import GaveUp, call_with_backoff
from .clickhouse import ClickHouseSettings, client_from, is_outage, refused_login_is_a_config_error
from .config import load_settings, run_main
from .migrations import ClientExecutor, MigrationError, load, migrate

log = logging.getLogger("click_common.migrate")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m click_common.migrate", description=__doc__)
    parser.add_argument("folder", nargs="?", type=Path, default=Path("config/migrations"))
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for ClickHouse to answer")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(ClickHouseSettings)
    try:
        migrations = load(args.folder)
        with refused_login_is_a_config_error(settings):
            client = call_with_backoff(
                settings.describe(),
                is_outage,
                lambda: client_from(settings),
                log=log,
                give_up_after=args.wait,
            )
            try:
                migrate(ClientExecutor(client), migrations)
            finally:
                client.close()
    except (MigrationError, GaveUp) as exc:
        print(f"migrate: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    run_main("migrate", main)
