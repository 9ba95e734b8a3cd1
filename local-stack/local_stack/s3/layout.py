"""The awss3exporter's object bodies and unique keys (pure); where a batch lands in the bucket is
otlp_rows.layout, which the S3 loader reads too."""

from __future__ import annotations

import gzip
import os
import threading
import time

import orjson

UUIDV7_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


_last_v7 = 0
_v7_lock = threading.Lock()


def uuidv7() -> str:
    """`unique_key_func_name: uuidv7`: an RFC 9562 version-7 UUID (48-bit Unix milliseconds, then 12 bits of
    sub-millisecond time), strictly increasing within the process, so keys list in upload order."""
    global _last_v7
    now = time.time_ns()
    stamp = (now // 1_000_000) << 12 | (now % 1_000_000) * 4096 // 1_000_000
    with _v7_lock:
        stamp = _last_v7 = max(stamp, _last_v7 + 1)
    tail = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1) | (0b10 << 62)
    value = (stamp >> 12) << 80 | 0x7 << 76 | (stamp & 0xFFF) << 64 | tail
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def object_body(document: dict, compressed: bool) -> bytes:
    """One compact JSON document (not NDJSON), gzip-compressed when the exporter's compression is gzip."""
    body = orjson.dumps(document)
    return gzip.compress(body, compresslevel=6) if compressed else body
