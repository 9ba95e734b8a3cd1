"""The Docker stack's defects found by reading the pinned images' upstream source
(../shared/reference/compose-upstream-checks.md): each check failed on the files before the fix."""

from __future__ import annotations

import re

import yaml
from click_common.migrations import load

from .conftest import CONFIG, REPO, resolve_env


def test_collector_signs_s3_requests_with_the_region_minio_takes(collector_config, compose):
    """A1: MinIO takes MINIO_SITE_REGION=${AWS_REGION}; the exporter signs with its `region`."""
    region = collector_config["exporters"]["awss3"]["s3uploader"]["region"]
    collector_env = compose["services"]["otel-collector"]["environment"]
    minio_env = compose["services"]["minio"]["environment"]
    assert region == "${env:AWS_REGION}"
    assert resolve_env(region, collector_env) == minio_env["MINIO_SITE_REGION"]


def test_migrations_run_at_every_start_so_old_volumes_get_new_tables(compose):
    """A2: the image runs /docker-entrypoint-initdb.d only on an empty volume; the migrate one-shot runs at
    every start, before anything that reads or writes ClickHouse, as the admin user, with the migrations."""
    services = compose["services"]
    migrate = services["migrate"]
    assert not any(
        v["target"].startswith("/docker-entrypoint-initdb.d") for v in services["clickhouse"]["volumes"]
    )
    assert migrate["restart"] == "no" and "profiles" not in migrate
    assert migrate["command"][:3] == ["python", "-m", "click_common.migrate"]
    folder = migrate["command"][3]
    assert {v["target"]: v["source"] for v in migrate["volumes"]}[folder] == str(CONFIG / "migrations")
    assert migrate["environment"]["CLICKHOUSE_USER"] == "default"
    assert (
        migrate["environment"]["CLICKHOUSE_PASSWORD"]
        == services["clickhouse"]["environment"]["CLICKHOUSE_PASSWORD"]
    )
    # the shared base plus click_common (config/python-service/Dockerfile), not a whole service image
    assert migrate["build"]["dockerfile"] == "config/python-service/Dockerfile"
    assert migrate["build"]["target"] == "migrate"
    assert migrate["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    for name in ("otel-collector", "s3-loader", "embedding-enricher", "agent", "mcp", "hyperdx"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
    # a migration runs again from its first statement after a failure part-way: every CREATE can run twice
    sql = "\n".join(m.sql for m in load(CONFIG / "migrations"))
    creates = re.findall(
        r"^CREATE\s+(?:OR\s+REPLACE\s+)?(\w+(?:\s+VIEW)?)\s+(IF NOT EXISTS)?", sql, re.M | re.I
    )
    assert creates and all(guard for _, guard in creates), creates


def test_hyperdx_readiness_waits_for_mongodb(compose):
    """B3: /health answers before MongoDB is connected; /ready does not."""
    probe = " ".join(compose["services"]["hyperdx"]["healthcheck"]["test"])
    assert "/ready" in probe and "/health" not in probe
    script = (CONFIG / "hyperdx-init.sh").read_text()
    assert '"$HYPERDX_API_URL/ready"' in script and '"$HYPERDX_API_URL/health"' not in script


def test_hyperdx_init_reads_back_the_same_defaults_hyperdx_applies(compose):
    """B4: hyperdx-init checks the connection and sources by name, from the same text HyperDX gets."""
    hyperdx = compose["services"]["hyperdx"]["environment"]
    init = compose["services"]["hyperdx-init"]["environment"]
    for name in ("DEFAULT_CONNECTIONS", "DEFAULT_SOURCES"):
        assert init[name] == hyperdx[name]


def test_the_exporter_inserts_synchronously_as_the_writer_profile_says(collector_config):
    """B2: the exporter's async_insert defaults to true and overrides the `writer` profile per query."""
    assert collector_config["exporters"]["clickhouse"]["async_insert"] is False
    users = (CONFIG / "clickhouse-users.xml").read_text()
    assert re.search(r"<writer>.*?<async_insert>0</async_insert>.*?</writer>", users, re.S)


def test_no_comment_says_just_agent_runs_the_agent_container():
    """B5: `just agent` runs the agent on the host, not `docker compose run`."""
    text = (REPO / "docker-compose.yaml").read_text()
    assert not re.search(r"just agent`?\s*\(docker compose run", text)


def test_every_image_pin_names_its_release():
    """g: a tag nobody can show to exist breaks `just up` at the first pull, so each pin says where its
    release is recorded; and the versions read as missing upstream are gone."""
    compose_text = (REPO / "docker-compose.yaml").read_text()
    images = re.findall(r"^\s*image:\s*(\S+)(.*)$", compose_text, re.M)
    assert images
    for image, rest in images:
        # click-ai-*: built here, from Dockerfiles whose FROM lines name their releases (below)
        assert "# release:" in rest or image.startswith("click-ai-"), image
    for dockerfile in [*REPO.glob("*/Dockerfile"), *REPO.glob("config/*/Dockerfile")]:
        lines = dockerfile.read_text().splitlines()
        for n, line in enumerate(lines):
            # FROM a stage, or the base another service builds here (ARG BASE_IMAGE=click-ai-…), names none
            if line.startswith("FROM ") and not re.match(r"FROM (\$\{BASE_IMAGE\}|base )", line):
                assert lines[n - 1].startswith("# release:"), (dockerfile, line)
            elif line.startswith("FROM $"):
                assert lines[n - 1].startswith("ARG BASE_IMAGE=click-ai-"), (dockerfile, line)
    pinned = yaml.safe_load(compose_text)
    tags = {s.get("image", "") for s in pinned["services"].values()}
    assert "docker.hyperdx.io/hyperdx/hyperdx:2.36.0" in tags
    assert not {"docker.hyperdx.io/hyperdx/hyperdx:2.40.0", "clickhouse/clickhouse-server:26.9.6.6"} & tags
    assert not any("python:3.11.15" in d.read_text() for d in REPO.glob("*/Dockerfile"))
