"""Run one target for a time budget: seed its corpus, run the atheris worker (again after a hard crash, for
what is left of the budget), and add the run to the target's ledger (WORKDIR/runs.jsonl) so that fuzz time
adds up across runs. The corpus persists too: each run starts where the last one stopped."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.targets import TARGETS

REPO = Path(__file__).resolve().parents[2]
WORKDIR = REPO / ".cache/fuzz"


@dataclass
class RunResult:
    target: str
    seconds: float
    inputs: int
    new_crashes: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # every unique crash this target has ever had
    restarts: int = 0

    def line(self) -> str:
        return (
            f"{self.target:<17} {self.seconds:7.0f} s  {self.inputs:>10} inputs  "
            f"{len(self.new_crashes)} new crashes  {len(self.crashes)} unique crashes saved"
        )


@dataclass
class Ledger:
    seconds: float
    inputs: int
    runs: int


def workdir(target: str, root: Path = WORKDIR) -> Path:
    return root / target


def seed(target: str, root: Path = WORKDIR) -> int:
    """Write the target's seeds into its corpus (each once, named by content); returns how many."""
    corpus = workdir(target, root) / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    seeds = TARGETS[target].seeds()
    for data in seeds:
        (corpus / f"seed-{hashlib.sha1(data).hexdigest()[:16]}").write_bytes(data)
    return len(seeds)


def archive_fixed(target: str, root: Path = WORKDIR) -> int:
    """Move the saved crashes whose input no longer fails into crashes/fixed/ (so they count as fixed, and a
    crash that comes back is new again); returns how many are still unfixed."""
    crashes = workdir(target, root) / "crashes"
    reports = {p: json.loads(p.read_text()) for p in crashes.glob("*.json")} if crashes.exists() else {}
    inputs = {
        p: crashes / r["input"]
        for p, r in reports.items()
        if r.get("input") and (crashes / r["input"]).exists()
    }
    if not inputs:
        return len(reports)
    replay = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.replay", target, *map(str, inputs.values())],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    failing = {line.split(": ")[1].split(" still fails")[0] for line in replay.stdout.splitlines()
               if " still fails" in line}  # fmt: skip
    fixed = crashes / "fixed"
    for report, data in inputs.items():
        if data.name not in failing:
            fixed.mkdir(exist_ok=True)
            data.replace(fixed / data.name)
            report.replace(fixed / report.name)
    return len(list(crashes.glob("*.json")))


def saved_crashes(target: str, root: Path = WORKDIR) -> list[dict]:
    crashes = workdir(target, root) / "crashes"
    return [json.loads(p.read_text()) for p in sorted(crashes.glob("*.json"))] if crashes.exists() else []


def _native_crash(target: str, root: Path, code: int, since: float, log: str) -> str:
    """libFuzzer stopped the worker (timeout, memory, a native crash): record it like a Python crash."""
    crashes = workdir(target, root) / "crashes"
    found = [
        p
        for p in crashes.iterdir()
        if p.stat().st_mtime >= since and p.name.split("-")[0] in ("timeout", "oom", "crash", "slow")
    ]
    kind = found[0].name.split("-")[0] if found else "exit"
    signature = f"libFuzzer {kind} (exit {code})"
    report = {"signature": signature, "error": log[-2000:], "input": found[0].name if found else "",
              "traceback": ""}  # fmt: skip
    (crashes / f"native-{int(since)}.json").write_text(json.dumps(report, indent=1))
    return signature


def run(target: str, seconds: float, root: Path = WORKDIR, quiet: bool = False) -> RunResult:
    if target not in TARGETS:
        raise SystemExit(f"fuzz: no target {target!r}: choose one of {', '.join(TARGETS)} (or all)")
    work = workdir(target, root)
    seed(target, root)
    (work / "crashes").mkdir(parents=True, exist_ok=True)
    archive_fixed(target, root)
    result = RunResult(target, 0.0, 0)
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 1:
        stats_path = work / "stats.json"
        stats_path.unlink(missing_ok=True)
        since = time.time()
        worker = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.worker", target, str(left), str(work)],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": "0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=left + 180,
            check=False,
        )
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        result.inputs += stats.get("inputs", 0)
        result.new_crashes += stats.get("new_crashes", [])
        if not quiet:
            for line in worker.stdout.splitlines():
                if "NEW CRASH" in line:
                    print(line, flush=True)
        if worker.returncode != 0:
            if not stats:
                raise RuntimeError(f"fuzz {target}: the worker did not start:\n{worker.stdout[-3000:]}")
            result.new_crashes.append(_native_crash(target, root, worker.returncode, since, worker.stdout))
            result.restarts += 1
    result.seconds = time.monotonic() - started
    result.crashes = [c["signature"] for c in saved_crashes(target, root)]
    with (work / "runs.jsonl").open("a") as ledger:
        entry = {"at": time.time(), "seconds": round(result.seconds, 1), "inputs": result.inputs}
        ledger.write(json.dumps({**entry, "new_crashes": result.new_crashes}) + "\n")
    return result


def ledger(target: str, root: Path = WORKDIR) -> Ledger:
    """Fuzz time and inputs of every run of `target` so far (this machine's .cache)."""
    path = workdir(target, root) / "runs.jsonl"
    runs = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return Ledger(sum(r["seconds"] for r in runs), sum(r["inputs"] for r in runs), len(runs))
