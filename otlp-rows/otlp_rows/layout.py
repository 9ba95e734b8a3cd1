"""Where the collector's awss3exporter puts a batch in the bucket: the one statement of the S3 object layout,
read by the collector stand-in (which writes it) and the S3 loader (which lists and reads it).

`[<s3_prefix>/]<strftime(s3_partition_format), UTC upload time>/<file_prefix><signal>_<unique>.json[.gz]`

config/otel-collector-config.yaml sets the real collector's s3uploader to the same values (a test compares
them): `s3_partition_format: PARTITION_FORMAT`, no `file_prefix`, no `compression` (the exporter's default,
"none"); `unique` is a uuidv7 there (`unique_key_func_name`), 9 random digits by the exporter's default.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

Compression = Literal["none", "gzip"]  # s3uploader.compression

PARTITION_FORMAT = "year=%Y/month=%m/day=%d/hour=%H/minute=%M"  # s3uploader.s3_partition_format
FILE_PREFIX = ""  # s3uploader.file_prefix (not set in the config)
COMPRESSION: Compression = "none"  # s3uploader.compression (not set in the config)
JSON_SUFFIX = ".json"  # marshaler otlp_json
GZIP_SUFFIX = ".gz"  # appended when compression is gzip
FILE_SIGNALS = ("traces", "logs", "metrics")  # the signal words a file name starts with (after file_prefix)

# <file_prefix><signal>_<unique>: the signal is the word before the last name's `_<unique>`
_SIGNAL_IN_NAME = re.compile(rf"({'|'.join(FILE_SIGNALS)})_[^/]*$")


def partition_prefix(prefix: str, uploaded_at: datetime, partition_format: str = PARTITION_FORMAT) -> str:
    """The "directory" of the objects uploaded at this time: `[prefix/]<partition>/` (the listing prefix of a
    partition; "" when both are empty)."""
    parts = [p for p in (prefix.strip("/"), uploaded_at.strftime(partition_format).strip("/")) if p]
    return "".join(f"{p}/" for p in parts)


def object_name(signal: str, unique: int | str, compressed: bool, file_prefix: str = FILE_PREFIX) -> str:
    """`<file_prefix><signal>_<unique>.json[.gz]`; an int `unique` is the exporter's default 9 digits."""
    unique_text = unique if isinstance(unique, str) else f"{unique:09d}"
    return f"{file_prefix}{signal}_{unique_text}{JSON_SUFFIX}" + (GZIP_SUFFIX if compressed else "")


def object_key(
    prefix: str,
    signal: str,
    uploaded_at: datetime,
    unique: int | str,
    compressed: bool,
    partition_format: str = PARTITION_FORMAT,
    file_prefix: str = FILE_PREFIX,
) -> str:
    """The whole key of a batch uploaded at `uploaded_at`."""
    name = object_name(signal, unique, compressed, file_prefix)
    return partition_prefix(prefix, uploaded_at, partition_format) + name


def names_signal(key: str, signal: str) -> bool:
    """Whether the key's file name says this signal (`<anything><signal>_…`: any file_prefix)."""
    return f"{signal}_" in key.rsplit("/", 1)[-1]


def signal_of(key: str) -> str | None:
    """The signal a key's file name says (traces | logs | metrics), None for another name."""
    match = _SIGNAL_IN_NAME.search(key)
    return match.group(1) if match else None
