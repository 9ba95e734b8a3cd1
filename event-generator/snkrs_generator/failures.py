"""The errors simulated services raise. Each carries the HTTP status it maps to, a low-cardinality
`error.type` and a message that says what happened, so every failure is findable by its span status and
its exception log record."""

from __future__ import annotations

import traceback


class SimulatedFailure(Exception):
    status_code = 500
    error_type = "_OTHER"

    @property
    def is_server_error(self) -> bool:
        return self.status_code >= 500


class PaymentProviderTimeout(SimulatedFailure):
    status_code = 504
    error_type = "timeout"


class PaymentDeclined(SimulatedFailure):
    status_code = 402
    error_type = "card_declined"


class InventoryLockTimeout(SimulatedFailure):
    status_code = 503
    error_type = "lock_wait_timeout"


class SoldOut(SimulatedFailure):
    status_code = 409
    error_type = "sold_out"


class BotBlocked(SimulatedFailure):
    status_code = 403
    error_type = "bot_blocked"


class RateLimited(SimulatedFailure):
    status_code = 429
    error_type = "rate_limited"


class CacheStampedeTimeout(SimulatedFailure):
    status_code = 504
    error_type = "cache_stampede"


class WaitingRoomBacklog(SimulatedFailure):
    status_code = 503
    error_type = "waiting_room_backlog"


# formatted frames by raise path (each frame's code and last instruction fix its lines and carets)
_FRAMES: dict[tuple, str] = {}


def stacktrace(exc: BaseException) -> str:
    """`traceback.format_exception(exc)`, joined. Formatting frames is the dearest part of a failure (3.11
    reads and parses source lines for its carets), and the same raise path always formats the same way, so
    the frames are formatted once per path; the exception's own line is formatted each time."""
    tb = exc.__traceback__
    chained = exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__)
    if tb is None or chained:
        return "".join(traceback.format_exception(exc))
    path = []
    while tb is not None:
        path.append((tb.tb_frame.f_code, tb.tb_lasti))
        tb = tb.tb_next
    key = tuple(path)
    frames = _FRAMES.get(key)
    if frames is None:
        frames = _FRAMES[key] = "".join(traceback.format_tb(exc.__traceback__))
    return "Traceback (most recent call last):\n" + frames + "".join(traceback.format_exception_only(exc))


def exception_attributes(exc: BaseException) -> dict[str, str]:
    """The semantic-convention exception attributes, for the span event and the log record alike; a raised
    exception's attributes are computed once and kept on it."""
    cached = getattr(exc, "_otel_attributes", None)
    if cached is not None:
        return cached
    kind = type(exc)
    attributes = {
        "exception.type": f"{kind.__module__}.{kind.__qualname__}",
        "exception.message": str(exc),
        "exception.stacktrace": stacktrace(exc),
    }
    if exc.__traceback__ is not None:  # not raised yet: its trace is still to come
        exc._otel_attributes = attributes
    return attributes


class DeployRegression(SimulatedFailure):
    status_code = 500
    error_type = "KeyError"


class ReplicaStatementTimeout(SimulatedFailure):
    status_code = 503
    error_type = "statement_timeout"


class PaymentProviderUnavailable(SimulatedFailure):
    status_code = 502
    error_type = "provider_unavailable"


class DependencyOverloaded(SimulatedFailure):
    status_code = 503
    error_type = "overloaded"


class PushProviderTLSError(SimulatedFailure):
    status_code = 502
    error_type = "ssl.SSLCertVerificationError"


class UpstreamDeadline(SimulatedFailure):
    status_code = 504
    error_type = "deadline_exceeded"


class DiskFull(SimulatedFailure):
    status_code = 500
    error_type = "disk_full"


class ClientClosedRequest(SimulatedFailure):
    """499: the client went away before the answer; gateways count it among their errors."""

    status_code = 499
    error_type = "client_closed_request"

    @property
    def is_server_error(self) -> bool:
        return True


class ProviderRejected(SimulatedFailure):
    status_code = 502
    error_type = "provider_rejected"


class ProviderTLSError(SimulatedFailure):
    status_code = 502
    error_type = "ssl.SSLCertVerificationError"
