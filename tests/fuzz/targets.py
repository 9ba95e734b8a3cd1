"""The fuzz targets: for each, the function one input goes through, and what counts as a crash.

Each target's `setup()` imports what it fuzzes (inside the worker's instrumentation, so atheris sees its
coverage) and returns `one(data)`. `one` returns when the input was handled as the module promises (rows, or
the module's own typed error) and raises anything else: an unexpected exception, or `Broken` when an
outcome breaks a property the target checks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


class Broken(AssertionError):
    """The input was accepted but the outcome breaks a property (e.g. the SQL guard let a write through)."""


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    instrument: tuple[str, ...]  # packages whose Python code atheris instruments for coverage
    setup: Callable[[], Callable[[bytes], None]]
    seeds: Callable[[], list[bytes]]
    dictionary: Callable[[], list[bytes]] = field(default=lambda: [])


# ---------------------------------------------------------------------------------------------------------
# otlp_rows: OTLP JSON documents (the loader's input) → rows
# ---------------------------------------------------------------------------------------------------------


def _otlp_rows() -> Callable[[bytes], None]:
    import orjson
    import otlp_rows

    def one(data: bytes) -> None:
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return  # not JSON: the loader says so before otlp_rows sees it
        for signal in otlp_rows.SIGNALS.values():
            try:
                tables = signal.rows(doc)
            except otlp_rows.OTLPFormatError as exc:
                if "\n" in str(exc):
                    raise Broken(f"{signal.name}: an error of more than one line: {exc!r:.200}") from None
                continue
            for table, rows in tables.items():
                width = len(otlp_rows.table_columns(table))
                for row in rows:
                    if len(row) != width:
                        raise Broken(f"{table}: a row of {len(row)} values for {width} columns")

    return one


def _otlp_json_seeds() -> list[bytes]:
    from tests.fuzz import seeds

    return seeds.otlp_json_documents()


# ---------------------------------------------------------------------------------------------------------
# receiver: the collector stand-in's protobuf and JSON decoding, screening and conversion
# ---------------------------------------------------------------------------------------------------------

# the first byte of an input picks the signal and the encoding; the rest is the request body
RECEIVER_MODES = [(s, encoding) for s in ("traces", "logs", "metrics") for encoding in ("pb", "json")]


def _receiver() -> Callable[[bytes], None]:
    from local_stack.collector import payload, rows

    signals = {s.spec.name: s for s in payload.Signal}

    def one(data: bytes) -> None:
        if not data:
            return
        name, encoding = RECEIVER_MODES[data[0] % len(RECEIVER_MODES)]
        signal, body = signals[name], data[1:]
        try:
            if encoding == "pb":
                request = payload.decode_protobuf(signal, body)
            else:
                request = payload.decode_json(signal, body)
            payload.screen(signal, request)
            document = signal.spec.to_json(request)
            rows.table_rows(signal, document)
        except payload.BadPayload as exc:
            if not str(exc):
                raise Broken("a BadPayload without a reason") from None

    return one


def _receiver_seeds() -> list[bytes]:
    from tests.fuzz import seeds

    out = []
    for signal, encoding in RECEIVER_MODES:
        prefix = bytes([RECEIVER_MODES.index((signal, encoding))])
        for body in seeds.requests(signal, encoding):
            out.append(prefix + body)
    return out


# ---------------------------------------------------------------------------------------------------------
# loader_documents: the S3 loader's document sniffing (gzip, JSON, kind) and its route choice
# ---------------------------------------------------------------------------------------------------------

_KEYS = ("otel/traces_1.json", "otel/logs_1.json.gz", "otel/metrics_1.json", "otel/x")


def _loader_documents() -> Callable[[bytes], None]:
    from s3_loader import documents

    def one(data: bytes) -> None:
        if not data:
            return
        key, body = _KEYS[data[0] % len(_KEYS)], data[1:]
        _same_document(body, documents.keep_negative_zero(body))
        prepared = documents.prepare(key, body)
        if prepared.error.startswith("internal error"):
            raise Broken(f"prepare() failed inside: {prepared.error}")
        if prepared.error and "\n" in prepared.error:
            raise Broken(f"an error of more than one line: {prepared.error!r:.200}")
        routed = documents.plain_traces(body)
        if routed is None:
            return
        # ClickHouse's conversion takes this one: it must be a traces document the Python route agrees on,
        # span for span (the loader's bookkeeping counts the SQL route's spans by their keys)
        if prepared.error:
            raise Broken(f"routed to ClickHouse, but otlp_rows refuses it: {prepared.error}")
        if (prepared.kind, prepared.rows) != ("traces", routed.spans):
            raise Broken(f"routed as {routed.spans} spans, otlp_rows finds {prepared.kind} {prepared.rows}")

    return one


def _same_document(body: bytes, rewritten: bytes) -> None:
    """The loader's -0 rewrite must leave the document as it was (Python's 0 == -0.0 hides the one change)."""
    import orjson

    parsed = []
    for text in (body, rewritten):
        try:
            parsed.append(orjson.loads(text))
        except orjson.JSONDecodeError:
            parsed.append(orjson.JSONDecodeError)
    if parsed[0] != parsed[1]:
        raise Broken(f"keep_negative_zero changed the document: {body[:120]!r} -> {rewritten[:120]!r}")


def _loader_seeds() -> list[bytes]:
    import gzip

    from tests.fuzz import seeds

    out = []
    for doc in seeds.otlp_json_documents():
        out.append(b"\x00" + doc)
        out.append(b"\x01" + gzip.compress(doc, mtime=0))
    out += [b"\x00", b"\x03{}", b"\x00\x1f\x8b", b"\x01not gzip"]
    out += [b'\x00{"a":-0,"b":[ -0,1e-0,-0.5],"s":"x:-0,\\"-0"}', b"\x00[-0]"]
    return out


# ---------------------------------------------------------------------------------------------------------
# endpoint_request: the local ClickHouse endpoint's HTTP request reading (no engine behind it)
# ---------------------------------------------------------------------------------------------------------


# An input: a method byte, a flags byte, then the URL's query string, the header lines and the body, separated
# by NUL bytes. Flag bit 0 wraps the body in one of ClickHouse's compressed blocks with a valid checksum (bits
# 1-2 pick none / lz4 / zstd), so that the fuzzer gets past the checksum to the decompressors.
_METHODS = ("POST", "GET", "OPTIONS", "PUT", "HEAD")
_FRAME_METHODS = (0x02, 0x82, 0x90)
_ENDPOINT_PASSWORDS = {
    "CLICKHOUSE_PASSWORD": "pw",
    "CLICKHOUSE_AGENT_PASSWORD": "agent-pw",
    "CLICKHOUSE_COLLECTOR_PASSWORD": "collector-pw",
    "CLICKHOUSE_LOADER_PASSWORD": "loader-pw",
    "CLICKHOUSE_ENRICHER_PASSWORD": "enricher-pw",
}


def _endpoint_input(method: str, flags: int, query: str, headers: dict[str, str], body: bytes) -> bytes:
    header_block = "\n".join(f"{k}: {v}" for k, v in headers.items())
    return bytes([_METHODS.index(method), flags]) + b"\x00".join(
        (query.encode(), header_block.encode(), body)
    )


def _endpoint_parts(data: bytes):  # -> (Incoming, body)
    import struct

    from local_stack.clickhouse.native_compression import _checksum
    from local_stack.clickhouse.request import Incoming
    from multidict import CIMultiDict
    from yarl import URL

    method = _METHODS[data[0] % len(_METHODS)] if data else "POST"
    flags = data[1] if len(data) > 1 else 0
    query, header_block, body = ([*data[2:].split(b"\x00", 2), b"", b""])[:3]
    try:
        args = URL.build(path="/", query_string=query.decode("latin-1")).query
    except ValueError:
        args = URL("/").query
    headers: CIMultiDict[str] = CIMultiDict()
    for line in header_block.decode("utf-8", "surrogateescape").split("\n"):
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.add(name.strip(), value.strip())
    if flags & 1:
        method_byte = _FRAME_METHODS[(flags >> 1) % 3]
        block = struct.pack("<BII", method_byte, 9 + len(body), len(body) + 64 * (flags >> 3)) + body
        body = _checksum(block) + block
    return Incoming(method, args, headers), body


def _endpoint_request() -> Callable[[bytes], None]:
    from local_stack.clickhouse import request as chrequest
    from local_stack.clickhouse.body_stream import StreamDecoder
    from local_stack.clickhouse.engine import ClickHouseError
    from local_stack.clickhouse.users import load_users
    from local_stack.paths import USERS_XML

    users = load_users(USERS_XML, _ENDPOINT_PASSWORDS)

    def one(data: bytes) -> None:
        incoming, body = _endpoint_parts(data)
        try:
            head = chrequest.read_head(incoming, users)
            if head.streamed is not None:
                StreamDecoder(head.encoding).feed(body)
            else:
                query = incoming.args.get("query", "")
                chrequest.read_statement(head, query, incoming.args.get("default_format", "TSV"), body)
        except ClickHouseError as exc:
            if not str(exc).startswith(f"Code: {exc.code}. DB::Exception: "):
                raise Broken(f"an error not in ClickHouse's shape: {exc!r:.200}") from None

    return one


def _endpoint_seeds() -> list[bytes]:
    import base64 as b64

    import lz4.frame
    from backports import zstd

    basic = "Basic " + b64.b64encode(b"default:pw").decode()
    seeds = [
        ("POST", 0, "query=SELECT+1&password=pw", {}, b""),
        ("POST", 0, "password=pw&query=INSERT+INTO+t+FORMAT+JSONEachRow", {}, b'{"a":1}\n'),
        ("POST", 0, "default_format=JSON", {"Authorization": basic}, b"SELECT 1 FORMAT JSON"),
        ("POST", 0, "", {"X-ClickHouse-User": "agent", "X-ClickHouse-Key": "agent-pw"}, b"SELECT 1"),
        ("POST", 1, "password=pw&decompress=1&query=INSERT+INTO+t+FORMAT+Native", {},
         b"\x01\x01\x01a\x05UInt8\x07"),
        ("POST", 3, "password=pw&decompress=1", {}, b"SELECT 2"),
        ("POST", 0, "password=pw", {"Content-Encoding": "zstd"}, zstd.compress(b"SELECT 3")),
        ("POST", 0, "password=pw&query=INSERT+INTO+t+FORMAT+CSV", {"Content-Encoding": "lz4"},
         lz4.frame.compress(b"1\n2\n")),
        ("POST", 0, "password=pw", {"Content-Encoding": "lz4"}, lz4.frame.compress(b"SELECT 4")),
        ("POST", 0, "password=pw&session_id=s1&session_timeout=60&session_check=0", {}, b"SELECT 5"),
        ("GET", 0, "query=SELECT+1&user=default&password=pw", {}, b""),
        ("POST", 0, "password=pw&add_http_cors_header=1", {"Origin": "http://evil.example"}, b"DROP TABLE t"),
        ("POST", 0, "password=pw", {"Origin": "http://localhost:8080"}, b"SELECT 6"),
        ("OPTIONS", 0, "", {"Origin": "http://127.0.0.1:3000"}, b""),
        ("POST", 0, "password=pw&param_x=1&max_result_rows=5&database=otel", {}, b"SELECT {x:UInt8}"),
        ("POST", 0, "user=nobody", {}, b"SELECT 1"),
        ("POST", 0, "password=pw&query=INSERT+INTO+t+SETTINGS+async_insert%3D0+FORMAT+Native", {},
         b"\x00\x00"),
    ]  # fmt: skip
    return [_endpoint_input(*seed) for seed in seeds]


def _endpoint_dictionary() -> list[bytes]:
    words = [
        "query=", "user=", "password=", "database=", "default_format=", "session_id=", "session_timeout=",
        "session_check=1", "compress=1", "decompress=1", "param_", "readonly=", "max_result_rows=",
        "INSERT INTO t FORMAT Native", "INSERT INTO t FORMAT JSONEachRow\n", "SELECT 1 FORMAT JSON",
        "Basic ", "gzip", "lz4", "zstd", "br", "deflate", "http://localhost:8080", "null",
        "multipart/form-data",
        "application/x-www-form-urlencoded", "text/plain", "%00", "%ff", "&", "=", "password=pw", "agent-pw",
        "X-ClickHouse-User: ", "X-ClickHouse-Key: ", "Authorization: ", "Content-Encoding: ", "Origin: ",
    ]  # fmt: skip
    return [w.encode() for w in words]


# ---------------------------------------------------------------------------------------------------------
# sql_guard: differential — nothing the agent's guard accepts may write or reach outside, readonly off
# ---------------------------------------------------------------------------------------------------------

# Table functions that read only what the engine itself holds or makes up. Anything else the engine knows as a
# table function (from system.table_functions) counts as reaching outside, including `file` used as a
# scalar function. An allow-list, so that the guard's deny-list is checked against something independent.
LOCAL_TABLE_FUNCTIONS = frozenset(
    {
        "numbers", "numbers_mt", "zeros", "zeros_mt", "generaterandom", "values", "null", "view", "merge",
        "loop", "generate_series", "generateseries", "primes", "sqlstandardvalues", "format",
        "viewifpermitted",
        "viewexplain", "mergetreeindex", "mergetreeprojection", "mergetreeanalyzeindexes",
        "mergetreeanalyzeindexesuuid", "mergetreetextindex", "mergetreecodecblockcounts", "dictionary",
        "clusterallreplicas", "cluster",  # the single local "cluster" a chDB or one-node server has
        # TimeSeries tables of this database
        "timeseriesdata", "timeseriesmetrics", "timeseriestags", "timeseriessamples", "timeseriesselector",
        "timeseriesmetricfamilies",
    }
)  # fmt: skip


class _Sandbox:
    """chDB on a throw-away data directory, readonly off, with a tiny table to read (and not to lose)."""

    def __init__(self) -> None:
        import chdb

        self.dir = Path(tempfile.mkdtemp(prefix="fuzz-sql-guard-"))
        self.outside = self.dir / "cwd"
        self.outside.mkdir()
        os.chdir(self.outside)  # INTO OUTFILE and file() land here: any new file is a write outside
        self.conn = chdb.connect(str(self.dir / "data"))
        self.run("CREATE DATABASE IF NOT EXISTS otel")
        self.run("CREATE TABLE IF NOT EXISTS otel.t (a UInt64, s String) ENGINE = MergeTree ORDER BY a")
        self.run("INSERT INTO otel.t SELECT number, toString(number) FROM numbers(10)")
        self.run(
            "SET readonly = 0, max_execution_time = 2, max_rows_to_read = 1000000, max_result_rows = 1000, "
            "result_overflow_mode = 'break', max_memory_usage = 200000000"
        )
        self.outside_functions = {
            name.lower()
            for name in self.run("SELECT name FROM system.table_functions").decode().split()
            if name.lower() not in LOCAL_TABLE_FUNCTIONS
        }
        self.fingerprint = self.state()

    def run(self, sql: str) -> bytes:
        return self.conn.query(sql, "TabSeparated").bytes()

    def state(self) -> tuple[bytes, tuple[str, ...]]:
        catalog = self.run(
            "SELECT database, name, engine, total_rows FROM system.tables "
            "WHERE database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema') "
            "ORDER BY database, name"
        )
        return catalog + self.run("SELECT name FROM system.databases ORDER BY name"), tuple(
            sorted(p.name for p in self.outside.iterdir())
        )

    def functions_called(self, sql: str) -> set[str] | None:
        """Every function name the parsed query calls (None when the engine cannot parse it)."""
        try:
            ast = self.run(f"EXPLAIN AST {sql}").decode()
        except Exception:
            return None
        names = set()
        for line in ast.splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] == "Function":
                names.add(words[1].lower())
        return names


@cache
def _sandbox() -> _Sandbox:
    return _Sandbox()


def _sql_guard() -> Callable[[bytes], None]:
    from trace_agent.sql_guard import SqlRejected, check_sql, with_limit

    sandbox = _sandbox()

    def one(data: bytes) -> None:
        try:
            sql = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        try:
            checked = check_sql(sql)
        except SqlRejected:
            return
        wrapped = with_limit(sql, 100)
        called = sandbox.functions_called(checked)
        if called is None:
            return  # the engine cannot parse it: it runs nothing
        outside = called & sandbox.outside_functions
        if outside:
            raise Broken(f"the guard accepts a call of {sorted(outside)} (reaches outside): {sql!r:.200}")
        for statement in (checked, wrapped):
            try:
                result = sandbox.conn.query(statement, "TabSeparated")
                written = result.rows_written()
            except Exception:
                written = 0
            if written:
                raise Broken(f"the guard accepts a query that wrote {written} rows: {sql!r:.200}")
            if sandbox.state() != sandbox.fingerprint:
                sandbox.fingerprint = sandbox.state()
                raise Broken(f"the guard accepts a query that changed tables or files: {sql!r:.200}")

    return one


def _sql_guard_seeds() -> list[bytes]:
    from tests.fuzz import seeds

    return seeds.sql_queries()


def _sql_guard_dictionary() -> list[bytes]:
    names = _sandbox().run("SELECT name FROM system.table_functions").decode().split()
    words = [
        "SELECT", "WITH", "SHOW", "DESCRIBE", "EXPLAIN", "INSERT", "INTO", "OUTFILE", "FORMAT", "SETTINGS",
        "FROM", "TABLE", "CREATE", "DROP", "ALTER", "DELETE", "UPDATE", "SYSTEM", "KILL", "OPTIMIZE",
        "TRUNCATE", "RENAME", "ATTACH", "DETACH", "GRANT", "SET", "USE", "EXCHANGE", "UNDROP", "BACKUP",
        "RESTORE", "UNION", "ALL", "WHERE", "AS", "(", ")", ";", "'", "`", '"', "--", "#", "/*", "*/", "\\",
        "otel.t", "(SELECT 1)",
        "PARALLEL", "WITH ", "ARRAY JOIN", "APPLY", "EXCEPT", "REPLACE",
    ]  # fmt: skip
    return [w.encode() for w in words] + [n.encode() for n in names] + [f"`{n}`(".encode() for n in names]


# ---------------------------------------------------------------------------------------------------------

TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "otlp_rows",
            "OTLP JSON documents (the loader's input) → exporter rows, every signal",
            ("otlp_rows",),
            _otlp_rows,
            _otlp_json_seeds,
        ),
        Target(
            "receiver",
            "the OTLP receiver's protobuf and JSON request decoding, screening and conversion",
            ("local_stack.collector", "otlp_rows"),
            _receiver,
            _receiver_seeds,
        ),
        Target(
            "loader_documents",
            "the loader's document sniffing (gzip, JSON, kind) and its route choice (Python or ClickHouse)",
            ("s3_loader", "otlp_rows"),
            _loader_documents,
            _loader_seeds,
        ),
        Target(
            "endpoint_request",
            "the ClickHouse endpoint's request reading: credentials, origin, parameters, settings, "
            "compression, INSERT bodies",
            ("local_stack.clickhouse",),
            _endpoint_request,
            _endpoint_seeds,
            _endpoint_dictionary,
        ),
        Target(
            "sql_guard",
            "the agent's SQL guard, against chDB with readonly off (differential)",
            ("trace_agent.sql_guard",),
            _sql_guard,
            _sql_guard_seeds,
            _sql_guard_dictionary,
        ),
    )
}


def crash_name(data: bytes) -> str:
    return "crash-" + hashlib.sha1(data).hexdigest()[:16]


def as_text(data: bytes) -> str:
    """An input for a report: the text when it is printable UTF-8, else base64."""
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return repr(text)
    except UnicodeDecodeError:
        pass
    return "base64:" + base64.b64encode(data).decode()


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
