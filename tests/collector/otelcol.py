"""The real OpenTelemetry Collector (built from source by local_stack.real_collector.build) as a process of a
test.

It runs config/otel-collector-config.yaml with only its addresses changed: the OTLP receiver, the health
check and the collector's own metrics on free loopback ports, the clickhouse exporter on the local stack's
HTTP endpoint (clickhouse-go's HTTP protocol), the awss3 exporter on the local stack's S3 server.
"""

from __future__ import annotations

import copy
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from local_stack.launch import Child, Launcher, OtlpPorts, free_port
from local_stack.real_collector import build as otelcol_build
from local_stack.real_collector.validate import COLLECTOR_CONFIG


def binary_or_skip() -> Path:
    """The collector binary (built on first use). Without Go the caller is skipped, but never under CI."""
    try:
        return otelcol_build.build()
    except otelcol_build.GoMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and the real collector cannot be built: {exc}")
        pytest.skip(f"the real collector is built from source and {exc}")


def project_config() -> dict[str, Any]:
    return yaml.safe_load(COLLECTOR_CONFIG.read_text())


@dataclass
class Ports:
    otlp: OtlpPorts = field(default_factory=OtlpPorts)
    health: int = field(default_factory=free_port)
    metrics: int = field(default_factory=free_port)


def local_config(
    stack: Launcher, ports: Ports, queue_dir: Path, edit: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """The project's collector config with its addresses pointed at the local stack (and `edit` applied)."""
    config = copy.deepcopy(project_config())
    config["extensions"]["health_check"]["endpoint"] = f"127.0.0.1:{ports.health}"
    config["extensions"]["file_storage"]["directory"] = str(queue_dir)  # the persistent queues
    protocols = config["receivers"]["otlp"]["protocols"]
    protocols["grpc"]["endpoint"] = ports.otlp.grpc_endpoint
    protocols["http"]["endpoint"] = f"{ports.otlp.host}:{ports.otlp.http}"
    config["exporters"]["clickhouse"]["endpoint"] = stack.ports.clickhouse_url
    config["exporters"]["awss3"]["s3uploader"]["endpoint"] = stack.ports.s3_url
    # the collector's own metrics listen on :8888 unless told otherwise
    reader = {"pull": {"exporter": {"prometheus": {"host": "127.0.0.1", "port": ports.metrics}}}}
    config["service"]["telemetry"]["metrics"] = {"readers": [reader]}
    if edit:
        edit(config)
    return config


def collector_env(stack: Launcher, **extra: str) -> dict[str, str]:
    """What the compose file gives the collector container, with the local stack's values."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/"),
        "CLICKHOUSE_USER": "default",
        "CLICKHOUSE_PASSWORD": stack.passwords.get("default", ""),
        "S3_BUCKET": stack.bucket,
        "S3_PREFIX": "otel",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": stack.region,
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        **extra,
    }


class RealCollector(Child):
    """One collector process; its log is kept in `workdir` and shown when it misbehaves."""

    def __init__(
        self,
        binary: Path,
        stack: Launcher,
        workdir: Path,
        edit: Callable[[dict[str, Any]], None] | None = None,
        ports: Ports | None = None,
    ) -> None:
        self.stack, self.workdir = stack, workdir
        self.ports = ports or Ports()
        self.otlp = self.ports.otlp  # where it receives, as a stack's `otlp`
        self.config = local_config(stack, self.ports, workdir / "queue", edit)
        self.config_path = workdir / "otelcol.yaml"
        command = [str(binary), "--config", str(self.config_path)]
        super().__init__("otelcol", command, collector_env(stack), workdir / "otelcol.log", cwd=workdir)

    def start(self, timeout: float = 60.0) -> RealCollector:
        """Start it and return once its health check answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.returncode is not None:
                raise RuntimeError(f"the collector exited with {self.returncode}\n{self.tail(30)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.ports.health}/", timeout=1) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the collector was not healthy within {timeout:.0f} s\n{self.tail(30)}")

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM: the collector drains its pipelines (or persists its queues) and exits."""
        return super().stop(timeout)

    def __enter__(self) -> RealCollector:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        try:
            self.stop()
        finally:
            self.kill()
