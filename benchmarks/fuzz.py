"""Fuzz every target for a short budget (`just benchmark fuzz [--seconds N] [--targets a,b]`) and report, per
target, the inputs tried and the unique crashes: this run's, and those of every run on this machine so far
(the ledger in .cache/fuzz/<target>/runs.jsonl, which `just fuzz` adds to as well).

Ends with one line: `RESULT targets=… inputs=… crashes=… seconds=… total_seconds=…` then per target
`<target>_inputs=… _crashes=… _total_seconds=… _total_inputs=…`, and last `ratio=…`: the fraction of targets
without a crash (this run's, or a saved one whose input still fails). `--seconds 0` only reports the ledger.
"""

from __future__ import annotations

import argparse

from tests.fuzz import campaign
from tests.fuzz.targets import TARGETS


def main() -> None:
    parser = argparse.ArgumentParser(prog="just benchmark fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="budget per target for this run")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma-separated (default: all)")
    args = parser.parse_args()
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"no target {unknown[0]!r}: choose from {', '.join(TARGETS)}")
    keys: dict[str, str] = {}
    inputs = crashes = clean = 0
    seconds = total_seconds = 0.0
    print(f"{'target':<17} {'this run':>10} {'inputs':>10} {'crashes':>8}   {'all runs':>9} {'inputs':>11}")
    for name in names:
        if args.seconds > 0:
            run = campaign.run(name, args.seconds, quiet=True)
            run_seconds, run_inputs, run_crashes = run.seconds, run.inputs, len(run.new_crashes)
        else:
            run_seconds = run_inputs = run_crashes = 0
        ledger = campaign.ledger(name)
        unfixed = campaign.archive_fixed(name)  # saved crashes whose input still fails
        print(
            f"{name:<17} {run_seconds:>9.0f}s {run_inputs:>10} {run_crashes:>8}   "
            f"{ledger.seconds:>8.0f}s {ledger.inputs:>11}   {unfixed} unfixed crash(es) saved"
        )
        inputs += run_inputs
        crashes += run_crashes
        seconds += run_seconds
        total_seconds += ledger.seconds
        clean += run_crashes == 0 and unfixed == 0
        keys |= {
            f"{name}_inputs": str(run_inputs),
            f"{name}_crashes": str(run_crashes),
            f"{name}_total_seconds": f"{ledger.seconds:.0f}",
            f"{name}_total_inputs": str(ledger.inputs),
        }
    summary = {
        "targets": str(len(names)),
        "inputs": str(inputs),
        "crashes": str(crashes),
        "seconds": f"{seconds:.0f}",
        "total_seconds": f"{total_seconds:.0f}",
    }
    pairs = {**summary, **keys, "ratio": f"{clean / len(names):.2f}"}
    print("RESULT " + " ".join(f"{k}={v}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
