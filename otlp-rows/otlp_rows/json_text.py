"""OTLP JSON text as the collector writes it, before parsing."""

from __future__ import annotations

import re

# pdata writes the double -0.0 as the JSON number `-0`, which orjson reads as the integer 0: the sign the
# exporter keeps ("-0") would be lost. Such a token (a value: after `:`, `,` or `[`) is rewritten to -0.0
# before parsing, outside strings only; the scan for strings runs only when the cheap search finds one.
_NEGATIVE_ZERO = re.compile(rb"[:,\[]\s*-0(?![0-9.eE])")
_STRING_OR_NEGATIVE_ZERO = re.compile(rb'"(?:[^"\\]|\\.)*"|(?<=[:,\[])(\s*)-0(?![0-9.eE])')


def keep_negative_zero(body: bytes) -> bytes:
    """`body` with each JSON number `-0` written as `-0.0`, so that a parser keeps its sign."""
    if not _NEGATIVE_ZERO.search(body):
        return body
    return _STRING_OR_NEGATIVE_ZERO.sub(lambda m: m[0] if m[0][:1] == b'"' else m[1] + b"-0.0", body)
