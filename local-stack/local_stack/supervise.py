"""`python -m local_stack.supervise`: the Procfile's processes under the supervisor (`just local`)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from .paths import REPO_ROOT
from .supervisor import Supervisor, load


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack.supervise", description=__doc__)
    parser.add_argument("--procfile", type=Path, default=REPO_ROOT / "Procfile")
    parser.add_argument(
        "--ready",
        action="append",
        default=None,
        metavar="NAME=REGEX",
        help="start the later processes only once NAME printed a line matching REGEX "
        "(default: stack=local-stack ready)",
    )
    parser.add_argument(
        "--stop-timeout", type=float, default=60.0, help="seconds each process gets to stop before SIGKILL"
    )
    return parser.parse_args()


async def run(args: argparse.Namespace) -> int:
    specs, ready = load(args.procfile, args.ready if args.ready is not None else ["stack=local-stack ready"])
    supervisor = Supervisor(specs, ready, stop_timeout=args.stop_timeout)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    return await supervisor.run()


def main() -> None:
    args = parse_args()
    try:
        sys.exit(asyncio.run(run(args)))
    except (ValueError, OSError) as exc:
        sys.exit(f"supervise: {exc}")


if __name__ == "__main__":
    main()
