"""`python -m enricher` runs forever; `--once` catches up and exits."""

from __future__ import annotations

import argparse
import logging

from click_common.backoff import GaveUp, Stopped, short_reason
from click_common.clickhouse import refused_login_is_a_config_error
from click_common.config import load_settings, run_main
from clickhouse_connect.driver.exceptions import OperationalError

from .pipeline import Enricher, stop_on_signals
from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="enricher", description="Embed every span of otel.otel_traces.")
    parser.add_argument("--once", action="store_true", help="catch up with the pending spans and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("clickhouse_connect", "urllib3"):  # store.py logs one line per retry itself
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    settings = load_settings(Settings)
    stopping = stop_on_signals()
    try:
        with refused_login_is_a_config_error(settings):
            return Enricher.start(settings, stopping, once=args.once).run(once=args.once)
    except (GaveUp, Stopped, OperationalError) as exc:  # only --once gives up (or a stop ends the wait)
        if stopping.is_set():
            return 0
        reason = exc.__cause__ if isinstance(exc, GaveUp) else exc
        logging.getLogger("enricher").error(
            "giving up, %s unreachable: %s", settings.describe(), short_reason(reason)
        )
        return 1


if __name__ == "__main__":
    run_main("enricher", main)
