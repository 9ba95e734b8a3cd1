"""The collector stand-in: OTLP gRPC and HTTP receivers → batch → awss3 + clickhouse exporters."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import grpc
from aiohttp import web
from botocore.config import Config
from click_common import clickhouse
from otlp_rows.layout import COMPRESSION, Compression

from .exporters import ClickHouseExporter, S3Exporter
from .grpc_receiver import build_server
from .http_receiver import OtlpHTTP
from .pipeline import OtlpPipeline, PipelineSettings
from .sending_queue import FLUSH_TIMEOUT, MIN_SIZE


@dataclass
class OtlpOptions:
    grpc_port: int = 4317
    http_port: int = 4318
    min_size: int = MIN_SIZE  # the exporters' sending_queue.batch.min_size
    flush_timeout: float = FLUSH_TIMEOUT  # sending_queue.batch.flush_timeout, seconds
    s3_prefix: str = "otel"
    s3_compression: Compression = COMPRESSION  # as the awss3exporter's s3uploader.compression
    max_queued_items: int = 200_000
    clickhouse_user: str = "collector"  # the clickhouse exporter's login, as the Docker stack gives it
    clickhouse_password: str = ""

    @property
    def compressed(self) -> bool:
        return self.s3_compression == "gzip"


class OtlpReceiver:
    def __init__(
        self, host: str, options: OtlpOptions, clickhouse_port: int, s3_url: str, bucket: str, region: str
    ) -> None:
        self.host, self.options = host, options
        self._grpc: grpc.aio.Server | None = None  # set by start()
        self._http: web.AppRunner | None = None
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_url,
            region_name=region,
            aws_access_key_id="local-stack",
            aws_secret_access_key="local-stack",
            config=Config(retries={"max_attempts": 2}, max_pool_connections=8),
        )
        exporters = [
            S3Exporter(s3, bucket, options.s3_prefix, options.compressed),
            ClickHouseExporter(
                lambda: clickhouse.connect(
                    host,
                    clickhouse_port,
                    options.clickhouse_user,
                    options.clickhouse_password,
                    compress=False,
                )
            ),
        ]
        self.pipeline = OtlpPipeline(
            exporters,
            PipelineSettings(
                min_size=options.min_size,
                flush_timeout=options.flush_timeout,
                max_queued_items=options.max_queued_items,
            ),
        )

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.host}:{self.options.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.options.http_port}"

    async def start(self) -> None:
        self.pipeline.start()
        self._grpc = build_server(self.pipeline, self.host, self.options.grpc_port)
        await self._grpc.start()
        # auto_decompress off: the handler decodes Content-Encoding itself (a corrupt body: 400 + reason)
        self._http = web.AppRunner(
            OtlpHTTP(self.pipeline).app(), access_log=None, handle_signals=False, auto_decompress=False
        )
        await self._http.setup()
        await web.TCPSite(self._http, self.host, self.options.http_port).start()

    async def stop(self) -> None:
        """Stop taking requests, then export everything already accepted."""
        if self._grpc is not None:
            await self._grpc.stop(grace=2.0)
        if self._http is not None:
            await self._http.cleanup()
        await self.pipeline.stop()
