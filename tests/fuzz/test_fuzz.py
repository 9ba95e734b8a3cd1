"""The fuzz targets in CI: each runs a few seconds from its seeds without a crash (`just fuzz` in a temporary
work folder), and every crash fuzzing has found (tests/fuzz/regressions/<target>/, the inputs as found) now
gets the module's own answer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).parent / "regressions"
TARGETS = ("otlp_rows", "receiver", "loader_documents", "endpoint_request", "sql_guard")


def test_the_targets_are_the_fuzz_packages() -> None:
    listed = subprocess.run(
        [sys.executable, "-c", "from tests.fuzz.targets import TARGETS; print(' '.join(TARGETS))"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert tuple(listed.stdout.split()) == TARGETS


@pytest.mark.parametrize("target", sorted(p.name for p in REGRESSIONS.iterdir() if p.is_dir()))
def test_every_crash_found_is_fixed(target: str) -> None:
    inputs = sorted(str(p) for p in (REGRESSIONS / target).iterdir())
    assert inputs
    replay = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.replay", target, *inputs],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_each_target_fuzzes_briefly_without_a_crash(target: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tests.fuzz", target, "6", "--workdir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    crashes = [json.loads(p.read_text()) for p in (tmp_path / target / "crashes").glob("*.json")]
    assert run.returncode == 0 and not crashes, run.stdout + run.stderr + json.dumps(crashes, indent=1)[:3000]
    (ledger,) = [json.loads(line) for line in (tmp_path / target / "runs.jsonl").read_text().splitlines()]
    assert ledger["inputs"] > 100 and ledger["seconds"] >= 5, ledger
