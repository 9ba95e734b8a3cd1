"""The polling loader picks up new files within about a second, even after idling between them, and files
outside the recent partitions with the next full listing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import orjson
from s3_loader.listing import recent_prefixes
from s3_loader.settings import LoaderSettings

from .conftest import PARTITION, REPO


def loaded(stack, key: str) -> bool:
    query = "SELECT count() FROM otel.s3_loader_files FINAL WHERE key = {key:String} AND status = 'loaded'"
    return stack.client().query(query, parameters={"key": key}).result_rows[0][0] > 0


@contextmanager
def polling_loader(stack, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """`python -m s3_loader` polling with these settings (output to `log`), stopped on the way out."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "s3_loader"], env=stack.env(**env), cwd=REPO, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_new_files_are_loaded_within_seconds_after_idling(stack, unique_key, trace_doc, tmp_path):
    s3 = stack.s3()
    log = tmp_path / "loader.log"
    # The old fixed poll (30 s here) is only the cap of the idle backoff: a file arriving after a short
    # idle spell is picked up by the next short poll.
    with polling_loader(
        stack, log, LOADER_PARSE_WORKERS="0", LOADER_POLL_INTERVAL="30", LOADER_MIN_POLL_INTERVAL="0.5"
    ) as proc:
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


def test_files_outside_the_recent_partitions_wait_for_a_full_listing(stack, trace_doc, tmp_path):
    """Between full listings a pass lists only recent partitions; a file elsewhere under the prefix (older
    than the late window, or another layout) is loaded by the next full listing, LOADER_FULL_LIST_SECONDS at
    the latest."""
    s3 = stack.s3()
    log = tmp_path / "loader.log"
    with polling_loader(
        stack, log, LOADER_PARSE_WORKERS="0", LOADER_POLL_INTERVAL="0.5", LOADER_FULL_LIST_SECONDS="4"
    ) as proc:
        while b"loading s3://" not in log.read_bytes():
            assert proc.poll() is None, log.read_text()[-3000:]
            time.sleep(0.1)
        key = "otel/year=2020/month=01/day=01/hour=00/minute=00/traces_000000001.json"
        s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(5)))
        put = time.monotonic()
        while not loaded(stack, key):
            assert time.monotonic() < put + 30, log.read_text()[-3000:]
            time.sleep(0.1)
        assert time.monotonic() - put < 4 + 3  # one full listing interval, plus a pass


def test_a_late_file_is_loaded_by_the_late_listing_and_an_old_one_waits_for_the_full_listing(
    stack, unique_key, trace_doc, tmp_path
):
    """A file uploaded into a partition five minutes old (a late upload) is loaded by the next late listing
    (the last LOADER_LATE_WINDOW_SECONDS of partitions, every LOADER_LATE_LIST_SECONDS); a file of 2020 is
    outside that window and waits for the next full listing, an hour away: the late listing is bounded."""
    s3 = stack.s3()
    log = tmp_path / "loader.log"
    with polling_loader(
        stack, log, LOADER_PARSE_WORKERS="0", LOADER_POLL_INTERVAL="0.5", LOADER_LATE_LIST_SECONDS="3",
        LOADER_FULL_LIST_SECONDS="3600",
    ) as proc:  # fmt: skip
        marker = unique_key("traces.json")  # loaded: the first pass (the full listing) is behind us
        s3.put_object(Bucket=stack.bucket, Key=marker, Body=orjson.dumps(trace_doc(2)))
        deadline = time.monotonic() + 60
        while not loaded(stack, marker):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        late = f"{time.strftime(PARTITION, time.gmtime(time.time() - 300))}traces_000000002.json"
        old = "otel/year=2020/month=01/day=01/hour=00/minute=00/traces_000000003.json"
        for key in (late, old):
            s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(3)))
        put = time.monotonic()
        while not loaded(stack, late):
            assert time.monotonic() < put + 3 + 10, log.read_text()[-3000:]
            time.sleep(0.1)
        time.sleep(4)  # another late listing: still not the 2020 file
        assert not loaded(stack, old), log.read_text()[-3000:]


def test_recent_prefixes_are_the_current_partition_and_the_previous_in_its_first_seconds():
    settings = LoaderSettings(_env_file=None, s3_prefix="otel", parse_workers=0)
    assert recent_prefixes(settings, datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC)) == [
        "otel/year=2025/month=12/day=31/hour=23/minute=59/",
        "otel/year=2026/month=01/day=01/hour=00/minute=00/",
    ]
    assert recent_prefixes(settings, datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)) == [
        "otel/year=2026/month=01/day=01/hour=00/minute=01/",
    ]
    per_second = settings.model_copy(update={"recent_partition_format": "%H/%M/%S"})
    # a finer partitioning: every partition of the last 20 s
    assert len(recent_prefixes(per_second, datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC))) == 21
