"""The real no-Docker stack (chDB endpoint, S3 server, OTLP receiver) as its own process on free ports, and
the settings every service needs to reach it: for the tests' fixtures (tests/conftest.py) and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Each user of config/clickhouse-users.xml → the variable its password comes from (from_env).
PASSWORD_VARIABLES = {
    "default": "CLICKHOUSE_PASSWORD",
    "collector": "CLICKHOUSE_COLLECTOR_PASSWORD",
    "loader": "CLICKHOUSE_LOADER_PASSWORD",
    "enricher": "CLICKHOUSE_ENRICHER_PASSWORD",
    "agent": "CLICKHOUSE_AGENT_PASSWORD",
}


def env_example() -> dict[str, str]:
    """The settings of .env.example, as a new user's .env has them."""
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


def playground_passwords() -> dict[str, str]:
    """user → password, as .env.example sets them."""
    example = env_example()
    return {user: example[variable] for user, variable in PASSWORD_VARIABLES.items()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(process: subprocess.Popen, port: int, what: str, timeout: float = 60.0) -> None:
    """Return once `process` accepts connections on 127.0.0.1:`port`. RuntimeError naming `what` when it exits
    first (with its stderr, if piped) or does not listen within `timeout` seconds (then it is killed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"{what} exited: {stderr}" if stderr else f"{what} exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{what} did not listen in time")


@dataclass
class StackHandle:
    """A running local stack, and the settings every service needs to reach it."""

    clickhouse_port: int
    s3_port: int
    data_dir: Path
    process: subprocess.Popen | None = None
    host: str = "127.0.0.1"
    bucket: str = "otel-data"
    region: str = "us-east-1"
    extra_env: dict[str, str] = field(default_factory=dict)
    otlp_grpc_port: int = field(default_factory=free_port)  # the OTLP receiver (the collector stand-in)
    otlp_http_port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=dict)  # user → password (absent: none)

    @property
    def otlp_http_url(self) -> str:
        return f"http://{self.host}:{self.otlp_http_port}"

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"{self.host}:{self.otlp_grpc_port}"

    @property
    def clickhouse_url(self) -> str:
        return f"http://{self.host}:{self.clickhouse_port}"

    @property
    def s3_url(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    def env(self, **overrides: str) -> dict[str, str]:
        """os.environ plus the shared settings names pointing at this stack (for subprocess services)."""
        env = dict(os.environ)
        env.update(
            CLICKHOUSE_HOST=self.host,
            CLICKHOUSE_PORT=str(self.clickhouse_port),
            CLICKHOUSE_USER="default",
            CLICKHOUSE_PASSWORD=self.passwords.get("default", ""),
            S3_ENDPOINT_URL=self.s3_url,
            S3_BUCKET=self.bucket,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION=self.region,
            OTEL_EXPORTER_OTLP_ENDPOINT=self.otlp_http_url,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def client(self, user: str = "default", **kwargs):
        import clickhouse_connect

        kwargs.setdefault("password", self.passwords.get(user, ""))
        return clickhouse_connect.get_client(
            host=self.host, port=self.clickhouse_port, username=user, **kwargs
        )

    def s3(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def reset(self) -> None:
        """Empty every table of the migrations (not their record) and the bucket."""
        client = self.client()
        tables = client.query(
            "SELECT database, name FROM system.tables "
            "WHERE database IN ('default', 'otel') AND (engine LIKE '%MergeTree%' OR engine = 'Memory')"
        ).result_rows
        for database, name in tables:
            client.command(f"TRUNCATE TABLE `{database}`.`{name}`")
        client.close()
        s3 = self.s3()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})


def start_local_stack(
    data_dir: Path,
    timeout: float = 120.0,
    passwords: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> StackHandle:
    """A local stack whose users have `passwords` (user → password; none by default, whatever a developer's
    .env says: every password variable is set for the stack, empty when not given). `env`: more settings."""
    handle = StackHandle(free_port(), free_port(), data_dir, passwords=dict(passwords or {}))
    stack_env = {
        **os.environ,
        **{variable: handle.passwords.get(user, "") for user, variable in PASSWORD_VARIABLES.items()},
        **(env or {}),
    }
    log_path = data_dir.parent / f"{data_dir.name}.log"
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        handle.process = subprocess.Popen(
            [
                sys.executable, "-m", "local_stack",
                "--clickhouse-port", str(handle.clickhouse_port),
                "--s3-port", str(handle.s3_port),
                "--data-dir", str(data_dir),
                "--otlp-grpc-port", str(handle.otlp_grpc_port),
                "--otlp-http-port", str(handle.otlp_http_port),
            ],
            stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=stack_env,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if handle.process.poll() is not None:
            raise RuntimeError(f"local stack exited: {log_path.read_text()}")
        try:
            urllib.request.urlopen(f"{handle.clickhouse_url}/ping", timeout=1).read()
            urllib.request.urlopen(handle.s3_url, timeout=1).read()
            socket.create_connection((handle.host, handle.otlp_http_port), timeout=1).close()
            return handle
        except OSError:
            time.sleep(0.2)
    stop_local_stack(handle)
    raise RuntimeError("local stack did not come up in time")


def stop_local_stack(handle: StackHandle) -> None:
    if handle.process and handle.process.poll() is None:
        handle.process.send_signal(signal.SIGTERM)
        try:
            handle.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            handle.process.kill()
            handle.process.wait()


@contextmanager
def fresh_local_stack(prefix: str) -> Iterator[StackHandle]:
    """A local stack on a temporary data folder (named with `prefix`), stopped and removed on exit."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        stack = start_local_stack(Path(tmp) / "data")
        try:
            yield stack
        finally:
            stop_local_stack(stack)
