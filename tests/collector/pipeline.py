"""Helpers of the conformance tests: send OTLP/JSON, run the generator and the loader as processes, wait for
rows, and compare two tables column by column."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from local_stack.launch import Launcher, exported_spans

from tests.support.generator_env import COMPRESSED_DROP
from tests.support.stack import REPO

SIGNAL_TABLES = {"traces": "otel_traces", "logs": "otel_logs"}
METRIC_TABLES = ("gauge", "sum", "histogram", "exponential_histogram", "summary")


def post_json(base_url: str, signal: str, document: Any) -> tuple[int, bytes]:
    body = document if isinstance(document, bytes) else orjson.dumps(document)
    request = urllib.request.Request(
        f"{base_url}/v1/{signal}", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(what: str, predicate: Callable[[], Any], timeout: float, tail: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})\n{tail()}")


def settled_count(
    client,
    table: str,
    at_least: int,
    quiet_s: float = 2.0,
    timeout: float = 120.0,
    tail: Callable[[], str] = str,
) -> int:
    """The table's row count once it reached `at_least` and stopped growing for `quiet_s`."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = client.command(f"SELECT count() FROM {table}")
        if count != last:
            last, since = count, time.monotonic()
        elif count >= at_least and time.monotonic() - since >= quiet_s:
            return count
        time.sleep(0.3)
    pytest.fail(f"{table}: {last} rows after {timeout:.0f} s, expected at least {at_least}\n{tail()}")


def run_generator(stack: Launcher, otlp_http_url: str, log_dir: Path, seed: int = 11) -> int:
    """One compressed drop cycle into `otlp_http_url`; returns the spans the generator says it exported."""
    env = {**COMPRESSED_DROP, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_http_url}
    generator = stack.run("snkrs_generator", "--once", "--seed", str(seed), env=env, log_dir=log_dir)
    last = generator.output().splitlines()[-1]
    exported = exported_spans(last)
    assert exported is not None, last
    return exported


def run_loader_once(stack: Launcher, log_dir: Path, sql_min_bytes: int = 0) -> str:
    """One loader pass. sql_min_bytes=0: small test documents still take ClickHouse's conversion when it can
    do it (the SQL path is checked); a large value keeps every document on the otlp_rows path."""
    env = {"LOADER_SQL_MIN_BYTES": str(sql_min_bytes)}
    return stack.run("s3_loader", "--once", env=env, log_dir=log_dir).output()


def run_bench(stack: Launcher) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "local_stack.tools.bench", "--settle", "0"],
        env=stack.env(), capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def except_both_ways(client, left: str, right: str) -> tuple[int, int, list]:
    """Rows of `left` not in `right`, rows of `right` not in `left` (every column, EXCEPT), and a sample.
    Rows are compared as their TabSeparated text, where NaN equals NaN (as a value it does not)."""
    rows = "SELECT formatRow('TabSeparated', *) AS r FROM {}"
    diff = f"SELECT r FROM ({rows} EXCEPT {rows})"
    only_left = client.command(f"SELECT count() FROM ({diff.format(left, right)})")
    only_right = client.command(f"SELECT count() FROM ({diff.format(right, left)})")
    sample = []
    if only_left or only_right:
        sample = [
            (side, row)
            for side, (a, b) in (("only " + left, (left, right)), ("only " + right, (right, left)))
            for (row,) in client.query(f"{diff.format(a, b)} LIMIT 3").result_rows
        ]
    return int(only_left), int(only_right), sample


def snapshot(client, database: str, tables: dict[str, str], into: str) -> dict[str, int]:
    """Copy tables ({table: WHERE condition}) into a scratch database, to compare with a later run; returns
    the rows copied per table."""
    client.command(f"DROP DATABASE IF EXISTS {into}")
    client.command(f"CREATE DATABASE {into}")
    for table, condition in tables.items():
        client.command(f"CREATE TABLE {into}.{table} AS {database}.{table}")
        client.command(f"INSERT INTO {into}.{table} SELECT * FROM {database}.{table} WHERE {condition}")
    return {table: client.command(f"SELECT count() FROM {into}.{table}") for table in tables}


def s3_spans(stack) -> list[tuple[str, str]]:
    """(traceId, spanId) of every span in the bucket's traces objects, repeats included."""
    s3 = stack.s3()
    spans = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/"):
        for obj in page.get("Contents", []):
            if "/traces_" in obj["Key"]:
                doc = orjson.loads(s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read())
                for rs in doc["resourceSpans"]:
                    for ss in rs.get("scopeSpans", []):
                        spans += [(sp.get("traceId", ""), sp.get("spanId", "")) for sp in ss.get("spans", [])]
    return spans


def wait_for_s3_spans(stack, at_least: int, tail: Callable[[], str] = str) -> None:
    """The bucket holds `at_least` distinct spans. Wait before stopping the collector: with persistent queues
    a stop keeps what is still queued on disk for the next start instead of sending it."""
    wait_for(f"{at_least} spans in S3", lambda: len(s3_spans(stack)) >= at_least, 120, tail)
