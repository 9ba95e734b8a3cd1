"""The real OpenTelemetry Collector (built from source, the project's config) against the stand-in receiver,
side by side in one run: the same OTLP/HTTP protobuf traffic (REQUESTS requests of SPANS spans, sent by
CLIENTS threads) into each, both writing to the same local stack (ClickHouse endpoint + S3 server).

A run's rate is spans over the time from the first request sent until default.otel_traces holds every span
(both exporters' work included: S3 objects and ClickHouse rows). RESULT: spans/s of each and
ratio = real / stand-in (a report, no floor).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local_stack.launch import Launcher
from local_stack.real_collector import build as otelcol_build

from tests.collector.otelcol import RealCollector
from tests.support.otlp_samples import traces_request


def bodies(requests: int, spans: int) -> list[bytes]:
    out = []
    for n in range(requests):
        request = traces_request(spans=spans, service=f"bench-{n % 7}")
        for i, span in enumerate(request.resource_spans[0].scope_spans[0].spans):
            span.span_id = (n * spans + i + 1).to_bytes(8, "big")
        out.append(request.SerializeToString())
    return out


def post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        f"{url}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200


def run(stack, url: str, payloads: list[bytes], clients: int, expected: int) -> float:
    """Seconds from the first request until every span is in default.otel_traces."""
    client = stack.client()
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda body: post(url, body), payloads))
    while (count := client.command("SELECT count() FROM default.otel_traces")) < expected:
        if time.perf_counter() - started > 600:
            raise RuntimeError(f"only {count} of {expected} spans arrived")
        time.sleep(0.1)
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="just benchmark collector", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--spans", type=int, default=100, help="spans per request")
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    binary = otelcol_build.build()
    payloads = bodies(args.requests, args.spans)
    expected = args.requests * args.spans
    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        stack = Launcher(Path(tmp) / "data").start()
        try:
            stack.reset()
            collector = RealCollector(binary, stack, Path(tmp) / "otelcol").start()
            try:
                real_s = run(stack, collector.otlp.http_url, payloads, args.clients, expected)
            finally:
                collector.stop()
                collector.kill()
            real_objects = stack.s3().list_objects_v2(Bucket=stack.bucket).get("KeyCount", 0)
            stack.reset()
            standin_s = run(stack, stack.otlp.http_url, payloads, args.clients, expected)
            standin_objects = stack.s3().list_objects_v2(Bucket=stack.bucket).get("KeyCount", 0)
        finally:
            stack.stop()
    real_rate, standin_rate = expected / real_s, expected / standin_s
    print(
        f"traffic: {args.requests} requests x {args.spans} spans, {args.clients} clients ({expected} spans)"
    )
    print(f"real collector: {real_s:.2f} s, {real_rate:,.0f} spans/s, {real_objects} S3 objects")
    print(f"stand-in:       {standin_s:.2f} s, {standin_rate:,.0f} spans/s, {standin_objects} S3 objects")
    print(
        f"RESULT spans={expected} real_spans_per_s={real_rate:.0f} standin_spans_per_s={standin_rate:.0f} "
        f"ratio={real_rate / standin_rate:.2f}"
    )


if __name__ == "__main__":
    main()
