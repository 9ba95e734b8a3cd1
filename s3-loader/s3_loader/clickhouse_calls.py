"""The loader's ClickHouse connection, shared by the warehouse writes and the bookkeeping: made on first use,
every call waited out through an outage (backoff), until stopped or, for --once, give_up_after seconds."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from click_common import clickhouse
from click_common.backoff import call_with_backoff
from clickhouse_connect.driver.client import Client

from .settings import LoaderSettings

log = logging.getLogger("s3_loader")
T = TypeVar("T")
Outage = Callable[[BaseException], bool]  # which errors are waited out (retried with backoff)


class ClickHouseCalls:
    def __init__(self, settings: LoaderSettings, stop: threading.Event | None = None) -> None:
        self.settings = settings
        self.stop = stop
        self.give_up_after: float | None = None  # set for --once: how long an outage may last
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = self(self._connect)
        return self._client

    def _connect(self) -> Client:
        return clickhouse.client_from(self.settings, query_retries=0)  # the retries are __call__'s

    def __call__(self, fn: Callable[[], T], is_outage: Outage = clickhouse.is_outage) -> T:
        s = self.settings
        return call_with_backoff(
            s.describe(), is_outage, fn,
            log=log, max_wait=s.max_outage_backoff, stop=self.stop, give_up_after=self.give_up_after,
        )  # fmt: skip

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
