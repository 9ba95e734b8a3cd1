"""The Docker stack under a real engine, brought up as `just up --headless` brings it up for a user.

`just docker-test` runs this folder (`just test` leaves it out). The session starts an engine when none
answers and one can be started, builds the stand-ins of the images this machine cannot pull (`just
docker-standins`), and starts the stack with the stand-ins' compose override under its own project name, so a
user's own stack and its volumes are never touched (the host ports are the same: stop your stack first).
Without an engine it skips with the reason, except under CI=true on Linux, where it fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click_common import clickhouse
from local_stack import docker_engine

from tests.conftest import REPO

PROJECT = "click-ai-test"
COMPOSE_FILE = "docker-compose.yaml:local-stack/standins/compose.override.yaml"


def env_values(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value
    return values


@dataclass
class DockerStack:
    env: dict[str, str]

    @property
    def dotenv(self) -> dict[str, str]:
        """The .env `just up` created (or the user's), which the containers were given."""
        return env_values(REPO / ".env")

    def run(
        self, *cmd: str, timeout: float = 600, check: bool = True, **kw: Any
    ) -> subprocess.CompletedProcess:
        done = subprocess.run(
            cmd, cwd=REPO, env={**self.env, **kw.pop("env", {})}, capture_output=True, text=True,
            timeout=timeout, check=False, **kw,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )
        return done

    def just(self, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("just", *args, timeout=timeout, check=check)

    def compose(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("docker", "compose", *args, timeout=timeout, check=check)

    def client(self, user: str = "default", password: str | None = None):
        if password is None:
            password = self.dotenv.get("CLICKHOUSE_PASSWORD", "") if user == "default" else ""
        return clickhouse.connect("localhost", 8123, user, password)

    def scalar(self, sql: str) -> Any:
        client = self.client()
        try:
            return client.query(sql).result_rows[0][0]
        finally:
            client.close()

    def first(self, sql: str) -> Any:
        """The first cell of the first row, None when there is no row."""
        client = self.client()
        try:
            rows = client.query(sql).result_rows
            return rows[0][0] if rows else None
        finally:
            client.close()

    def row(self, sql: str) -> tuple:
        client = self.client()
        try:
            return tuple(client.query(sql).result_rows[0])
        finally:
            client.close()

    def container(self, service: str) -> str:
        out = self.compose("ps", "-q", service).stdout.split()
        assert out, f"no running container of {service}"
        return out[0]

    def crash(self, service: str) -> None:
        """SIGKILL the container's main process, as a crash would (the restart policy brings it back; `docker
        kill` would count as a manual stop, which it does not restart)."""
        pid = int(self.run("docker", "inspect", "-f", "{{.State.Pid}}", self.container(service)).stdout)
        os.kill(pid, 9)

    def running(self) -> list[str]:
        return self.run(
            "docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
        ).stdout.split()

    def volumes(self) -> list[str]:
        out = self.run(
            "docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}"
        )
        return out.stdout.split()


def wait_for(what: str, check: Callable[[], Any], timeout: float = 180, every: float = 2) -> Any:
    """check()'s first truthy value; fails naming `what` and the last value or error after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # a service still starting: try again
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(every)


def engine_or_skip() -> None:
    problem = docker_engine.ensure(log=lambda line: print(line, file=sys.stderr))
    if problem is None:
        return
    if os.environ.get("CI") == "true" and sys.platform.startswith("linux"):
        pytest.fail(f"CI=true on Linux and {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def docker_stack() -> Iterator[DockerStack]:
    engine_or_skip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_HOST"))}
    env.update(COMPOSE_FILE=COMPOSE_FILE, COMPOSE_PROJECT_NAME=PROJECT)
    stack = DockerStack(env)
    started = time.monotonic()
    stack.just("docker-standins", timeout=1800)
    print(f"docker: stand-ins ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    stack.compose("down", "-v", "--remove-orphans", timeout=300)  # this project's own: what a failed run left
    started = time.monotonic()
    try:
        stack.just("up", "--headless", timeout=2400)
        print(f"docker: `just up --headless` took {time.monotonic() - started:.0f} s", file=sys.stderr)
        yield stack
    finally:
        logs = stack.compose("logs", "--no-color", "--tail=400", check=False).stdout
        (REPO / ".cache").mkdir(exist_ok=True)
        (REPO / ".cache" / "docker-test.log").write_text(logs)
        stack.just("down", check=False)


def span_count_line(output: str) -> dict[str, int]:
    """The generator's `run finished: … spans=N exported=N dropped=N failed=N …` numbers."""
    found = re.search(r"run finished[^:]*: (.*)", output)
    assert found, output[-3000:]
    return {k: int(float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", found.group(1))}
