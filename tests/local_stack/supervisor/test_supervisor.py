"""`just local`'s supervisor: Procfile parsing, ready-gated start, restart on crash, clean stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_stack.supervisor.processes import parse_procfile, restart_delay

REPO = Path(__file__).resolve().parents[3]


def test_procfile_parsing() -> None:
    specs = parse_procfile("# comment\n\nstack: python -m local_stack --s3-port 9\nweb: ./run 'a b'\n", "/py")
    assert [(s.name, s.command) for s in specs] == [
        ("stack", ["/py", "-m", "local_stack", "--s3-port", "9"]),
        ("web", ["./run", "a b"]),
    ]
    with pytest.raises(ValueError, match="line 1: expected 'name: command'"):
        parse_procfile("just a command\n")
    with pytest.raises(ValueError, match="duplicate process name 'a'"):
        parse_procfile("a: x\na: y\n")


def test_restart_backoff_doubles_up_to_a_cap() -> None:
    assert [restart_delay(n) for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 30]


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    return f"python {path}"


def test_processes_start_after_ready_restart_on_crash_and_stop_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    pids = tmp_path / "pids"
    first = _script(
        tmp_path, "first",
        f"import os, time\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        "time.sleep(0.5)\nprint('warming up')\nprint('first is READY', flush=True)\ntime.sleep(600)\n",
    )  # fmt: skip
    flaky = _script(
        tmp_path, "flaky",
        f"import os, sys, time\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        f"if not os.path.exists({str(marker)!r}):\n    open({str(marker)!r}, 'w').close()\n"
        "    print('boom', flush=True)\n    sys.exit(3)\n"
        "print('up again', flush=True)\ntime.sleep(600)\n",
    )  # fmt: skip
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"first: {first}\nflaky: {flaky}\n")
    sup = subprocess.Popen(
        [sys.executable, "-m", "local_stack.supervisor", f"--procfile={procfile}", "--ready=first=is READY"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    lines: list[str] = []
    assert sup.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = sup.stdout.readline()
        lines.append(line.rstrip())
        if "up again" in line:
            break
    sup.send_signal(signal.SIGINT)
    rest, _ = sup.communicate(timeout=60)
    lines += rest.splitlines()
    assert sup.returncode == 0, "\n".join(lines)

    text = "\n".join(lines)
    assert "first is READY" in text and "up again" in text
    # flaky only starts once first is ready, and is restarted after its crash
    ready_at = next(i for i, line in enumerate(lines) if "first is READY" in line)
    flaky_start = next(i for i, line in enumerate(lines) if "flaky |" in line and "started" in line)
    assert ready_at < flaky_start
    assert any("flaky |" in line and "exited with 3" in line and "restart #1" in line for line in lines)
    assert any(line.split("|")[0].endswith("first ") and "warming up" in line for line in lines)
    # stopped in reverse order, and every child is gone
    stopped = [line for line in lines if "stopped" in line and "|" in line]
    assert [s.split("|")[0].split()[-1] for s in stopped] == ["flaky", "first"]
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_process_that_dies_before_it_is_ready_stops_the_whole_run(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "stack: python -c 'import sys; sys.exit(\"port 8123 is already in use\")'\nlater: python -V\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "local_stack.supervisor", "--procfile", str(procfile)],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 1
    assert "port 8123 is already in use" in result.stdout
    assert "stack exited with 1 before it was ready" in result.stdout
    assert "later |" not in result.stdout
