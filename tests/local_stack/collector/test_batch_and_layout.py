"""The exporter queue's min_size/flush_timeout rule and the awss3exporter's key layout (pure)."""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
from datetime import UTC, datetime

import orjson
from local_stack.__main__ import warn_deprecated
from local_stack.collector.batch import Batcher, PendingBatch, convert
from local_stack.collector.payload import Signal
from local_stack.s3.layout import UUIDV7_PATTERN, object_body, uuidv7
from local_stack.settings import LocalStackSettings
from otlp_rows.layout import object_key

from tests.support.otlp_samples import traces_request


def _doc(n: int) -> dict:
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": [{"name": "x"}] * n}]}]}


def test_batch_goes_out_at_min_size_without_waiting() -> None:
    async def run() -> list[PendingBatch]:
        out: list[PendingBatch] = []
        batcher = Batcher(Signal.TRACES, min_size=10, flush_timeout=60, flush=out.append)
        batcher.add(traces_request(spans=4, service="a"), 4)
        assert out == []
        batcher.add(traces_request(spans=6, service="b"), 6)
        return out

    out = asyncio.run(run())
    assert len(out) == 1
    assert out[0].items == 10
    batch = convert(out[0])  # what the exporters get: one document, and the same spans as rows
    assert batch.items == 10
    services = [
        r["resource"]["attributes"][0]["value"]["stringValue"] for r in batch.document()["resourceSpans"]
    ]
    assert services == ["a", "b"]
    assert [row[7] for row in batch.tables["otel_traces"]] == ["a"] * 4 + ["b"] * 6


def test_a_request_the_row_conversion_refuses_is_left_out_of_both_sinks() -> None:
    bad = traces_request(spans=2, service="bad")
    bad.resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano = 1 << 63  # unscreened: out of range
    batch = convert(PendingBatch(Signal.TRACES, [(traces_request(spans=3), 3), (bad, 2)], 5))
    assert batch.items == 3
    assert len(batch.resources) == 1 and len(batch.tables["otel_traces"]) == 3


def test_batch_goes_out_after_the_timeout_and_empty_requests_make_no_batch() -> None:
    async def run() -> tuple[list[PendingBatch], float]:
        out: list[PendingBatch] = []
        batcher = Batcher(Signal.TRACES, min_size=1000, flush_timeout=0.05, flush=out.append)
        batcher.add(traces_request(spans=0), 0)
        batcher.add(traces_request(spans=3), 3)
        started = asyncio.get_running_loop().time()
        while not out:
            await asyncio.sleep(0.01)
        waited = asyncio.get_running_loop().time() - started
        await asyncio.sleep(0.1)  # no second (empty) batch follows
        return out, waited

    out, waited = asyncio.run(run())
    assert [b.items for b in out] == [3]
    assert 0.04 <= waited < 1.0


def test_object_key_is_the_exporters_layout_at_upload_time() -> None:
    when = datetime(2026, 3, 7, 9, 5, 59, tzinfo=UTC)
    assert object_key("otel", "traces", when, 42, False) == (
        "otel/year=2026/month=03/day=07/hour=09/minute=05/traces_000000042.json"
    )
    assert object_key("", "logs", when, 123456789, True).endswith("minute=05/logs_123456789.json.gz")
    keys = [uuidv7() for _ in range(1000)]
    assert all(re.fullmatch(UUIDV7_PATTERN, key) for key in keys)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # time-ordered: a lister sees upload order


def test_object_body_is_one_compact_document_optionally_gzipped() -> None:
    doc = _doc(2)
    plain = object_body(doc, compressed=False)
    assert plain == orjson.dumps(doc) and b"\n" not in plain
    assert gzip.decompress(object_body(doc, compressed=True)) == plain


def test_the_old_batching_names_still_set_min_size_and_flush_timeout(monkeypatch, caplog) -> None:
    """LOCAL_STACK_OTLP_SEND_BATCH_SIZE / _BATCH_TIMEOUT are the stand-in's names before it took the collector
    config's (min_size, flush_timeout): still read, with one warning line each."""
    monkeypatch.setenv("LOCAL_STACK_OTLP_SEND_BATCH_SIZE", "17")
    monkeypatch.setenv("LOCAL_STACK_OTLP_BATCH_TIMEOUT", "0.5")
    settings = LocalStackSettings()
    assert (settings.otlp_min_size, settings.otlp_flush_timeout) == (17, 0.5)
    monkeypatch.setenv("LOCAL_STACK_OTLP_MIN_SIZE", "23")
    assert LocalStackSettings().otlp_min_size == 23  # the new name wins
    with caplog.at_level(logging.WARNING):
        warn_deprecated({"LOCAL_STACK_OTLP_SEND_BATCH_SIZE": "17"})
    said = "LOCAL_STACK_OTLP_SEND_BATCH_SIZE is deprecated: set LOCAL_STACK_OTLP_MIN_SIZE instead"
    assert said in caplog.text
