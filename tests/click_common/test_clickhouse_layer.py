"""click_common's ClickHouse layer: a client against a port nobody listens on is an outage, a transient server
code is one and a SQL error is not; the backoff logs one line per retry, says when the dependency is back, and
ends with Stopped or GaveUp."""

from __future__ import annotations

import logging
import threading

import pytest
from click_common import clickhouse
from click_common.backoff import GaveUp, Stopped, call_with_backoff, short_reason
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from local_stack.launch import free_port

log = logging.getLogger("test_backoff")


def test_a_dead_port_is_unreachable_and_the_reason_says_so():
    with pytest.raises(OperationalError) as caught:  # the client asks the server for its version at once
        clickhouse.connect("127.0.0.1", free_port(), "default", "", query_retries=0)
    assert clickhouse.is_unreachable(caught.value) and clickhouse.is_outage(caught.value)
    assert short_reason(caught.value) == "OperationalError: unreachable, connection refused"


def test_server_codes_decide_what_is_an_outage():
    too_many_parts = DatabaseError("Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)")
    syntax = DatabaseError("Code: 62. DB::Exception: Syntax error: failed at position 1. (SYNTAX_ERROR)")
    assert clickhouse.error_code(too_many_parts) == 252 and clickhouse.is_outage(too_many_parts)
    assert clickhouse.error_code(syntax) == 62 and not clickhouse.is_outage(syntax)
    assert not clickhouse.is_unreachable(too_many_parts)
    assert short_reason(syntax).startswith("DatabaseError: Code: 62.")


def failing(times: int, exc: BaseException):
    calls = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise exc
        return "done"

    return fn, calls


def test_retries_an_outage_with_one_line_each_then_says_it_is_back(caplog):
    fn, calls = failing(2, ConnectionRefusedError("[Errno 111] Connection refused"))
    with caplog.at_level(logging.INFO, logger="test_backoff"):
        assert call_with_backoff("ClickHouse h:1", clickhouse.is_outage, fn, log=log, max_wait=0.01) == "done"
    assert len(calls) == 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith(
        "ClickHouse h:1 unavailable (ConnectionRefusedError: unreachable, connection refused): retry 1 in "
    )
    assert lines[1].startswith("ClickHouse h:1 unavailable (") and ": retry 2 in " in lines[1]
    assert lines[2] == "ClickHouse h:1 is back after 3 attempts"


def test_an_error_that_is_no_outage_is_raised_at_once():
    fn, calls = failing(5, DatabaseError("Code: 62. DB::Exception: Syntax error"))
    with pytest.raises(DatabaseError):
        call_with_backoff("ClickHouse h:1", clickhouse.is_outage, fn, log=log, max_wait=0.01)
    assert len(calls) == 1


def test_gives_up_after_the_given_time():
    fn, calls = failing(10**9, TimeoutError("timed out"))
    with pytest.raises(GaveUp, match=r"ClickHouse h:1 unavailable for 0.2 s \(TimeoutError: unreachable"):
        call_with_backoff("ClickHouse h:1", clickhouse.is_outage, fn, log=log, give_up_after=0.2)
    assert len(calls) > 1


def test_a_stop_ends_the_wait_promptly():
    stop = threading.Event()
    fn, calls = failing(10**9, ConnectionResetError("Connection reset by peer"))
    threading.Timer(0.2, stop.set).start()
    with pytest.raises(Stopped, match="stopped while waiting for S3"):
        call_with_backoff("S3", clickhouse.is_outage, fn, log=log, max_wait=30, stop=stop)
    assert calls
