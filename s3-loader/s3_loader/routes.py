"""The ways a listed object becomes rows, one class each, and the order they are tried in (ROUTES).

- ClickHouseReadsBucket: ClickHouse reads a large traces file from the bucket itself (its s3() function, the
  listed ETag checked) and the schema's view converts it; the loader neither downloads nor re-sends it.
- ClickHouseConvertsDocument: the loader downloads a plain traces document and streams it to the same view.
- PythonConverts: the loader downloads the document and otlp_rows converts it (in the parse processes);
  it takes every document, and says why a bad one fails.
(MetricsSkipped, first, takes metrics files by their name: they are recognised and skipped, not loaded.)

A route that accepted a document may still not take it (ClickHouse refused it, could not read the bucket):
it answers NotTaken, saying why, and the next route in the order that accepts the document loads it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import ClassVar, Protocol

from click_common import clickhouse
from click_common.backoff import GaveUp, Stopped
from click_common.text import one_line
from otlp_rows.layout import names_signal

from .bucket import Bucket, ObjectVanished, S3Object
from .documents import TABLES, PlainTraces, Prepared, plain_traces, prepare
from .settings import LoaderSettings
from .warehouse import Warehouse

log = logging.getLogger("s3_loader")

# Keys ClickHouse's s3() takes as they are: no glob characters ({} * ?) or escapes in the object's URL.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9/_.=-]+")
# Errors about the bucket rather than the document (ClickHouse cannot reach or read it, or may not use s3()):
# the loader downloads large files itself for ROUTE_PAUSE_SECONDS, then tries again.
_BUCKET_ERRORS = frozenset({198, 209, 210, 497, 499, 1000})  # DNS, timeouts, ACCESS_DENIED, S3_ERROR, POCO
ROUTE_PAUSE_SECONDS = 300.0


# -- what a route answers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loaded:
    kind: str  # traces | logs | empty
    rows: int


@dataclass(frozen=True, slots=True)
class Skipped:
    kind: str  # metrics


@dataclass(frozen=True, slots=True)
class Failed:
    """The document is bad, or ClickHouse refused its rows: the file fails (and is retried later)."""

    kind: str
    error: str


class Gone:
    """The listed version is no longer in the bucket (deleted or replaced): the next listing shows what is."""


GONE = Gone()
Outcome = Loaded | Skipped | Failed | Gone


@dataclass(frozen=True, slots=True)
class NotTaken:
    """The route did not load the document after all; the next one is tried. `reason` is logged ("" when
    the route said it already)."""

    reason: str


# -- one object, as the routes read it ---------------------------------------------------------------------


class Document:
    """A listed object: its bytes, and what each conversion makes of them, each made once when first asked
    for (on the download threads ahead of the insert, or by a route trying the document after another)."""

    def __init__(self, obj: S3Object, bucket: Bucket, parsers: Executor, sql_min_bytes: int) -> None:
        self.obj = obj
        self._bucket, self._parsers, self._sql_min_bytes = bucket, parsers, sql_min_bytes
        self._body: bytes | None = None
        self._plain: PlainTraces | None = None
        self._plain_known = False
        self._converted: Prepared | None = None
        self.route: Route | None = None  # the first route that accepted it (Routes.document)

    def body(self) -> bytes:
        """Downloaded (the listed version only); raises ObjectVanished."""
        if self._body is None:
            self._body = self._bucket.download(self.obj)
        return self._body

    def plain(self) -> PlainTraces | None:
        """The document as ClickHouse's conversion takes it, if it is a plain traces document that large."""
        if not self._plain_known:
            self._plain, self._plain_known = plain_traces(self.body(), self._sql_min_bytes), True
        return self._plain

    def converted(self) -> Prepared:
        """otlp_rows' rows (or the reason the document is bad), built in a parse process."""
        if self._converted is None:
            self._converted = self._parsers.submit(prepare, self.obj.key, self.body()).result()
            self._body = None  # otlp_rows is the last route: the bytes are not read again, and may be large
        return self._converted


# -- the routes --------------------------------------------------------------------------------------------


class Route(Protocol):
    name: ClassVar[str]

    def accepts(self, doc: Document) -> bool:
        """Whether this route is to try the document (may download it: raises ObjectVanished)."""

    def prepare(self, doc: Document) -> None:
        """What the route needs ready before it loads, made on the download threads."""

    def load(self, doc: Document, token: str) -> Outcome | NotTaken:
        """Load the document under its deduplication token, or say why not."""


class MetricsSkipped:
    name = "metrics-skipped"

    def accepts(self, doc: Document) -> bool:
        return doc.obj.is_metrics

    def prepare(self, doc: Document) -> None:
        pass

    def load(self, doc: Document, token: str) -> Outcome | NotTaken:
        return Skipped("metrics")


class ClickHouseReadsBucket:
    name = "clickhouse-reads-bucket"

    def __init__(self, settings: LoaderSettings, warehouse: Warehouse, bucket: Bucket) -> None:
        self.settings, self.warehouse, self.bucket = settings, warehouse, bucket
        endpoint = (settings.clickhouse_s3_endpoint_url or settings.s3_endpoint_url).rstrip("/")
        self.base_url = f"{endpoint}/{settings.s3_bucket}"
        self._paused_until = 0.0  # monotonic: ClickHouse could not read the bucket until then
        self._lock = threading.Lock()

    def accepts(self, doc: Document) -> bool:
        """A large traces file with a plain key, while ClickHouse can read the bucket with the AWS_* keys."""
        s = self.settings
        return bool(
            s.clickhouse_reads_s3
            and s.aws_access_key_id
            and s.aws_secret_access_key
            and names_signal(doc.obj.key, "traces")
            and _PLAIN_KEY.fullmatch(doc.obj.key)
            and time.monotonic() >= self._paused_until
        )

    def prepare(self, doc: Document) -> None:
        pass  # nothing is downloaded

    def load(self, doc: Document, token: str) -> Outcome | NotTaken:
        s, obj = self.settings, doc.obj
        url = f"{self.base_url}/{obj.key}"
        try:
            spans = self.warehouse.insert_from_s3(
                token, url, obj.etag, s.aws_access_key_id or "", s.aws_secret_access_key or ""
            )
        except (Stopped, GaveUp):
            raise
        except Exception as exc:
            reason = one_line(str(exc), 300)
            gone = "NoSuchKey" in reason or "does not exist" in reason
            if clickhouse.error_code(exc) in _BUCKET_ERRORS and not gone:
                self._pause(url, reason)
                return NotTaken("")
            return NotTaken(f"ClickHouse did not load {obj.key} itself ({reason[:200]}): downloading it")
        if spans is None:
            if self.bucket.exists(obj.key, obj.etag):  # still the version listed: ClickHouse saw another ETag
                return NotTaken(f"ClickHouse did not match the ETag of {obj.key}: downloading it")
            log.info("%s changed since it was listed: left to the next pass", obj.key)
            return GONE
        if spans == 0:  # no spans read: empty, or another signal under a traces name; otlp_rows says which
            return NotTaken("")
        return Loaded("traces", spans)

    def _pause(self, url: str, reason: str) -> None:
        """ClickHouse cannot read the bucket: large files are downloaded for a while (one line for all the
        files already on their way)."""
        with self._lock:
            now, paused = time.monotonic(), self._paused_until
            self._paused_until = now + ROUTE_PAUSE_SECONDS
        if now >= paused:
            log.warning(
                "ClickHouse cannot read %s itself (%s): the loader downloads large files for %.0f s",
                url, reason[:200], ROUTE_PAUSE_SECONDS,
            )  # fmt: skip


class ClickHouseConvertsDocument:
    name = "clickhouse-converts-document"

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def accepts(self, doc: Document) -> bool:
        return doc.plain() is not None

    def prepare(self, doc: Document) -> None:
        doc.plain()

    def load(self, doc: Document, token: str) -> Outcome | NotTaken:
        """Loaded when ClickHouse converted and wrote every span of the document.

        A bad span aborts the view's insert: the server answers with an error, or (chDB's streaming insert)
        reports only the document's own row written. Either way nothing of the document was written."""
        plain, key = doc.plain(), doc.obj.key
        assert plain is not None  # accepts() said so
        try:
            written = self.warehouse.insert_otlp(token, plain.document)
        except Stopped:
            raise
        except Exception as exc:
            return NotTaken(f"ClickHouse did not convert {key} ({one_line(str(exc), 200)}): using otlp_rows")
        if written < 1 + plain.spans:
            spans = max(0, written - 1)
            return NotTaken(f"ClickHouse wrote {spans} of {plain.spans} spans of {key}: using otlp_rows")
        return Loaded("traces", plain.spans)


class PythonConverts:
    name = "python-converts"

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def accepts(self, doc: Document) -> bool:
        return True

    def prepare(self, doc: Document) -> None:
        doc.converted()

    def load(self, doc: Document, token: str) -> Outcome | NotTaken:
        prepared = doc.converted()
        if prepared.error:
            return Failed(prepared.kind, prepared.error)
        if prepared.kind == "metrics":
            return Skipped("metrics")
        if prepared.rows:
            try:
                self.warehouse.insert_file(prepared.kind, token, prepared.payload)
            except Stopped:
                raise
            except Exception as exc:  # ClickHouse refused the data itself (outages are retried inside)
                return Failed(prepared.kind, f"insert failed: {one_line(str(exc), 400)}")
        return Loaded(prepared.kind, prepared.rows)

    def load_together(self, docs: Sequence[Document | None], token: str) -> list[Outcome]:
        """A claimed batch: every file's rows in one insert per table under the batch's token."""
        prepared = [None if doc is None else doc.converted() for doc in docs]
        bodies: dict[str, list[bytes]] = {}
        for p in prepared:
            if p is not None and not p.error and p.kind in TABLES and p.rows:
                bodies.setdefault(p.kind, []).append(p.payload)
        refused: dict[str, str] = {}
        for kind, payloads in bodies.items():
            try:
                self.warehouse.insert_file(kind, token, b",".join(payloads))
            except Stopped:
                raise
            except Exception as exc:  # ClickHouse refused the data itself (outages are retried inside)
                refused[kind] = f"insert failed: {one_line(str(exc), 400)}"
        outcomes: list[Outcome] = []
        for p in prepared:
            if p is None:
                outcomes.append(GONE)
            elif p.error or p.kind in refused:
                outcomes.append(Failed(p.kind, p.error or refused[p.kind]))
            elif p.kind == "metrics":  # a metrics document under another name: skipped, as alone
                outcomes.append(Skipped("metrics"))
            else:
                outcomes.append(Loaded(p.kind, p.rows))
        return outcomes


# -- the order ---------------------------------------------------------------------------------------------


class Routes:
    """The routes in the order they are tried; a file of a claimed batch only ever goes through otlp_rows
    (its batch is one insert per table)."""

    def __init__(
        self, settings: LoaderSettings, warehouse: Warehouse, bucket: Bucket, parsers: Executor
    ) -> None:
        self.settings, self.bucket, self.parsers = settings, bucket, parsers
        self.python = PythonConverts(warehouse)
        self.alone: tuple[Route, ...] = (
            MetricsSkipped(),
            ClickHouseReadsBucket(settings, warehouse, bucket),
            ClickHouseConvertsDocument(warehouse),
            self.python,
        )
        self.batched: tuple[Route, ...] = (self.python,)

    def choose(self, doc: Document, order: Sequence[Route], after: Route | None = None) -> Route:
        """The first route (after `after`) that accepts the document: the one place a route is chosen."""
        start = 0 if after is None else order.index(after) + 1
        return next(route for route in order[start:] if route.accepts(doc))

    def document(self, obj: S3Object, batched: bool) -> Document | None:
        """The object with its route chosen and made ready to load (on a download thread); None when it
        vanished before its download."""
        doc = Document(obj, self.bucket, self.parsers, self.settings.sql_min_bytes)
        try:
            doc.route = self.choose(doc, self.batched if batched else self.alone)
            doc.route.prepare(doc)
        except ObjectVanished:
            log.warning("object vanished before download: %s", obj.key)
            return None
        return doc

    def load(self, doc: Document | None, token: str) -> Outcome:
        """Load a file on its own: its route, and the next ones while a route does not take it."""
        if doc is None:
            return GONE
        route = doc.route or self.choose(doc, self.alone)
        try:
            while isinstance(outcome := route.load(doc, token), NotTaken):
                if outcome.reason:
                    log.info("%s", outcome.reason)
                route = self.choose(doc, self.alone, after=route)
        except ObjectVanished:
            log.warning("object vanished before download: %s", doc.obj.key)
            return GONE
        return outcome

    def load_together(self, docs: Sequence[Document | None], token: str) -> list[Outcome]:
        return self.python.load_together(docs, token)
