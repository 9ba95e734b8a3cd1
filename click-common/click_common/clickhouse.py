"""What the services need to know about ClickHouse's errors: the server's error code, and a refused login told
apart from an outage (retrying cannot fix a wrong password; the user must)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from .config import ConfigError

_CODE = re.compile(r"Code: (\d+)\.")
AUTHENTICATION_FAILED, UNKNOWN_USER, REQUIRED_PASSWORD = 516, 192, 194


def error_code(exc: BaseException) -> int | None:
    """The server's error code: the driver's own attribute, else `Code: N.` in the message."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    found = _CODE.search(str(exc))
    return int(found[1]) if found else None


@contextmanager
def refused_login_is_a_config_error(user: str, host: str, port: int) -> Iterator[None]:
    """Raise a ConfigError naming the settings when ClickHouse refuses this user or password inside."""
    try:
        yield
    except Exception as exc:
        if error_code(exc) not in (AUTHENTICATION_FAILED, UNKNOWN_USER, REQUIRED_PASSWORD):
            raise
        raise ConfigError(
            "CLICKHOUSE_PASSWORD", f"(or CLICKHOUSE_USER={user!r}) is refused by ClickHouse at {host}:{port}"
        ) from None
