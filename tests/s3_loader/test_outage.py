"""S3 or ClickHouse down: the loader waits with backoff and a readable log line, then resumes on its own."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import orjson
import pytest

from tests.support.tcp_proxy import Proxy

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("down", ["ClickHouse", "S3"])
def test_loader_waits_for_a_dead_dependency_then_resumes(stack, unique_key, trace_doc, down):
    stack.s3().put_object(
        Bucket=stack.bucket, Key=unique_key("traces.json"), Body=orjson.dumps(trace_doc(30))
    )
    if down == "ClickHouse":
        forwarder = Proxy(stack.clickhouse_port)
        env = stack.env(CLICKHOUSE_PORT=str(forwarder.port))
    else:
        forwarder = Proxy(urlparse(stack.ports.s3_url).port)
        env = stack.env(S3_ENDPOINT_URL=f"http://127.0.0.1:{forwarder.port}")
    env |= {"LOADER_PARSE_WORKERS": "0", "LOADER_MAX_OUTAGE_BACKOFF": "1"}
    loader = subprocess.Popen(
        [sys.executable, "-m", "s3_loader", "--once"], env=env, cwd=REPO, stderr=subprocess.PIPE, text=True
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(f"{down}" in line and "unavailable" in line and "retry 2" in line for line in lines):
            assert time.monotonic() < deadline, lines
            lines.append(loader.stderr.readline())
        forwarder.start()  # the dependency comes back
        _, rest = loader.communicate(timeout=90)
        assert loader.returncode == 0, "".join(lines) + rest
        assert "is back after" in rest
    finally:
        forwarder.stop()
        if loader.poll() is None:
            loader.kill()
    assert stack.client().query("SELECT count() FROM otel.otel_traces").result_rows == [(30,)]


def test_sigterm_during_an_outage_stops_promptly(stack):
    dead = Proxy(stack.clickhouse_port)  # never opened: ClickHouse stays unreachable
    loader = subprocess.Popen(
        [sys.executable, "-m", "s3_loader"],
        env=stack.env(CLICKHOUSE_PORT=str(dead.port), LOADER_MAX_OUTAGE_BACKOFF="30"),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while "retry 2" not in (line := loader.stderr.readline()):
            assert line, "the loader exited before retrying"
        loader.send_signal(signal.SIGTERM)
        _, rest = loader.communicate(timeout=10)
    finally:
        if loader.poll() is None:
            loader.kill()
    assert loader.returncode == 0
    assert "stopped while waiting for ClickHouse" in rest
