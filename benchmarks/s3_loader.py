"""The s3-loader against ClickHouse itself, loading the same collector files from the same S3 bucket into the
same table, in the same run. Floor (issue 4): loader ≥ 0.5× the native path and ≥ 20k spans/s.

- loader: `Loader.run_pass()` in this process with its default settings (its parse processes warmed up
  first): list, then per file an insert with its deduplication token in which ClickHouse reads the object
  from the bucket itself (the listed ETag checked) and the schema's view converts it, bookkeeping.
- download: the same with `LOADER_CLICKHOUSE_READS_S3=false` (the way before issue 17): the loader downloads
  each file and streams it to ClickHouse.
- native: one `INSERT INTO otel.otel_traces SELECT … FROM s3(…, 'JSONEachRow', <OTLP schema>) ARRAY JOIN …`
  run by chDB behind the local stack's endpoint: ClickHouse reads and flattens the same files itself (scalar
  attribute kinds only, with ClickHouse's number formatting — the cheap approximation of the exporter).

Every side starts from an empty otel.otel_traces; each is run `--repeat` times and the best run counts.
RESULT: ratio = loader / native (floor ≥ 0.6, issue 17); download_ratio = download / native.
"""

from __future__ import annotations

import argparse
import gzip
import random
import time

import orjson
from clickhouse_connect.driver.client import Client
from local_stack.collector.sending_queue import MIN_SIZE
from local_stack.launch import Launcher
from s3_loader.documents import prepare
from s3_loader.loader import Loader
from s3_loader.settings import LoaderSettings

SERVICES = (
    "api-gateway", "waiting-room", "account", "feed", "launch", "inventory", "checkout", "payment",
    "bot-detection", "notification", "fulfillment", "order-events",
)  # fmt: skip
ROUTES = (
    "GET /launch/{sku}", "POST /launch/entries", "GET /feed", "POST /checkout", "POST /payments/authorize",
    "SELECT inventory", "UPDATE inventory", "GET /waiting-room/status",
)  # fmt: skip


def collector_file(spans: int, seed: int) -> bytes:
    """One awss3exporter object: a batch of spans from several services, as otlp_json writes it."""
    rnd = random.Random(seed)
    now = time.time_ns() - 600 * 10**9
    by_service: dict[str, list[dict]] = {}
    for i in range(spans):
        svc = SERVICES[rnd.randrange(len(SERVICES))]
        route = ROUTES[i % len(ROUTES)]
        start = now + rnd.randrange(600 * 10**9)
        error = rnd.random() < 0.02
        span = {
            "traceId": f"{rnd.getrandbits(128):032x}",
            "spanId": f"{rnd.getrandbits(64):016x}",
            "parentSpanId": f"{rnd.getrandbits(64):016x}" if i % 8 else "",
            "name": route,
            "kind": 2 + i % 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + rnd.randrange(2 * 10**8)),
            "attributes": [
                {"key": "http.route", "value": {"stringValue": route}},
                {"key": "http.request.method", "value": {"stringValue": "POST" if i % 3 else "GET"}},
                {"key": "http.response.status_code", "value": {"intValue": "504" if error else "200"}},
                {"key": "snkrs.sku", "value": {"stringValue": f"DZ5485-{rnd.randrange(1000):03d}"}},
                {"key": "snkrs.user_id", "value": {"stringValue": f"u{rnd.randrange(10**7):07d}"}},
                {
                    "key": "snkrs.region",
                    "value": {"stringValue": rnd.choice(("us-east", "eu-west", "ap-south"))},
                },
                {"key": "snkrs.queue_position", "value": {"intValue": str(rnd.randrange(100000))}},
                {"key": "snkrs.bot_score", "value": {"doubleValue": round(rnd.random(), 4)}},
                {"key": "snkrs.cache_hit", "value": {"boolValue": rnd.random() < 0.7}},
            ],
            "status": {"code": 2, "message": "upstream timeout"} if error else {},
        }
        if error:
            span["events"] = [
                {
                    "timeUnixNano": str(start + 1000),
                    "name": "exception",
                    "attributes": [
                        {"key": "exception.type", "value": {"stringValue": "TimeoutError"}},
                        {"key": "exception.message", "value": {"stringValue": "upstream timed out"}},
                    ],
                }
            ]
        by_service.setdefault(svc, []).append(span)
    resource_spans = [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": svc}},
                    {"key": "service.version", "value": {"stringValue": "2.4.1"}},
                    {"key": "deployment.environment.name", "value": {"stringValue": "playground"}},
                ]
            },
            "scopeSpans": [{"scope": {"name": f"snkrs.{svc}", "version": "1.0.0"}, "spans": spans}],
        }
        for svc, spans in by_service.items()
    ]
    return orjson.dumps({"resourceSpans": resource_spans})


_AV = "Tuple(stringValue Nullable(String), intValue Nullable(String), doubleValue Nullable(Float64), " \
      "boolValue Nullable(Bool))"  # fmt: skip
_ATTRS = f"Array(Tuple(key String, value {_AV}))"
_SPAN = (
    f"Tuple(traceId String, spanId String, parentSpanId String, traceState String, name String, kind UInt8, "
    f"startTimeUnixNano UInt64, endTimeUnixNano UInt64, attributes {_ATTRS}, "
    f"events Array(Tuple(timeUnixNano UInt64, name String, attributes {_ATTRS})), "
    f"links Array(Tuple(traceId String, spanId String, traceState String, attributes {_ATTRS})), "
    f"status Tuple(code UInt8, message String))"
)
OTLP_SCHEMA = (
    f"resourceSpans Array(Tuple(resource Tuple(attributes {_ATTRS}), "
    f"scopeSpans Array(Tuple(scope Tuple(name String, version String), spans Array({_SPAN})))))"
)


def _as_map(attrs: str) -> str:
    value = (
        "multiIf(x.value.stringValue IS NOT NULL, assumeNotNull(x.value.stringValue), "
        "x.value.intValue IS NOT NULL, assumeNotNull(x.value.intValue), "
        "x.value.doubleValue IS NOT NULL, toString(assumeNotNull(x.value.doubleValue)), "
        "x.value.boolValue IS NOT NULL, if(assumeNotNull(x.value.boolValue), 'true', 'false'), '')"
    )
    return f"mapFromArrays(arrayMap(x -> x.key, {attrs}), arrayMap(x -> {value}, {attrs}))"


def native_sql(url: str) -> str:
    return f"""
INSERT INTO otel.otel_traces
SELECT
    fromUnixTimestamp64Nano(toInt64(sp.startTimeUnixNano)), lower(sp.traceId), lower(sp.spanId),
    lower(sp.parentSpanId), sp.traceState, sp.name,
    ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][sp.kind + 1],
    ifNull(arrayFirst(x -> x.key = 'service.name', rs.resource.attributes).value.stringValue, ''),
    {_as_map("rs.resource.attributes")}, ss.scope.name, ss.scope.version, {_as_map("sp.attributes")},
    sp.endTimeUnixNano - sp.startTimeUnixNano, ['Unset', 'Ok', 'Error'][sp.status.code + 1],
    sp.status.message,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.timeUnixNano)), sp.events),
    arrayMap(e -> e.name, sp.events),
    arrayMap(e -> {_as_map("e.attributes")}, sp.events),
    arrayMap(l -> lower(l.traceId), sp.links), arrayMap(l -> lower(l.spanId), sp.links),
    arrayMap(l -> l.traceState, sp.links), arrayMap(l -> {_as_map("l.attributes")}, sp.links)
FROM s3('{url}', 'bench', 'bench', 'JSONEachRow', '{OTLP_SCHEMA}')
ARRAY JOIN resourceSpans AS rs
ARRAY JOIN rs.scopeSpans AS ss
ARRAY JOIN ss.spans AS sp
"""


# What a load fills: emptied before each side of a comparison.
LOADED_TABLES = (
    "otel.otel_traces",
    "otel.otel_traces_trace_id_ts",
    "otel.s3_loader_files",
    "otel.s3_loader_batches",
    "otel.s3_loader_otlp_counts",
)


def reset_loaded(client: Client) -> None:
    for table in LOADED_TABLES:
        client.command(f"TRUNCATE TABLE {table}")


def loaded_spans(client: Client) -> int:
    return int(client.query("SELECT count() FROM otel.otel_traces").result_rows[0][0])


def timed_pass(settings: LoaderSettings, client: Client, spans: int) -> float:
    """Seconds of one `Loader.run_pass()` (its parse processes warmed up first) that must load `spans`."""
    loader = Loader(settings)
    try:
        loader.books.check_tables()
        workers = range(max(1, settings.parse_workers))
        warm = [loader.parsers.submit(prepare, "warm.json", b"{}") for _ in workers]
        [f.result() for f in warm]
        t0 = time.perf_counter()
        result = loader.run_pass()
        seconds = time.perf_counter() - t0
    finally:
        loader.close()
    assert result.spans == spans == loaded_spans(client), (result, loaded_spans(client))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--spans-per-file", type=int, default=MIN_SIZE, help="the collector's batch min_size")
    parser.add_argument("--gzip", action="store_true", help="gzip the files (s3uploader.compression: gzip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--parse-workers", type=int, default=LoaderSettings.model_fields["parse_workers"].default
    )
    args = parser.parse_args()

    with Launcher.temporary("bench-s3-loader-") as stack:
        run(stack, args)


def run(stack, args: argparse.Namespace) -> None:
    files = max(1, -(-args.spans // args.spans_per_file))  # at least --spans
    suffix = ".json.gz" if args.gzip else ".json"
    s3 = stack.s3()
    total_bytes = 0
    started = time.perf_counter()
    for n in range(files):
        body = collector_file(args.spans_per_file, seed=n)
        total_bytes += len(body)
        if args.gzip:
            body = gzip.compress(body, compresslevel=6)
        s3.put_object(Bucket=stack.bucket, Key=f"otel/bench/traces_{n:09d}{suffix}", Body=body)
    spans = files * args.spans_per_file
    print(f"uploaded {files} files, {spans} spans, {total_bytes / 1e6:.1f} MB of JSON "
          f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip

    client = stack.client()

    env = stack.env(LOADER_PARSE_WORKERS=str(args.parse_workers), S3_PREFIX="otel/bench")
    settings = LoaderSettings(_env_file=None, **{k: v for k, v in env.items() if k.isupper()})

    def loader_side(**overrides: object) -> float:
        reset_loaded(client)
        return timed_pass(settings.model_copy(update=overrides), client, spans)

    def native_side() -> float:
        reset_loaded(client)
        url = f"{stack.ports.s3_url}/{stack.bucket}/otel/bench/traces_*{suffix}"
        t0 = time.perf_counter()
        client.command(native_sql(url))
        seconds = time.perf_counter() - t0
        assert loaded_spans(client) == spans
        return seconds

    sides = {
        "loader": loader_side,
        "download": lambda: loader_side(clickhouse_reads_s3=False),
        "native": native_side,
    }
    times: dict[str, list[float]] = {name: [] for name in sides}
    for attempt in range(1, args.repeat + 1):
        for name, side in sides.items():
            times[name].append(side())
            print(f"run {attempt}: {name} {spans / times[name][-1]:,.0f} spans/s ({times[name][-1]:.2f} s)",
                  flush=True)  # fmt: skip

    rate = {name: spans / min(seconds) for name, seconds in times.items()}
    print(
        f"RESULT spans={spans} files={files} gzip={int(args.gzip)} parse_workers={args.parse_workers} "
        f"loader_spans_per_s={rate['loader']:.0f} download_spans_per_s={rate['download']:.0f} "
        f"native_spans_per_s={rate['native']:.0f} download_ratio={rate['download'] / rate['native']:.2f} "
        f"ratio={rate['loader'] / rate['native']:.2f}"
    )


if __name__ == "__main__":
    main()
