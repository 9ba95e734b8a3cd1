"""Redaction of tool results: bearer tokens, passwords and card-like numbers never reach the model."""

from __future__ import annotations

import functools
import re
from typing import Any

REDACTED = "[REDACTED]"
CARD_REDACTED = "[REDACTED-CARD]"

_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*")
_BASIC = re.compile(r"(?i)\b(basic)\s+[A-Za-z0-9+/]{8,}=*")
_SECRET_WORDS = r"(?:password|passwd|pwd|pass|secret|api[_-]?key|access[_-]?key|token|auth|authorization)"
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?<![\w.-])(?P<key>["']?[\w.-]*{_SECRET_WORDS}["']?)
    (?P<sep>\s*[:=]\s*)
    (?!(?:bearer|basic)\s)
    (?P<quote>["'])?
    (?P<value>(?(quote)[^"'\n]+|[^\s,;&"'}}\]]+))
    """
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+):([^\s@/]+)@")
_CARD = re.compile(r"(?<![\w.-])(?:\d[ -]?){12,18}\d(?![\w.-])")
# Cheap pre-checks: most values (service names, ids, routes) hold no secret and skip the patterns above.
_MAYBE_SECRET = re.compile(r"(?i)bearer|basic|://|pass|pwd|secret|key|token|auth")
_MAYBE_CARD = re.compile(r"\d(?:[ -]?\d){12}")
_SECRET_KEY = re.compile(rf"(?i)(?:{_SECRET_WORDS}|cookie|credentials?)$")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_REDACTED if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group()


@functools.lru_cache(maxsize=8192)
def redact_text(text: str) -> str:
    if not text:
        return text
    if _MAYBE_SECRET.search(text):
        text = _redact_secrets(text)
    if _MAYBE_CARD.search(text):
        text = _CARD.sub(_card, text)
    return text


def _redact_secrets(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _BASIC.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)
    text = _KEY_VALUE.sub(
        lambda m: (
            f"{m.group('key')}{m.group('sep')}{m.group('quote') or ''}{REDACTED}"
            if m.group("value") != REDACTED
            else m.group()
        ),
        text,
    )
    return text


def is_secret_key(key: str) -> bool:
    """Attribute names whose whole value is a secret (`http.request.header.authorization`, `db.password`)."""
    return bool(_SECRET_KEY.search(key))


def redact(value: Any) -> Any:
    """Redact every string inside a JSON-like value; a mapping's values under secret-looking keys go whole."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            k: (REDACTED if isinstance(k, str) and is_secret_key(k) and v not in ("", None) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
