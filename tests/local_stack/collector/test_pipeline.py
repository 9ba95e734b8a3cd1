"""The receiver's pipeline with recording exporters: fan-out, flush on shutdown, backpressure."""

from __future__ import annotations

import asyncio
import threading

import pytest
from local_stack.collector.batch import Batch
from local_stack.collector.payload import BadPayload, Signal, decode_protobuf
from local_stack.collector.pipeline import OtlpPipeline, Overloaded, PipelineSettings

from tests.support.otlp_samples import traces_request


class Recording:
    def __init__(self, name: str, fail: bool = False, gate: threading.Event | None = None) -> None:
        self.name, self.fail, self.gate = name, fail, gate
        self.batches: list[Batch] = []

    def export(self, batch: Batch) -> None:
        if self.gate is not None:
            self.gate.wait(10)
        if self.fail:
            raise RuntimeError("bucket unreachable\nsecond line")
        self.batches.append(batch)


def _body(spans: int) -> bytes:
    return traces_request(spans=spans).SerializeToString()


def _accept(pipeline: OtlpPipeline, body: bytes):
    return pipeline.accept(Signal.TRACES, lambda: decode_protobuf(Signal.TRACES, body))


def test_every_exporter_gets_every_batch_and_shutdown_flushes_the_pending_one() -> None:
    s3, clickhouse = Recording("s3", fail=True), Recording("clickhouse")

    async def run() -> OtlpPipeline:
        pipeline = OtlpPipeline(
            [s3, clickhouse], PipelineSettings(min_size=5, flush_timeout=60, stats_interval=0)
        )
        pipeline.start()
        for _ in range(3):
            await _accept(pipeline, _body(3))  # 9 spans: one batch of 6 goes at once, 3 wait for the timeout
        await pipeline.stop()  # ... or for the shutdown
        return pipeline

    pipeline = asyncio.run(run())
    assert [b.items for b in clickhouse.batches] == [6, 3]
    assert sum(len(b.tables["otel_traces"]) for b in clickhouse.batches) == 9
    stats = pipeline.stats.by_signal[Signal.TRACES]
    assert (stats.received, stats.batches, stats.failed, stats.exported) == (9, 2, 9, 0)


def test_a_full_queue_refuses_before_decoding_and_recovers() -> None:
    gate = threading.Event()
    slow = Recording("slow", gate=gate)

    async def run() -> None:
        settings = PipelineSettings(min_size=4, flush_timeout=60, max_queued_items=8, stats_interval=0)
        pipeline = OtlpPipeline([slow], settings)
        pipeline.start()
        await _accept(pipeline, _body(4))
        await _accept(pipeline, _body(4))
        with pytest.raises(Overloaded, match="8 items waiting for export"):
            await _accept(pipeline, b"not even decoded")
        gate.set()
        for _ in range(100):
            if pipeline.queued_items == 0:
                break
            await asyncio.sleep(0.02)
        await _accept(pipeline, _body(4))
        with pytest.raises(BadPayload):
            await _accept(pipeline, b"\x0a\xff\xff\xff\xff\x0f")
        await pipeline.stop()

    asyncio.run(run())
    assert [b.items for b in slow.batches] == [4, 4, 4]
