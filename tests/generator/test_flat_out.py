"""Flat out (no think time): the shoppers take turns in one thread; every phase runs, nothing is lost, every
shopper gets its turns and every trace is one tree."""

from __future__ import annotations

from collections import defaultdict

from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from snkrs_generator import Exporters, Settings, run


def test_flat_out_runs_every_phase_and_loses_nothing():
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    settings = Settings(_env_file=None, seed=3, cycles=1, time_scale=150, flat_out=True)
    report = run(settings, Exporters(spans, logs))
    assert report.complete and report.worker_errors == 0
    assert [p.phase.value for p in report.phases] == ["PRE_DROP", "DROP_LIVE", "POST_DROP"]
    live = report.phases[1]
    # the 40 shoppers of the drop take turns: a round is one request each
    assert live.requests >= settings.drop_live.workers
    finished = spans.get_finished_spans()
    assert len(finished) == report.spans.exported > 0
    assert all(p.spans.emitted > 0 for p in report.phases)
    by_trace = defaultdict(list)
    for span in finished:
        by_trace[span.context.trace_id].append(span)
    for trace in by_trace.values():
        ids = {s.context.span_id for s in trace}
        roots = [s for s in trace if s.parent is None]
        assert len(roots) == 1, [s.name for s in trace]
        assert all(s.parent is None or s.parent.span_id in ids for s in trace)


def test_flat_out_stops_promptly_and_flushes():
    import threading
    import time

    spans = InMemorySpanExporter()
    settings = Settings(_env_file=None, seed=4, cycles=1, time_scale=1, flat_out=True)  # a 210 s cycle
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    report = run(settings, Exporters(spans, InMemoryLogRecordExporter()), stop=stop)
    assert time.monotonic() - started < 10
    assert report.complete and report.spans.exported == len(spans.get_finished_spans()) > 0
