from pathlib import Path

from otlp_rows.layout import COMPRESSION, Compression
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .collector.sending_queue import FLUSH_TIMEOUT, MIN_SIZE
from .paths import USERS_XML

# Old variable → its name now (the stand-in's batching is named as the collector config names it); the old
# names are still read, with a warning line at start.
DEPRECATED = {
    "LOCAL_STACK_OTLP_SEND_BATCH_SIZE": "LOCAL_STACK_OTLP_MIN_SIZE",
    "LOCAL_STACK_OTLP_BATCH_TIMEOUT": "LOCAL_STACK_OTLP_FLUSH_TIMEOUT",
}


class LocalStackSettings(BaseSettings):
    """Defaults match the Docker stack's host ports, so every service runs unchanged against either."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_STACK_", extra="ignore")

    host: str = "127.0.0.1"
    clickhouse_port: int = 8123
    s3_port: int = 9002
    data_dir: Path = Path(".local")
    # ClickHouse users, passwords (from_env: read from this environment) and profiles: the Docker stack's file
    users_xml: Path = USERS_XML
    clickhouse_connections: int = 2  # chDB connections per user profile: how many queries run at once
    # The OTLP receiver standing in for the collector (same ports as the Docker stack's collector).
    otlp: bool = True
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    # the exporters' sending_queue.batch in config/otel-collector-config.yaml: min_size items (spans, log
    # records, data points), flush_timeout seconds
    otlp_min_size: int = Field(
        MIN_SIZE,
        validation_alias=AliasChoices("LOCAL_STACK_OTLP_MIN_SIZE", "LOCAL_STACK_OTLP_SEND_BATCH_SIZE"),
    )
    otlp_flush_timeout: float = Field(
        FLUSH_TIMEOUT,
        validation_alias=AliasChoices("LOCAL_STACK_OTLP_FLUSH_TIMEOUT", "LOCAL_STACK_OTLP_BATCH_TIMEOUT"),
    )
    otlp_s3_compression: Compression = COMPRESSION
    # The stand-in writes to ClickHouse as the Docker stack's collector does: user `collector`, this password.
    collector_password: str = Field("", validation_alias="CLICKHOUSE_COLLECTOR_PASSWORD")
    # Origins (besides loopback ones) whose web pages may send the ClickHouse endpoint more than reads,
    # comma-separated: HyperDX's by default.
    allowed_origins: str = "http://localhost:8080"


class SharedNames(BaseSettings):
    """The stack-wide names this process honours (S3_BUCKET, AWS_REGION)."""

    model_config = SettingsConfigDict(extra="ignore")

    s3_bucket: str = "otel-data"
    s3_prefix: str = "otel"
    aws_region: str = "us-east-1"


def parse_origins(setting: str) -> frozenset[str]:
    """LOCAL_STACK_ALLOWED_ORIGINS (comma-separated) as the set of origins, without trailing slashes."""
    return frozenset(origin.strip().rstrip("/") for origin in setting.split(",") if origin.strip())
