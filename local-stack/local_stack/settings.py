from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class LocalStackSettings(BaseSettings):
    """Defaults match the Docker stack's host ports, so every service runs unchanged against either."""

    model_config = SettingsConfigDict(env_prefix="LOCAL_STACK_", extra="ignore")

    host: str = "127.0.0.1"
    clickhouse_port: int = 8123
    s3_port: int = 9002
    data_dir: Path = Path(".local")


class SharedNames(BaseSettings):
    """The stack-wide names this process honours (S3_BUCKET, AWS_REGION)."""

    model_config = SettingsConfigDict(extra="ignore")

    s3_bucket: str = "otel-data"
    aws_region: str = "us-east-1"
