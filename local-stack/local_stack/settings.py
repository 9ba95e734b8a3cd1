from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from .paths import USERS_XML


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
    otlp_send_batch_size: int = (
        8192  # the batch processor's send_batch_size (spans, log records, data points)
    )
    otlp_batch_timeout: float = 0.2  # seconds; the batch processor's timeout
    otlp_s3_compression: Literal["none", "gzip"] = "none"
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
