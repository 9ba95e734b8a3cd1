"""Batching like the collector's exporter queues (`sending_queue.batch`): a batch goes out at `min_size` items
or `flush_timeout` after its first item, whichever comes first. Items are spans, log records or metric data
points.

The batcher holds the screened request messages; they become OTLP JSON and table rows only in the export
worker (`convert`), so a client's request is answered as soon as it is decoded and checked — the collector's
queue is asynchronous in the same way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from .payload import BadPayload, Signal
from .rows import table_rows

log = logging.getLogger("local_stack.otlp")


@dataclass
class Batch:
    """What the exporters get: one OTLP JSON document's resources and the same data as table rows."""

    signal: Signal
    resources: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, list[list]] = field(default_factory=dict)  # table → rows, in the exporter's columns
    items: int = 0

    def document(self) -> dict[str, Any]:
        """One OTLP JSON document, resources appended in arrival order (the collector merges the same way)."""
        return {self.signal.spec.rows.keys[0]: self.resources} if self.resources else {}


@dataclass
class PendingBatch:
    signal: Signal
    requests: list[tuple[Message, int]] = field(default_factory=list)  # (screened request, its items)
    items: int = 0


def convert(pending: PendingBatch) -> Batch:
    """The requests of a batch → OTLP JSON resources + rows. A request the row conversion refuses (screening
    should have caught it) is left out of both, so the S3 object and the tables never disagree."""
    batch = Batch(pending.signal)
    for request, items in pending.requests:
        document = pending.signal.spec.to_json(request)
        try:
            tables = table_rows(pending.signal, document)
        except BadPayload as exc:
            log.error("otlp: dropped a %s request of %d items: %s", pending.signal.spec.name, items, exc)
            continue
        batch.resources.extend(document.get(pending.signal.spec.rows.keys[0], []))
        for table, rows in tables.items():
            if rows:
                batch.tables.setdefault(table, []).extend(rows)
        batch.items += items
    return batch


class Batcher:
    """One signal's pending batch. Runs on the event loop; `flush` hands a full batch to the exporter."""

    def __init__(
        self,
        signal: Signal,
        min_size: int,
        flush_timeout: float,
        flush: Callable[[PendingBatch], None],
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.signal = signal
        self.min_size = max(1, min_size)
        self.flush_timeout = flush_timeout
        self._flush = flush
        self._loop = loop
        self._pending = PendingBatch(signal)
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pending_items(self) -> int:
        return self._pending.items

    def add(self, request: Message, items: int) -> None:
        if items <= 0:  # the collector uploads no empty batches
            return
        self._pending.requests.append((request, items))
        self._pending.items += items
        if self._pending.items >= self.min_size or self.flush_timeout <= 0:
            self.flush()
        elif self._timer is None:
            loop = self._loop or asyncio.get_running_loop()
            self._timer = loop.call_later(self.flush_timeout, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._pending.requests:
            return
        pending, self._pending = self._pending, PendingBatch(self.signal)
        self._flush(pending)
