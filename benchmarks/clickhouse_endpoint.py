"""1M span rows inserted and read back through the local stack's ClickHouse HTTP endpoint, and through chDB
directly, in the same run. Floor (issue 2): endpoint/direct ≥ 0.5 for inserts and for reads.

Both sides move the same Native-format bytes into and out of the same table definition
(config/migrations), so the ratio is the cost of the HTTP endpoint itself: parsing the request, the hop to the
engine, and the transfer.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import time
from pathlib import Path

import chdb
from click_common.migrations import load
from local_stack.launch import Launcher
from local_stack.paths import MIGRATIONS

COLUMNS = (
    "Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName, "
    "ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage, "
    "`Events.Timestamp`, `Events.Name`, `Events.Attributes`, "
    "`Links.TraceId`, `Links.SpanId`, `Links.TraceState`, `Links.Attributes`"
)

# Realistic span rows: 12 services, routes, status codes, attributes, an event on errors, a link on consumers.
SPANS_SQL = """
WITH
    ['api-gateway','waiting-room','account','feed','launch','inventory','checkout','payment','bot-detection',
     'notification','fulfillment','order-events'] AS services,
    ['GET /launch/{sku}','POST /launch/entries','GET /feed','POST /checkout','POST /payments/authorize',
     'SELECT inventory','UPDATE inventory','GET /waiting-room/status'] AS routes,
    services[number % 12 + 1] AS svc,
    routes[number % 8 + 1] AS route,
    number % 97 = 0 AS is_error
SELECT
    now64(9) - toIntervalMicrosecond(number * 3) AS Timestamp,
    lower(hex(cityHash64(intDiv(number, 8), 1))) || lower(hex(cityHash64(intDiv(number, 8), 2))) AS TraceId,
    lower(hex(cityHash64(number, 3))) AS SpanId,
    if(number % 8 = 0, '', lower(hex(cityHash64(number - 1, 3)))) AS ParentSpanId,
    '' AS TraceState,
    route AS SpanName,
    ['Server','Client','Internal','Producer','Consumer'][number % 5 + 1] AS SpanKind,
    svc AS ServiceName,
    map('service.name', svc, 'service.version', '2.4.1', 'service.namespace', 'snkrs',
        'deployment.environment.name', 'playground',
        'service.instance.id', concat(svc, '-', toString(number % 3))) AS ResourceAttributes,
    concat('snkrs.', svc) AS ScopeName,
    '1.0.0' AS ScopeVersion,
    map('http.route', route, 'http.request.method', if(number % 3 = 0, 'GET', 'POST'),
        'http.response.status_code', if(is_error, '504', '200'),
        'snkrs.sku', concat('DZ5485-', toString(number % 50)),
        'snkrs.region', ['us','eu','jp'][number % 3 + 1]) AS SpanAttributes,
    toUInt64(1000000 + (number * 7919) % 900000000) AS Duration,
    if(is_error, 'Error', 'Unset') AS StatusCode,
    if(is_error, 'payment provider timeout', '') AS StatusMessage,
    if(is_error, [Timestamp], []) AS `Events.Timestamp`,
    if(is_error, ['exception'], []) AS `Events.Name`,
    if(is_error, [map('exception.type', 'TimeoutError',
                      'exception.message', 'provider did not answer in 5s')], []) AS `Events.Attributes`,
    if(number % 5 = 4, [TraceId], []) AS `Links.TraceId`,
    if(number % 5 = 4, [SpanId], []) AS `Links.SpanId`,
    if(number % 5 = 4, [''], []) AS `Links.TraceState`,
    if(number % 5 = 4, [map('messaging.system', 'kafka')], []) AS `Links.Attributes`
FROM numbers(ROWS)
"""


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def http_post(port: int, query: str, body: bytes = b"") -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/?query=" + query.replace(" ", "+"), body=body or None)
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(response.read()[:500].decode(errors="replace"))
    # read into one preallocated buffer, as a client that knows Content-Length would
    data = bytearray(int(response.getheader("Content-Length", "0")))
    view, got = memoryview(data), 0
    while got < len(data):
        n = response.readinto(view[got:])
        if not n:
            raise RuntimeError("short read")
        got += n
    conn.close()
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ch-") as tmp:
        direct = chdb.connect(str(Path(tmp) / "direct"))
        for migration in load(MIGRATIONS):
            for statement in migration.statements:
                direct.query(statement)
        started = time.perf_counter()
        payload = bytes(direct.query(SPANS_SQL.replace("ROWS", str(args.rows)), "Native").bytes())
        print(f"prepared {args.rows:,} span rows as {len(payload) / 1e6:.0f} MB of Native in "
              f"{time.perf_counter() - started:.1f}s", flush=True)  # fmt: skip
        stack = Launcher(Path(tmp) / "endpoint").start()
        port = stack.clickhouse_port
        insert_sql = f"INSERT INTO default.otel_traces ({COLUMNS}) FORMAT Native"
        read_sql = "SELECT * FROM default.otel_traces FORMAT Native"
        results: dict[str, list[float]] = {
            k: [] for k in ("direct_insert", "http_insert", "direct_read", "http_read")
        }
        sizes: dict[str, int] = {}
        try:
            for attempt in range(1, args.repeat + 1):
                direct.query("TRUNCATE TABLE default.otel_traces")
                http_post(port, "TRUNCATE TABLE default.otel_traces")

                def direct_insert() -> None:
                    with direct.send_insert(f"INSERT INTO default.otel_traces ({COLUMNS})", "Native") as ins:
                        ins.append(payload)
                        ins.finish()

                # alternate the order so neither side always runs on a warmer machine
                pairs = [
                    ("direct_insert", direct_insert),
                    ("http_insert", lambda: http_post(port, insert_sql, payload)),
                ]
                for name, fn in pairs if attempt % 2 else reversed(pairs):
                    results[name].append(timed(fn))

                def direct_read() -> None:
                    sizes["direct"] = len(direct.query("SELECT * FROM default.otel_traces", "Native").bytes())

                def http_read() -> None:
                    sizes["http"] = len(http_post(port, read_sql))

                reads = [("direct_read", direct_read), ("http_read", http_read)]
                for name, fn in reads if attempt % 2 else reversed(reads):
                    results[name].append(timed(fn))
                count = int(http_post(port, "SELECT count() FROM default.otel_traces").decode())
                assert count == args.rows, f"endpoint holds {count} rows, expected {args.rows}"
                assert sizes["direct"] == sizes["http"], sizes
                print(
                    f"run {attempt}: insert direct {results['direct_insert'][-1]:.2f}s http "
                    f"{results['http_insert'][-1]:.2f}s · read direct {results['direct_read'][-1]:.2f}s "
                    f"http {results['http_read'][-1]:.2f}s",
                    flush=True,
                )
        finally:
            stack.stop()
            direct.close()

    med = {k: statistics.median(v) for k, v in results.items()}
    rate = {k: args.rows / v for k, v in med.items()}
    insert_ratio = rate["http_insert"] / rate["direct_insert"]
    read_ratio = rate["http_read"] / rate["direct_read"]
    print(f"insert: endpoint {rate['http_insert']:,.0f} rows/s, direct {rate['direct_insert']:,.0f} rows/s")
    print(f"read:   endpoint {rate['http_read']:,.0f} rows/s, direct {rate['direct_read']:,.0f} rows/s")
    print(
        f"RESULT rows={args.rows} insert_endpoint_rps={rate['http_insert']:.0f} "
        f"insert_direct_rps={rate['direct_insert']:.0f} insert_ratio={insert_ratio:.2f} "
        f"read_endpoint_rps={rate['http_read']:.0f} read_direct_rps={rate['direct_read']:.0f} "
        f"read_ratio={read_ratio:.2f} ratio={min(insert_ratio, read_ratio):.2f}"
    )


if __name__ == "__main__":
    main()
