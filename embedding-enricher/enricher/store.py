"""Everything the enricher reads from and writes to ClickHouse. Connection failures are retried with
exponential backoff (one log line per retry); SQL errors are not (they need a person)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from click_common import clickhouse
from click_common.backoff import call_with_backoff
from clickhouse_connect.driver.client import Client

from .embedder import EmbedStats
from .span_text import EXCEPTION_KEYS, SpanFields

log = logging.getLogger("enricher")

SOURCE = "otel.otel_traces"
TARGET = "otel.otel_traces_enriched"
STATE = "otel.enrichment_state"
REQUIRED_TABLES = (SOURCE, TARGET, STATE)
ARRIVAL_COLUMN = "InsertedAt"

T = TypeVar("T")

# The spans of SOURCE that arrived at or after {since} and are not in TARGET yet, oldest arrival first.
# TARGET rows are looked up by their SourceInsertedAt, so the anti-join only reads the same window.
_PENDING_WHERE = f"""
FROM {SOURCE}
WHERE InsertedAt >= fromUnixTimestamp64Micro({{since:Int64}})
  AND (TraceId, SpanId) NOT IN (
      SELECT TraceId, SpanId FROM {TARGET}
      WHERE SourceInsertedAt >= fromUnixTimestamp64Micro({{since:Int64}}))
"""

_PENDING_ROWS = f"""
SELECT
    toUnixTimestamp64Nano(Timestamp) AS ts,
    TraceId, SpanId, ParentSpanId,
    toValidUTF8(ServiceName), toValidUTF8(SpanName), toValidUTF8(SpanKind), toValidUTF8(StatusCode),
    toValidUTF8(StatusMessage), Duration,
    mapApply((k, v) -> (toValidUTF8(k), toValidUTF8(v)),
             mapFilter((k, v) -> has({{keys:Array(String)}}, k), SpanAttributes)),
    arrayMap(n -> toValidUTF8(n), Events.Name),
    arrayMap(a -> mapApply((k, v) -> (toValidUTF8(k), toValidUTF8(v)),
                           mapFilter((k, v) -> has({{event_keys:Array(String)}}, k), a)), Events.Attributes),
    toUnixTimestamp64Micro(InsertedAt) AS inserted
{_PENDING_WHERE}
ORDER BY InsertedAt
LIMIT 1 BY TraceId, SpanId
LIMIT {{limit:UInt32}}
"""

TARGET_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "SpanKind", "StatusCode",
    "StatusMessage", "Duration", "EmbeddingText", "Embedding", "EmbeddingModel", "SourceInsertedAt",
]  # fmt: skip
_ID_FORMATS = {"TraceId": "bytes", "SpanId": "bytes", "ParentSpanId": "bytes"}


@dataclass(frozen=True)
class SourceSpan:
    timestamp_ns: int
    trace_id: bytes  # read as bytes: written back byte-identical, so the anti-join always matches
    span_id: bytes
    parent_span_id: bytes
    fields: SpanFields
    inserted_us: int


@dataclass(frozen=True)
class Status:
    enriched: int
    pending: int
    watermark_us: int
    lag_seconds: float
    reuse_rate: float | None  # spans that needed no model run, last hour
    cache_hit_rate: float | None  # distinct texts found in the cache, last hour
    spans_per_second: float  # last minute
    last_batch_age: float | None


class TablesMissing(SystemExit):
    pass


class Store:
    def __init__(
        self,
        settings: clickhouse.ClickHouseSettings,
        retry_max_seconds: float = 30.0,
        give_up_seconds: float | None = None,
        stop_event: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self._retry_max_seconds = retry_max_seconds
        self._give_up_seconds = give_up_seconds
        self._stop_event = stop_event or threading.Event()  # a SIGTERM ends the wait for ClickHouse
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = clickhouse.client_from(self.settings)
        return self._client

    def retrying(self, fn: Callable[[], T]) -> T:
        """Run `fn` again (after backoff) while ClickHouse is unreachable."""
        return call_with_backoff(
            self.settings.describe(),
            clickhouse.is_unreachable,
            fn,
            log=log,
            max_wait=self._retry_max_seconds,
            stop=self._stop_event,
            give_up_after=self._give_up_seconds,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- start-up checks -------------------------------------------------------------------------
    # EXISTS / DESCRIBE / SHOW CREATE need only the grants on the tables themselves (the Docker stack's
    # `enricher` user has otel.* and nothing in system.*)
    def missing_tables(self) -> list[str]:
        missing = [
            table
            for table in REQUIRED_TABLES
            if not self.retrying(lambda t=table: self.client.command(f"EXISTS TABLE {t}"))
        ]
        if SOURCE not in missing:
            columns = self.retrying(lambda: self.client.query(f"DESCRIBE TABLE {SOURCE}").result_rows)
            if ARRIVAL_COLUMN not in {c[0] for c in columns}:
                missing.append(f"{SOURCE}.{ARRIVAL_COLUMN} (column)")
        return missing

    def vector_dimension(self) -> int | None:
        """The dimension of TARGET's vector_similarity index on Embedding."""
        ddl = self.retrying(lambda: self.client.command(f"SHOW CREATE TABLE {TARGET}"))
        found = re.search(  # vector_similarity('hnsw', distance, dimension[, quantization, M, ef])
            r"INDEX \S+ Embedding TYPE vector_similarity\('[^']*', '[^']*', (\d+)",
            str(ddl).replace("\\'", "'"),
        )
        return int(found.group(1)) if found else None

    # --- progress --------------------------------------------------------------------------------
    def watermark(self, name: str) -> int:
        """The latest recorded watermark (microseconds since the epoch), 0 before the first batch."""
        rows = self.retrying(
            lambda: (
                self.client.query(
                    f"SELECT toUnixTimestamp64Micro(argMax(Watermark, UpdatedAt)), count() FROM {STATE} "
                    "WHERE Enricher = {name:String}",
                    parameters={"name": name},
                ).result_rows
            )
        )
        watermark, count = rows[0]
        return int(watermark) if count else 0

    def record_progress(self, name: str, watermark_us: int, stats: EmbedStats, seconds: float) -> None:
        self.retrying(
            lambda: self.client.query(
                f"INSERT INTO {STATE} "
                "(Enricher, Watermark, Spans, DistinctTexts, CacheHits, Embedded, Seconds) VALUES "
                "({name:String}, fromUnixTimestamp64Micro({wm:Int64}), {spans:UInt64}, {distinct:UInt64}, "
                "{hits:UInt64}, {embedded:UInt64}, {seconds:Float64})",
                parameters={
                    "name": name,
                    "wm": watermark_us,
                    "spans": stats.texts,
                    "distinct": stats.distinct,
                    "hits": stats.cache_hits,
                    "embedded": stats.embedded,
                    "seconds": seconds,
                },
            )
        )

    # --- spans -----------------------------------------------------------------------------------
    def pending(self, since_us: int, limit: int, attribute_keys: Sequence[str]) -> list[SourceSpan]:
        result = self.retrying(
            lambda: self.client.query(
                _PENDING_ROWS,
                parameters={
                    "since": since_us,
                    "limit": limit,
                    "keys": list(attribute_keys),
                    "event_keys": list(EXCEPTION_KEYS),
                },
                column_formats=_ID_FORMATS,
            )
        )
        spans = []
        for row in result.result_rows:
            (ts, trace_id, span_id, parent, service, name, kind, code, message, duration) = row[:10]
            attributes, event_names, event_attributes, inserted = row[10:]
            fields = SpanFields(
                service=service,
                name=name,
                kind=kind,
                status_code=code,
                status_message=message,
                duration_ns=duration,
                attributes=attributes,
                events=list(zip(event_names, event_attributes, strict=False)),
            )
            spans.append(SourceSpan(ts, trace_id, span_id, parent, fields, inserted))
        return spans

    def write(
        self,
        spans: Sequence[SourceSpan],
        texts: Sequence[str],
        vectors: Sequence[np.ndarray],
        model_name: str,
        index_on_insert: bool,
    ) -> None:
        """One insert: all of these spans land or none of them do. Not retried here: if the connection drops,
        the insert may or may not have landed, so the caller redoes the whole batch, whose read skips whatever
        did land."""
        columns = [
            [s.timestamp_ns for s in spans],
            [s.trace_id for s in spans],
            [s.span_id for s in spans],
            [s.parent_span_id for s in spans],
            [s.fields.service for s in spans],
            [s.fields.name for s in spans],
            [s.fields.kind for s in spans],
            [s.fields.status_code for s in spans],
            [s.fields.status_message for s in spans],
            [s.fields.duration_ns for s in spans],
            list(texts),
            _as_lists(vectors),
            [model_name] * len(spans),
            [s.inserted_us for s in spans],
        ]
        settings = {"materialize_skip_indexes_on_insert": int(index_on_insert)}
        self.client.insert(
            TARGET, columns, column_names=TARGET_COLUMNS, column_oriented=True, settings=settings
        )

    def recent_vectors(self, model_name: str, minutes: int, limit: int) -> Iterator[tuple[str, list[float]]]:
        """Distinct texts enriched recently by this model with their vectors: a restart's warm cache."""
        if minutes <= 0 or limit <= 0:
            return iter(())
        result = self.retrying(
            lambda: self.client.query(
                f"SELECT EmbeddingText, any(Embedding) FROM {TARGET} "
                "PREWHERE EnrichedAt >= now64(6) - toIntervalMinute({minutes:UInt32}) "
                "WHERE EmbeddingModel = {model:String} "
                "GROUP BY EmbeddingText ORDER BY max(EnrichedAt) DESC LIMIT {limit:UInt32}",
                parameters={"minutes": minutes, "model": model_name, "limit": limit},
            )
        )
        return iter(result.result_rows)

    # --- status ----------------------------------------------------------------------------------
    def status(self, name: str, lookback_us: int) -> Status:
        watermark = self.watermark(name)
        since = max(watermark - lookback_us, 0)
        q = self.client.query
        enriched = q(f"SELECT count() FROM {TARGET}").result_rows[0][0]
        pending, oldest, now_us = q(
            f"SELECT count(), toUnixTimestamp64Micro(min(InsertedAt)), toUnixTimestamp64Micro(now64(6)) "
            f"{_PENDING_WHERE}",
            parameters={"since": since},
        ).result_rows[0]
        spans, distinct, hits, embedded, last = q(
            f"SELECT sum(Spans), sum(DistinctTexts), sum(CacheHits), sum(Embedded), "
            f"toUnixTimestamp64Micro(max(UpdatedAt)) FROM {STATE} "
            "WHERE Enricher = {name:String} AND UpdatedAt >= now64(6) - INTERVAL 1 HOUR",
            parameters={"name": name},
        ).result_rows[0]
        last_minute = q(
            f"SELECT count() FROM {TARGET} PREWHERE EnrichedAt >= now64(6) - INTERVAL 60 SECOND"
        ).result_rows[0][0]
        return Status(
            enriched=int(enriched),
            pending=int(pending),
            watermark_us=watermark,
            lag_seconds=(now_us - oldest) / 1e6 if pending else 0.0,
            reuse_rate=1 - embedded / spans if spans else None,
            cache_hit_rate=hits / distinct if distinct else None,
            spans_per_second=last_minute / 60,
            last_batch_age=(now_us - last) / 1e6 if spans else None,
        )


def _as_lists(vectors: Sequence[np.ndarray]) -> list[list[float]]:
    """The vectors as the client wants them, each distinct array converted once: spans that share a text
    share its array (the embedder hands out one per text), and `tolist` was most of the write's time."""
    converted: dict[int, list[float]] = {}
    out = []
    for vector in vectors:
        as_list = converted.get(id(vector))
        if as_list is None:
            as_list = converted[id(vector)] = vector.tolist()
        out.append(as_list)
    return out


def now_us() -> int:
    return time.time_ns() // 1000
