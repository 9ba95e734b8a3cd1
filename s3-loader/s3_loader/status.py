"""`just loader-status`: what the loader has done with every object under the prefix."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from .bookkeeping import ClickHouseBooks, FileRecord, utcnow
from .bucket import Bucket, S3Object
from .settings import LoaderSettings


def status_report(
    objects: list[S3Object], records: dict[tuple[str, str], FileRecord], max_attempts: int, now: datetime
) -> str:
    counts: Counter[str] = Counter()
    rows: Counter[str] = Counter()
    failed: list[FileRecord] = []
    pending: list[S3Object] = []
    for obj in objects:
        record = records.get((obj.key, obj.etag))
        if record is None:
            counts["pending"] += 1
            pending.append(obj)
            continue
        counts[record.status] += 1
        if record.status == "loaded":
            rows[record.kind] += record.rows
        elif record.status == "failed":
            failed.append(record)
    lines = [
        f"loaded   {counts['loaded']:>8} files  {rows['traces']:>10} spans  {rows['logs']:>10} logs",
        f"skipped  {counts['skipped']:>8} files  (metrics)",
        f"failed   {counts['failed']:>8} files",
        f"pending  {counts['pending']:>8} files"
        + (f"  (oldest {(now - pending[0].last_modified).total_seconds():.0f} s old)" if pending else ""),
    ]
    if failed:
        lines.append("failed files (attempts, last error):")
        for record in sorted(failed, key=lambda r: r.key):
            retry = "will retry" if record.attempts < max_attempts else "gave up"
            lines.append(f"  {record.key}  {record.attempts}/{max_attempts} {retry}: {record.error}")
    return "\n".join(lines)


def show_status(settings: LoaderSettings) -> str:
    books = ClickHouseBooks(settings)
    try:
        books.check_tables()
        objects = Bucket(settings).list_objects()
        header = f"s3-loader: s3://{settings.s3_bucket}/{settings.list_prefix} ({len(objects)} objects)"
        return header + "\n" + status_report(objects, books.load_records(), settings.max_attempts, utcnow())
    finally:
        books.close()
