"""`just up`'s preflight, with a fake `docker` on PATH: what is missing is said in one line that points to
`just local`, and nothing is started; .env values no container can carry are refused by name."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

JUST = REPO / ".venv" / "bin" / "just"
FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >> "$FAKE_DOCKER_LOG"
case "$1 $2" in
  "compose version")
    [ -n "$FAKE_COMPOSE_VERSION" ] || { echo "unknown shorthand flag: 'd' in -d" >&2; exit 125; }
    echo "$FAKE_COMPOSE_VERSION" ;;
  "info "*) [ -n "$FAKE_DAEMON" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; } ;;
esac
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The files `just up` reads, and a fake docker that logs every call."""
    for name in ("justfile", "docker-compose.yaml", ".env.example", "constraints.txt"):
        shutil.copy(REPO / name, tmp_path / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    return tmp_path


def just(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        "PATH": f"{checkout / 'bin'}:{os.environ['PATH']}",
        "HOME": str(checkout),
        "FAKE_DOCKER_LOG": str(checkout / "docker.log"),
        **env,
    }
    return subprocess.run([str(JUST), *args], cwd=checkout, env=environment, capture_output=True, text=True)


def docker_calls(checkout: Path) -> list[str]:
    log = checkout / "docker.log"
    return log.read_text().splitlines() if log.exists() else []


def test_up_without_the_compose_plugin_says_so_and_starts_nothing(checkout):
    done = just(checkout, "up")
    assert done.returncode != 0
    assert "up: the Docker Compose plugin is missing" in done.stderr
    assert "`just local` runs the same pipeline" in done.stderr
    assert "unknown shorthand flag" not in done.stderr  # docker's own usage text never reaches the user
    assert docker_calls(checkout) == ["docker compose version --short"]
    assert (checkout / ".env").exists()  # created from .env.example on the way


@pytest.mark.parametrize(("version", "ok"), [("2.20.1", False), ("v2.23.9", False), ("2.24.0", True),
                                             ("v2.29.7", True), ("3.0.0", True)])  # fmt: skip
def test_compose_must_be_2_24_or_newer(checkout, version, ok):
    done = just(checkout, "preflight", FAKE_COMPOSE_VERSION=version, FAKE_DAEMON="1")
    assert (done.returncode == 0) is ok, done.stderr
    if not ok:
        assert (
            f"Docker Compose {version.lstrip('v')} is too old: the stack needs 2.24 or newer" in done.stderr
        )


def test_an_unreachable_daemon_is_named(checkout):
    done = just(checkout, "preflight", FAKE_COMPOSE_VERSION="2.29.7")
    assert done.returncode != 0 and "the Docker daemon is not reachable" in done.stderr


def test_env_values_no_container_can_carry_are_refused_by_name(checkout):
    env = (checkout / ".env.example").read_text()
    env = env.replace("CLICKHOUSE_LOADER_PASSWORD=loader-playground-pw", "CLICKHOUSE_LOADER_PASSWORD=a<b&c")
    env = env.replace("HYPERDX_USER_PASSWORD=SnkrsDrop.2026.Playground", "HYPERDX_USER_PASSWORD=short1A!")
    env = "\n".join(line for line in env.splitlines() if not line.startswith("AGENT_MCP_TOKEN="))
    (checkout / ".env").write_text(env + "\n")
    done = just(checkout, "up", FAKE_COMPOSE_VERSION="2.29.7", FAKE_DAEMON="1")
    assert done.returncode != 0
    assert "CLICKHOUSE_LOADER_PASSWORD contains < or &" in done.stderr
    assert "HYPERDX_USER_PASSWORD needs 12+ characters" in done.stderr
    assert ".env has no AGENT_MCP_TOKEN, which the stack needs" in done.stderr
    assert not any(call.startswith("docker compose up") for call in docker_calls(checkout))


def test_default_needs_a_password(checkout):
    """A .env from before `default` had a password (CLICKHOUSE_PASSWORD=) is named, and nothing starts."""
    env = (checkout / ".env.example").read_text()
    env = env.replace("CLICKHOUSE_PASSWORD=default-playground-pw", "CLICKHOUSE_PASSWORD=")
    (checkout / ".env").write_text(env)
    done = just(checkout, "up", FAKE_COMPOSE_VERSION="2.29.7", FAKE_DAEMON="1")
    assert done.returncode != 0, done.stderr
    assert "CLICKHOUSE_PASSWORD is empty: user default needs a password" in done.stderr
    assert not any(call.startswith("docker compose up") for call in docker_calls(checkout))


def test_a_ready_machine_passes_and_up_goes_on_to_compose(checkout):
    done = just(checkout, "up", FAKE_COMPOSE_VERSION="2.29.7", FAKE_DAEMON="1")
    calls = docker_calls(checkout)
    assert "docker compose --profile ui up -d --build --remove-orphans" in calls, (calls, done.stderr)


def test_headless_up_leaves_the_ui_profile_out_and_waits_for_no_hyperdx(checkout):
    done = just(checkout, "up", "--headless", FAKE_COMPOSE_VERSION="2.29.7", FAKE_DAEMON="1")
    assert done.returncode == 0, done.stderr
    calls = docker_calls(checkout)
    assert "docker compose up -d --build --remove-orphans" in calls, calls
    assert not any("hyperdx" in call or "--profile ui" in call for call in calls), calls
    assert "HyperDX        not started (--headless)" in done.stdout
    assert just(checkout, "up", "--bogus", FAKE_COMPOSE_VERSION="2.29.7", FAKE_DAEMON="1").returncode == 2
