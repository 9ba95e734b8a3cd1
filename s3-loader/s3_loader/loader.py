"""The loading loop: list the bucket, pick what is due, and load it batch by batch, exactly once.

Exactly-once: each object version (key, etag) is inserted with its own insert_deduplication_token into tables
with non_replicated_deduplication_window, and only then recorded in otel.s3_loader_files. A crash between the
two, or a second loader racing this one, replays the insert, which ClickHouse drops as a duplicate.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime

from click_common.backoff import Stopped, idle_poll_delay

from .bookkeeping import ClickHouseBooks, FileRecord, utcnow
from .bucket import Bucket, ObjectVanished, S3Object
from .documents import Prepared, otlp_route, prepare
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")


@dataclass
class PassResult:
    loaded: int = 0
    failed: int = 0
    skipped: int = 0
    spans: int = 0
    logs: int = 0
    bytes: int = 0
    batches: int = 0
    failed_now: list[str] = field(default_factory=list)  # keys whose newest state is failed
    pending: int = 0  # due files not processed (stopped early)


class _NoRecord:
    status = ""


_NONE = _NoRecord()


class _InlineExecutor(Executor):
    """parse_workers = 0: parse in the loader process itself."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class Loader:
    def __init__(
        self, settings: LoaderSettings, bucket: Bucket | None = None, books: ClickHouseBooks | None = None
    ) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.bucket = bucket or Bucket(settings, self.stop)
        self.books = books or ClickHouseBooks(settings, self.stop)
        self._downloads = ThreadPoolExecutor(max(1, settings.download_workers), thread_name_prefix="download")
        self._inserts = ThreadPoolExecutor(max(1, settings.insert_workers), thread_name_prefix="insert")
        self._parsers: Executor = (
            ProcessPoolExecutor(settings.parse_workers, mp_context=multiprocessing.get_context("spawn"))
            if settings.parse_workers > 0
            else _InlineExecutor()
        )

    def close(self) -> None:
        self._downloads.shutdown(wait=False, cancel_futures=True)
        self._inserts.shutdown(wait=False, cancel_futures=True)
        # Waited for: a spawn pool left to the interpreter's exit hooks can race them and print a
        # "Bad file descriptor" traceback on an otherwise clean exit.
        self._parsers.shutdown(wait=True, cancel_futures=True)
        self.books.close()

    # ------------------------------------------------------------------------------------------------------

    def retry_delay(self, attempts: int) -> float:
        return self.settings.retry_backoff * 2 ** max(0, attempts - 1)

    def is_due(self, record: FileRecord | None, now: datetime) -> bool:
        if record is None:
            return True
        if record.status != "failed" or record.attempts >= self.settings.max_attempts:
            return False
        return (now - record.updated_at).total_seconds() >= self.retry_delay(record.attempts)

    def run_pass(self) -> PassResult:
        """Load everything that is due now; returns the counts (one log line per batch on the way).

        While batch k is inserted, batch k+1 is already downloading and parsing.
        """
        objects = self.bucket.list_objects()
        records = self.books.load_records()
        now = utcnow()
        due = [o for o in objects if self.is_due(records.get((o.key, o.etag)), now)]
        result = PassResult()
        size = max(1, self.settings.batch_files)
        batches = [due[start : start + size] for start in range(0, len(due), size)]
        upcoming = self._submit(batches[0]) if batches else []
        for n, batch in enumerate(batches):
            current, upcoming = upcoming, self._submit(batches[n + 1]) if n + 1 < len(batches) else []
            if self.stop.is_set():
                for future in (*current, *upcoming):
                    future.cancel()
                result.pending = sum(len(b) for b in batches[n:])
                break
            later = [o for b in batches[n + 1 :] for o in b]
            self._load_batch(batch, current, later, records, result)
        result.failed_now = sorted(
            o.key for o in objects if (r := records.get((o.key, o.etag))) is not None and r.status == "failed"
        )
        return result

    def _submit(self, batch: list[S3Object]) -> list[Future]:
        """Start downloading and parsing every object of the batch (metrics files are not downloaded)."""
        futures: list[Future] = []
        for obj in batch:
            if obj.is_metrics:
                done: Future = Future()
                done.set_result(Prepared("metrics"))
                futures.append(done)
            else:
                futures.append(self._downloads.submit(self._fetch_and_prepare, obj))
        return futures

    def _fetch_and_prepare(self, obj: S3Object) -> Prepared | None:
        try:
            body = self.bucket.download(obj)
        except ObjectVanished:
            log.warning("object vanished before download: %s", obj.key)
            return None
        return (
            otlp_route(obj.key, body, self.settings.sql_min_bytes)
            or self._parsers.submit(prepare, obj.key, body).result()
        )

    def _load_batch(
        self,
        batch: list[S3Object],
        futures: list[Future],
        later: list[S3Object],
        records: dict[tuple[str, str], FileRecord],
        result: PassResult,
    ) -> None:
        started = time.perf_counter()
        counts = PassResult()
        written: list[FileRecord] = []
        # Files are inserted insert_workers at a time, oldest first; each insert is idempotent on its own,
        # and the batch is recorded once all of them are done.
        loads = [
            self._inserts.submit(self._load_prepared, obj, future, records.get((obj.key, obj.etag)))
            for obj, future in zip(batch, futures, strict=True)
        ]
        for obj, load in zip(batch, loads, strict=True):
            record = load.result()
            if record is None:  # vanished between listing and download
                continue
            records[(obj.key, obj.etag)] = record
            written.append(record)
            counts.bytes += obj.size
            if record.status == "loaded":
                counts.loaded += 1
                counts.spans += record.rows if record.kind == "traces" else 0
                counts.logs += record.rows if record.kind == "logs" else 0
            elif record.status == "skipped":
                counts.skipped += 1
            else:
                counts.failed += 1
        self.books.record(written)
        seconds = time.perf_counter() - started
        pending = [*later, *(o for o in batch if records.get((o.key, o.etag), _NONE).status == "failed")]
        lag = (utcnow() - min(o.last_modified for o in pending)).total_seconds() if pending else 0.0
        log.info(
            "batch: %d files (%d loaded, %d skipped, %d failed), %d spans, %d logs, %.1f MB, %.2f s, "
            "%.0f spans/s, lag %.1f s",
            len(written), counts.loaded, counts.skipped, counts.failed, counts.spans, counts.logs,
            counts.bytes / 1e6, seconds, counts.spans / seconds if seconds > 0 else 0.0, lag,
        )  # fmt: skip
        result.loaded += counts.loaded
        result.skipped += counts.skipped
        result.failed += counts.failed
        result.spans += counts.spans
        result.logs += counts.logs
        result.bytes += counts.bytes
        result.batches += 1

    def _load_prepared(self, obj: S3Object, future: Future, previous: FileRecord | None) -> FileRecord | None:
        prepared = future.result()
        return None if prepared is None else self._load_one(obj, prepared, previous)

    def _load_one(self, obj: S3Object, prepared: Prepared, previous: FileRecord | None) -> FileRecord:
        now = utcnow()
        attempts = (previous.attempts if previous else 0) + 1
        base = FileRecord(
            key=obj.key,
            etag=obj.etag,
            size=obj.size,
            last_modified=obj.last_modified,
            kind=prepared.kind,
            status="loaded",
            rows=prepared.rows,
            error="",
            attempts=attempts,
            first_seen=previous.first_seen if previous else now,
            loaded_at=now,
            updated_at=now,
        )
        if prepared.error:
            return self._failed(base, prepared.error)
        if prepared.kind == "metrics":
            return replace(base, status="skipped", rows=0)
        token = self.books.token(obj.key, obj.etag)
        if prepared.route == "otlp":
            if self._insert_otlp(obj, token, prepared):
                return replace(base, updated_at=utcnow())
            # ClickHouse refused it: otlp_rows decides, and says why when the document is bad.
            prepared = self._parsers.submit(prepare, obj.key, prepared.payload).result()
            base = replace(base, kind=prepared.kind, rows=prepared.rows)
            if prepared.error:
                return self._failed(base, prepared.error)
        if prepared.rows:
            try:
                self.books.insert_file(prepared.kind, token, prepared.payload)
            except Stopped:
                raise
            except Exception as exc:  # ClickHouse refused the data itself (outages are retried inside)
                return self._failed(base, f"insert failed: {' '.join(str(exc).split())[:400]}")
        return replace(base, updated_at=utcnow())

    def _insert_otlp(self, obj: S3Object, token: str, prepared: Prepared) -> bool:
        """True when ClickHouse converted and wrote every span of the document.

        A bad span aborts the view's insert: the server answers with an error, or (chDB's streaming insert)
        reports only the document's own row written. Either way nothing of the document was written."""
        try:
            written = self.books.insert_otlp(token, prepared.payload)
        except Stopped:
            raise
        except Exception as exc:
            log.info(
                "ClickHouse did not convert %s (%s): using otlp_rows",
                obj.key,
                " ".join(str(exc).split())[:200],
            )
            return False
        if written < 1 + prepared.rows:
            spans = max(0, written - 1)
            log.info("ClickHouse wrote %d of %d spans of %s: using otlp_rows", spans, prepared.rows, obj.key)
            return False
        return True

    def _failed(self, base: FileRecord, error: str) -> FileRecord:
        left = self.settings.max_attempts - base.attempts
        retry = f"retry in {self.retry_delay(base.attempts):.0f}s" if left > 0 else "no retries left"
        attempt = f"attempt {base.attempts}/{self.settings.max_attempts}"
        log.error("failed %s (%s, %s): %s", base.key, attempt, retry, error)
        return replace(base, kind=base.kind if base.kind != "invalid" else "", status="failed", rows=0,
                       error=error, loaded_at=None)  # fmt: skip

    # ------------------------------------------------------------------------------------------------------

    def run_forever(self) -> None:
        """Pass after pass: right away while there is work, then a short poll that backs off while idle."""
        idle = 0
        while not self.stop.is_set():
            result = self.run_pass()
            if result.batches:
                idle = 0
                continue
            idle += 1
            s = self.settings
            self.stop.wait(idle_poll_delay(idle, s.min_poll_interval, s.poll_interval))
