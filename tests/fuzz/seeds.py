"""Starting corpora: the conformance test's edge-case payloads, the receiver tests' fully populated requests,
and what the SNKRS generator itself sends (captured once into .cache/fuzz/generator/, a few requests cut to a
handful of items each, so that seeds stay small and fast)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]
GENERATOR_CACHE = REPO / ".cache/fuzz/generator"
_KEEP_REQUESTS = 4  # per signal
_KEEP_ITEMS = 6  # per request (the first scope of the first resource)


def _trim(request, signal: str):
    """The request with only its first resource, first scope and first few items."""
    resource_field = f"resource_{'spans' if signal == 'traces' else signal}"
    item_field = {"traces": "spans", "logs": "log_records", "metrics": "metrics"}[signal]
    resources = getattr(request, resource_field)
    del resources[1:]
    for resource in resources:
        scopes = resource.scope_spans if signal == "traces" else getattr(resource, f"scope_{signal}")
        del scopes[1:]
        for scope in scopes:
            del getattr(scope, item_field)[_KEEP_ITEMS:]
    return request


def _capture_generator(seconds: float = 12.0) -> None:
    """Run the generator against a sink for a few seconds and keep its first requests (protobuf bodies)."""
    from tests.support.generator_env import FEW_SHOPPERS
    from tests.support.otlp_sink import OtlpSink

    GENERATOR_CACHE.mkdir(parents=True, exist_ok=True)
    with OtlpSink() as sink:
        env = {
            **os.environ, **FEW_SHOPPERS, "GENERATOR_TIME_SCALE": "20", "GENERATOR_SEED": "7",
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BLRP_SCHEDULE_DELAY": "200",
            "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        }  # fmt: skip
        generator = subprocess.Popen(
            [sys.executable, "-m", "snkrs_generator", "--once"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and generator.poll() is None:
            if all(len(sink.received.requests[s]) >= _KEEP_REQUESTS for s in ("traces", "logs")):
                break
            time.sleep(0.2)
        generator.terminate()
        try:
            generator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            generator.kill()
        for signal, requests in sink.received.requests.items():
            for n, request in enumerate(requests[:_KEEP_REQUESTS]):
                body = _trim(request, signal).SerializeToString()
                (GENERATOR_CACHE / f"{signal}-{n}.pb").write_bytes(body)
    (GENERATOR_CACHE / "done").write_text("captured\n")


@cache
def generator_requests() -> dict[str, list[bytes]]:
    """signal → protobuf request bodies the generator sent (captured on first use)."""
    if not (GENERATOR_CACHE / "done").exists():
        _capture_generator()
    found: dict[str, list[bytes]] = {"traces": [], "logs": [], "metrics": []}
    for path in sorted(GENERATOR_CACHE.glob("*.pb")):
        found[path.name.split("-")[0]].append(path.read_bytes())
    return found


def _message_to_otlp_json(signal: str, body: bytes) -> bytes:
    """A protobuf request as the collector's otlp_json file holds it (via the stand-in's converter)."""
    from local_stack.collector import payload

    spec = next(s for s in payload.Signal if s.spec.name == signal)
    return orjson.dumps(spec.spec.to_json(spec.spec.request.FromString(body)))


def _populated(signal: str) -> bytes:
    from tests.support import otlp_samples

    request = {
        "traces": otlp_samples.traces_request,
        "logs": otlp_samples.logs_request,
        "metrics": otlp_samples.metrics_request,
    }[signal]()
    return request.SerializeToString()


def requests(signal: str, encoding: str) -> list[bytes]:
    """Request bodies of one signal in `pb` (protobuf) or `json` (OTLP/JSON) encoding."""
    from tests.collector import edge_payloads

    protobufs = [_populated(signal), *generator_requests()[signal]]
    if encoding == "pb":
        from local_stack.collector import payload

        spec = next(s for s in payload.Signal if s.spec.name == signal)
        edge = payload.decode_json(spec, orjson.dumps(edge_payloads.SIGNALS[signal]()))
        return [*protobufs, edge.SerializeToString(), b""]
    return [
        orjson.dumps(edge_payloads.SIGNALS[signal]()),
        *(_message_to_otlp_json(signal, body) for body in protobufs),
        b"{}",
    ]


def otlp_json_documents() -> list[bytes]:
    """OTLP JSON documents of every signal, as the loader reads them from the bucket."""
    return [doc for signal in ("traces", "logs", "metrics") for doc in requests(signal, "json")]


def sql_queries() -> list[bytes]:
    """What the agent sends (its tools' SQL and the repository's example queries) and what it must not."""
    texts = [
        "SELECT 1",
        "SELECT count() FROM otel.t",
        "WITH x AS (SELECT a FROM otel.t) SELECT sum(a) FROM x",
        "SHOW TABLES FROM otel",
        "DESCRIBE TABLE otel.t",
        "EXPLAIN SELECT * FROM otel.t WHERE a > 3",
        "(SELECT 1) UNION ALL (SELECT 2)",
        "SELECT * FROM numbers(3)",
        "SELECT s FROM otel.t SETTINGS max_threads = 1",
        "INSERT INTO otel.t VALUES (1, 'x')",
        "SELECT 1; DROP TABLE otel.t",
        "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'a String')",
        "SELECT * FROM file('x.csv')",
        "SELECT 1 INTO OUTFILE 'out.csv'",
        "SELECT 1 FORMAT CSV",
        "SELECT * FROM `file`('x.csv', 'CSV', 'a String')",
        "SELECT * FROM icebergLocal('x')",
    ]
    sql_file = REPO / "otel_queries.sql"
    if sql_file.exists():
        from click_common.sql_script import split_statements

        texts += [s.strip() for s in split_statements(sql_file.read_text()) if s.strip()][:40]
    return [t.encode() for t in texts]
