"""Free loopback ports, and the one place that says which arguments and variables name a stack's ports."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field, replace
from typing import Any

from click_common.config import load_settings

from ..settings import LocalStackSettings

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the system's choice; free until someone takes it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(process: subprocess.Popen[Any], port: int, what: str, timeout: float = 60.0) -> None:
    """Return once `process` accepts connections on 127.0.0.1:`port`. RuntimeError naming `what` when it exits
    first (with its stderr, if piped) or does not listen within `timeout` seconds (then it is killed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"{what} exited: {stderr}" if stderr else f"{what} exited")
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{what} did not listen in time")


@dataclass(frozen=True)
class OtlpPorts:
    """An OTLP receiver's two ports (the stand-in's or the real collector's)."""

    grpc: int = field(default_factory=free_port)
    http: int = field(default_factory=free_port)
    host: str = LOOPBACK

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http}"

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.host}:{self.grpc}"


@dataclass(frozen=True)
class StackPorts:
    """Where a local stack listens; free loopback ports unless given."""

    clickhouse: int = field(default_factory=free_port)
    s3: int = field(default_factory=free_port)
    otlp: OtlpPorts = field(default_factory=OtlpPorts)
    host: str = LOOPBACK

    @classmethod
    def defaults(cls, settings: LocalStackSettings | None = None, host: str = "localhost") -> StackPorts:
        """The fixed ports `just local` and the Docker stack share (LocalStackSettings' defaults)."""
        d = settings or load_settings(LocalStackSettings)
        return cls(d.clickhouse_port, d.s3_port, OtlpPorts(d.otlp_grpc_port, d.otlp_http_port, host), host)

    def moved(self, offset: int) -> StackPorts:
        """Every port up by `offset` (`just local --port-offset`)."""
        otlp = replace(self.otlp, grpc=self.otlp.grpc + offset, http=self.otlp.http + offset)
        return replace(self, clickhouse=self.clickhouse + offset, s3=self.s3 + offset, otlp=otlp)

    @property
    def clickhouse_url(self) -> str:
        return f"http://{self.host}:{self.clickhouse}"

    @property
    def s3_url(self) -> str:
        return f"http://{self.host}:{self.s3}"

    def stack_args(self) -> list[str]:
        """`python -m local_stack`'s options for these ports."""
        return [
            "--host", self.host,
            "--clickhouse-port", str(self.clickhouse),
            "--s3-port", str(self.s3),
            "--otlp-grpc-port", str(self.otlp.grpc),
            "--otlp-http-port", str(self.otlp.http),
        ]  # fmt: skip

    def stack_env(self) -> dict[str, str]:
        """The variables that give `python -m local_stack` these ports (LocalStackSettings)."""
        return {
            "LOCAL_STACK_CLICKHOUSE_PORT": str(self.clickhouse),
            "LOCAL_STACK_S3_PORT": str(self.s3),
            "LOCAL_STACK_OTLP_GRPC_PORT": str(self.otlp.grpc),
            "LOCAL_STACK_OTLP_HTTP_PORT": str(self.otlp.http),
        }

    def service_env(self) -> dict[str, str]:
        """The variables that point every service at these ports."""
        return {
            "CLICKHOUSE_PORT": str(self.clickhouse),
            "S3_ENDPOINT_URL": self.s3_url,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp.http_url,
        }
