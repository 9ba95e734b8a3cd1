"""`--processes N`: the shoppers split over N processes, the same seed and N give the same traffic, one
merged report whose counts are what the collector received."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from snkrs_generator.accounting import CountsSnapshot
from snkrs_generator.drop import Phase
from snkrs_generator.processes import merge
from snkrs_generator.simulation import PhaseReport, RunReport, share

from tests.generator.conftest import REPO, generator_env, run_generator
from tests.support.generator_env import FEW_SHOPPERS
from tests.support.otlp_sink import OtlpSink
from tests.support.processes import children, kill_all, wait_gone

SMALL = {
    **FEW_SHOPPERS,
    "GENERATOR_PRE_DROP__DURATION_S": "20",
    "GENERATOR_DROP_LIVE__DURATION_S": "30",
    "GENERATOR_POST_DROP__DURATION_S": "20",
}


def generate(tmp_path: Path, processes: int, seed: int = 5):
    labels = tmp_path / f"labels-{processes}-{seed}.json"
    args = ["--seed", str(seed), "--simulated-clock", "--processes", str(processes), "--labels", str(labels)]
    run = run_generator(args, SMALL)
    assert run.returncode == 0, run.output[-3000:]
    assert labels.exists()
    return run.output, run.spans


def test_shares_add_up():
    for total in (1, 3, 12, 40, 41):
        for count in (1, 2, 3, 5):
            parts = [share(total, i, count) for i in range(count)]
            assert sum(parts) == total and max(parts) - min(parts) <= 1


def test_merged_report_adds_up():
    def phase(n: int, seconds: float) -> PhaseReport:
        spans = CountsSnapshot(n, n, n, 0)
        return PhaseReport(0, Phase.DROP_LIVE, "d", seconds, n, spans, CountsSnapshot(1, 1, 1))

    a = RunReport([phase(10, 2.0)], CountsSnapshot(10, 10, 10), CountsSnapshot(1, 1, 1), seconds=3.0)
    b = RunReport([phase(5, 2.5)], CountsSnapshot(5, 5, 4, 1), CountsSnapshot(1, 1, 1), seconds=2.0)
    merged = merge([a, b])
    assert merged.spans == CountsSnapshot(15, 15, 14, 1) and merged.seconds == 3.0
    (p,) = merged.phases
    assert (p.requests, p.seconds, p.spans.emitted) == (15, 2.5, 15)


def test_two_processes_same_seed_same_traffic(tmp_path):
    out1, first = generate(tmp_path, 2)
    _, second = generate(tmp_path, 2)
    key = sorted((s.span_id, s.name, s.start) for s in first)
    assert key == sorted((s.span_id, s.name, s.start) for s in second)
    assert len(first) > 100
    # one report for the run, counting what the sink received
    (line,) = re.findall(r"run finished \(2 processes\): .*", out1)
    assert f"exported={len(first)} " in line and "dropped=0" in line
    # both processes' shoppers are in it, in the same drop
    assert len({s.attrs.get("snkrs.drop.id") for s in first} - {None}) == 1


def test_a_killed_generator_takes_its_processes_with_it():
    """SIGKILL leaves the parent no chance to stop its children: they notice and end instead of generating
    traffic on their own."""
    with OtlpSink() as sink:
        env = generator_env({**FEW_SHOPPERS, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint})
        parent = subprocess.Popen(
            [sys.executable, "-m", "snkrs_generator", "--processes", "2"],
            env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        pids: list[int] = []
        try:
            deadline = time.monotonic() + 60
            while len(pids) < 3 and time.monotonic() < deadline:  # two workers and the resource tracker
                time.sleep(0.2)
                pids = children(parent.pid)
            assert len(pids) >= 3, f"the generator started {pids}"
            parent.send_signal(signal.SIGKILL)
            parent.wait(timeout=10)
            assert wait_gone(pids, 5) == [], "the generator's processes outlived it"
        finally:
            parent.kill()
            kill_all(pids)
