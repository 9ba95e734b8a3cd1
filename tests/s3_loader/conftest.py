"""Helpers for the loader's tests: OTLP documents, uploads, and the loader as a real subprocess."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PARTITION = "otel/year=%Y/month=%m/day=%d/hour=%H/minute=%M/"  # the collector's s3_partition_format


def trace_doc(n_spans: int, seed: int = 0, service: str = "checkout") -> dict:
    """A collector-shaped traces document with n_spans spans stamped in the last hour (inside the TTL)."""
    rnd = random.Random(seed)
    base = time.time_ns() - 3600 * 10**9
    spans = []
    for i in range(n_spans):
        start = base + rnd.randrange(10**12)
        spans.append(
            {
                "traceId": f"{rnd.getrandbits(128):032x}",
                "spanId": f"{rnd.getrandbits(64):016x}",
                "name": f"GET /drop/{i % 7}",
                "kind": 2,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + rnd.randrange(10**9)),
                "attributes": [
                    {"key": "http.status_code", "value": {"intValue": str(rnd.choice([200, 404, 500]))}},
                    {"key": "sku", "value": {"stringValue": f"DZ5485-{i:03d}"}},
                ],
                "status": {},
            }
        )
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
                "scopeSpans": [{"scope": {"name": "snkrs"}, "spans": spans}],
            }
        ]
    }


def unique_key(name: str) -> str:
    """The awss3exporter's layout: <prefix>/<upload minute, UTC>/<kind>_<9 random digits>.json[.gz]."""
    stem, _, suffix = name.partition(".")
    return f"{time.strftime(PARTITION, time.gmtime())}{stem}_{random.randrange(10**9):09d}.{suffix}"


@pytest.fixture
def run_loader(stack) -> Callable[..., subprocess.CompletedProcess]:
    def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "s3_loader", *args],
            env=stack.env(**env),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


def bucket_snapshot(stack) -> dict[str, str]:
    s3 = stack.s3()
    keys: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket):
        for item in page.get("Contents", ()):
            keys[item["Key"]] = item["ETag"]
    return keys


@pytest.fixture(name="trace_doc")
def trace_doc_fixture() -> Callable[..., dict]:
    return trace_doc


@pytest.fixture(name="unique_key")
def unique_key_fixture() -> Callable[[str], str]:
    return unique_key


@pytest.fixture(name="bucket_snapshot")
def bucket_snapshot_fixture(stack) -> Callable[[], dict[str, str]]:
    return lambda: bucket_snapshot(stack)
