"""The enrichment loop: read pending spans in arrival order, text them, embed them, write them, record
the watermark. Exactly once: the write is idempotent (ReplacingMergeTree on TraceId, SpanId) and each
read skips spans already written, looking back `lookback` behind the watermark for late commits."""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from click_common.backoff import QUICK_POLLS_AFTER_WORK, idle_poll_delay
from click_common.migrations import HOW_TO_MIGRATE

from .embedder import Embedder, EmbedStats, Model, VectorCache
from .settings import DEFAULT_MODEL_NAME, Settings
from .span_text import ATTRIBUTES, span_text
from .store import STATE, TARGET, SourceSpan, Store, TablesMissing, now_us

log = logging.getLogger("enricher")


def fmt_us(us: int) -> str:
    if us <= 0:
        return "start"
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass
class PassResult:
    spans: int = 0
    seconds: float = 0.0
    stats: EmbedStats = field(default_factory=EmbedStats)


class Enricher:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        embedder: Embedder,
        model_name: str,
        stopping: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.model_name = model_name
        self.attribute_keys = [key for _, keys in ATTRIBUTES for key in keys] + settings.extra_attributes
        self.stopping = stopping or threading.Event()
        self.total = EmbedStats()

    @classmethod
    def start(cls, settings: Settings, stopping: threading.Event, once: bool = False) -> Enricher:
        """Check the tables, load the model, check its dimension against the table, warm the cache.
        `stopping` (set on SIGTERM) also ends any wait for ClickHouse."""
        store = Store(
            settings,
            retry_max_seconds=settings.retry_max_seconds,
            give_up_seconds=settings.once_give_up_seconds if once else None,
            stop_event=stopping,
        )
        missing = store.missing_tables()
        if missing:
            raise TablesMissing(
                f"enricher: missing table {', '.join(missing)} — {HOW_TO_MIGRATE} "
                "(the enricher never creates tables)"
            )
        path = settings.resolved_model()
        started = time.perf_counter()
        model = Model(path, batch_size=settings.batch_size, threads=settings.threads)
        model.encode(["warm-up: api-gateway server span GET /feed; ok"])  # torch's first run is slow
        model_name = settings.model_name or (Path(path).name if settings.model else DEFAULT_MODEL_NAME)
        table_dimension = store.vector_dimension()
        if table_dimension != model.dimension:
            raise SystemExit(
                f"enricher: model {model_name} gives {model.dimension}-d vectors but {TARGET}'s "
                f"vector index is {table_dimension}-d — use a matching model (ENRICHER_MODEL) or change "
                "the table"
            )
        log.info(
            "model %s loaded in %.1fs (%d-d, reads %d tokens, batch %d, threads %s)",
            model_name, time.perf_counter() - started, model.dimension, model.max_tokens,
            settings.batch_size, settings.threads or "default",
        )  # fmt: skip
        embedder = Embedder(model, VectorCache(settings.cache_size))
        warm_limit = min(settings.cache_size, 10000)
        loaded = embedder.warm(store.recent_vectors(model_name, settings.cache_warm_minutes, warm_limit))
        if loaded:
            log.info(
                "cache warmed with %d texts enriched in the last %d min", loaded, settings.cache_warm_minutes
            )
        return cls(settings, store, embedder, model_name, stopping)

    def run_batch(self, watermark_us: int) -> tuple[int, int]:
        """One batch; returns (spans written, new watermark)."""
        started = time.perf_counter()
        since = max(watermark_us - int(self.settings.lookback_seconds * 1e6), 0)
        spans = self.store.pending(since, self.settings.read_rows, self.attribute_keys)
        if not spans:
            return 0, watermark_us
        read = time.perf_counter()
        texts = [span_text(s.fields, self.settings.extra_attributes) for s in spans]
        ends, stats = self.embedder.plan(texts, self.settings.batch_size)
        prepared = time.perf_counter()
        model, writes, write = self._embed_and_write(spans, texts, ends)
        written = time.perf_counter()
        newest = max(s.inserted_us for s in spans)
        watermark_us = max(watermark_us, newest)
        seconds = written - started
        self.store.record_progress(self.settings.name, watermark_us, stats, seconds)
        self.total.add(stats)
        log.info(
            "enriched %d spans in %.2fs (%.0f spans/s; read %.2fs, texts %.2fs, model %.2fs, %d writes "
            "%.2fs, progress %.2fs): %d distinct texts, %d from cache, %d embedded; watermark %s, lag %.1fs",
            len(spans), seconds, len(spans) / seconds if seconds else 0.0, read - started, prepared - read,
            model, writes, write, time.perf_counter() - written, stats.distinct, stats.cache_hits,
            stats.embedded, fmt_us(watermark_us), (now_us() - newest) / 1e6,
        )  # fmt: skip
        return len(spans), watermark_us

    def _embed_and_write(
        self, spans: list[SourceSpan], texts: list[str], ends: list[int]
    ) -> tuple[float, int, float]:
        """The model runs on batch_size new texts at a time (the chunks up to `ends`); what is done is
        inserted, in arrival order, once write_seconds passed since the last insert, so a burst of new texts
        does not hold back the whole batch (a crash between two inserts is redone like any other batch: the
        read skips what landed). Returns (model seconds, inserts, insert seconds)."""
        model = write = 0.0
        start = done = writes = 0
        finals: list[str] = []
        vectors: list[np.ndarray] = []
        last_write = time.perf_counter()
        for end in ends:
            step = time.perf_counter()
            final, chunk_vectors, _ = self.embedder.embed(texts[start:end])
            finals, vectors, start = finals + final, vectors + chunk_vectors, end
            now = time.perf_counter()
            model += now - step
            if end == len(spans) or now - last_write >= self.settings.write_seconds:
                s = self.settings
                self.store.write(spans[done:end], finals, vectors, self.model_name, s.index_on_insert)
                last_write = time.perf_counter()
                write += last_write - now
                done, writes, finals, vectors = end, writes + 1, [], []
        return model, writes, write

    def catch_up(self) -> PassResult:
        """Batches until nothing is pending (or a stop was asked for)."""
        result = PassResult()
        started = time.perf_counter()
        before = EmbedStats(**vars(self.total))
        watermark = self.store.watermark(self.settings.name)
        while not self.stopping.is_set():
            written, watermark = self.store.retrying(lambda wm=watermark: self.run_batch(wm))
            result.spans += written
            if written < self.settings.read_rows:
                break
        result.seconds = time.perf_counter() - started
        result.stats = EmbedStats(
            texts=self.total.texts - before.texts,
            distinct=self.total.distinct - before.distinct,
            cache_hits=self.total.cache_hits - before.cache_hits,
            embedded=self.total.embedded - before.embedded,
        )
        return result

    def run(self, once: bool) -> int:
        log.info(
            "enricher started: %s → %s (progress in %s, lookback %.0fs, %d spans per batch)%s",
            "otel.otel_traces", TARGET, STATE, self.settings.lookback_seconds, self.settings.read_rows,
            " — one pass" if once else "",
        )  # fmt: skip
        idle = 0
        while not self.stopping.is_set():
            result = self.catch_up()
            idle = 0 if result.spans else idle + 1
            if result.spans:
                log.info(
                    "caught up: %d spans in %.1fs (%.0f spans/s), %.1f%% needed no model run",
                    result.spans, result.seconds, result.spans / result.seconds if result.seconds else 0.0,
                    100 * result.stats.reuse_rate,
                )  # fmt: skip
            elif once:
                log.info("nothing pending")
            if once:
                break
            # new work is picked up within min_poll_seconds; after 10 empty polls the poll backs off to
            # poll_seconds
            s = self.settings
            delay = idle_poll_delay(idle, s.min_poll_seconds, s.poll_seconds, QUICK_POLLS_AFTER_WORK)
            self.stopping.wait(delay)
        self.store.close()
        return 0


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM / SIGINT: the loop stops after its current batch."""
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: stopping after the current batch", signal.Signals(signum).name)
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    return stopping
