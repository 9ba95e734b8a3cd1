"""The README's commands are real recipes, and the compose recipes do what the README says."""

from __future__ import annotations

import re
import subprocess

from .conftest import REPO

JUST = REPO / ".venv" / "bin" / "just"


def recipes() -> set[str]:
    out = subprocess.run(
        [str(JUST), "--summary"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def readme_commands() -> set[str]:
    return set(re.findall(r"`just ([a-z][a-z0-9-]*)", (REPO / "README.md").read_text()))


def test_every_recipe_the_readme_mentions_exists():
    mentioned = readme_commands()
    assert {"up", "down", "bench", "minio-ls", "scale-collector", "reset", "test"} <= mentioned
    assert mentioned - recipes() == set()


def test_the_command_table_lists_every_user_facing_recipe():
    table = re.search(r"^## Commands$(.*?)^## ", (REPO / "README.md").read_text(), re.M | re.S)
    assert table, "the README's command table"
    listed = set(re.findall(r"^\| `just ([a-z][a-z0-9-]*)", table.group(1), re.M))
    listed |= set(re.findall(r"^\| `just [a-z-]+` / `just ([a-z][a-z0-9-]*)", table.group(1), re.M))
    assert recipes() - {"default", "fmt"} - listed == set()


def dry_run(*args: str) -> str:
    result = subprocess.run(
        [str(JUST), "--dry-run", "--yes", *args], cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stderr + result.stdout


def test_compose_recipes_drive_docker_compose():
    assert "docker compose up -d --no-recreate --scale otel-collector=3 otel-collector" in dry_run(
        "scale-collector", "3"
    )
    assert "docker compose --profile ui --profile agent down -v --remove-orphans" in dry_run("reset")
    assert "docker compose --profile ui --profile agent down --remove-orphans" in dry_run("down")
    assert "docker compose logs -f --tail=200 s3-loader" in dry_run("loader-logs")
    assert "docker compose logs -f --tail=200 embedding-enricher" in dry_run("enricher-logs")
    up = dry_run("up")
    assert "cp .env.example .env" in up and "docker compose --profile ui wait hyperdx-init" in up
    assert "HYPERDX_USER_EMAIL" in up and "HYPERDX_USER_PASSWORD" in up


def test_seed_commands_act_on_the_event_generator_and_name_the_rest():
    """The seed's meaning: `just logs` / `stop` / `start` / `restart` act on the event generator (HyperDX and
    the rest keep running); named services, or `all` for the whole stack, stay reachable."""
    for verb, command in (
        ("logs", "docker compose logs -f --tail=100"),
        ("stop", "docker compose stop"),
        ("start", "docker compose start"),
        ("restart", "docker compose restart"),
    ):
        assert dry_run(verb).strip().splitlines()[-1] == f"{command} event-generator"
        assert dry_run(verb, "all").strip().splitlines()[-1] == command
        named = dry_run(verb, "otel-collector", "hyperdx").strip().splitlines()[-1]
        assert named == f"{command} otel-collector hyperdx"
