"""The collector stand-in's pipeline: decoded requests → screening → batches → OTLP JSON + rows → exporters.

One pipeline serves both receivers (gRPC and HTTP). A request is decoded and screened in a thread pool (the
event loop also serves the ClickHouse endpoint) and answered once it is batched; the conversion to OTLP JSON
and rows, and the exports, run on the export workers, each batch going to every exporter (the S3 object and
the ClickHouse tables) like the collector's fan-out.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from click_common.text import one_line
from google.protobuf.message import Message

from .batch import Batch, Batcher, PendingBatch, convert
from .payload import Screened, Signal, response, screen
from .sending_queue import FLUSH_TIMEOUT, MIN_SIZE

log = logging.getLogger("local_stack.otlp")


class Overloaded(Exception):
    """More items are waiting to be exported than the queue holds: the client should retry later."""


class BatchExporter(Protocol):
    name: str

    def export(self, batch: Batch) -> None: ...


@dataclass
class PipelineSettings:
    min_size: int = MIN_SIZE  # sending_queue.batch.min_size
    flush_timeout: float = FLUSH_TIMEOUT  # sending_queue.batch.flush_timeout, seconds
    max_queued_items: int = 200_000
    export_workers: int = 2
    stats_interval: float = 10.0


@dataclass
class _Counters:
    received: int = 0
    rejected: int = 0
    exported: int = 0
    batches: int = 0
    failed: int = 0


@dataclass
class PipelineStats:
    by_signal: dict[Signal, _Counters] = field(default_factory=lambda: {s: _Counters() for s in Signal})
    lock: threading.Lock = field(default_factory=threading.Lock)


class OtlpPipeline:
    def __init__(self, exporters: Sequence[BatchExporter], settings: PipelineSettings | None = None) -> None:
        self.exporters = list(exporters)
        self.settings = settings or PipelineSettings()
        self.stats = PipelineStats()
        self._decode_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="otlp-decode")
        self._export_pool = ThreadPoolExecutor(
            max_workers=max(1, self.settings.export_workers), thread_name_prefix="otlp-export"
        )
        self._inflight: set[Future] = set()
        self._inflight_items = 0
        self._inflight_lock = threading.Lock()
        self._batchers: dict[Signal, Batcher] = {}
        self._stats_task: asyncio.Task | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._batchers = {
            s: Batcher(s, self.settings.min_size, self.settings.flush_timeout, self._submit, loop)
            for s in Signal
        }
        if self.settings.stats_interval > 0:
            self._stats_task = loop.create_task(self._log_stats())

    async def stop(self, drain_timeout: float = 120.0) -> None:
        """Flush every pending batch and wait for the exports in flight (what a clean shutdown owes)."""
        if self._stats_task:
            self._stats_task.cancel()
        if self.queued_items:
            log.info("otlp: stopping: exporting the %d items already accepted", self.queued_items)
        for batcher in self._batchers.values():
            batcher.flush()
        with self._inflight_lock:
            pending = list(self._inflight)
        if pending:
            _, not_done = await asyncio.wait([asyncio.wrap_future(f) for f in pending], timeout=drain_timeout)
            if not_done:
                log.warning("otlp: %d batches still exporting after %.0f s; giving up on them", len(not_done),
                            drain_timeout)  # fmt: skip
        self._decode_pool.shutdown(wait=True)
        self._export_pool.shutdown(wait=False, cancel_futures=True)
        for exporter in self.exporters:
            close = getattr(exporter, "close", None)
            if close is not None:
                close()
        self._log_totals()

    def status(self) -> dict:
        with self.stats.lock:
            signals = {s.spec.name: dict(vars(c)) for s, c in self.stats.by_signal.items()}
        return {"signals": signals, "queued": self.queued_items}

    # -- intake ---------------------------------------------------------------------------------

    @property
    def queued_items(self) -> int:
        with self._inflight_lock:
            inflight = self._inflight_items
        return inflight + sum(b.pending_items for b in self._batchers.values())

    async def accept(self, signal: Signal, decode: Callable[[], Message]) -> Message:
        """Decode (raises BadPayload) and screen one request, queue it for its batch, and return the export
        response. Raises Overloaded when the export queue is full, before decoding anything."""
        if self.queued_items >= self.settings.max_queued_items:
            limit = self.settings.max_queued_items
            raise Overloaded(f"{self.queued_items} items waiting for export (max {limit}); retry later")
        loop = asyncio.get_running_loop()
        request, screened = await loop.run_in_executor(self._decode_pool, self._prepare, signal, decode)
        counters = self.stats.by_signal[signal]
        with self.stats.lock:
            counters.received += screened.accepted + screened.rejected
            counters.rejected += screened.rejected
        self._batchers[signal].add(request, screened.accepted)
        return response(signal, screened)

    @staticmethod
    def _prepare(signal: Signal, decode: Callable[[], Message]) -> tuple[Message, Screened]:
        request = decode()
        return request, screen(signal, request)

    # -- export ---------------------------------------------------------------------------------

    def _submit(self, batch: PendingBatch) -> None:
        with self._inflight_lock:
            self._inflight_items += batch.items
            future = self._export_pool.submit(self._export, batch)
            self._inflight.add(future)
        future.add_done_callback(lambda f, n=batch.items: self._done(f, n))

    def _done(self, future: Future, items: int) -> None:
        with self._inflight_lock:
            self._inflight.discard(future)
            self._inflight_items -= items

    def _export(self, pending: PendingBatch) -> None:
        started = time.perf_counter()
        batch = convert(pending)  # the CPU-heavy part: OTLP JSON and rows, off the request path
        ok = True
        for exporter in self.exporters if batch.items else ():
            if batch.signal.spec.name not in getattr(exporter, "signals", (batch.signal.spec.name,)):
                continue  # not in this signal's pipeline (metrics: ClickHouse only)
            try:
                exporter.export(batch)
            except Exception as exc:  # one exporter failing must not stop the others (collector fan-out)
                ok = False
                log.error(
                    "otlp: %s exporter dropped a %s batch of %d items: %s",
                    exporter.name, batch.signal.spec.name, batch.items, one_line(str(exc), 300),
                )  # fmt: skip
        with self.stats.lock:
            counters = self.stats.by_signal[pending.signal]
            counters.batches += 1
            counters.exported += batch.items if ok else 0
            counters.failed += pending.items - (batch.items if ok else 0)
        log.debug("otlp: exported %s batch of %d items in %.3f s", batch.signal.spec.name, batch.items,
                  time.perf_counter() - started)  # fmt: skip

    # -- logs -----------------------------------------------------------------------------------

    async def _log_stats(self) -> None:
        last: dict[Signal, tuple[int, int]] = {s: (0, 0) for s in Signal}
        while True:
            await asyncio.sleep(self.settings.stats_interval)
            parts = []
            with self.stats.lock:
                for signal, c in self.stats.by_signal.items():
                    received, batches = c.received - last[signal][0], c.batches - last[signal][1]
                    last[signal] = (c.received, c.batches)
                    if received or batches:
                        parts.append(f"{signal.spec.name}={received} in {batches} batches")
            if parts:
                log.info("otlp: last %.0f s: %s; queued=%d", self.settings.stats_interval, ", ".join(parts),
                         self.queued_items)  # fmt: skip

    def _log_totals(self) -> None:
        with self.stats.lock:
            parts = [
                f"{s.spec.name} received={c.received} rejected={c.rejected} "
                f"exported={c.exported} failed={c.failed}"
                for s, c in self.stats.by_signal.items()
                if c.received
            ]
        if parts:
            log.info("otlp: totals: %s", "; ".join(parts))
