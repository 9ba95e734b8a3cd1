"""config/otel-collector-config.yaml against config/migrations, the Compose environment and MinIO's setup."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
from local_stack.collector import sending_queue
from otlp_rows import layout

from .conftest import CONFIG, migration_tables, resolve_env


def test_receivers_and_health_listen_on_all_interfaces(collector_config):
    protocols = collector_config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert collector_config["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
    assert "health_check" in collector_config["service"]["extensions"]


def test_pipelines_limit_memory_and_fan_out_to_persistent_batching_queues(collector_config):
    pipelines = collector_config["service"]["pipelines"]
    for name in ("traces", "logs", "metrics"):
        assert pipelines[name]["receivers"] == ["otlp"]
        # no batch processor (it would hold acknowledged data in memory): the exporters batch from disk
        assert pipelines[name]["processors"] == ["memory_limiter"], name
    assert "file_storage" in collector_config["service"]["extensions"]
    for exporter in ("clickhouse", "awss3"):
        queue = collector_config["exporters"][exporter]["sending_queue"]
        assert queue["storage"] == "file_storage", exporter
        assert queue["batch"]["sizer"] == "items" and queue["batch"]["min_size"] >= 1000, exporter
    assert set(pipelines["traces"]["exporters"]) == {"clickhouse", "awss3"}
    assert set(pipelines["logs"]["exporters"]) == {"clickhouse", "awss3"}
    assert pipelines["metrics"]["exporters"] == ["clickhouse"]
    limiter = collector_config["processors"]["memory_limiter"]
    assert limiter["check_interval"] and 0 < limiter["limit_percentage"] <= 90


def test_clickhouse_exporter_writes_exactly_the_default_tables_of_the_migrations(collector_config, compose):
    exporter = collector_config["exporters"]["clickhouse"]
    assert exporter["create_schema"] is False
    endpoint = resolve_env(exporter["endpoint"], compose["services"]["otel-collector"]["environment"])
    assert urlparse(endpoint).scheme == "tcp"  # the native protocol (the stand-ins' override: HTTP)
    assert urlparse(endpoint).hostname == "clickhouse"
    database = exporter["database"]
    named = {exporter["traces_table_name"], exporter["logs_table_name"]}
    named |= {table["name"] for table in exporter["metrics_tables"].values()}
    assert set(exporter["metrics_tables"]) == {
        "gauge",
        "sum",
        "summary",
        "histogram",
        "exponential_histogram",
    }
    created = {t.split(".", 1)[1] for t in migration_tables() if t.startswith(f"{database}.")}
    # Every exporter table exists, and every table of the database is fed (but the lookup the MV fills).
    assert named == {t for t in created if not t.endswith("_trace_id_ts")}


def test_exporter_tables_exist_in_the_engine_after_the_migrations(collector_config, local_stack):
    exporter = collector_config["exporters"]["clickhouse"]
    names = [exporter["traces_table_name"], exporter["logs_table_name"]]
    names += [table["name"] for table in exporter["metrics_tables"].values()]
    client = local_stack.client()
    existing = {
        row[0]
        for row in client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            parameters={"db": exporter["database"]},
        ).result_rows
    }
    client.close()
    assert set(names) <= existing


def test_clickhouse_exporter_credentials_are_the_collector_user(collector_config, compose):
    env = compose["services"]["otel-collector"]["environment"]
    exporter = collector_config["exporters"]["clickhouse"]
    user = resolve_env(exporter["username"], env)
    assert user == "collector"
    clickhouse_env = compose["services"]["clickhouse"]["environment"]
    assert resolve_env(exporter["password"], env) == clickhouse_env["CLICKHOUSE_COLLECTOR_PASSWORD"] != ""
    users_xml = (CONFIG / "clickhouse-users.xml").read_text()
    assert re.search(r"<collector>.*?<profile>writer</profile>", users_xml, re.S)


def test_s3_exporter_reaches_minio_with_path_style_and_the_standard_layout(collector_config):
    exporter = collector_config["exporters"]["awss3"]
    assert exporter["marshaler"] == "otlp_json"
    uploader = exporter["s3uploader"]
    endpoint = urlparse(uploader["endpoint"])
    assert endpoint.scheme in {"http", "https"} and endpoint.hostname == "minio"
    assert uploader["s3_force_path_style"] is True
    assert uploader["region"] == "${env:AWS_REGION}"  # what MinIO takes (test_upstream_defects)
    assert uploader["s3_partition_format"] == "year=%Y/month=%m/day=%d/hour=%H/minute=%M"


def test_s3_bucket_prefix_and_credentials_match_minio_init_and_the_loader(collector_config, compose):
    services = compose["services"]
    collector_env = services["otel-collector"]["environment"]
    init_env = services["minio-init"]["environment"]
    loader_env = services["s3-loader"]["environment"]
    uploader = collector_config["exporters"]["awss3"]["s3uploader"]
    bucket = resolve_env(uploader["s3_bucket"], collector_env)
    assert bucket == init_env["S3_BUCKET"] == loader_env["S3_BUCKET"] == "otel-data"
    assert resolve_env(uploader["s3_prefix"], collector_env) == loader_env["S3_PREFIX"]
    # The collector signs with the write-only user minio-init creates; the loader with the read-only one.
    assert collector_env["AWS_ACCESS_KEY_ID"] == init_env["MINIO_COLLECTOR_ACCESS_KEY"]
    assert collector_env["AWS_SECRET_ACCESS_KEY"] == init_env["MINIO_COLLECTOR_SECRET_KEY"]
    assert loader_env["AWS_ACCESS_KEY_ID"] == init_env["MINIO_LOADER_ACCESS_KEY"]
    assert loader_env["AWS_SECRET_ACCESS_KEY"] == init_env["MINIO_LOADER_SECRET_KEY"]
    assert collector_env["AWS_ACCESS_KEY_ID"] != loader_env["AWS_ACCESS_KEY_ID"]
    for secret in ("MINIO_COLLECTOR_SECRET_KEY", "MINIO_LOADER_SECRET_KEY", "MINIO_ROOT_PASSWORD"):
        assert len(init_env[secret]) >= 8, f"MinIO refuses secrets shorter than 8 characters: {secret}"
    script = (CONFIG / "minio-init.sh").read_text()
    assert 'attach_user collector-write "$MINIO_COLLECTOR_ACCESS_KEY" "$MINIO_COLLECTOR_SECRET_KEY"' in script
    assert 'attach_user loader-read "$MINIO_LOADER_ACCESS_KEY" "$MINIO_LOADER_SECRET_KEY"' in script
    assert 'mc mb --ignore-existing "$ALIAS/$S3_BUCKET"' in script


def render_policy(name: str, bucket: str) -> dict:
    return json.loads((CONFIG / "minio" / f"policy-{name}.json").read_text().replace("${S3_BUCKET}", bucket))


def policy_actions(policy: dict) -> set[str]:
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for resource in statement["Resource"]:
            assert resource in {"arn:aws:s3:::otel-data", "arn:aws:s3:::otel-data/*"}, resource
        actions |= set(statement["Action"])
    return actions


def test_loader_policy_allows_only_reads_of_the_bucket():
    actions = policy_actions(render_policy("loader-read", "otel-data"))
    assert {"s3:GetObject", "s3:ListBucket"} <= actions
    assert all(a.startswith(("s3:Get", "s3:List")) for a in actions), actions
    assert not any("*" in a for a in actions)


def test_collector_policy_allows_only_writes_of_the_bucket():
    actions = policy_actions(render_policy("collector-write", "otel-data"))
    assert "s3:PutObject" in actions
    assert not any(a.startswith(("s3:Get", "s3:List", "s3:Delete")) or "*" in a for a in actions), actions


def go_duration_seconds(text: str) -> float:
    """A Go duration as the collector's config reads it ("200ms", "1s", "1m30s")."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    assert parts and "".join(n + u for n, u in parts) == text, f"not a Go duration: {text!r}"
    return sum(float(n) * units[u] for n, u in parts)


def test_the_s3_layout_is_the_one_otlp_rows_states(collector_config):
    """The stand-in writes and the loader reads the layout otlp_rows.layout states: the real collector's
    s3uploader must say the same, so that the three cannot drift apart."""
    exporter = collector_config["exporters"]["awss3"]
    uploader = exporter["s3uploader"]
    assert uploader["s3_partition_format"] == layout.PARTITION_FORMAT
    assert uploader.get("file_prefix", "") == layout.FILE_PREFIX
    assert uploader.get("compression", "none") == layout.COMPRESSION  # the exporter's default: none
    assert exporter["marshaler"] == "otlp_json"  # the .json of layout.object_name
    when = datetime(2026, 3, 7, 9, 5, tzinfo=UTC)
    key = layout.object_key("otel", "traces", when, 1, compressed=False)
    assert key == "otel/year=2026/month=03/day=07/hour=09/minute=05/traces_000000001.json"
    assert layout.signal_of(key) == "traces" and layout.names_signal(key, "traces")


def test_the_stand_in_batches_as_the_collectors_sending_queues(collector_config):
    """The local stack's collector stand-in batches by the same numbers as both exporters' queues."""
    for name in ("clickhouse", "awss3"):
        batch = collector_config["exporters"][name]["sending_queue"]["batch"]
        assert batch["sizer"] == "items", name
        assert batch["min_size"] == sending_queue.MIN_SIZE, name
        assert go_duration_seconds(batch["flush_timeout"]) == pytest.approx(sending_queue.FLUSH_TIMEOUT), name
