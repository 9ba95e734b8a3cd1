"""One S3 object's bytes → what to insert: decode (gzip by suffix or magic), parse, convert, encode.

Runs in the parse worker processes, so it is pure and returns plain data. The insert body is
JSONCompactEachRow (rows separated by commas): DateTime64(9) values are written as zero-padded decimal Unix
seconds (`0001700000.123456789`), which ClickHouse reads exactly, whatever the server's time zone.
"""

from __future__ import annotations

import gc
import gzip
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from click_common.text import one_line
from otlp_rows import SIGNALS, DuplicateKeys, OTLPFormatError, keep_negative_zero, log_rows, trace_rows
from otlp_rows.layout import GZIP_SUFFIX

GZIP_MAGIC = b"\x1f\x8b"

LOADED = ("traces", "logs")  # the signals the loader inserts; metrics documents are recognised and skipped


def _one_table(kind: str) -> tuple[str, tuple[str, ...]]:
    ((table, columns),) = SIGNALS[kind].tables.items()
    return table, columns


# kind → (table name, insert columns), from otlp_rows' registry
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {kind: _one_table(kind) for kind in LOADED}
# a document's top key (resourceSpans, …) → its kind
_TOP_KEYS = {signal.keys[0]: signal.name for signal in SIGNALS.values()}


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document as otlp_rows converts it. kind: traces | logs | metrics | empty | invalid; error set when
    the object is bad; payload: JSONCompactEachRow for the kind's table."""

    kind: str
    rows: int = 0
    payload: bytes = b""
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlainTraces:
    """A traces document ClickHouse's SQL conversion takes (the schema's otel.s3_loader_otlp_traces_mv):
    the document (decompressed) and its spans, counted by their keys."""

    document: bytes
    spans: int


# Documents holding any of these go through otlp_rows: values the SQL conversion does not cover (arrays,
# kvlists, bytes, NaN/Infinity), other signals, escapes that could hide a key, and non-compact JSON (pretty
# printing or several documents per object), where counting spans by their keys would not be exact.
_NOT_FOR_SQL = (
    b'"arrayValue"', b'"kvlistValue"', b'"bytesValue"', b'"NaN"', b"Infinity", b'"resourceLogs"',
    b'"resourceMetrics"', b"\\u", b'": ', b'" :', b"\n",
)  # fmt: skip
_SPAN_KEY = b'"startTimeUnixNano":'


def plain_traces(body: bytes, min_bytes: int = 0) -> PlainTraces | None:
    """A plain collector traces document of at least min_bytes (uncompressed), or None when it needs
    otlp_rows. Scans bytes only: no parsing here. ClickHouse's conversion has a fixed cost per document that
    only pays on large ones: on a collector's 200-span file (160 kB) it is the slower route."""
    if body[:2] == GZIP_MAGIC:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            return None  # prepare() reports it
    body = body.strip()
    if (
        len(body) < min_bytes
        or not body.startswith(b'{"resourceSpans":')
        or any(marker in body for marker in _NOT_FOR_SQL)
    ):
        return None
    return PlainTraces(body, body.count(_SPAN_KEY))


@contextmanager
def gc_paused() -> Iterator[None]:
    """orjson and the row builder allocate millions of acyclic objects: the cyclic GC only slows them down
    (2–3× on a 14 MB document)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def decode(key: str, body: bytes) -> Any:
    """A zero-byte object is an empty document, like `{}`."""
    if not body:
        return {}
    if body[:2] == GZIP_MAGIC:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise OTLPFormatError(f"bad gzip: {exc}") from None
    elif key.endswith(GZIP_SUFFIX):
        raise OTLPFormatError("named .gz but the content is not gzip")
    try:
        return orjson.loads(keep_negative_zero(body))
    except orjson.JSONDecodeError as exc:
        raise OTLPFormatError(f"malformed JSON: {exc}") from None


def document_kind(doc: Any) -> str:
    if type(doc) is not dict:
        raise OTLPFormatError(f"document must be a JSON object, got {type(doc).__name__}")
    kinds = [kind for key, kind in _TOP_KEYS.items() if key in doc]
    if len(kinds) > 1:
        raise OTLPFormatError(f"document mixes {' and '.join(k for k in _TOP_KEYS if k in doc)}")
    return kinds[0] if kinds else "empty"


def _ts(ns: int) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    return f"{seconds:010d}.{frac:09d}"


def encode_trace_rows(rows: list[list]) -> bytes:
    for row in rows:
        row[0] = _ts(row[0])
        if row[15]:
            row[15] = [_ts(t) for t in row[15]]
    return _compact_rows(rows)


def encode_log_rows(rows: list[list]) -> bytes:
    for row in rows:
        row[0] = _ts(row[0])
    return _compact_rows(rows)


def _json_default(value: Any) -> orjson.Fragment:
    if isinstance(value, DuplicateKeys):  # a JSON object with a repeated key: ClickHouse keeps every entry
        return orjson.Fragment(
            b"{" + b",".join(orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in value.pairs) + b"}"
        )
    raise TypeError(f"cannot encode {type(value).__name__}")


def _compact_rows(rows: list[list]) -> bytes:
    """JSONCompactEachRow accepts `[..],[..]`: one orjson call for the whole body minus the outer brackets."""
    return orjson.dumps(rows, default=_json_default)[1:-1]


def prepare(key: str, body: bytes) -> Prepared:
    """Never raises for bad input: a bad object comes back with `error` set (one line)."""
    try:
        with gc_paused():
            doc = decode(key, body)
            kind = document_kind(doc)
            if kind == "traces":
                rows = trace_rows(doc)
                return Prepared(kind, len(rows), encode_trace_rows(rows) if rows else b"")
            if kind == "logs":
                rows = log_rows(doc)
                return Prepared(kind, len(rows), encode_log_rows(rows) if rows else b"")
            return Prepared(kind)
    except OTLPFormatError as exc:
        return Prepared("invalid", error=one_line(str(exc)))
    except Exception as exc:  # a bug must not stop the loader: the file fails with the reason
        return Prepared("invalid", error=one_line(f"internal error: {type(exc).__name__}: {exc}"))
