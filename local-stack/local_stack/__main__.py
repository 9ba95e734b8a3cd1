from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from click_common.config import load_settings, run_main

from .collector.receiver import OtlpOptions
from .settings import DEPRECATED, LocalStackSettings, SharedNames, parse_origins
from .stack import LocalStack, serve_until_signal

log = logging.getLogger("local_stack")


def parse_args() -> argparse.Namespace:
    defaults, shared = load_settings(LocalStackSettings), load_settings(SharedNames)
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--clickhouse-port", type=int, default=defaults.clickhouse_port)
    parser.add_argument(
        "--clickhouse-connections",
        type=int,
        default=defaults.clickhouse_connections,
        help="chDB connections per user profile: how many queries run at once",
    )
    parser.add_argument("--s3-port", type=int, default=defaults.s3_port)
    parser.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    parser.add_argument("--bucket", default=shared.s3_bucket)
    parser.add_argument("--region", default=shared.aws_region)
    otlp = parser.add_argument_group("OTLP receiver (the collector stand-in)")
    otlp.add_argument("--otlp-grpc-port", type=int, default=defaults.otlp_grpc_port)
    otlp.add_argument("--otlp-http-port", type=int, default=defaults.otlp_http_port)
    otlp.add_argument(
        "--no-otlp",
        dest="otlp",
        action="store_false",
        default=defaults.otlp,
        help="do not start the receiver",
    )
    # named as the exporters' sending_queue.batch in the collector config (the old names still work)
    otlp.add_argument(
        "--otlp-min-size", "--otlp-send-batch-size", type=int, default=defaults.otlp_min_size,
        help="items (spans, log records, data points) a batch waits for",
    )  # fmt: skip
    otlp.add_argument(
        "--otlp-flush-timeout", "--otlp-batch-timeout", type=float, default=defaults.otlp_flush_timeout,
        help="seconds after its first item a batch leaves anyway",
    )  # fmt: skip
    otlp.add_argument("--s3-prefix", default=shared.s3_prefix)
    otlp.add_argument("--s3-compression", choices=("none", "gzip"), default=defaults.otlp_s3_compression)
    return parser.parse_args()


def otlp_options(args: argparse.Namespace) -> OtlpOptions | None:
    if not args.otlp:
        return None
    return OtlpOptions(
        grpc_port=args.otlp_grpc_port,
        http_port=args.otlp_http_port,
        min_size=args.otlp_min_size,
        flush_timeout=args.otlp_flush_timeout,
        s3_prefix=args.s3_prefix,
        s3_compression=args.s3_compression,
        clickhouse_password=load_settings(LocalStackSettings).collector_password,
    )


async def serve(args: argparse.Namespace) -> None:
    stack = LocalStack(
        args.host, args.clickhouse_port, args.s3_port, args.data_dir, args.bucket, args.region,
        otlp=otlp_options(args), clickhouse_connections=args.clickhouse_connections,
        allowed_origins=parse_origins(load_settings(LocalStackSettings).allowed_origins),
        users_xml=load_settings(LocalStackSettings).users_xml,
    )  # fmt: skip
    await serve_until_signal(stack, "local-stack")


def warn_deprecated(environ: Mapping[str, str]) -> None:
    for old, new in DEPRECATED.items():
        if old in environ:
            log.warning("%s is deprecated: set %s instead", old, new)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    warn_deprecated(os.environ)
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    run_main("local_stack", main)
