"""The polling loader picks up new files within about a second, even after idling between them."""

from __future__ import annotations

import subprocess
import sys
import time

import orjson

from .conftest import REPO


def loaded(stack, key: str) -> bool:
    query = "SELECT count() FROM otel.s3_loader_files FINAL WHERE key = {key:String} AND status = 'loaded'"
    return stack.client().query(query, parameters={"key": key}).result_rows[0][0] > 0


def test_new_files_are_loaded_within_seconds_after_idling(stack, unique_key, trace_doc, tmp_path):
    s3 = stack.s3()
    log = tmp_path / "loader.log"
    # The old fixed poll (30 s here) is only the cap of the idle backoff: a file arriving after a short
    # idle spell is picked up by the next short poll.
    env = stack.env(LOADER_PARSE_WORKERS="0", LOADER_POLL_INTERVAL="30", LOADER_MIN_POLL_INTERVAL="0.5")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "s3_loader"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        lags = []
        for n, idle in enumerate((0.0, 1.0, 0.7, 1.2)):
            time.sleep(idle)
            key = unique_key("traces.json")
            s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(5, seed=n)))
            put = time.monotonic()
            deadline = put + (60 if n == 0 else 10)  # the first one waits for the loader to start
            while not loaded(stack, key):
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"file {n} not loaded:\n{log.read_text()[-3000:]}"
                time.sleep(0.05)
            lags.append(time.monotonic() - put)
        assert max(lags[1:]) < 2.5, lags
    finally:
        proc.terminate()
        proc.wait(timeout=30)
