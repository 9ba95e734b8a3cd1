"""The parse processes: otlp_rows' conversion runs in `parse_workers` spawned processes (which exit with the
loader), or in the loader process itself when there are none."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from click_common.processes import exit_with_parent


class InlineExecutor(Executor):
    """parse_workers = 0: parse in the loader process itself."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def parse_pool(workers: int) -> Executor:
    if workers <= 0:
        return InlineExecutor()
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )
