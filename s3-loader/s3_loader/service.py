"""Command line: `python -m s3_loader` polls forever, `--once` does one pass, `status` reports."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

import boto3
from click_common.backoff import GaveUp, Stopped
from click_common.clickhouse import refused_login_is_a_config_error
from click_common.config import ConfigError, load_settings

from .bookkeeping import MissingTable
from .loader import Loader
from .settings import LoaderSettings
from .status import show_status

log = logging.getLogger("s3_loader")

EXIT_OK, EXIT_FAILED_FILES, EXIT_SETUP, EXIT_UNAVAILABLE = 0, 1, 2, 3


def check_credentials(settings: LoaderSettings) -> None:
    """Without keys boto3 fails at the first request with a long traceback: say which variable is missing."""
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        return
    if settings.aws_access_key_id or settings.aws_secret_access_key:
        missing = "AWS_SECRET_ACCESS_KEY" if settings.aws_access_key_id else "AWS_ACCESS_KEY_ID"
        raise ConfigError(missing, "is not set (the loader signs S3 requests with both AWS_* keys)")
    if boto3.Session().get_credentials() is None:
        raise ConfigError(
            "AWS_ACCESS_KEY_ID", "is not set, and boto3 found no other credentials (profile, instance role)"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m s3_loader", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["run", "status"], default="run")
    parser.add_argument("--once", action="store_true", help="load what is in the bucket now, then exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "urllib3", "clickhouse_connect"):  # retries are logged once, by the loader
        logging.getLogger(noisy).setLevel(logging.ERROR)
    settings = load_settings(LoaderSettings)
    check_credentials(settings)
    with refused_login_is_a_config_error(settings):
        return run(args, settings)


def run(args: argparse.Namespace, settings: LoaderSettings) -> int:
    """The command, once the settings are known to be usable."""
    if args.command == "status":
        try:
            print(show_status(settings))
        except MissingTable as exc:
            log.error("%s", exc)
            return EXIT_SETUP
        return EXIT_OK

    loader = Loader(settings)
    if args.once:
        loader.bucket.give_up_after = loader.clickhouse.give_up_after = settings.once_give_up_seconds
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: loader.stop.set())
    try:
        loader.books.check_tables()
        log.info(
            "loading s3://%s/%s into ClickHouse %s:%d (%s), %s",
            settings.s3_bucket, settings.list_prefix, settings.clickhouse_host, settings.clickhouse_port,
            settings.database, "one pass" if args.once else f"polling every {settings.poll_interval:g} s",
        )  # fmt: skip
        if not args.once:
            loader.run_forever()
            return EXIT_OK
        result = loader.run_pass()
        log.info(
            "pass done: %d loaded, %d skipped, %d failed, %d spans, %d logs",
            result.loaded, result.skipped, result.failed, result.spans, result.logs,
        )  # fmt: skip
        if result.failed_now:
            log.error("%d file(s) failed: %s", len(result.failed_now), ", ".join(result.failed_now[:10]))
            return EXIT_FAILED_FILES
        return EXIT_OK
    except MissingTable as exc:
        log.error("%s", exc)
        return EXIT_SETUP
    except GaveUp as exc:
        log.error("%s", exc)
        return EXIT_UNAVAILABLE
    except Stopped as exc:
        log.warning("%s", exc)
        return EXIT_FAILED_FILES if args.once else EXIT_OK
    finally:
        loader.close()


if __name__ == "__main__":
    sys.exit(main())
