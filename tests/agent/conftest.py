"""Fixtures for the trace agent: settings pointing at the local stack and the fake Messages API, a tool
context as the read-only `agent` user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from trace_agent.db import Database
from trace_agent.settings import Settings
from trace_agent.tools import ToolContext

from tests.agent.fake_anthropic import FakeAnthropic


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
