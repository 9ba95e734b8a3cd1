"""Restarts of the real collector with the config's persistent sending queues (file_storage): a SIGTERM
restart in the middle of the traffic loses and duplicates nothing; a SIGKILL loses nothing the collector
acknowledged (at-least-once: `just bench` counts any redelivered rows as duplicates)."""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.collector.otelcol import Ports, RealCollector
from tests.collector.pipeline import run_bench, run_loader_once, s3_spans, settled_count, wait_for
from tests.support.otlp_samples import traces_request

pytestmark = pytest.mark.slow

REQUESTS, SPANS = 120, 50


class Sender(threading.Thread):
    """Sends REQUESTS requests of SPANS unique spans, each retried until the collector acknowledges it (as an
    SDK does); counts what was acknowledged."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.acknowledged, self.error = url, 0, ""

    def run(self) -> None:
        try:
            for n in range(REQUESTS):
                request = traces_request(spans=SPANS, service="restarts")
                for i, span in enumerate(request.resource_spans[0].scope_spans[0].spans):
                    span.span_id = (n * SPANS + i + 1).to_bytes(8, "big")
                body = request.SerializeToString()
                deadline = time.monotonic() + 120
                while not self._post(body):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"request {n} never acknowledged")
                    time.sleep(0.05)
                self.acknowledged += SPANS
                time.sleep(0.01)
        except Exception as exc:  # reported by the test
            self.error = repr(exc)

    def _post(self, body: bytes) -> bool:
        request = urllib.request.Request(
            f"{self.url}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False


def persistent(queue_dir: Path):
    def edit(config: dict) -> None:
        config["extensions"]["file_storage"]["directory"] = str(queue_dir)

    return edit


def restart_mid_traffic(otelcol_binary, stack, tmp_path: Path, how: signal.Signals) -> int:
    """Traffic into a collector that is stopped (`how`) and started again on the same ports and queue
    directory while the sender retries; returns the spans the sender got acknowledged."""
    ports, edit = Ports(), persistent(tmp_path / "queue")
    first = RealCollector(otelcol_binary, stack, tmp_path / "first", edit, ports).start()
    sender = Sender(first.otlp.http_url)
    sender.start()
    try:
        while sender.acknowledged < REQUESTS * SPANS // 3 and sender.is_alive():
            time.sleep(0.05)
        assert first.process is not None
        first.process.send_signal(how)
        first.process.wait(timeout=60)
        second = RealCollector(otelcol_binary, stack, tmp_path / "second", edit, ports).start()
        try:
            sender.join(timeout=180)
            assert not sender.error and not sender.is_alive(), sender.error
            client = stack.client()
            distinct = "SELECT uniqExact(TraceId, SpanId) FROM default.otel_traces"
            # every acknowledged span, then quiet (redeliveries after a SIGKILL may come first)
            wait_for("every acknowledged span", lambda: client.command(distinct) >= sender.acknowledged, 180,
                     second.tail)  # fmt: skip
            settled_count(client, "default.otel_traces", sender.acknowledged, quiet_s=3, tail=second.tail)
            # and in the bucket (a separate queue): a stop would leave what is still queued on disk
            in_s3 = lambda: len(set(s3_spans(stack))) >= sender.acknowledged  # noqa: E731
            wait_for("every acknowledged span in S3", in_s3, 180, second.tail)
        finally:
            assert second.stop() == 0
            second.kill()
    finally:
        first.kill()
    return sender.acknowledged


def test_sigterm_restart_loses_and_duplicates_nothing(otelcol_binary, stack, tmp_path: Path) -> None:
    sent = restart_mid_traffic(otelcol_binary, stack, tmp_path, signal.SIGTERM)
    assert sent == REQUESTS * SPANS
    client = stack.client()
    direct, distinct = client.query(
        "SELECT count(), uniqExact(TraceId, SpanId) FROM default.otel_traces"
    ).result_rows[0]
    assert direct == distinct == sent
    run_loader_once(stack, tmp_path)
    loaded, loaded_distinct = client.query(
        "SELECT count(), uniqExact(TraceId, SpanId) FROM otel.otel_traces"
    ).result_rows[0]
    assert loaded == loaded_distinct == sent
    assert "OK: every settled span" in run_bench(stack)


def test_sigkill_loses_nothing_acknowledged(otelcol_binary, stack, tmp_path: Path) -> None:
    sent = restart_mid_traffic(otelcol_binary, stack, tmp_path, signal.SIGKILL)
    client = stack.client()
    direct, distinct = client.query(
        "SELECT count(), uniqExact(TraceId, SpanId) FROM default.otel_traces"
    ).result_rows[0]
    assert distinct == sent  # every acknowledged span, at least once
    run_loader_once(stack, tmp_path)
    loaded_distinct = client.command("SELECT uniqExact(TraceId, SpanId) FROM otel.otel_traces")
    assert loaded_distinct == sent
    report = run_bench(stack)
    duplicates = direct - distinct
    if duplicates:
        assert f"DUPLICATES: {duplicates:,} direct" in report, report
    else:
        assert "DUPLICATES: " not in report, report
