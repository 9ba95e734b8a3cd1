"""What a new user does first: clone, `just local`, watch one drop, Ctrl-C. No `.env`, no `.local/`, none of
the project's variables in the environment (the fixtures of every other test set them; this one must not), on
a terminal, so that Ctrl-C is a real one. It reuses the installed virtualenv: CI tests `just setup` itself."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
PROJECT_PREFIXES = ("CLICKHOUSE_", "S3_", "AWS_", "OTEL_", "GENERATOR_", "LOADER_", "ENRICHER_", "AGENT_",
                    "LOCAL_STACK_", "ANTHROPIC_")  # fmt: skip
PORTS = (8123, 9002, 4317, 4318)  # the local stack's ports, moved together by --port-offset

COUNTS_SQL = (
    "SELECT (SELECT count() FROM default.otel_traces), (SELECT count() FROM otel.otel_traces), "
    "(SELECT count() FROM otel.otel_traces_enriched FINAL) FORMAT JSONCompact"
)


def free_offset() -> int:
    """A --port-offset under which all four ports are free."""
    for offset in range(21000, 40000, 137):
        socks = []
        try:
            for port in PORTS:
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port + offset))
            return offset
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port offset")


def stripped_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    env.update(HOME=str(home), TERM="dumb", NO_COLOR="1")
    env["PATH"] = f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}"  # `just` comes with the dev tools
    return env


def setup_stamp(checkout: Path) -> str:
    """What `just setup` hashes to decide it has nothing to do (kept in step with the justfile)."""
    parts = [
        checkout / "constraints.txt",
        checkout / "requirements-dev.txt",
        *sorted(checkout.glob("*/pyproject.toml")),
    ]
    return hashlib.sha256(b"".join(p.read_bytes() for p in parts)).hexdigest()


class Terminal:
    """A command on a pseudo-terminal as a shell runs it: its own session, the terminal's foreground."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes the command
            os.chdir(cwd)
            os.execvpe(argv[0], argv, env)
        self.output = b""

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the command has exited and the terminal closed
                    return
                if not chunk:
                    return
                self.output += chunk

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace").replace("\r\n", "\n")

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text)
            if found:
                return found
            self.read(1)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {pattern!r}:\n{self.text[-4000:]}")

    def ctrl_c(self) -> int:
        os.write(self.fd, b"\x03")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.read(1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read(1)
                return os.waitstatus_to_exitcode(status)
        self.kill()
        pytest.fail(f"`just local` did not stop within 120 s of Ctrl-C:\n{self.text[-4000:]}")

    def kill(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def query(port: int, sql: str, clone: Path) -> list:
    """As `default`, with the password the clone's .env (from .env.example) gives it."""
    env = dict(line.split("=", 1) for line in (clone / ".env").read_text().splitlines() if "=" in line)
    login = base64.b64encode(f"default:{env['CLICKHOUSE_PASSWORD']}".encode()).decode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/", data=sql.encode(), headers={"Authorization": f"Basic {login}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def test_a_fresh_clone_runs_just_local_first_time(tmp_path: Path) -> None:
    clone = tmp_path / "click-ai"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    assert not (clone / ".env").exists() and not (clone / ".local").exists()
    stamp = (REPO / ".venv" / ".setup-stamp").read_text().strip()
    if setup_stamp(clone) != stamp:
        pytest.fail("HEAD's packages differ from the installed .venv: commit, then run `just setup`")
    (clone / ".venv").symlink_to(REPO / ".venv")

    offset = free_offset()
    clickhouse = 8123 + offset
    env = stripped_environment(tmp_path)
    term = Terminal(
        ["just", "local", "--port-offset", str(offset), "--args", "generator=--once --time-scale 40"],
        clone,
        env,
    )
    try:
        term.wait_for(r"env-file: created \.env from \.env\.example", 60)
        term.wait_for(r"local-stack ready", 180)
        finished = term.wait_for(r"run finished: .* spans=(\d+) exported=(\d+) dropped=0 failed=0", 300)
        exported = int(finished[2])
        term.wait_for(r"generator +\| exited with 0 \(done\); not restarting", 60)

        deadline = time.monotonic() + 300
        counts: list[int] = []
        while time.monotonic() < deadline:
            counts = [int(c) for c in query(clickhouse, COUNTS_SQL, clone)[0]]
            if counts == [exported] * 3:
                break
            term.read(2)
        assert counts == [exported] * 3, (
            f"direct, loaded, enriched vs exported {exported}\n{term.text[-3000:]}"
        )

        loaded = sum(int(n) for n in re.findall(r"s3_loader: batch: \d+ files \((\d+) loaded", term.text))
        assert loaded > 0, term.text[-3000:]

        bench = subprocess.run(
            ["just", "bench", "--settle", "0"], cwd=clone, capture_output=True, text=True, timeout=300,
            env={**env, "CLICKHOUSE_PORT": str(clickhouse)},
        )  # fmt: skip
        assert bench.returncode == 0, bench.stderr
        assert "OK: every settled span exported directly was also loaded from S3" in bench.stdout, (
            bench.stdout
        )

        code = term.ctrl_c()
    finally:
        term.kill()
    text = term.text
    assert code == 0, text[-3000:]
    assert "restart #" not in text, "a process restarted:\n" + text[-3000:]
    assert "error:" not in text.split("stopping (Ctrl-C")[-1], text[-3000:]
    assert "Traceback" not in text, text
    assert re.search(r"stack +\| stopped \(0\)", text), text[-3000:]
