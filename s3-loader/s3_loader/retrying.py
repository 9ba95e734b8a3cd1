"""Backoff while a dependency is down: retry forever, one readable log line per failed attempt."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import botocore.exceptions
from click_common.clickhouse import error_code
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    stop_never,
    stop_when_event_set,
    wait_exponential_jitter,
)

log = logging.getLogger("s3_loader")
T = TypeVar("T")

# ClickHouse errors that say "try again later", not "this data is wrong".
_TRANSIENT_CLICKHOUSE_CODES = {
    3,  # UNEXPECTED_END_OF_FILE
    159,  # TIMEOUT_EXCEEDED
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    252,  # TOO_MANY_PARTS
    425,  # SYSTEM_ERROR
}


def is_clickhouse_outage(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        return True
    if isinstance(exc, DatabaseError):
        code = error_code(exc)
        return code is None or code in _TRANSIENT_CLICKHOUSE_CODES
    return isinstance(exc, ConnectionError | TimeoutError)


def is_s3_outage(exc: BaseException) -> bool:
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = exc.response.get("Error", {}).get("Code", "")
        return status >= 500 or status == 429 or code in {"SlowDown", "Throttling", "RequestTimeout"}
    return isinstance(
        exc,
        botocore.exceptions.EndpointConnectionError
        | botocore.exceptions.ConnectionClosedError
        | botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectTimeoutError
        | botocore.exceptions.HTTPClientError
        | ConnectionError
        | TimeoutError,
    )


_REASONS = (
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "host not found"),
    ("Temporary failure in name resolution", "host not found"),
    ("Connection reset", "connection reset"),
    ("Could not connect", "could not connect"),
    ("RemoteDisconnected", "connection closed"),
)


def _summary(exc: BaseException | None) -> str:
    """The short reason a person needs (`connection refused`), not the driver's whole chain."""
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split())
    for needle, reason in _REASONS:
        if needle in text:
            return f"{type(exc).__name__}: {reason}"
    return f"{type(exc).__name__}: {text[:160]}"


class Stopped(Exception):
    """The loader was asked to stop while it waited for a dependency to come back."""


class GaveUp(Exception):
    """A dependency stayed down for longer than the caller would wait (`--once`)."""


def call_with_backoff(
    what: str,
    is_outage: Callable[[BaseException], bool],
    fn: Callable[[], T],
    max_wait: float = 60.0,
    stop: threading.Event | None = None,
    give_up_after: float | None = None,
) -> T:
    """Run fn; while it fails with an outage, log and retry with exponential backoff, until it works, `stop`
    is set (then Stopped is raised: a SIGTERM during an outage ends the process promptly) or `give_up_after`
    seconds have passed (then GaveUp is raised: `--once` must end, not wait forever)."""
    stop_rule = stop_never if stop is None else stop_when_event_set(stop)
    if give_up_after is not None:
        stop_rule = stop_rule | stop_after_delay(give_up_after)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s unavailable (%s): retry %d in %.1fs", what, _summary(exc), state.attempt_number, wait)

    try:
        for attempt in Retrying(
            retry=retry_if_exception(is_outage),
            wait=wait_exponential_jitter(multiplier=0.5, max=max_wait, jitter=0.5),
            stop=stop_rule,
            sleep=time.sleep if stop is None else stop.wait,
            before_sleep=before_sleep,
            reraise=True,
        ):
            with attempt:
                result = fn()
                if attempt.retry_state.attempt_number > 1:
                    log.info("%s is back after %d attempts", what, attempt.retry_state.attempt_number)
    except Exception as exc:
        if stop is not None and stop.is_set() and is_outage(exc):
            raise Stopped(f"stopped while waiting for {what}") from exc
        if give_up_after is not None and is_outage(exc):
            raise GaveUp(f"{what} unavailable for {give_up_after:g} s ({_summary(exc)}); giving up") from exc
        raise
    return result  # type: ignore[possibly-undefined]
