"""`python -m tests.fuzz.replay TARGET FILE…`: run saved inputs (regressions, crashes) through a target
without atheris; prints each one that still fails and exits 1 if any does."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from tests.fuzz.targets import TARGETS, describe


def main(argv: list[str]) -> int:
    target, files = TARGETS[argv[0]], [Path(f) for f in argv[1:]]
    inputs = {path.name: path.read_bytes() for path in files}  # before setup: a target may change directory
    one = target.setup()
    failed = 0
    for name, data in inputs.items():
        try:
            one(data)
        except Exception as exc:
            failed += 1
            print(f"{target.name}: {name} still fails: {describe(exc)}", flush=True)
            traceback.print_exc(limit=-3)
    print(f"{target.name}: {len(files) - failed} of {len(files)} inputs pass", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
