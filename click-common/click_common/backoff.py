"""Backoff while a dependency is down: retry with exponential backoff and jitter, one log line in one
format per failed attempt, until it works, a stop is asked for (`Stopped`) or the caller's patience ends
(`GaveUp`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    stop_never,
    stop_when_event_set,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from .clickhouse import is_unreachable
from .text import one_line

T = TypeVar("T")

# Words of the drivers' messages (urllib3, botocore, http.client) → the few a person needs.
_REASONS = (
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "host not found"),
    ("Temporary failure in name resolution", "host not found"),
    ("Connection reset", "connection reset"),
    ("Connection aborted", "connection aborted"),
    ("Could not connect", "could not connect"),
    ("RemoteDisconnected", "connection closed"),
    ("Remote end closed connection", "connection closed"),
)


def short_reason(exc: BaseException | None) -> str:
    """The short reason a person needs (`OperationalError: unreachable, connection refused`), not the driver's
    whole chain. A failure to reach the server at all says `unreachable`."""
    if exc is None:
        return "unknown error"
    text = one_line(str(exc), None)
    lowered = text.lower()
    for needle, reason in _REASONS:
        if needle.lower() in lowered:
            return f"{type(exc).__name__}: unreachable, {reason}"
    if is_unreachable(exc):
        return f"{type(exc).__name__}: unreachable, {one_line(text, 80)}"
    return f"{type(exc).__name__}: {one_line(text, 160)}"


class Stopped(Exception):
    """A stop was asked for while the caller waited for a dependency to come back."""


class GaveUp(Exception):
    """A dependency stayed down for longer than the caller would wait (`--once`)."""


def call_with_backoff(
    what: str,
    is_outage: Callable[[BaseException], bool],
    fn: Callable[[], T],
    *,
    log: logging.Logger,
    max_wait: float = 60.0,
    stop: threading.Event | None = None,
    give_up_after: float | None = None,
) -> T:
    """Run fn; while it fails with an outage, log `<what> unavailable (<reason>): retry N in Ws` and retry,
    until it works (then `<what> is back after N attempts`), `stop` is set (then Stopped is raised: a SIGTERM
    during an outage ends the process promptly) or `give_up_after` seconds have passed (then GaveUp is
    raised: `--once` must end, not wait forever). Errors that are not an outage are raised at once."""
    stop_rule: stop_base = stop_never if stop is None else stop_when_event_set(stop)
    if give_up_after is not None:
        stop_rule = stop_rule | stop_after_delay(give_up_after)

    def sleep(seconds: float) -> None:  # a set `stop` ends the wait at once
        if stop is None:
            time.sleep(seconds)
        else:
            stop.wait(seconds)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s unavailable (%s): retry %d in %.1fs", what, short_reason(exc), state.attempt_number, wait
        )

    try:
        for attempt in Retrying(
            retry=retry_if_exception(is_outage),
            wait=wait_exponential_jitter(multiplier=0.5, max=max_wait, jitter=0.5),
            stop=stop_rule,
            sleep=sleep,
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
            raise GaveUp(
                f"{what} unavailable for {give_up_after:g} s ({short_reason(exc)}); giving up"
            ) from exc
        raise
    return result  # the loop ends only after an attempt that returned


# empty passes after work that still wait the shortest time: live traffic comes in bursts with pauses of a
# second or two (the collector's batches), which must not push the next poll out to 2–4 s
QUICK_POLLS_AFTER_WORK = 10


def idle_poll_delay(idle_passes: int, shortest: float, longest: float, quick_passes: int = 1) -> float:
    """How long a polling loop waits after `idle_passes` passes in a row found nothing: `shortest` right after
    work (idle_passes up to `quick_passes`), doubled per further idle pass, never more than `longest`. Work
    arriving while the loop is busy is picked up within `shortest`; a loop idle for long polls only every
    `longest`."""
    shortest = min(shortest, longest)
    doublings: int = min(max(0, idle_passes - max(1, quick_passes)), 60)
    return min(longest, shortest * 2.0**doublings)
