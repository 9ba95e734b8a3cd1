"""A file's row in otel.s3_loader_files: whether it is due, and its new row once a route answered (pure but
for the one log line of a failure)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from .bookkeeping import FileRecord
from .bucket import S3Object
from .routes import Failed, Loaded, Skipped
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")


def retry_delay(settings: LoaderSettings, attempts: int) -> float:
    return settings.retry_backoff * 2 ** max(0, attempts - 1)


def is_due(settings: LoaderSettings, record: FileRecord | None, now: datetime) -> bool:
    if record is None:
        return True
    if record.status != "failed" or record.attempts >= settings.max_attempts:
        return False
    return (now - record.updated_at).total_seconds() >= retry_delay(settings, record.attempts)


def new_record(
    settings: LoaderSettings,
    obj: S3Object,
    outcome: Loaded | Skipped | Failed,
    previous: FileRecord | None,
    started: datetime,
    now: datetime,
) -> FileRecord:
    """The file's row after this attempt, tried from `started` and answered at `now` (a failure logs one
    line: which attempt, and when the next)."""
    attempts = (previous.attempts if previous else 0) + 1
    record = FileRecord(
        key=obj.key,
        etag=obj.etag,
        size=obj.size,
        last_modified=obj.last_modified,
        kind=outcome.kind,
        status="loaded",
        rows=outcome.rows if isinstance(outcome, Loaded) else 0,
        error="",
        attempts=attempts,
        first_seen=previous.first_seen if previous else started,
        loaded_at=started,
        updated_at=now if isinstance(outcome, Loaded) else started,
    )
    if isinstance(outcome, Skipped):
        return replace(record, status="skipped")
    if isinstance(outcome, Failed):
        left = settings.max_attempts - attempts
        retry = f"retry in {retry_delay(settings, attempts):.0f}s" if left > 0 else "no retries left"
        log.error("failed %s (attempt %d/%d, %s): %s", obj.key, attempts, settings.max_attempts, retry,
                  outcome.error)  # fmt: skip
        kind = outcome.kind if outcome.kind != "invalid" else ""
        return replace(record, kind=kind, status="failed", error=outcome.error, loaded_at=None)
    return record
