"""Span → text, a pure function. Like spans give like texts: no ids, no exact timestamps or durations,
only what carries meaning (service, operation, outcome, HTTP/DB/RPC/messaging facts, exceptions and a
duration bucket). Any input is sanitised into readable text; nothing here raises on odd data."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus

MAX_VALUE_CHARS = 160  # one attribute value or message
MAX_TEXT_CHARS = 1200  # the whole text, before the model's own (token) limit is applied

# (label, keys in order of preference: stable semantic conventions first, then the older names)
ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("method", ("http.request.method", "http.method")),
    ("route", ("http.route", "url.template")),
    ("status code", ("http.response.status_code", "http.status_code")),
    ("peer", ("peer.service", "server.address")),
    ("db", ("db.system.name", "db.system")),
    ("db operation", ("db.operation.name", "db.operation")),
    ("db collection", ("db.collection.name", "db.sql.table", "db.mongodb.collection")),
    ("db status", ("db.response.status_code",)),
    ("rpc", ("rpc.system",)),
    ("rpc method", ("rpc.method",)),
    ("rpc service", ("rpc.service",)),
    ("grpc status", ("rpc.grpc.status_code",)),
    ("messaging", ("messaging.system",)),
    ("messaging operation", ("messaging.operation.name", "messaging.operation", "messaging.operation.type")),
    ("destination", ("messaging.destination.name",)),
    ("error type", ("error.type",)),
)
EXCEPTION_KEYS = ("exception.type", "exception.message")

# upper bounds in nanoseconds, and the bucket's words
DURATION_BUCKETS: tuple[tuple[float, str], ...] = (
    (10e6, "very fast: under 10 ms"),
    (100e6, "fast: 10–100 ms"),
    (500e6, "normal: 100–500 ms"),
    (2e9, "slow: 0.5–2 s"),
    (5e9, "slow: 2–5 s"),
    (30e9, "very slow: 5–30 s"),
    (float("inf"), "stuck: over 30 s"),
)

KINDS = {
    "Server": "server",
    "Client": "client",
    "Internal": "internal",
    "Producer": "producer",
    "Consumer": "consumer",
}

# ids in attribute values: timestamps, uuids, long hex, long numbers (short numbers such as 409 carry meaning)
_IDS = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b"
    r"|\d{4,}(?:\.\d+)?"
)
# in free text (status and exception messages) every word with a digit is a value or an id: SKUs, sizes,
# amounts, timings, counters, attempt numbers
_DIGIT_WORD = re.compile(r"[\w.:/+-]*\d[\w.:/+-]*")
_NUMBER = re.compile(r"[+-]?[\d.,:/]*\d(?:ms|s|m|h|%)?")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SpanFields:
    """What span_text reads from one otel.otel_traces row."""

    service: str = ""
    name: str = ""
    kind: str = ""
    status_code: str = ""
    status_message: str = ""
    duration_ns: int = 0
    attributes: Mapping[str, str] = field(default_factory=dict)
    # (event name, event attributes) of the span's events
    events: Sequence[tuple[str, Mapping[str, str]]] = ()


def clean(value: object, limit: int = MAX_VALUE_CHARS, mask: str = "ids") -> str:
    """Any value → one line of printable text: odd bytes replaced, control characters and runs of
    whitespace turned into one space, cut at `limit` characters. `mask`: "ids" masks ids and long numbers
    (attribute values), "words" every word with a digit (messages), "none" nothing (names)."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit * 4:  # huge values: don't scan megabytes for a 160-character result
        text = text[: limit * 4]
    return _clean(text, limit, mask)


@lru_cache(maxsize=65536)  # the same values (methods, routes, codes, messages) come back span after span
def _clean(text: str, limit: int, mask: str) -> str:
    if not text.isprintable():
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    if mask == "ids":
        text = _IDS.sub(_mask_id, text)
    elif mask == "words":
        text = _DIGIT_WORD.sub(_mask_word, text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _mask_id(match: re.Match[str]) -> str:
    return "<time>" if ":" in match.group(0) else "<id>" if not match.group(0)[0].isdigit() else "<n>"


def _mask_word(match: re.Match[str]) -> str:
    word = match.group(0)
    tail = word[len(word.rstrip(".:,")) :]
    return ("<n>" if _NUMBER.fullmatch(word.rstrip(".:,")) else "<id>") + tail


def duration_bucket(duration_ns: int) -> str:
    for upper, words in DURATION_BUCKETS:
        if duration_ns < upper:
            return words
    return DURATION_BUCKETS[-1][1]


def _status_code_words(value: str) -> str:
    try:
        return f"{value} {HTTPStatus(int(value)).phrase}"
    except ValueError:
        return value


def _first(attributes: Mapping[str, str], keys: Iterable[str]) -> str:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return ""


def attribute_parts(
    attributes: Mapping[str, str], extra_keys: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[str]:
    """The meaningful attributes as "label value"; a value already said (in `skip`: the span's name, its
    service) is left out to keep the text short — the model's time grows with every token."""
    parts = []
    for label, keys in ATTRIBUTES:
        raw = _first(attributes, keys)
        if not raw:
            continue
        value = clean(raw)
        if label == "status code":
            value = _status_code_words(value)
        elif label in ("method", "route", "peer") and any(value in said for said in skip):
            continue
        if value:
            parts.append(f"{label} {value}")
    for key in extra_keys:
        value = clean(attributes.get(key, ""))
        if value:
            parts.append(f"{clean(key, 60, mask='none')} {value}")
    return parts


def exception_parts(events: Sequence[tuple[str, Mapping[str, str]]], said: str = "") -> list[str]:
    """Exception events as "exception Type: message" (the message left out when the status said it)."""
    parts: list[str] = []
    for name, attributes in events:
        if clean(name, 40, mask="none").lower() != "exception":
            continue
        # the class name says it; its module path only adds tokens (a.b.SoldOut → SoldOut)
        kind = clean(attributes.get(EXCEPTION_KEYS[0], ""), 80, mask="none").rsplit(".", 1)[-1]
        message = clean(attributes.get(EXCEPTION_KEYS[1], ""), mask="words")
        if message and message in said:
            message = ""
        words = ": ".join(p for p in (kind, message) if p)
        if words and f"exception {words}" not in parts:
            parts.append(f"exception {words}")
    return parts[:3]


def span_text(span: SpanFields, extra_keys: Sequence[str] = ()) -> str:
    service = clean(span.service, 80) or "unknown service"
    name = clean(span.name, 120) or "unnamed span"
    kind = KINDS.get(clean(span.kind, 20, mask="none"), "")
    failed = clean(span.status_code, 20, mask="none").lower() == "error"
    message = clean(span.status_message, mask="words")

    head = f"{service}: {kind + ' span ' if kind else ''}{name}"
    status = "error" if failed else "ok"
    if message:
        status += f": {message}"
    parts = [
        head,
        status,
        *attribute_parts(span.attributes, extra_keys, skip=(name, service)),
        *exception_parts(span.events, said=message),
    ]
    parts.append(duration_bucket(max(int(span.duration_ns or 0), 0)))
    text = "; ".join(parts)
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1].rstrip() + "…"
    return text
