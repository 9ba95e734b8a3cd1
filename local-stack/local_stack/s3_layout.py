"""The awss3exporter's object keys and bodies (pure): where a batch lands in the bucket and what it holds."""

from __future__ import annotations

import gzip
import random
from datetime import datetime

import orjson

DEFAULT_PARTITION_FORMAT = "year=%Y/month=%m/day=%d/hour=%H/minute=%M"


def object_key(
    prefix: str,
    signal: str,
    uploaded_at: datetime,
    unique: int,
    compressed: bool,
    partition_format: str = DEFAULT_PARTITION_FORMAT,
    file_prefix: str = "",
) -> str:
    """`[prefix/]<strftime(partition)>/<file_prefix><signal>_<9 digits>.json[.gz]`; the partition is the
    upload time, not the data's."""
    parts = [p for p in (prefix.strip("/"), uploaded_at.strftime(partition_format).strip("/")) if p]
    name = f"{file_prefix}{signal}_{unique:09d}.json" + (".gz" if compressed else "")
    return "/".join([*parts, name])


def random_unique(rng: random.Random | None = None) -> int:
    """The exporter's default unique key: 100000000 + rand(899999999), always 9 digits."""
    return (rng or random).randrange(100_000_000, 999_999_999)


def object_body(document: dict, compressed: bool) -> bytes:
    """One compact JSON document (not NDJSON), gzip-compressed when the exporter's compression is gzip."""
    body = orjson.dumps(document)
    return gzip.compress(body, compresslevel=6) if compressed else body
