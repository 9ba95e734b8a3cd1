"""Static views of the Docker stack's files, parsed the way the real tools parse them."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click_common.migrations import load
from local_stack.paths import MIGRATIONS

REPO = Path(__file__).resolve().parents[2]
COMPOSE_BIN = REPO / ".venv" / "bin" / "docker-compose"
CONFIG = REPO / "config"
PYTHON_SERVICES = {  # compose service -> (package directory, module run by `python -m`)
    "event-generator": ("event-generator", "snkrs_generator"),
    "s3-loader": ("s3-loader", "s3_loader"),
    "embedding-enricher": ("embedding-enricher", "enricher"),
    "agent": ("agent", "trace_agent"),
}


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """docker-compose.yaml as the real Compose binary resolves it with .env.example (every profile on)."""
    out = subprocess.run(
        [
            str(COMPOSE_BIN), "--env-file", ".env.example", "-f", "docker-compose.yaml",
            "--profile", "ui", "--profile", "agent", "config", "--format", "json",
        ],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)


@pytest.fixture(scope="session")
def collector_config() -> dict[str, Any]:
    return yaml.safe_load((CONFIG / "otel-collector-config.yaml").read_text())


def resolve_env(value: str, environment: dict[str, str]) -> str:
    """Expand the collector's ${env:NAME} and ${env:NAME:-default} references with a container environment."""

    def one(m: re.Match[str]) -> str:
        return environment[m[1]] if m[2] is None or m[1] in environment else m[2]

    return re.sub(r"\$\{env:(\w+)(?::-([^}]*))?\}", one, value)


def migration_tables() -> set[str]:
    """`database.table` of every table (not view) created by config/migrations."""
    sql = "\n".join(m.sql for m in load(MIGRATIONS))
    return {f"{db}.{table}" for db, table in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)\.(\w+)", sql)}


def hyperdx_json(compose: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return json.loads(compose["services"]["hyperdx"]["environment"][name])
