"""The Docker stack as the tests and the docker_stack benchmark drive it: `just` recipes and `docker compose`
under a compose project of their own, with the stand-ins' compose override (local-stack/standins/), and
ClickHouse on the host port as `default` with the .env password."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click_common import clickhouse

from tests.support.stack import REPO

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
    """The Docker stack of one compose project, with the stand-ins' override: what a user runs on it."""

    project: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """This process's environment without compose or Docker settings of the caller's, plus the project."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_HOST"))}
        self.env = {**base, **self.env, "COMPOSE_FILE": COMPOSE_FILE, "COMPOSE_PROJECT_NAME": self.project}

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
            "docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}"
        ).stdout.split()

    def volumes(self) -> list[str]:
        out = self.run(
            "docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={self.project}"
        )
        return out.stdout.split()
