"""Start and stop the local stack's components on loopback."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from click_common.migrations import MigrationError, load, migrate

from .clickhouse.engine import Engine
from .clickhouse.request import DEFAULT_ALLOWED_ORIGINS
from .clickhouse.server import ClickHouseHTTP
from .clickhouse.server_config import shared_server_settings
from .clickhouse.users import load_users
from .collector.receiver import OtlpOptions, OtlpReceiver
from .paths import CONFIG_XML, MIGRATIONS, USERS_XML
from .s3.server import S3Server

log = logging.getLogger("local_stack")


class PortTaken(SystemExit):
    pass


def ensure_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortTaken(
                    f"local-stack: port {port} ({what}) is already in use on {host} — is the Docker stack or "
                    f"another local stack running? Stop it, or pick another port with the option for {what}."
                ) from None
            raise


@dataclass
class LocalStack:
    host: str
    clickhouse_port: int
    s3_port: int
    data_dir: Path
    bucket: str
    region: str
    migrations: Path | None = MIGRATIONS  # applied at start (click_common.migrations); None: none
    init_scripts: tuple[Path, ...] = ()  # plain .sql files run at start, after the migrations
    users_xml: Path = USERS_XML
    config_xml: Path = CONFIG_XML  # the server settings both run modes share
    otlp: OtlpOptions | None = None  # None: no OTLP receiver
    serve_s3: bool = True  # False: the ClickHouse endpoint alone (python -m local_stack.clickhouse)
    clickhouse_connections: int = 2  # chDB connections per user profile
    allowed_origins: frozenset[str] = DEFAULT_ALLOWED_ORIGINS  # web pages that may send more than reads
    # Set by start(), each as its component comes up; stop() stops those that did.
    engine: Engine | None = field(default=None, init=False, repr=False)
    http: ClickHouseHTTP | None = field(default=None, init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)
    s3: S3Server | None = field(default=None, init=False, repr=False)
    receiver: OtlpReceiver | None = field(default=None, init=False, repr=False)

    async def start(self) -> None:
        ensure_free(self.host, self.clickhouse_port, "--clickhouse-port")
        if self.serve_s3:
            ensure_free(self.host, self.s3_port, "--s3-port")
        if self.otlp:
            ensure_free(self.host, self.otlp.grpc_port, "--otlp-grpc-port")
            ensure_free(self.host, self.otlp.http_port, "--otlp-http-port")
        self.engine = Engine(
            self.data_dir / "clickhouse", self.clickhouse_connections, shared_server_settings(self.config_xml)
        )
        if self.migrations is not None:
            try:
                migrate(self.engine, load(self.migrations))
            except MigrationError as exc:
                raise SystemExit(f"local-stack: {exc}") from None
        for script in self.init_scripts:
            statements = self.engine.run_script(script.read_text())
            log.info("clickhouse: applied %s (%d statements)", script.name, statements)
        self.http = ClickHouseHTTP(
            self.engine, load_users(self.users_xml), allowed_origins=self.allowed_origins
        )
        self._runner = web.AppRunner(self.http.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.clickhouse_port).start()
        print(
            f"clickhouse  http://{self.host}:{self.clickhouse_port}  "
            f"(chDB {self.engine.version}, data in {self.data_dir / 'clickhouse'})",
            flush=True,
        )
        if not self.serve_s3:
            return
        self.s3 = S3Server(self.host, self.s3_port, self.bucket, self.region)
        self.s3.start()
        print(f"s3          {self.s3.url}  (bucket {self.bucket}, in memory)", flush=True)
        if self.otlp:
            await self._start_otlp(self.otlp)

    async def _start_otlp(self, otlp: OtlpOptions) -> None:
        self.receiver = OtlpReceiver(
            self.host, otlp, self.clickhouse_port, self.s3.url, self.bucket, self.region
        )
        await self.receiver.start()
        batching = f"sending_queue min_size {otlp.min_size} items / flush_timeout {otlp.flush_timeout:g} s"
        sinks = f"s3://{self.bucket}/{otlp.s3_prefix}/ ({otlp.s3_compression}) + default.otel_*"
        print(f"otlp grpc   {self.receiver.grpc_endpoint}  ({batching} → {sinks})", flush=True)
        print(
            f"otlp http   {self.receiver.http_url}  (/v1/traces /v1/logs /v1/metrics, protobuf or JSON)",
            flush=True,
        )

    async def stop(self) -> None:
        for step in (self._stop_otlp, self._stop_http, self._stop_s3):
            try:
                await step()
            except Exception as exc:  # keep stopping the rest
                log.warning("stop: %s", exc)

    async def _stop_otlp(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()

    async def _stop_http(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.http is not None:
            self.http.close()
        if self.engine is not None:
            self.engine.close()

    async def _stop_s3(self) -> None:
        if self.s3 is not None:
            self.s3.stop()


async def serve_until_signal(
    stack: LocalStack, name: str, after_start: Callable[[LocalStack], None] = lambda stack: None
) -> None:
    """Start the stack, print `<name> ready (Ctrl-C to stop)`, run until SIGINT or SIGTERM, then stop it."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stack.start()
        after_start(stack)
        print(f"{name} ready (Ctrl-C to stop)", flush=True)
        await stop.wait()
    finally:
        await stack.stop()
        print(f"{name} stopped", flush=True)
