"""The two exporters every batch goes to, as in the Docker stack's collector: awss3 (one OTLP JSON object per
batch) and clickhouse (rows into the `default` tables). Each retries with backoff like the collector's
`retry_on_failure` (give up after `retry_for` seconds, logging one line per failed attempt)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from click_common.text import one_line
from otlp_rows.layout import PARTITION_FORMAT, object_key
from tenacity import RetryCallState, Retrying, stop_after_delay, wait_exponential

from ..s3.layout import object_body, uuidv7
from .batch import Batch
from .rows import table_columns

log = logging.getLogger("local_stack.otlp")


def _retrying(what: str, retry_for: float) -> Retrying:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "otlp: %s failed (attempt %d, retrying in %.1f s): %s",
            what, state.attempt_number, state.next_action.sleep if state.next_action else 0,
            one_line(str(exc), 200) if exc else "?",
        )  # fmt: skip

    return Retrying(
        stop=stop_after_delay(retry_for),
        wait=wait_exponential(multiplier=0.2, max=10),
        before_sleep=before_sleep,
        reraise=True,
    )


class S3Exporter:
    name = "awss3"
    signals = frozenset({"traces", "logs"})  # as the collector config: metrics go to ClickHouse only

    def __init__(
        self,
        client,
        bucket: str,
        prefix: str,
        compressed: bool = False,
        partition_format: str = PARTITION_FORMAT,
        retry_for: float = 300.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.bucket, self.prefix, self.compressed = bucket, prefix, compressed
        self.partition_format = partition_format
        self.retry_for = retry_for
        self.clock = clock
        self._used: set[str] = set()
        self._used_partition = ""
        self._lock = threading.Lock()

    def _new_key(self, signal: str) -> str:
        """A fresh key: a uuidv7 as the config's unique_key_func_name asks, never reused by this process."""
        now = self.clock()
        with self._lock:
            partition = now.strftime(self.partition_format)
            if partition != self._used_partition:
                self._used, self._used_partition = set(), partition
            while True:
                key = object_key(self.prefix, signal, now, uuidv7(), self.compressed, self.partition_format)
                if key not in self._used:
                    self._used.add(key)
                    return key

    def export(self, batch: Batch) -> None:
        body = object_body(batch.document(), self.compressed)
        key = self._new_key(batch.signal.spec.name)
        extra = {"ContentEncoding": "gzip"} if self.compressed else {}  # the exporter sets nothing else
        for attempt in _retrying(f"s3 upload of {key}", self.retry_for):
            with attempt:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **extra)
        log.debug("otlp: s3 %s (%d items, %d bytes)", key, batch.items, len(body))


class ClickHouseExporter:
    name = "clickhouse"

    def __init__(
        self, client_factory: Callable[[], object], database: str = "default", retry_for: float = 300.0
    ):
        self.client_factory = client_factory
        self.database = database
        self.retry_for = retry_for
        self._local = threading.local()
        self._clients: list = []

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client_factory()
            self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    def export(self, batch: Batch) -> None:
        for table, rows in batch.tables.items():
            target = f"{self.database}.{table}"
            for attempt in _retrying(f"insert of {len(rows)} rows into {target}", self.retry_for):
                with attempt:
                    self._client().insert(target, rows, column_names=list(table_columns(table)))
