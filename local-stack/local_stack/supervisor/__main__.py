"""`python -m local_stack.supervisor`: the Procfile's processes under the supervisor (`just local`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from click_common.config import run_main

from ..launch import StackPorts
from ..paths import REPO_ROOT
from ..settings import LocalStackSettings
from .processes import ProcSpec, Supervisor, load


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_stack.supervisor", description=__doc__)
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
    parser.add_argument(
        "--port-offset",
        type=int,
        default=0,
        metavar="N",
        help="move every port (ClickHouse 8123, S3 9002, OTLP 4317/4318) up by N, for the stack and the "
        "services alike: a second playground beside the first, or beside a Docker stack",
    )
    parser.add_argument(
        "--args",
        action="append",
        default=[],
        metavar='NAME="ARGS"',
        help='extra arguments for one process, e.g. --args generator="--once --time-scale 20"',
    )
    return parser.parse_args(argv)


def port_env(offset: int, defaults: LocalStackSettings | None = None) -> dict[str, str]:
    """The variables that point the stack and every service at ports moved by `offset` (none for 0)."""
    if offset == 0:
        return {}
    ports = StackPorts.defaults(defaults).moved(offset)
    return {**ports.stack_env(), **ports.service_env()}


def with_extra_args(specs: list[ProcSpec], extra: list[str]) -> list[ProcSpec]:
    by_name: dict[str, list[str]] = {}
    for item in extra:
        name, sep, args = item.partition("=")
        if not sep or name not in {s.name for s in specs}:
            known = ", ".join(s.name for s in specs)
            raise ValueError(f"--args {item!r}: expected NAME=ARGS with NAME one of {known}")
        by_name.setdefault(name, []).extend(shlex.split(args))
    return [ProcSpec(s.name, [*s.command, *by_name.get(s.name, [])]) for s in specs]


@contextlib.contextmanager
def terminal_foreground(fd: int = 0) -> Iterator[None]:
    """Become the terminal's foreground process group while running, as a shell's job would.

    Ctrl-C then reaches only this supervisor, which stops its processes in order and exits 0. Left in `just`'s
    group, `just` would get the SIGINT too and turn the clean exit into "interrupted by SIGINT" and 130.
    Does nothing without a terminal (a test or CI sends its signal to whom it means)."""
    try:
        owns_terminal = os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        owns_terminal = False
    if not owns_terminal:
        yield
        return
    previous = os.getpgrp()
    ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not set the foreground
    try:
        os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.tcsetpgrp(fd, previous)
        signal.signal(signal.SIGTTOU, ttou)


async def run(args: argparse.Namespace) -> int:
    specs, ready = load(args.procfile, args.ready if args.ready is not None else ["stack=local-stack ready"])
    supervisor = Supervisor(
        with_extra_args(specs, args.args),
        ready,
        stop_timeout=args.stop_timeout,
        env=port_env(args.port_offset),
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, supervisor.stop)
    return await supervisor.run()


def main() -> int:
    args = parse_args()
    try:
        with terminal_foreground():
            return asyncio.run(run(args))
    except (ValueError, OSError) as exc:
        print(f"supervise: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    run_main("local_stack.supervisor", main)
