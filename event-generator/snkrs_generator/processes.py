"""`--processes N`: the shoppers split over N processes, one merged report.

Process i of N runs the same drops (same ids, products, incident plan) with its share of every phase's
shoppers and of the inventory, seeded from (seed, N, i): the same seed and N give the same traffic. Process 0
alone writes the labels file and reports the drop's gauges."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from click_common.processes import exit_with_parent

from .accounting import CountsSnapshot
from .settings import Settings
from .simulation import PhaseReport, RunReport, log_finished, run

log = logging.getLogger("snkrs_generator")

_stop: threading.Event | None = None


def _init(parent: int, stop, root_level: int, level: int) -> None:
    """In each child: the parent handles signals and says stop through `stop` (a multiprocessing Event)."""
    global _stop
    exit_with_parent(parent)  # a generator killed with SIGKILL takes its shoppers with it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fmt = "%(asctime)s %(levelname)s %(processName)s %(name)s %(message)s"
    logging.basicConfig(level=root_level, format=fmt)
    log.setLevel(level)  # as quiet as the parent's generator logger (a benchmark turns it down)
    _stop = threading.Event()

    def relay() -> None:
        stop.wait()
        assert _stop is not None
        _stop.set()

    threading.Thread(target=relay, name="stop-relay", daemon=True).start()


def _child(settings: Settings, index: int, count: int) -> RunReport:
    return run(settings, stop=_stop, shard=(index, count))


def _add(a: CountsSnapshot, b: CountsSnapshot) -> CountsSnapshot:
    return CountsSnapshot(
        a.emitted + b.emitted, a.handed + b.handed, a.exported + b.exported, a.failed + b.failed
    )


def merge(reports: list[RunReport]) -> RunReport:
    """One report: counts added up, a phase's seconds the longest process's."""
    merged = RunReport()
    phases: dict[tuple[int, str], PhaseReport] = {}
    for report in reports:
        for p in report.phases:
            key = (p.cycle, p.phase.value)
            if (seen := phases.get(key)) is None:
                phases[key] = p
            else:
                phases[key] = replace(
                    seen,
                    seconds=max(seen.seconds, p.seconds),
                    requests=seen.requests + p.requests,
                    spans=_add(seen.spans, p.spans),
                    logs=_add(seen.logs, p.logs),
                )
        merged.spans = _add(merged.spans, report.spans)
        merged.logs = _add(merged.logs, report.logs)
        merged.metric_points = _add(merged.metric_points, report.metric_points)
        merged.worker_errors += report.worker_errors
        merged.backpressure_s += report.backpressure_s
        merged.seconds = max(merged.seconds, report.seconds)
    merged.phases = list(phases.values())
    return merged


def run_processes(settings: Settings, stop: threading.Event | None = None) -> RunReport:
    """`run` over settings.processes processes (one: `run` itself, in this process)."""
    count = settings.processes
    if count <= 1:
        return run(settings, stop=stop)
    context = multiprocessing.get_context("spawn")
    children_stop = context.Event()
    levels = (logging.getLogger().getEffectiveLevel(), log.getEffectiveLevel())
    log.info("generator: %d processes, each with its share of the shoppers", count)
    init = (os.getpid(), children_stop, *levels)
    pool = ProcessPoolExecutor(count, mp_context=context, initializer=_init, initargs=init)
    with pool:
        futures = [pool.submit(_child, settings, index, count) for index in range(count)]
        if stop is not None:
            watcher = threading.Thread(
                target=lambda: (stop.wait(), children_stop.set()), name="stop-watch", daemon=True
            )
            watcher.start()
        reports = [future.result() for future in futures]
    report = merge(reports)
    log_finished(report, f"run finished ({count} processes)")
    return report
