"""The one launcher (local_stack.launch): the ports it names, a service's log and failure, the stop order."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from local_stack.launch import Child, Launcher, LaunchError, OtlpPorts, StackPorts, exported_spans
from local_stack.supervisor.__main__ import port_env


def test_the_ports_are_named_once_for_the_stack_and_the_services() -> None:
    ports = StackPorts(18123, 19002, OtlpPorts(14317, 14318))
    assert ports.stack_args() == [
        "--host", "127.0.0.1", "--clickhouse-port", "18123", "--s3-port", "19002",
        "--otlp-grpc-port", "14317", "--otlp-http-port", "14318",
    ]  # fmt: skip
    assert ports.service_env() == {
        "CLICKHOUSE_PORT": "18123",
        "S3_ENDPOINT_URL": "http://127.0.0.1:19002",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:14318",
    }
    assert ports.otlp.grpc_endpoint == "127.0.0.1:14317"
    # `just local --port-offset 100`: the stack and the services both move
    assert port_env(0) == {}
    assert port_env(100) == {
        "LOCAL_STACK_CLICKHOUSE_PORT": "8223", "LOCAL_STACK_S3_PORT": "9102",
        "LOCAL_STACK_OTLP_GRPC_PORT": "4417", "LOCAL_STACK_OTLP_HTTP_PORT": "4418",
        "CLICKHOUSE_PORT": "8223", "S3_ENDPOINT_URL": "http://localhost:9102",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4418",
    }  # fmt: skip


def test_free_ports_differ() -> None:
    ports = StackPorts()
    assert len({ports.clickhouse, ports.s3, ports.otlp.grpc, ports.otlp.http}) == 4


def test_the_generators_count_is_read_only_when_nothing_was_lost() -> None:
    line = "INFO run finished: seconds=3.1 spans=120 exported=120 dropped=0 failed=0"
    assert exported_spans(line) == 120
    assert exported_spans(line.replace("exported=120", "exported=119")) is None
    assert exported_spans(line.replace("dropped=0", "dropped=1")) is None


def test_a_run_s_output_is_its_own_and_the_log_keeps_every_run(tmp_path: Path) -> None:
    child = Child("echo", [sys.executable, "-c", "print('a run')"], dict(os.environ), tmp_path / "echo.log")
    assert child.start().wait(30) == 0
    assert child.start().wait(30) == 0
    assert child.output() == "a run\n"
    assert child.log() == "a run\na run\n"


def test_a_failed_service_is_named_with_its_log(local_stack: Launcher, tmp_path: Path) -> None:
    service = local_stack.service("json.tool", str(tmp_path / "missing.json"), log_dir=tmp_path)
    try:
        with pytest.raises(LaunchError) as failed:
            local_stack.wait_until("something that never comes", lambda: False, 60, [service], poll_s=0.1)
    finally:
        local_stack.stop_services()
    message = str(failed.value)
    assert message.startswith("json.tool exited with 2 while waiting for something that never comes")
    assert str(tmp_path / "json.tool.log") in message and "missing.json" in message
    assert local_stack.services == []


def record_stops(child: Child, stopped: list[str]) -> None:
    original = child.stop

    def stop(timeout: float = 30.0) -> int | None:
        stopped.append(child.name)
        return original(timeout)

    child.stop = stop  # type: ignore[method-assign]


def test_services_stop_first_and_the_stack_last(tmp_path: Path) -> None:
    stopped: list[str] = []
    with Launcher(tmp_path / "data") as stack:
        services = [stack.service("http.server", "0", "--bind", "127.0.0.1") for _ in range(2)]
        services[1].name = "second"
        assert stack.stack is not None
        for child in (stack.stack, *services):
            record_stops(child, stopped)
        assert "local-stack ready" in (tmp_path / "local_stack.log").read_text()
    assert stopped == ["second", "http.server", "local_stack"]
    assert all(child.returncode is not None for child in (stack.stack, *services))
