"""`python -m tests.fuzz TARGET [SECONDS]` (`just fuzz`): fuzz one target, or `all` of them in turn, for
SECONDS each (default 60). Exits 1 when the target has a saved crash that is not fixed (see
.cache/fuzz/<target>/)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.fuzz import campaign
from tests.fuzz.targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just fuzz", description=__doc__)
    parser.add_argument("target", help=f"one of: {', '.join(TARGETS)}, all")
    parser.add_argument("seconds", nargs="?", type=float, default=60.0, help="time budget per target")
    parser.add_argument(
        "--workdir", type=Path, default=campaign.WORKDIR, help="corpora, crashes and ledgers (.cache/fuzz)"
    )
    args = parser.parse_args(argv)
    names = list(TARGETS) if args.target == "all" else [args.target]
    if not set(names) <= set(TARGETS):
        parser.error(f"no target {args.target!r}: choose one of {', '.join(TARGETS)} or all")
    failed = False
    for name in names:
        print(f"fuzz {name}: {TARGETS[name].what} ({args.seconds:g} s)", flush=True)
        result = campaign.run(name, args.seconds, args.workdir)
        total = campaign.ledger(name, args.workdir)
        print(f"fuzz {result.line()}  (all runs: {total.seconds:.0f} s, {total.inputs} inputs)", flush=True)
        if result.new_crashes:
            failed = True
            print(f"fuzz {name}: crashes found: {result.new_crashes}; inputs and tracebacks in "
                  f"{campaign.workdir(name, args.workdir) / 'crashes'}", file=sys.stderr)  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
