"""The enricher as a real process on the local stack: spans arriving out of timestamp order in several
batches, the enricher SIGKILLed during and between batches and restarted, ClickHouse cut and restored —
every span ends up enriched exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.tcp_proxy import Proxy

from .spans import catalogue, insert, make_rows

FAST = {"ENRICHER_READ_ROWS": "150", "ENRICHER_POLL_SECONDS": "0.3", "ENRICHER_CACHE_WARM_MINUTES": "0"}


class Service:
    """`python -m enricher` as a subprocess with its log in a file."""

    def __init__(self, stack, log: Path, *args: str, **env: str) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "enricher", *args],
                env=stack.env(**{**FAST, **env}),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for(
    condition: Callable[[], bool], service: Service, timeout: float = 90, every: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert service.proc.poll() is None, f"enricher exited early:\n{service.text()[-3000:]}"
        time.sleep(every)
    pytest.fail(f"timed out waiting; enricher log:\n{service.text()[-3000:]}")


def enriched(client) -> int:
    return client.query("SELECT count() FROM otel.otel_traces_enriched").result_rows[0][0]


def assert_exactly_once(client, expected: int) -> None:
    source, distinct_source = client.query(
        "SELECT count(), uniqExact(TraceId, SpanId) FROM otel.otel_traces"
    ).result_rows[0]
    rows, distinct = client.query(
        "SELECT count(), uniqExact(TraceId, SpanId) FROM otel.otel_traces_enriched"
    ).result_rows[0]
    missing = client.query(
        "SELECT count() FROM otel.otel_traces WHERE (TraceId, SpanId) NOT IN "
        "(SELECT TraceId, SpanId FROM otel.otel_traces_enriched)"
    ).result_rows[0][0]
    assert (source, distinct_source) == (expected, expected)
    assert (rows, distinct, missing) == (expected, expected, 0)


def test_out_of_order_batches_and_kills_give_exactly_once(stack, tmp_path):
    client = stack.client()
    log = tmp_path / "enricher.log"
    now = datetime.now(UTC).replace(tzinfo=None)
    insert(client, make_rows(1200, seed=1, base=now - timedelta(hours=2)))

    # killed in the middle of its batches
    service = Service(stack, log)
    wait_for(lambda: 150 <= enriched(client) < 1050, service)
    service.kill()
    killed_at = enriched(client)
    assert 0 < killed_at < 1200

    # older spans arrive late, in two loads; the restarted enricher catches up, then is killed while idle
    insert(client, make_rows(700, seed=2, base=now - timedelta(days=1)))
    insert(client, make_rows(300, seed=3, base=now - timedelta(days=2)))
    service = Service(stack, log)
    wait_for(lambda: enriched(client) >= 2200, service)
    time.sleep(0.5)  # a poll or two with nothing to do
    service.kill()
    assert_exactly_once(client, 2200)

    # more late spans; a --once run picks them up and exits
    insert(client, make_rows(900, seed=4, base=now - timedelta(days=2, hours=3)))
    insert(client, make_rows(300, seed=5, base=now - timedelta(minutes=5)))
    once = Service(stack, log, "--once")
    assert once.proc.wait(timeout=120) == 0, once.text()[-3000:]
    assert_exactly_once(client, 3400)
    texts = client.query("SELECT DISTINCT EmbeddingText FROM otel.otel_traces_enriched").result_rows
    assert 1 < len(texts) <= len(catalogue())  # no ids, no varying values in the texts
    state = client.query(
        "SELECT count(), sum(Spans), toUnixTimestamp64Micro(max(Watermark)) FROM otel.enrichment_state"
    ).result_rows[0]
    newest = client.query("SELECT toUnixTimestamp64Micro(max(InsertedAt)) FROM otel.otel_traces").result_rows[
        0
    ][0]
    assert state[0] > 0 and state[1] <= 3400 and state[2] == newest
    assert "enriched" in once.text() and "Traceback" not in once.text()


def test_clickhouse_down_then_back(stack, tmp_path):
    client = stack.client()
    proxy = Proxy(stack.clickhouse_port)
    proxy.start()
    now = datetime.now(UTC).replace(tzinfo=None)
    insert(client, make_rows(300, seed=11, base=now - timedelta(hours=1)))
    service = Service(stack, tmp_path / "enricher.log", CLICKHOUSE_PORT=str(proxy.port))
    try:
        wait_for(lambda: enriched(client) == 300, service)
        proxy.stop()
        insert(client, make_rows(400, seed=12, base=now - timedelta(hours=3)))
        wait_for(lambda: "unreachable" in service.text(), service, timeout=30, every=0.2)
        assert enriched(client) == 300
        proxy.start()
        wait_for(lambda: enriched(client) == 700, service, timeout=60, every=0.2)
        # down again: a SIGTERM ends the wait for ClickHouse promptly and cleanly
        proxy.stop()
        retries = service.text().count("unreachable")
        wait_for(lambda: service.text().count("unreachable") > retries, service, timeout=30, every=0.2)
        service.proc.send_signal(signal.SIGTERM)
        assert service.proc.wait(timeout=15) == 0
    finally:
        if service.proc.poll() is None:
            service.kill()
        proxy.stop()
    assert_exactly_once(client, 700)
    retries = [line for line in service.text().splitlines() if "unreachable" in line]
    assert retries and all(len(line) < 200 for line in retries)
    assert "Traceback" not in service.text()


def test_missing_table_is_named(stack, tmp_path):
    client = stack.client()
    client.command("RENAME TABLE otel.enrichment_state TO otel.enrichment_state_moved")
    try:
        service = Service(stack, tmp_path / "enricher.log", "--once")
        assert service.proc.wait(timeout=60) != 0
    finally:
        client.command("RENAME TABLE otel.enrichment_state_moved TO otel.enrichment_state")
    assert "missing table otel.enrichment_state" in service.text()
    assert "Traceback" not in service.text()


def test_new_spans_are_enriched_within_seconds_after_idling(stack, tmp_path):
    """ENRICHER_POLL_SECONDS is only the cap of the idle backoff: spans arriving after a short idle spell are
    picked up by the next short poll."""
    client = stack.client()
    now = datetime.now(UTC).replace(tzinfo=None)
    polls = {"ENRICHER_POLL_SECONDS": "30", "ENRICHER_MIN_POLL_SECONDS": "0.5"}
    service = Service(stack, tmp_path / "enricher.log", **polls)
    try:
        insert(client, make_rows(50, seed=11, base=now - timedelta(hours=1)))
        wait_for(lambda: enriched(client) >= 50, service, timeout=120)  # the model loads first
        expected, lags = 50, []
        for n, idle in enumerate((1.0, 0.7, 1.2), start=12):
            time.sleep(idle)
            insert(client, make_rows(20, seed=n, base=now - timedelta(hours=1)))
            expected += 20
            put = time.monotonic()
            wait_for(lambda e=expected: enriched(client) >= e, service, timeout=15)
            lags.append(time.monotonic() - put)
        assert max(lags) < 2.5, lags
    finally:
        service.kill()
