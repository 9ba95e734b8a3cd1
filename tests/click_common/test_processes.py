"""Pool workers started with `exit_with_parent` end when their parent is SIGKILLed; without it they stay."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.support.processes import kill_all, wait_gone

PARENT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from click_common.processes import exit_with_parent

if __name__ == "__main__":
    watch = sys.argv[1] == "watched"
    watched = {"initializer": exit_with_parent, "initargs": (os.getpid(),)} if watch else {}
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"), **watched)
    for future in [pool.submit(time.sleep, 0.5) for _ in range(2)]:  # both workers started
        future.result()
    print(" ".join(str(p.pid) for p in pool._processes.values()), flush=True)
    time.sleep(120)
"""


def start_parent(mode: str, tmp_path) -> tuple[subprocess.Popen, list[int]]:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2, workers
    return parent, workers


@pytest.mark.parametrize("mode", ["watched", "unwatched"])
def test_workers_end_with_a_killed_parent(mode, tmp_path):
    parent, workers = start_parent(mode, tmp_path)
    try:
        assert wait_gone(workers, 0) == workers
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        left = wait_gone(workers, 5)
        if mode == "watched":
            assert left == [], f"workers {left} outlived their SIGKILLed parent"
        else:  # the control: what the initializer prevents
            assert left == workers
    finally:
        parent.kill()
        kill_all(workers)
