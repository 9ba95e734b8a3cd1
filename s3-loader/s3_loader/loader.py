"""The loading loop: list the bucket, pick what is due, and load it batch by batch, exactly once.

Exactly-once: each object version (key, etag) is inserted with its own insert_deduplication_token into tables
with non_replicated_deduplication_window, and only then recorded in otel.s3_loader_files. A crash between the
two, or a second loader racing this one, replays the insert, which ClickHouse drops as a duplicate.

Small files (under LOADER_SQL_MIN_BYTES as listed) are loaded in batches instead, because an insert's fixed
cost (a part per table) dwarfs a collector file's few hundred rows: a batch is first claimed in
otel.s3_loader_batches under a (window, seq) token that exactly one loader can write, and its files are then
only ever inserted together, one insert per table under that same token. A file of a claimed batch always goes
with its batch: a replay sends the batch's token again, and ClickHouse drops it if it was inserted.

The parts: listing (what a pass lists), planning (batches and their claims), routes (how a file becomes rows,
in the order tried), warehouse (the inserts), bookkeeping and records (otel.s3_loader_files); this module
runs them, downloading and parsing batch k+1 while batch k is inserted.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from click_common.backoff import QUICK_POLLS_AFTER_WORK, idle_poll_delay

from .bookkeeping import ClickHouseBooks, FileRecord, utcnow
from .bucket import Bucket, S3Object
from .clickhouse_calls import ClickHouseCalls
from .listing import Listings
from .planning import Batch, Planner
from .records import is_due, new_record
from .routes import Document, Gone, Outcome, Routes
from .settings import LoaderSettings
from .warehouse import Warehouse
from .workers import parse_pool

log = logging.getLogger("s3_loader")
Records = dict[tuple[str, str], FileRecord]


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

    def count(self, obj: S3Object, record: FileRecord) -> None:
        self.bytes += obj.size
        if record.status == "loaded":
            self.loaded += 1
            self.spans += record.rows if record.kind == "traces" else 0
            self.logs += record.rows if record.kind == "logs" else 0
        elif record.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1

    def add(self, other: PassResult) -> None:
        for name in ("loaded", "skipped", "failed", "spans", "logs", "bytes", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class Loader:
    def __init__(self, settings: LoaderSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.bucket = Bucket(settings, self.stop)
        self.clickhouse = ClickHouseCalls(settings, self.stop)  # one connection for the two below
        self.warehouse = Warehouse(settings, calls=self.clickhouse)
        self.books = ClickHouseBooks(settings, calls=self.clickhouse)
        self.listings = Listings(settings, self.bucket)
        self.planner = Planner(settings, self.books, self.bucket)
        self._downloads = ThreadPoolExecutor(max(1, settings.download_workers), thread_name_prefix="download")
        self._inserts = ThreadPoolExecutor(max(1, settings.insert_workers), thread_name_prefix="insert")
        self.parsers = parse_pool(settings.parse_workers)
        self.routes = Routes(settings, self.warehouse, self.bucket, self.parsers)

    def close(self) -> None:
        self._downloads.shutdown(wait=False, cancel_futures=True)
        self._inserts.shutdown(wait=False, cancel_futures=True)
        # Waited for: a spawn pool left to the interpreter's exit hooks can race them and print a
        # "Bad file descriptor" traceback on an otherwise clean exit.
        self.parsers.shutdown(wait=True, cancel_futures=True)
        self.clickhouse.close()

    def run_pass(self) -> PassResult:
        """Load everything that is due now; returns the counts (one log line per batch on the way).

        While batch k is inserted, batch k+1 is already downloading and parsing.
        """
        listing = self.listings.due()
        objects = self.listings.objects(listing, utcnow())
        records = self.books.load_records(None if listing == "full" else sorted({o.key for o in objects}))
        now = utcnow()
        due = [o for o in objects if is_due(self.settings, records.get((o.key, o.etag)), now)]
        result = PassResult()
        batches = self.planner.plan(due, {(o.key, o.etag) for o in objects})
        upcoming = self._submit(batches[0]) if batches else []
        for n, batch in enumerate(batches):
            current, upcoming = upcoming, self._submit(batches[n + 1]) if n + 1 < len(batches) else []
            if self.stop.is_set():
                for future in (*current, *upcoming):
                    future.cancel()
                result.pending = sum(len(b.objects) for b in batches[n:])
                break
            later = [o for b in batches[n + 1 :] for o in b.objects]
            result.add(self._load_batch(batch, current, later, records))
        result.failed_now = sorted(
            o.key for o in objects if (r := records.get((o.key, o.etag))) is not None and r.status == "failed"
        )
        return result

    def _submit(self, batch: Batch) -> list[Future[Document | None]]:
        """Choose every object's route and make it ready (download, parse) on the download threads."""
        batched = batch.token is not None
        return [self._downloads.submit(self.routes.document, obj, batched) for obj in batch.objects]

    def _load_batch(
        self, batch: Batch, futures: list[Future[Document | None]], later: list[S3Object], records: Records
    ) -> PassResult:
        started = time.perf_counter()
        counts = PassResult(batches=1)
        if batch.token is not None:
            outcomes = self._load_claimed(batch.objects, batch.token, futures, records)
        else:
            # Files are inserted insert_workers at a time, oldest first; each insert is idempotent on its own,
            # and the batch is recorded once all of them are done.
            pending = [
                self._inserts.submit(self._load_alone, obj, future, records.get((obj.key, obj.etag)))
                for obj, future in zip(batch.objects, futures, strict=True)
            ]
            outcomes = [load.result() for load in pending]
        written: list[FileRecord] = []
        for obj, record in zip(batch.objects, outcomes, strict=True):
            if record is None:  # gone between listing and loading: the next listing shows what is there
                continue
            records[(obj.key, obj.etag)] = record
            written.append(record)
            counts.count(obj, record)
        self.books.record(written)
        seconds = time.perf_counter() - started
        failed = [o for o in batch.objects if (r := records.get((o.key, o.etag))) and r.status == "failed"]
        waiting = [*later, *failed]
        lag = (utcnow() - min(o.last_modified for o in waiting)).total_seconds() if waiting else 0.0
        log.info(
            "batch: %d files (%d loaded, %d skipped, %d failed), %d spans, %d logs, %.1f MB, %.2f s, "
            "%.0f spans/s, lag %.1f s",
            len(written), counts.loaded, counts.skipped, counts.failed, counts.spans, counts.logs,
            counts.bytes / 1e6, seconds, counts.spans / seconds if seconds > 0 else 0.0, lag,
        )  # fmt: skip
        return counts

    def _record(
        self, obj: S3Object, outcome: Outcome, previous: FileRecord | None, started: datetime
    ) -> FileRecord | None:
        if isinstance(outcome, Gone):
            return None
        return new_record(self.settings, obj, outcome, previous, started, utcnow())

    def _load_alone(
        self, obj: S3Object, future: Future[Document | None], previous: FileRecord | None
    ) -> FileRecord | None:
        doc = future.result()
        started = utcnow()
        outcome = self.routes.load(doc, self.warehouse.token(obj.key, obj.etag))
        return self._record(obj, outcome, previous, started)

    def _load_claimed(
        self, objs: list[S3Object], token: str, futures: list[Future[Document | None]], records: Records
    ) -> list[FileRecord | None]:
        docs = [future.result() for future in futures]
        started = utcnow()
        outcomes = self.routes.load_together(docs, token)
        return [
            self._record(obj, outcome, records.get((obj.key, obj.etag)), started)
            for obj, outcome in zip(objs, outcomes, strict=True)
        ]

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
            delay = idle_poll_delay(idle, s.min_poll_interval, s.poll_interval, QUICK_POLLS_AFTER_WORK)
            self.stop.wait(delay)
