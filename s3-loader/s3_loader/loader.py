"""The loading loop: list the bucket, pick what is due, and load it batch by batch, exactly once.

Exactly-once: each object version (key, etag) is inserted with its own insert_deduplication_token into tables
with non_replicated_deduplication_window, and only then recorded in otel.s3_loader_files. A crash between the
two, or a second loader racing this one, replays the insert, which ClickHouse drops as a duplicate.

Small files (under LOADER_SQL_MIN_BYTES as listed) are loaded in batches instead, because an insert's fixed
cost (a part per table) dwarfs a collector file's few hundred rows: a batch is first claimed in
otel.s3_loader_batches under a (window, seq) token that exactly one loader can write, and its files are then
only ever inserted together, one insert per table under that same token. A file of a claimed batch always goes
with its batch: a replay sends the batch's token again, and ClickHouse drops it if it was inserted.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from click_common import clickhouse
from click_common.backoff import QUICK_POLLS_AFTER_WORK, GaveUp, Stopped, idle_poll_delay
from click_common.processes import exit_with_parent
from click_common.text import one_line

from .bookkeeping import ClickHouseBooks, FileRecord, utcnow
from .bucket import Bucket, ObjectVanished, S3Object
from .documents import TABLES, Prepared, otlp_route, prepare
from .settings import LoaderSettings

log = logging.getLogger("s3_loader")

# Keys ClickHouse's s3() takes as they are: no glob characters ({} * ?) or escapes in the object's URL.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9/_.=-]+")
# Errors about the bucket rather than the document (ClickHouse cannot reach or read it, or may not use s3()):
# the loader downloads large files itself for ROUTE_PAUSE_SECONDS, then tries again.
_BUCKET_ERRORS = frozenset({198, 209, 210, 497, 499, 1000})  # DNS, timeouts, ACCESS_DENIED, S3_ERROR, POCO
ROUTE_PAUSE_SECONDS = 300.0
# Between full listings a pass lists the partitions of this many seconds back (files uploaded later into an
# older partition wait for the next full listing).
RECENT_SECONDS = 20


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


@dataclass(frozen=True, slots=True)
class Batch:
    """Files loaded together: each with its own insert (token None), or a claimed batch of small files (one
    insert per table with the batch's token)."""

    objects: list[S3Object]
    token: str | None = None

    @property
    def oldest(self) -> tuple[datetime, str]:
        return min((o.last_modified, o.key) for o in self.objects)


class _NoRecord:
    status = ""


_NONE = _NoRecord()
_CHANGED = object()  # the object is no longer the version listed


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
        self._full_at: float | None = None  # when the last full listing started (monotonic)
        self._late_at = 0.0  # when the last late listing started (monotonic)
        self._s3_route_paused_until = 0.0  # monotonic: ClickHouse could not read the bucket until then
        self._route_lock = threading.Lock()
        self._downloads = ThreadPoolExecutor(max(1, settings.download_workers), thread_name_prefix="download")
        self._inserts = ThreadPoolExecutor(max(1, settings.insert_workers), thread_name_prefix="insert")
        self._parsers: Executor = (
            ProcessPoolExecutor(
                settings.parse_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=exit_with_parent,
                initargs=(os.getpid(),),
            )
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

    def _listing_due(self) -> str:
        """Which listing this pass makes: "full" (the whole prefix) on the first pass and at least every
        full_list_seconds, "late" (the partitions of the last late_window_seconds) at least every
        late_list_seconds, else "recent" (the current partition)."""
        now = time.monotonic()
        s = self.settings
        full_due = self._full_at is None or now - self._full_at >= s.full_list_seconds
        if not s.recent_partition_format or full_due:
            self._full_at = self._late_at = now
            return "full"
        if now - self._late_at >= s.late_list_seconds:
            self._late_at = now
            return "late"
        return "recent"

    def late_start(self, now: datetime) -> str:
        """The key a "late" listing starts after: the partition of late_window_seconds ago. The collector's
        partitions (zero-padded, largest unit first) sort by time, so what lists after it is the window."""
        s = self.settings
        then = now - timedelta(seconds=s.late_window_seconds)
        return f"{s.list_prefix}{then.strftime(s.recent_partition_format).strip('/')}/"

    def recent_prefixes(self, now: datetime) -> list[str]:
        """The collector's partitions (UTC) of the last RECENT_SECONDS, oldest first: the one it uploads into
        now, and in the first seconds of a new one the previous (an upload that straddled the boundary, or a
        collector clock a little behind). One partition of a long drop lists ~600 objects where three
        minutes' listed 1,800 (0.12 s vs 0.37 s here, every pass)."""
        fmt = self.settings.recent_partition_format
        stamps = (now - timedelta(seconds=s) for s in range(RECENT_SECONDS, -1, -1))
        prefixes = (f"{self.settings.list_prefix}{t.strftime(fmt).strip('/')}/" for t in stamps)
        return list(dict.fromkeys(prefixes))

    def run_pass(self) -> PassResult:
        """Load everything that is due now; returns the counts (one log line per batch on the way).

        While batch k is inserted, batch k+1 is already downloading and parsing.
        """
        listing, started = self._listing_due(), utcnow()
        if listing == "full":
            objects = self.bucket.list_objects()
        elif listing == "late":
            objects = self.bucket.list_objects(start_after=self.late_start(started))
        else:
            objects = self.bucket.list_objects(self.recent_prefixes(started))
        records = self.books.load_records(None if listing == "full" else sorted({o.key for o in objects}))
        now = utcnow()
        due = [o for o in objects if self.is_due(records.get((o.key, o.etag)), now)]
        result = PassResult()
        batches = self._plan(due, {(o.key, o.etag) for o in objects})
        upcoming = self._submit(batches[0]) if batches else []
        for n, batch in enumerate(batches):
            current, upcoming = upcoming, self._submit(batches[n + 1]) if n + 1 < len(batches) else []
            if self.stop.is_set():
                for future in (*current, *upcoming):
                    future.cancel()
                result.pending = sum(len(b.objects) for b in batches[n:])
                break
            later = [o for b in batches[n + 1 :] for o in b.objects]
            self._load_batch(batch, current, later, records, result)
        result.failed_now = sorted(
            o.key for o in objects if (r := records.get((o.key, o.etag))) is not None and r.status == "failed"
        )
        return result

    # ------------------------------------------------------------------------------------------------------
    # planning: which files go together

    def window(self, obj: S3Object) -> int:
        return int(obj.last_modified.timestamp()) // self.settings.batch_window_seconds

    def _plan(self, due: list[S3Object], listed: set[tuple[str, str]]) -> list[Batch]:
        """Small files in claimed batches, the rest batch_files at a time; oldest first."""
        size = max(1, self.settings.batch_files)
        small = [o for o in due if not o.is_metrics and o.size < self.settings.sql_min_bytes]
        small_keys = {(o.key, o.etag) for o in small}
        rest = [o for o in due if (o.key, o.etag) not in small_keys]
        batches = [Batch(rest[start : start + size]) for start in range(0, len(rest), size)]
        by_window: dict[int, list[S3Object]] = {}
        for obj in small:
            by_window.setdefault(self.window(obj), []).append(obj)
        claims = self.books.read_batches(list(by_window))
        for window, objs in by_window.items():
            batches += self._claimed(window, objs, claims, size, listed)
        return sorted(batches, key=lambda b: b.oldest)

    def _claimed(
        self,
        window: int,
        objs: list[S3Object],
        claims: dict[tuple[int, int], list[tuple[str, str]]],
        size: int,
        listed: set[tuple[str, str]],
    ) -> list[Batch]:
        """The window's due small files by the batch that claims them, claiming new batches for the others.
        Losing a claim to another loader means adopting its batch (members as it wrote them)."""
        batches: list[Batch] = []
        pending = objs
        while pending:
            owner = {m: seq for (w, seq), members in claims.items() if w == window for m in members}
            mine: dict[int, list[S3Object]] = {}
            free: list[S3Object] = []
            for obj in pending:
                seq = owner.get((obj.key, obj.etag))
                (free if seq is None else mine.setdefault(seq, [])).append(obj)
            batches += [
                Batch(o, self.books.batch_token(window, seq))
                for seq, o in sorted(mine.items())
                if self._complete(window, seq, claims[(window, seq)], listed)
            ]
            if not free:
                break
            seq = 1 + max((s for (w, s) in claims if w == window), default=-1)
            chunk, pending = free[:size], free[size:]
            members = [(o.key, o.etag) for o in chunk]
            stands = self.books.claim_batch(window, seq, members)
            if stands == members:
                claims[(window, seq)] = members
                batches.append(Batch(chunk, self.books.batch_token(window, seq)))
                continue
            if not stands:  # written, yet not readable: leave these files to the next pass
                log.warning("batch %d of window %d claimed but not readable: next pass", seq, window)
                break
            claims[(window, seq)] = stands  # another loader claimed it first: adopt its batch
            pending = free
        return batches

    def _complete(
        self, window: int, seq: int, members: list[tuple[str, str]], listed: set[tuple[str, str]]
    ) -> bool:
        """Whether this pass may insert the batch: the first insert under its token must hold every member
        that still exists, so a member missing from this pass's listing (a racing loader listed after this
        one) holds the batch back until the next pass, unless it is gone from the bucket."""
        missing = [m for m in members if m not in listed]
        if any(self.bucket.exists(key, etag) for key, etag in missing):
            log.info("batch %d of window %d waits for files this listing does not show yet", seq, window)
            return False
        return True

    def _clickhouse_reads(self, obj: S3Object) -> bool:
        """Whether ClickHouse is to read this (large, unbatched) traces file from the bucket itself."""
        s = self.settings
        return bool(
            s.clickhouse_reads_s3
            and s.aws_access_key_id
            and s.aws_secret_access_key
            and "traces_" in obj.key.rsplit("/", 1)[-1]
            and _PLAIN_KEY.fullmatch(obj.key)
            and time.monotonic() >= self._s3_route_paused_until
        )

    def _submit(self, batch: Batch) -> list[Future]:
        """Start downloading and parsing every object of the batch (metrics files are not downloaded, nor
        those ClickHouse reads itself)."""
        futures: list[Future] = []
        unbatched = batch.token is None
        for obj in batch.objects:
            if obj.is_metrics or (unbatched and self._clickhouse_reads(obj)):
                done: Future = Future()
                done.set_result(Prepared("metrics") if obj.is_metrics else Prepared("traces", route="s3"))
                futures.append(done)
            else:
                futures.append(self._downloads.submit(self._fetch_and_prepare, obj, unbatched))
        return futures

    def _fetch_and_prepare(self, obj: S3Object, sql_route: bool = True) -> Prepared | None:
        """Downloaded and decoded; a batched file is always converted here (one insert per table)."""
        try:
            body = self.bucket.download(obj)
        except ObjectVanished:
            log.warning("object vanished before download: %s", obj.key)
            return None
        routed = otlp_route(obj.key, body, self.settings.sql_min_bytes) if sql_route else None
        return routed or self._parsers.submit(prepare, obj.key, body).result()

    def _load_batch(
        self,
        batch: Batch,
        futures: list[Future],
        later: list[S3Object],
        records: dict[tuple[str, str], FileRecord],
        result: PassResult,
    ) -> None:
        started = time.perf_counter()
        counts = PassResult()
        written: list[FileRecord] = []
        if batch.token is not None:
            outcomes = self._load_claimed(batch.objects, batch.token, futures, records)
        else:
            # Files are inserted insert_workers at a time, oldest first; each insert is idempotent on its own,
            # and the batch is recorded once all of them are done.
            loads = [
                self._inserts.submit(self._load_prepared, obj, future, records.get((obj.key, obj.etag)))
                for obj, future in zip(batch.objects, futures, strict=True)
            ]
            outcomes = [load.result() for load in loads]
        for obj, record in zip(batch.objects, outcomes, strict=True):
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
        pending = [
            *later,
            *(o for o in batch.objects if records.get((o.key, o.etag), _NONE).status == "failed"),
        ]
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

    def _load_claimed(
        self,
        objs: list[S3Object],
        token: str,
        futures: list[Future],
        records: dict[tuple[str, str], FileRecord],
    ) -> list[FileRecord | None]:
        """A claimed batch: every file's rows in one insert per table under the batch's token."""
        prepared = [future.result() for future in futures]
        bodies: dict[str, list[bytes]] = {}
        for p in prepared:
            if p is not None and not p.error and p.kind in TABLES and p.rows:
                bodies.setdefault(p.kind, []).append(p.payload)
        refused: dict[str, str] = {}
        for kind, payloads in bodies.items():
            try:
                self.books.insert_file(kind, token, b",".join(payloads))
            except Stopped:
                raise
            except Exception as exc:  # ClickHouse refused the data itself (outages are retried inside)
                refused[kind] = f"insert failed: {one_line(str(exc), 400)}"
        outcomes: list[FileRecord | None] = []
        for obj, p in zip(objs, prepared, strict=True):
            if p is None:
                outcomes.append(None)
                continue
            base = self._base(obj, p, records.get((obj.key, obj.etag)))
            if p.error or p.kind in refused:
                outcomes.append(self._failed(base, p.error or refused[p.kind]))
            elif p.kind == "metrics":  # a metrics document under another name: skipped, as in _load_one
                outcomes.append(replace(base, status="skipped", rows=0))
            else:
                outcomes.append(replace(base, updated_at=utcnow()))
        return outcomes

    @staticmethod
    def _base(obj: S3Object, prepared: Prepared, previous: FileRecord | None) -> FileRecord:
        """The file's record as loaded now (failures and skips replace what differs)."""
        now = utcnow()
        attempts = (previous.attempts if previous else 0) + 1
        return FileRecord(
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

    def _load_one(self, obj: S3Object, prepared: Prepared, previous: FileRecord | None) -> FileRecord | None:
        token = self.books.token(obj.key, obj.etag)
        if prepared.route == "s3":
            spans = self._insert_from_s3(obj, token)
            if spans is _CHANGED:
                return None  # the next listing shows the version there now
            if isinstance(spans, int):
                return replace(self._base(obj, prepared, previous), rows=spans)
            fetched = self._fetch_and_prepare(obj)  # ClickHouse did not take it: download it after all
            if fetched is None:
                return None
            prepared = fetched
        base = self._base(obj, prepared, previous)
        if prepared.error:
            return self._failed(base, prepared.error)
        if prepared.kind == "metrics":
            return replace(base, status="skipped", rows=0)
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
                return self._failed(base, f"insert failed: {one_line(str(exc), 400)}")
        return replace(base, updated_at=utcnow())

    def _insert_from_s3(self, obj: S3Object, token: str) -> int | object | None:
        """ClickHouse loads the object from the bucket itself: its spans, _CHANGED when the listed version is
        gone, or None when ClickHouse did not take it (the document needs otlp_rows, or ClickHouse cannot
        read the bucket: then large files are downloaded for a while)."""
        s = self.settings
        endpoint = (s.clickhouse_s3_endpoint_url or s.s3_endpoint_url).rstrip("/")
        url = f"{endpoint}/{s.s3_bucket}/{obj.key}"
        try:
            spans = self.books.insert_from_s3(
                token, url, obj.etag, s.aws_access_key_id or "", s.aws_secret_access_key or ""
            )
        except (Stopped, GaveUp):
            raise
        except Exception as exc:
            reason = one_line(str(exc), 300)
            gone = "NoSuchKey" in reason or "does not exist" in reason
            if clickhouse.error_code(exc) in _BUCKET_ERRORS and not gone:
                with self._route_lock:  # files already on their way fail too: one line for them all
                    now, paused = time.monotonic(), self._s3_route_paused_until
                    self._s3_route_paused_until = now + ROUTE_PAUSE_SECONDS
                if now >= paused:
                    log.warning(
                        "ClickHouse cannot read %s itself (%s): the loader downloads large files for %.0f s",
                        url, reason[:200], ROUTE_PAUSE_SECONDS,
                    )  # fmt: skip
            else:
                log.info("ClickHouse did not load %s itself (%s): downloading it", obj.key, reason[:200])
            return None
        if spans is None:
            if self.bucket.exists(obj.key, obj.etag):  # still the version listed: ClickHouse saw another ETag
                log.info("ClickHouse did not match the ETag of %s: downloading it", obj.key)
                return None
            log.info("%s changed since it was listed: left to the next pass", obj.key)
            return _CHANGED
        if spans == 0:  # no spans read: empty, or another signal under a traces name; otlp_rows says which
            return None
        return spans

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
                one_line(str(exc), 200),
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
            delay = idle_poll_delay(idle, s.min_poll_interval, s.poll_interval, QUICK_POLLS_AFTER_WORK)
            self.stop.wait(delay)
