"""The services' ClickHouse plumbing: a client built the same way everywhere, the server's error code, which
errors are an outage (worth a retry) and which a refused login (retrying cannot fix a wrong password; the user
must)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from pydantic import Field
from pydantic_settings import BaseSettings

from .config import ConfigError

_CODE = re.compile(r"Code: (\d+)\.")
AUTHENTICATION_FAILED, UNKNOWN_USER, REQUIRED_PASSWORD = 516, 192, 194
REFUSED_LOGIN = frozenset({AUTHENTICATION_FAILED, UNKNOWN_USER, REQUIRED_PASSWORD})

# ClickHouse errors that say "try again later", not "this data is wrong".
TRANSIENT_CODES = frozenset(
    {
        3,  # UNEXPECTED_END_OF_FILE
        159,  # TIMEOUT_EXCEEDED
        202,  # TOO_MANY_SIMULTANEOUS_QUERIES
        209,  # SOCKET_TIMEOUT
        210,  # NETWORK_ERROR
        241,  # MEMORY_LIMIT_EXCEEDED
        252,  # TOO_MANY_PARTS
        425,  # SYSTEM_ERROR
    }
)

# What every service's client wants: no session id (one client serves several threads), a short connect
# timeout (an outage shows at once, and the caller's backoff takes over), a long one for reading and writing
# (big inserts, slow aggregations).
CLIENT_DEFAULTS: dict[str, Any] = {
    "autogenerate_session_id": False,
    "connect_timeout": 5,
    "send_receive_timeout": 300,
}


class ClickHouseSettings(BaseSettings):
    """The shared CLICKHOUSE_* settings (defaults that work in both run modes): a service's settings class
    inherits them and adds its own, prefixed, fields."""

    clickhouse_host: str = Field("localhost", validation_alias="CLICKHOUSE_HOST")
    clickhouse_port: int = Field(8123, validation_alias="CLICKHOUSE_PORT")
    clickhouse_user: str = Field("default", validation_alias="CLICKHOUSE_USER")
    clickhouse_password: str = Field("", validation_alias="CLICKHOUSE_PASSWORD")

    def describe(self) -> str:
        """How every message names the server (see `describe`)."""
        return describe(self.clickhouse_host, self.clickhouse_port, self.clickhouse_user)


def describe(host: str, port: int, user: str) -> str:
    """The one way messages name the server: `ClickHouse at user@host:port`."""
    return f"ClickHouse at {user}@{host}:{port}"


def connect(host: str, port: int, user: str, password: str, **options: Any) -> Client:
    """A ClickHouse HTTP client with `CLIENT_DEFAULTS` (each can be overridden in `options`)."""
    return clickhouse_connect.get_client(
        host=host, port=port, username=user, password=password, **{**CLIENT_DEFAULTS, **options}
    )


def client_from(settings: ClickHouseSettings, **options: Any) -> Client:
    """`connect` with the CLICKHOUSE_* settings."""
    return connect(
        settings.clickhouse_host,
        settings.clickhouse_port,
        settings.clickhouse_user,
        settings.clickhouse_password,
        **options,
    )


def error_code(exc: BaseException) -> int | None:
    """The server's error code: the driver's own attribute, else `Code: N.` in the message."""
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    found = _CODE.search(str(exc))
    return int(found[1]) if found else None


@contextmanager
def refused_login_is_a_config_error(settings: ClickHouseSettings) -> Iterator[None]:
    """Raise a ConfigError naming the settings when ClickHouse refuses this user or password inside."""
    user, server = settings.clickhouse_user, settings.describe()
    try:
        yield
    except Exception as exc:
        if error_code(exc) not in REFUSED_LOGIN:
            raise
        raise ConfigError(
            "CLICKHOUSE_PASSWORD", f"(or CLICKHOUSE_USER={user!r}) is refused by {server}"
        ) from None


def is_unreachable(exc: BaseException) -> bool:
    """The server could not be reached at all (refused, reset, timed out): the driver's OperationalError."""
    return isinstance(exc, OperationalError | ConnectionError | TimeoutError)


def is_outage(exc: BaseException) -> bool:
    """Unreachable, or the server said "try again later" (a transient code, or none it could give)."""
    if isinstance(exc, DatabaseError) and not isinstance(exc, OperationalError):
        code = error_code(exc)
        return code is None or code in TRANSIENT_CODES
    return is_unreachable(exc)
