"""The collector is down when the generator starts: it says so once per interval, keeps simulating, and
exports again as soon as the collector is back."""

from __future__ import annotations

import subprocess
import sys
import time

from local_stack.launch import free_port

from tests.generator.conftest import generator_env
from tests.support.otlp_sink import OtlpSink


def test_collector_down_then_back():
    port = free_port()
    env = generator_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",
            "GENERATOR_OUTAGE_LOG_INTERVAL_S": "2",
            "GENERATOR_EXPORT_TIMEOUT_S": "3",
            "GENERATOR_DROP_LIVE__WORKERS": "10",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "snkrs_generator", "--time-scale", "20", "--duration", "9", "--seed", "3"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        time.sleep(4.5)
        assert proc.poll() is None, "the generator keeps running while the collector is down"
        with OtlpSink(port=port) as sink:
            output, _ = proc.communicate(timeout=60)
            received = sink.count("traces")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    down_lines = [line for line in output.splitlines() if "collector unreachable at" in line]
    assert 1 <= len(down_lines) <= 4, down_lines  # once per 2 s interval, not once per batch
    assert "Connection refused" in down_lines[0] or "Failed to export" in down_lines[0], down_lines[0]
    assert "collector reachable again" in output
    assert " opentelemetry." not in output, "the SDK exporters' per-retry chatter stays out of the log"
    assert received > 0
    finished = next(line for line in output.splitlines() if "run finished" in line)
    fields = dict(kv.split("=", 1) for kv in finished.split("run finished: ", 1)[1].split())
    assert int(fields["exported"]) == received
    assert int(fields["failed"]) > 0  # what was emitted while down is counted, not silently gone
    assert int(fields["spans"]) == int(fields["exported"]) + int(fields["failed"]) + int(fields["dropped"])


def test_once_fails_when_nothing_could_be_exported():
    endpoint = f"http://127.0.0.1:{free_port()}"
    env = generator_env({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "GENERATOR_EXPORT_TIMEOUT_S": "1"})
    proc = subprocess.run(
        [sys.executable, "-m", "snkrs_generator", "--once", "--time-scale", "100"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "--once: not everything was exported" in proc.stderr
