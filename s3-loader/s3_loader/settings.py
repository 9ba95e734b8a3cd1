from __future__ import annotations

from click_common.clickhouse import ClickHouseSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class LoaderSettings(ClickHouseSettings):
    """Shared names (CLICKHOUSE_*, S3_*, AWS_*) plus LOADER_* for the loader's own knobs."""

    model_config = SettingsConfigDict(env_prefix="LOADER_", env_file=".env", extra="ignore")

    s3_endpoint_url: str = Field("http://localhost:9002", validation_alias="S3_ENDPOINT_URL")
    s3_bucket: str = Field("otel-data", validation_alias="S3_BUCKET")
    s3_prefix: str = Field("otel", validation_alias="S3_PREFIX")
    aws_region: str = Field("us-east-1", validation_alias="AWS_REGION")
    # None: boto3's own credential chain (environment, profile, instance role) decides.
    aws_access_key_id: str | None = Field(None, validation_alias="AWS_ACCESS_KEY_ID")
    aws_secret_access_key: str | None = Field(None, validation_alias="AWS_SECRET_ACCESS_KEY")

    database: str = "otel"  # where otel_traces, otel_logs and s3_loader_files live
    poll_interval: float = 5.0  # longest wait between passes while there is nothing to load
    min_poll_interval: float = Field(0.5, gt=0)  # first idle wait, doubled per idle pass up to poll_interval
    batch_files: int = 16  # files per batch (one log line each); bounds memory
    download_workers: int = 4  # threads downloading objects
    parse_workers: int = 2  # processes decoding JSON into rows; 0 parses in the loader process
    insert_workers: int = 2  # files inserted at once (each its own insert, deduplication token and rows)
    # plain traces documents this large (uncompressed) or larger are converted by ClickHouse itself; smaller
    # ones by otlp_rows, which is faster on them (the SQL route's fixed cost only pays on large documents).
    # The two routes' deduplication tokens do not see each other's inserts: change it only while no loader
    # runs, or a file caught between its insert and its bookkeeping row by a crash may load twice.
    sql_min_bytes: int = Field(1_000_000, ge=0)
    max_attempts: int = 5  # a failing file is tried at most this many times
    retry_backoff: float = 30.0  # seconds before retrying a failed file, doubled per attempt
    max_outage_backoff: float = 60.0  # cap of the backoff while S3 or ClickHouse is down
    once_give_up_seconds: float = Field(120.0, gt=0)  # --once: how long to wait for S3 or ClickHouse

    @property
    def list_prefix(self) -> str:
        prefix = self.s3_prefix.strip("/")
        return f"{prefix}/" if prefix else ""
