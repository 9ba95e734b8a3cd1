"""The tools' ClickHouse access on click-common's layer: a dead server is retried a few seconds, in the one
log format of click_common.backoff, then answered as a QueryError that says it is unreachable."""

from __future__ import annotations

import logging
import time

import pytest
from local_stack.launch import free_port
from trace_agent.db import RETRY_SECONDS, Database, QueryError
from trace_agent.settings import Settings


def test_a_dead_server_is_retried_then_a_query_error_naming_it(caplog):
    port = free_port()  # nothing listens there
    db = Database(Settings(_env_file=None, clickhouse_host="127.0.0.1", clickhouse_port=port))  # no .env
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="trace_agent.db"), pytest.raises(QueryError) as caught:
        db.query("SELECT 1")
    assert time.monotonic() - started < RETRY_SECONDS + 10
    assert str(caught.value) == (
        f"ClickHouse at agent@127.0.0.1:{port}: OperationalError: unreachable, connection refused"
    )
    retries = [r.getMessage() for r in caplog.records if r.name == "trace_agent.db"]
    assert retries and retries[0].startswith(
        f"ClickHouse at agent@127.0.0.1:{port} unavailable "
        "(OperationalError: unreachable, connection refused): retry 1 in "
    )
