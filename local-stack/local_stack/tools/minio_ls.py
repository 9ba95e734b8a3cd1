"""`just minio-ls`: what the collector wrote to the bucket, for whichever stack answers on S3_ENDPOINT_URL.

Prints the newest objects and a summary per signal (traces, logs, metrics): objects, bytes, newest upload.
Uses the s3-loader's read-only credentials (MINIO_LOADER_ACCESS_KEY / MINIO_LOADER_SECRET_KEY) when set,
otherwise AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; the local stack's S3 server accepts any.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from otlp_rows import layout


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    modified: datetime


@dataclass
class SignalSummary:
    objects: int = 0
    bytes: int = 0
    newest: datetime | None = None
    keys: list[str] = field(default_factory=list)


def signal_of(key: str) -> str:
    """The signal the collector's key layout (otlp_rows.layout) names, or "other"."""
    return layout.signal_of(key) or "other"


def summarize(objects: Iterable[S3Object]) -> dict[str, SignalSummary]:
    summary: dict[str, SignalSummary] = {}
    for obj in objects:
        s = summary.setdefault(signal_of(obj.key), SignalSummary())
        s.objects += 1
        s.bytes += obj.size
        if s.newest is None or obj.modified > s.newest:
            s.newest = obj.modified
    return summary


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def format_listing(objects: Sequence[S3Object], limit: int, now: datetime) -> str:
    lines = []
    newest = sorted(objects, key=lambda o: (o.modified, o.key), reverse=True)[:limit]
    if newest:
        lines.append(f"newest {len(newest)} of {len(objects):,} objects:")
        for obj in newest:
            age = (now - obj.modified).total_seconds()
            size = human_bytes(obj.size)
            lines.append(f"  {obj.modified:%Y-%m-%d %H:%M:%S}  {age:>7.0f}s ago  {size:>10}  {obj.key}")
    else:
        lines.append("no objects yet (is the collector exporting? just logs otel-collector)")
    lines.append("")
    lines.append(f"{'signal':<8}  {'objects':>8}  {'bytes':>10}  newest upload")
    for name, s in sorted(summarize(objects).items()):
        newest_text = f"{(now - s.newest).total_seconds():.0f}s ago" if s.newest else "-"
        lines.append(f"{name:<8}  {s.objects:>8,}  {human_bytes(s.bytes):>10}  {newest_text}")
    return "\n".join(lines)


def list_objects(client, bucket: str, prefix: str) -> list[S3Object]:
    objects = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            objects.append(S3Object(item["Key"], int(item["Size"]), item["LastModified"]))
    return objects


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="just minio-ls", description=__doc__.splitlines()[0])
    parser.add_argument("prefix", nargs="?", default=None, help="key prefix (default: S3_PREFIX, `otel`)")
    parser.add_argument("--limit", type=int, default=20, help="newest objects to show (default 20)")
    args = parser.parse_args(argv)

    endpoint = os.environ.get("S3_ENDPOINT_URL", "http://localhost:9002")
    bucket = os.environ.get("S3_BUCKET", "otel-data")
    prefix = args.prefix if args.prefix is not None else os.environ.get("S3_PREFIX", "otel")
    env = os.environ
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=env.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=env.get("MINIO_LOADER_ACCESS_KEY") or env.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=env.get("MINIO_LOADER_SECRET_KEY") or env.get("AWS_SECRET_ACCESS_KEY", "test"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=3),
    )
    try:
        objects = list_objects(client, bucket, prefix)
    except (BotoCoreError, ClientError) as exc:
        print(f"minio-ls: cannot list s3://{bucket}/{prefix} at {endpoint}: {exc}", file=sys.stderr)
        return 1
    print(f"s3://{bucket}/{prefix} at {endpoint}")
    print(format_listing(objects, args.limit, datetime.now(UTC)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
