"""Exactly-once under SIGKILL: kill the loader at random points while it loads 200 files, restart it
(sometimes two at once), repeat; the final table holds every span exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

FILES = 200
REPO = Path(__file__).resolve().parents[2]


def start_loader(stack, repo, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "s3_loader"],
        env=stack.env(**env),
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes its parse workers with it
    )


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_sigkill_at_random_points_neither_loses_nor_duplicates(stack, run_loader, unique_key, trace_doc):
    rnd = random.Random(20261122)
    s3 = stack.s3()
    sizes = [rnd.randrange(5, 40) for _ in range(FILES)]
    expected = sum(sizes)
    with ThreadPoolExecutor(8) as uploads:
        for upload in [
            uploads.submit(
                s3.put_object, Bucket=stack.bucket, Key=unique_key("traces.json"), Body=orjson.dumps(doc)
            )
            for doc in (trace_doc(n, i) for i, n in enumerate(sizes))
        ]:
            upload.result()

    client = stack.client()
    count = lambda: client.query("SELECT count() FROM otel.otel_traces").result_rows[0][0]  # noqa: E731
    env = {"LOADER_BATCH_FILES": "3", "LOADER_POLL_INTERVAL": "0.2"}
    interrupted = 0  # kills that landed while files were still loading
    for round_ in range(10):
        workers = {"LOADER_PARSE_WORKERS": "1" if round_ % 3 == 2 else "0"}
        loaders = [start_loader(stack, REPO, **env, **workers)]
        if round_ % 2 == 1:  # two loaders at once
            loaders.append(start_loader(stack, REPO, **env, **workers))
        # short enough that three kills land mid-load on a quiet machine too (200 files take ~3 s of loading)
        time.sleep(rnd.uniform(0.6, 1.8))
        for process in loaders:
            kill(process)
        loaded = count()
        print(f"round {round_}: {loaded} of {expected}")
        assert loaded <= expected  # never a duplicate, even mid-way
        interrupted += loaded < expected
        if loaded == expected:
            break
    assert interrupted >= 3

    done = run_loader("--once", LOADER_PARSE_WORKERS="0")
    assert done.returncode == 0, done.stderr
    assert count() == expected
    assert client.query("SELECT uniqExact(SpanId) FROM otel.otel_traces").result_rows == [(expected,)]
    assert client.query("SELECT count() FROM otel.otel_traces_trace_id_ts").result_rows == [(expected,)]
    files = client.query(
        "SELECT status, count(), sum(rows) FROM otel.s3_loader_files FINAL GROUP BY status"
    ).result_rows
    assert files == [("loaded", FILES, expected)]
