from __future__ import annotations

from click_common.clickhouse import ClickHouseSettings
from otlp_rows.layout import PARTITION_FORMAT
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
    min_poll_interval: float = Field(0.5, gt=0)  # idle wait; after 10 idle passes doubled per pass
    batch_files: int = 16  # files per batch (one log line each); bounds memory
    download_workers: int = 4  # threads downloading objects
    parse_workers: int = 2  # processes decoding JSON into rows; 0 parses in the loader process
    insert_workers: int = 2  # files inserted at once (each its own insert, deduplication token and rows)
    # Files listed smaller than this are loaded in claimed batches (one insert per table for many files) and
    # converted by otlp_rows; plain traces documents this large (uncompressed) or larger by ClickHouse's SQL
    # path, whose fixed cost only pays on large documents. Every loader of a bucket must use the same value,
    # and change it only while none runs: a file caught between its insert and its bookkeeping row by a crash
    # could otherwise be replayed by the other route, whose deduplication token does not see the first.
    sql_min_bytes: int = Field(1_000_000, ge=0)
    # Such large traces files ClickHouse reads from the bucket itself (its s3() function, signed with the
    # AWS_* keys above, the listed ETag checked): the loader neither downloads nor re-sends them. Off, or
    # without AWS_* keys, or while ClickHouse cannot read the bucket, the loader downloads them.
    clickhouse_reads_s3: bool = True
    # the bucket's address as ClickHouse sees it ("" = S3_ENDPOINT_URL; differs if ClickHouse runs elsewhere)
    clickhouse_s3_endpoint_url: str = ""
    # small files are claimed in batches per window of this many seconds of S3 LastModified (every loader of a
    # bucket must use the same value, like sql_min_bytes)
    batch_window_seconds: int = Field(10, gt=0)
    # A pass lists only the collector's current partition in its s3_partition_format (UTC upload time; the
    # previous one too in a new partition's first 20 s); at least every late_list_seconds, every partition
    # of the last late_window_seconds (files uploaded late, failed files due for a retry); at start and at
    # least every full_list_seconds, the whole prefix (other layouts, older retries). A whole-prefix listing
    # grows with the bucket (~0.2 s per 1,000 objects here; compose keeps 3 days of files).
    # "" lists the whole prefix every pass.
    recent_partition_format: str = PARTITION_FORMAT
    late_list_seconds: float = Field(60.0, ge=0)
    late_window_seconds: float = Field(900.0, gt=0)
    full_list_seconds: float = Field(3600.0, ge=0)
    max_attempts: int = 5  # a failing file is tried at most this many times
    retry_backoff: float = 30.0  # seconds before retrying a failed file, doubled per attempt
    max_outage_backoff: float = 60.0  # cap of the backoff while S3 or ClickHouse is down
    once_give_up_seconds: float = Field(120.0, gt=0)  # --once: how long to wait for S3 or ClickHouse

    @property
    def list_prefix(self) -> str:
        prefix = self.s3_prefix.strip("/")
        return f"{prefix}/" if prefix else ""
