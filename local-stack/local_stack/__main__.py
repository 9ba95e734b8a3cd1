from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from .settings import LocalStackSettings, SharedNames
from .stack import LocalStack


def parse_args() -> argparse.Namespace:
    defaults, shared = LocalStackSettings(), SharedNames()
    parser = argparse.ArgumentParser(prog="python -m local_stack", description=__doc__)
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--clickhouse-port", type=int, default=defaults.clickhouse_port)
    parser.add_argument("--s3-port", type=int, default=defaults.s3_port)
    parser.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    parser.add_argument("--bucket", default=shared.s3_bucket)
    parser.add_argument("--region", default=shared.aws_region)
    return parser.parse_args()


async def serve(args: argparse.Namespace) -> None:
    stack = LocalStack(args.host, args.clickhouse_port, args.s3_port, args.data_dir, args.bucket, args.region)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start()
        print("local-stack ready (Ctrl-C to stop)", flush=True)
        await stop.wait()
    finally:
        await stack.stop()
        print("local-stack stopped", flush=True)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args()))


if __name__ == "__main__":
    main()
