"""Reading one HTTP request to the ClickHouse endpoint, before anything runs: who sends it (credentials, as
clickhouse-server reads them), from where (a browser's Origin), what it may do (GET is read-only), and what it
asks (parameters, settings, session, body encoding and the statement with its data).

Pure: every refusal is a ClickHouseError in the server's words, and `http_status` gives the status code
clickhouse-server answers it with. `server.py` feeds it aiohttp's request; the fuzz target feeds it bytes.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import native_compression
from .body_stream import StreamDecoder
from .engine import ClickHouseError, SessionRef, check_single_statement
from .sql_text import Insert, Query, parse_request, streamable_insert
from .users import User

# URL parameters that belong to the HTTP protocol, not to the query's settings.
TRANSPORT = {
    "query", "database", "user", "password", "default_format", "query_id", "session_id",
    "session_timeout", "session_check", "compress", "decompress", "enable_http_compression",
    "http_zlib_compression_level", "wait_end_of_query", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "buffer_size", "quota_key", "role", "client_protocol_version",
    "http_response_buffer_size", "cancel_http_readonly_queries_on_client_close", "add_http_cors_header",
}  # fmt: skip

AUTHENTICATION_FAILED, ACCESS_DENIED, READONLY = 516, 497, 164
# Methods with nothing to change: clickhouse-server runs them read-only.
_READ_METHODS = {"GET", "HEAD"}
# Browser pages of these origins may change data: HyperDX (local mode queries ClickHouse from the browser).
DEFAULT_ALLOWED_ORIGINS = frozenset({"http://localhost:8080"})

# clickhouse-server's exceptionCodeToHTTPStatus, by error name (it ends every error text); others are 500
_STATUS_BY_NAME = {
    "REQUIRED_PASSWORD": 401,
    **dict.fromkeys(
        ("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"),
        403,
    ),
    **dict.fromkeys(
        (
            "BAD_ARGUMENTS",
            "CANNOT_COMPILE_REGEXP",
            "CANNOT_PARSE_TEXT",
            "CANNOT_PARSE_ESCAPE_SEQUENCE",
            "CANNOT_PARSE_QUOTED_STRING",
            "CANNOT_PARSE_DATE",
            "CANNOT_PARSE_DATETIME",
            "CANNOT_PARSE_NUMBER",
            "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING",
            "CANNOT_PARSE_IPV4",
            "CANNOT_PARSE_IPV6",
            "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
            "CANNOT_PARSE_UUID",
            "DUPLICATE_COLUMN",
            "ILLEGAL_COLUMN",
            "UNKNOWN_ELEMENT_IN_AST",
            "UNKNOWN_TYPE_OF_AST_NODE",
            "THERE_IS_NO_COLUMN",
            "TOO_DEEP_AST",
            "TOO_BIG_AST",
            "UNEXPECTED_AST_STRUCTURE",
            "SYNTAX_ERROR",
            "INCORRECT_DATA",
            "TYPE_MISMATCH",
            "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
        ),
        400,
    ),
    **dict.fromkeys(
        (
            "UNKNOWN_TABLE",
            "UNKNOWN_FUNCTION",
            "UNKNOWN_IDENTIFIER",
            "UNKNOWN_TYPE",
            "UNKNOWN_STORAGE",
            "UNKNOWN_DATABASE",
            "UNKNOWN_SETTING",
            "UNKNOWN_DIRECTION_OF_SORTING",
            "UNKNOWN_AGGREGATE_FUNCTION",
            "UNKNOWN_FORMAT",
            "UNKNOWN_DATABASE_ENGINE",
            "UNKNOWN_TYPE_OF_QUERY",
            "UNKNOWN_ROLE",
        ),
        404,
    ),
    "QUERY_IS_TOO_LARGE": 413,
    "NOT_IMPLEMENTED": 501,
    "SOCKET_TIMEOUT": 503,
    "CANNOT_OPEN_FILE": 503,
    "HTTP_LENGTH_REQUIRED": 411,
    "TIMEOUT_EXCEEDED": 408,
    "CANNOT_SCHEDULE_TASK": 503,
    "UNSUPPORTED_MEDIA_TYPE": 415,
}
_NAME = re.compile(r"\(([A-Z0-9_]+)\)\s*(?:\(version [^)]*\))?\s*$")


def http_status(error: ClickHouseError) -> int:
    """The HTTP status clickhouse-server answers this error with."""
    found = _NAME.search(str(error))
    return _STATUS_BY_NAME.get(found.group(1), 500) if found else 500


@dataclass(frozen=True)
class Incoming:
    """What the endpoint reads of an HTTP request (args: URL parameters, plus form fields for a form body)."""

    method: str
    args: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive (aiohttp's CIMultiDictProxy, or a CIMultiDict)


@dataclass(frozen=True)
class Head:
    """A request read up to its body: the user it runs as, and everything but the statement itself."""

    user: User
    database: str | None
    settings: dict[str, str]
    params: dict[str, str]
    session: SessionRef | None
    encoding: str  # the Content-Encoding still to undo ('' or lz4, zstd…)
    framed: bool  # decompress=1: the body is ClickHouse's compressed blocks
    streamed: Insert | None  # an INSERT whose body is pure data, to spool as it arrives


def _refuse(message: str) -> ClickHouseError:
    return ClickHouseError(f"{message}. (AUTHENTICATION_FAILED)", code=AUTHENTICATION_FAILED)


def _both(first: str, second: str) -> ClickHouseError:
    return _refuse(f"Invalid authentication: it is not allowed to use {first} and {second} simultaneously")


def credentials(incoming: Incoming) -> tuple[str, str]:
    """(user, password) from the X-ClickHouse-User/-Key headers, HTTP basic auth or `?user=&password=` (else
    `default` with no password): one way only, as clickhouse-server's authenticateUserByHTTP."""
    headers, args = incoming.headers, incoming.args
    user, password = headers.get("X-ClickHouse-User", ""), headers.get("X-ClickHouse-Key", "")
    authorization = headers.get("Authorization")
    in_params = "user" in args or "password" in args
    if user or password:
        if not user:
            raise _refuse("Got an empty user name from X-ClickHouse HTTP headers")
        if authorization is not None:
            raise _both("X-ClickHouse HTTP headers", "Authorization HTTP header")
        if in_params:
            raise _both("X-ClickHouse HTTP headers", "authentication via parameters")
        return user, password
    if authorization is not None:
        if in_params:
            raise _both("Authorization HTTP header", "authentication via parameters")
        scheme, _, info = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise _refuse(f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported")
        try:
            decoded = base64.b64decode(info.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise _refuse("Invalid authentication: Basic credentials are not base64 of user:pass") from None
        user, _, password = decoded.partition(":")
        if not user:
            raise _refuse("Got an empty user name from Authorization HTTP header")
        return user, password
    user, password = args.get("user", "default"), args.get("password", "")
    if not user:
        raise _refuse("Got an empty user name from authentication via parameters")
    return user, password


def authenticate(incoming: Incoming, users: Mapping[str, User]) -> User:
    name, password = credentials(incoming)
    user = users.get(name)
    if user is None or not user.password.accepts(password):
        # the same answer for an unknown user and a wrong password, as the server gives
        raise _refuse(
            f"{name}: Authentication failed: password is incorrect, or there is no user with such name"
        )
    return user


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def foreign_origin(origin: str, allowed: frozenset[str]) -> bool:
    """Whether a browser's Origin is outside the allow-list: loopback origins and `allowed` ones are in."""
    if origin in allowed:
        return False
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (a bad port raises here)
    except ValueError:
        return True
    return parts.scheme not in ("http", "https") or not _loopback(host)


def check_origin(incoming: Incoming, allowed: frozenset[str] = DEFAULT_ALLOWED_ORIGINS) -> None:
    """Beyond clickhouse-server: a request a web page sent (it carries an `Origin`) may change data only from
    an allowed origin. Read-only methods pass (the server makes them read-only); anything else is refused."""
    origin = incoming.headers.get("Origin")
    if origin is None or incoming.method.upper() in _READ_METHODS:
        return
    if foreign_origin(origin, allowed):
        raise ClickHouseError(
            f"{origin[:100]!r}: a web page of this origin may not send {incoming.method[:20]} requests here "
            "(only loopback origins and the allow-list may; GET is read-only). (ACCESS_DENIED)",
            code=ACCESS_DENIED,
        )


def effective_user(user: User, method: str) -> User:
    """clickhouse-server runs anything but POST with readonly=2 unless the profile is read-only already. The
    read-only twin has a profile of its own, so the engine keeps separate connections for it."""
    if method.upper() == "POST" or user.readonly:
        return user
    settings = {**user.settings, "readonly": "2"}
    return dataclasses.replace(user, profile=f"{user.profile}+readonly", settings=settings)


def still_encoded(content_encoding: str) -> str:
    """The Content-Encoding left to undo: aiohttp itself already decompressed gzip, deflate and br bodies."""
    encoding = content_encoding.strip().lower()
    return "" if encoding in ("gzip", "x-gzip", "deflate", "br", "identity") else encoding


def session_ref(args: Mapping[str, str]) -> SessionRef | None:
    session_id = args.get("session_id")
    if not session_id:
        return None
    timeout = args.get("session_timeout", "60")
    if not (timeout.isascii() and timeout.isdigit()) or not 0 < int(timeout) <= 3600:
        raise ClickHouseError(
            f"Invalid session timeout: {timeout[:40]!r} (1 to 3600 seconds). (INVALID_SESSION_TIMEOUT)",
            code=374,
        )
    return SessionRef(session_id, float(timeout), args.get("session_check") == "1")


def read_head(
    incoming: Incoming, users: Mapping[str, User], allowed_origins: frozenset[str] = DEFAULT_ALLOWED_ORIGINS
) -> Head:
    check_origin(incoming, allowed_origins)
    user = effective_user(authenticate(incoming, users), incoming.method)
    args = incoming.args
    params = {k[6:]: v for k, v in args.items() if k.startswith("param_")}
    settings = {k: v for k, v in args.items() if k not in TRANSPORT and not k.startswith("param_")}
    database = incoming.headers.get("X-ClickHouse-Database") or args.get("database")
    encoding = still_encoded(incoming.headers.get("Content-Encoding", ""))
    framed = args.get("decompress") == "1"  # ClickHouse's compressed blocks (clickhouse-go)
    streamed = streamable_insert(args.get("query", ""))
    if streamed is not None and (encoding not in StreamDecoder.SUPPORTED or framed):
        streamed = None  # decoded whole instead
    return Head(user, database, settings, params, session_ref(args), encoding, framed, streamed)


def decode_body(body: bytes, encoding: str) -> bytes:
    """Undo a Content-Encoding aiohttp leaves: zstd, lz4 (concatenated frames); anything else is refused."""
    if not encoding:
        return body
    if encoding == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        try:
            return zstd.decompress(body)
        except zstd.ZstdError as exc:
            raise _cannot_decompress(encoding, exc) from None
    if encoding == "lz4":
        return StreamDecoder(encoding).feed(body)
    raise ClickHouseError(f"Unknown Content-Encoding: {encoding[:40]}. (UNKNOWN_COMPRESSION_METHOD)", code=89)


def _cannot_decompress(encoding: str, exc: Exception) -> ClickHouseError:
    return ClickHouseError(f"Cannot decompress the {encoding} body: {exc}. (CANNOT_DECOMPRESS)", code=271)


def read_statement(head: Head, query_param: str, default_format: str, body: bytes) -> Insert | Query:
    """The statement and its data from the URL's `query` and the (still encoded) body."""
    body = decode_body(body, head.encoding)
    if head.framed:
        body = native_compression.decompress(body)
    try:
        parsed = parse_request(query_param, body, default_format)
    except UnicodeDecodeError as exc:  # chDB takes SQL as text (clickhouse-server would take the bytes)
        raise ClickHouseError(f"query is not valid UTF-8: {exc}. (BAD_ARGUMENTS)", code=36) from None
    if isinstance(parsed, Query):
        check_single_statement(parsed.sql)
    return parsed
