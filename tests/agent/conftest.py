"""Fixtures for the trace agent: settings pointing at the local stack and the fake Messages API, a tool
context as the read-only `agent` user, and `traffic`: spans whose right answers tests compute."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from trace_agent.db import Database
from trace_agent.settings import Settings
from trace_agent.tools import ToolContext

from tests.agent.fake_anthropic import FakeAnthropic
from tests.support.spans import Span, hex_id, insert, minutes_ago


@pytest.fixture(scope="session")
def fake_api() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture
def settings(stack, fake_api: FakeAnthropic) -> Settings:
    fake_api.play()
    return Settings(
        _env_file=None,
        clickhouse_host=stack.host,
        clickhouse_port=stack.clickhouse_port,
        clickhouse_user="agent",
        anthropic_api_key="test-key",
        anthropic_base_url=fake_api.url,
        api_max_retries=2,
        api_timeout_s=20,
        model="claude-test",
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[ToolContext]:
    db = Database(settings)
    yield ToolContext(db, settings)
    db.close()


@pytest.fixture
def traffic(stack):
    """~600 spans in the last 50 minutes over three services, plus old spans no default window may count."""
    rng = random.Random(7)
    spans: list[Span] = []
    for _ in range(200):
        trace = hex_id(rng, 32)
        root = hex_id(rng, 16)
        start = minutes_ago(rng.uniform(1, 50))
        failed = rng.random() < 0.15
        spans.append(
            Span(
                trace,
                root,
                "checkout-service",
                rng.choice(["POST /checkout", "GET /cart"]),
                start,
                rng.randint(5_000_000, 900_000_000),
                status="Error" if failed else "Ok",
                status_message="payment declined" if failed else "",
                attributes={"http.route": "/checkout"},
            )
        )
        spans.append(
            Span(
                trace,
                hex_id(rng, 16),
                "payment-service",
                "charge card",
                start + timedelta(milliseconds=3),
                rng.randint(1_000_000, 500_000_000),
                parent_span_id=root,
                kind="Client",
                status="Error" if failed else "Ok",
                status_message="card issuer timeout" if failed else "",
            )
        )
        if rng.random() < 0.8:
            spans.append(
                Span(
                    trace,
                    hex_id(rng, 16),
                    "inventory-service",
                    "reserve stock",
                    start + timedelta(milliseconds=1),
                    rng.randint(500_000, 50_000_000),
                    parent_span_id=root,
                    kind="Internal",
                    status="Error" if rng.random() < 0.05 else "Unset",
                    status_message="",
                )
            )
    old = [
        Span(
            hex_id(rng, 32),
            hex_id(rng, 16),
            "checkout-service",
            "POST /checkout",
            minutes_ago(180),
            2_000_000_000,
            status="Error",
            status_message="old failure",
        )
        for _ in range(20)
    ]
    client = stack.client()
    insert(client, spans + old)
    client.close()
    return spans
