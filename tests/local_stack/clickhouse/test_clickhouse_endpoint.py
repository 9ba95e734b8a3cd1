"""The local stack's ClickHouse endpoint, driven by clickhouse-connect and plain HTTP like a real server."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from local_stack.launch import Launcher

from tests.support.stack import REPO

SPAN_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName",
    "ResourceAttributes", "ScopeName", "ScopeVersion", "SpanAttributes", "Duration", "StatusCode",
    "StatusMessage", "Events.Timestamp", "Events.Name", "Events.Attributes", "Links.TraceId", "Links.SpanId",
    "Links.TraceState", "Links.Attributes",
]  # fmt: skip

# Recent, with nanoseconds: the tables' 3-day TTL drops older rows as they are inserted.
START_NS = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000 + 123_456_789


def full_span(i: int = 0) -> list:
    return [
        START_NS + i,
        f"{i:032x}",
        f"{i:016x}",
        "00000000000000ff",
        "rojo=00f067aa0ba902b7",
        "POST /launch/entries",
        "Server",
        "launch",
        {"service.name": "launch", "service.version": "2.4.1", "deployment.environment.name": "playground"},
        "snkrs.launch",
        "1.0.0",
        {"http.route": "/launch/entries", "http.response.status_code": "201", "snkrs.sku": "DZ5485-612"},
        1_234_567_891,
        "Error",
        "payment provider timeout",
        [START_NS + i + 5, START_NS + i + 7],
        ["exception", "retry"],
        [{"exception.type": "TimeoutError", "exception.message": "upstream 504"}, {}],
        [f"{i + 1:032x}"],
        [f"{i + 1:016x}"],
        [""],
        [{"link.kind": "kafka"}],
    ]


def http(stack: Launcher, path: str, body: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(stack.ports.clickhouse_url + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_ping_and_curl_style_queries(stack: Launcher):
    assert http(stack, "/ping") == (200, http(stack, "/ping")[1], b"Ok.\n")
    assert http(stack, "/?query=SELECT+1")[2] == b"1\n"
    status, headers, body = http(
        stack, "/", b"SELECT number, toString(number) FROM numbers(2) FORMAT JSONEachRow"
    )
    assert status == 200 and headers["X-ClickHouse-Format"] == "JSONEachRow"
    assert body == b'{"number":0,"toString(number)":"0"}\n{"number":1,"toString(number)":"1"}\n'
    assert http(stack, "/?query=SELECT&default_format=CSV", b" 'a', 2")[2] == b'"a",2\n'
    assert http(stack, "/?query=SELECT+%7Bn%3AUInt8%7D+%2A+2&param_n=21")[2] == b"42\n"


def test_insert_formats_over_plain_http(stack: Launcher):
    table = "default.otel_traces"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.000000001")
    rows = f'{{"TraceId":"a1","SpanId":"b1","ServiceName":"x","Timestamp":"{now}"}}\n'.encode() * 3
    assert http(stack, f"/?query=INSERT+INTO+{table}+FORMAT+JSONEachRow", rows)[0] == 200
    csv_insert = (
        f"INSERT INTO {table} (Timestamp, TraceId, ServiceName) FORMAT CSV\n{now},a2,y\n{now},a3,y\n".encode()
    )
    assert http(stack, "/", csv_insert)[0] == 200
    assert (
        http(
            stack,
            "/",
            f"INSERT INTO {table} (Timestamp, TraceId, ServiceName) VALUES (now64(9), 'a4', 'z')".encode(),
        )[0]
        == 200
    )
    body = http(stack, "/", f"SELECT ServiceName, count() FROM {table} GROUP BY 1 ORDER BY 1".encode())[2]
    assert body == b"x\t3\ny\t2\nz\t1\n"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "lz4"])
@pytest.mark.parametrize("query_in_url", [True, False])
def test_compressed_request_bodies(stack: Launcher, encoding: str, query_in_url: bool):
    import gzip
    import zlib

    import lz4.frame

    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "lz4": lz4.frame.compress}[encoding]
    insert = "INSERT INTO default.otel_traces (Timestamp, TraceId) FORMAT CSV"
    rows = "".join(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S},t{i}\n" for i in range(1000)).encode()
    path, body = (
        ("/?query=" + insert.replace(" ", "+"), rows)
        if query_in_url
        else ("/", insert.encode() + b"\n" + rows)
    )
    status, _, text = http(stack, path, compress(body), {"Content-Encoding": encoding})
    assert status == 200, text
    assert http(stack, "/", b"SELECT count() FROM default.otel_traces")[2] == b"1000\n"


def test_a_rejected_insert_is_an_error_not_a_silent_loss(stack: Launcher):
    """A materialized view that throws makes clickhouse-server fail the INSERT; the endpoint must too."""
    client = stack.client()
    client.command("CREATE TABLE IF NOT EXISTS default.guarded (a UInt64) ENGINE = Null")
    client.command("CREATE TABLE IF NOT EXISTS default.guarded_sink (a UInt64) ENGINE = MergeTree ORDER BY a")
    client.command(
        "CREATE MATERIALIZED VIEW IF NOT EXISTS default.guarded_mv TO default.guarded_sink "
        "AS SELECT a + throwIf(a = 2, 'two is not allowed') AS a FROM default.guarded"
    )
    try:
        with pytest.raises(DatabaseError, match="two is not allowed"):
            client.insert("default.guarded", [[1], [2], [3]], column_names=["a"])
        status, _, body = http(stack, "/?query=INSERT+INTO+default.guarded+FORMAT+CSV", b"1\n2\n")
        assert status == 500 and b"two is not allowed" in body
        client.insert("default.guarded", [[1], [3]], column_names=["a"])
        assert client.query("SELECT a FROM default.guarded_sink ORDER BY a").result_rows == [(1,), (3,)]
    finally:
        for name in ("guarded_mv", "guarded_sink", "guarded"):
            client.command(f"DROP TABLE IF EXISTS default.{name}")


def test_errors_keep_clickhouse_text_code_and_status(stack: Launcher):
    """The status is clickhouse-server's for the code (exceptionCodeToHTTPStatus): 400 for a syntax error,
    403 for a refused login, 404 for an unknown table, 500 for the rest."""
    status, headers, body = http(stack, "/?query=SELEC+1")
    assert status == 400 and headers["X-ClickHouse-Exception-Code"] == "62"
    assert body.startswith(b"Code: 62. DB::Exception: Syntax error")
    status, headers, body = http(stack, "/", b"SELECT 1; DROP TABLE default.otel_logs")
    assert status == 400 and b"Multi-statements are not allowed" in body
    assert http(stack, "/", b"SELECT 1;")[2] == b"1\n"
    status, headers, body = http(stack, "/?query=SELECT+1&user=nobody")
    assert status == 403 and headers["X-ClickHouse-Exception-Code"] == "516"
    status, headers, body = http(stack, "/", b"SELECT * FROM default.no_such_table")
    assert status == 404 and headers["X-ClickHouse-Exception-Code"] == "60"
    status, headers, body = http(stack, "/", b"SELECT throwIf(1)")
    assert status == 500 and headers["X-ClickHouse-Exception-Code"] == "395"


def test_span_with_every_column_round_trips_through_clickhouse_connect(stack: Launcher):
    client = stack.client()
    client.insert("default.otel_traces", [full_span(1)], column_names=SPAN_COLUMNS)
    back = client.query(
        "SELECT toUnixTimestamp64Nano(Timestamp), * EXCEPT Timestamp, "
        "arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) FROM default.otel_traces"
    ).result_rows
    assert len(back) == 1
    row = list(back[0])
    expected = full_span(1)
    assert row[0] == expected[0]  # nanoseconds survive
    assert row[-1] == expected[15]
    events_ts = row[15]
    assert [int(t.timestamp() * 1_000_000) for t in events_ts] == [t // 1000 for t in expected[15]]
    assert row[1:15] == expected[1:15]
    assert row[16:-1] == expected[16:]
    lookup = client.query("SELECT TraceId FROM default.otel_traces_trace_id_ts").result_rows
    assert lookup == [(f"{1:032x}",)]


def test_query_parameters_and_settings(stack: Launcher):
    client = stack.client()
    result = client.query(
        "SELECT {a:UInt32} + 1, {s:String}, {d:DateTime64(9)}",
        parameters={"a": 41, "s": "o'clock", "d": datetime(2026, 11, 22, 10, 0, 0)},
    ).result_rows
    assert result == [(42, "o'clock", datetime(2026, 11, 22, 10, 0, 0))]
    with pytest.raises(DatabaseError) as err:
        client.query("SELECT number FROM numbers(100000)", settings={"max_result_rows": 10})
    assert "TOO_MANY_ROWS_OR_BYTES" in str(err.value)
    # settings are reset after the query: the next one is not limited
    assert client.query("SELECT count() FROM (SELECT number FROM numbers(100000))").result_rows == [(100000,)]
    otel_client = stack.client(database="otel")
    assert otel_client.query("SELECT currentDatabase()").result_rows == [("otel",)]
    assert client.query("SELECT currentDatabase()").result_rows == [("default",)]


def test_large_parameters_travel_as_form_fields(stack: Launcher):
    vector = [i / 1000 for i in range(1000)]
    client = stack.client(form_encode_query_params=True)
    result = client.query(
        "SELECT length({v:Array(Float32)}), {s:String}", parameters={"v": vector, "s": "ok"}
    )
    assert result.result_rows == [(1000, "ok")]
    big = stack.client().query("SELECT length({v:Array(Float64)})", parameters={"v": vector * 20})
    assert big.result_rows == [(20_000,)]


def test_hundred_thousand_rows_in_one_insert(stack: Launcher):
    client = stack.client()
    rows = [full_span(i) for i in range(100_000)]
    summary = client.insert("default.otel_traces", rows, column_names=SPAN_COLUMNS)
    assert summary.written_rows >= 100_000
    assert client.query("SELECT count(), uniqExact(SpanId) FROM default.otel_traces").result_rows == [
        (100_000, 100_000)
    ]


def test_eight_concurrent_clients(stack: Launcher):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            client = stack.client()
            client.insert("default.otel_traces", [full_span(n * 1000 + i) for i in range(500)], SPAN_COLUMNS)
            for _ in range(5):
                assert client.query("SELECT count() >= 500 FROM default.otel_traces").result_rows == [(True,)]
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert stack.client().query("SELECT count() FROM default.otel_traces").result_rows == [(4000,)]


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELEC 1", 62),
        ("SELECT * FROM default.no_such_table", 60),
    ],
)
def test_errors_map_to_database_error(stack: Launcher, sql: str, code: int):
    with pytest.raises(DatabaseError) as err:
        stack.client().query(sql)
    assert f"Code: {code}." in str(err.value)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO default.otel_traces (TraceId) VALUES ('x')",
        "ALTER TABLE default.otel_traces DELETE WHERE 1",
        "DROP TABLE default.otel_traces",
        "TRUNCATE TABLE default.otel_traces",
        "CREATE TABLE default.sneaky (a UInt8) ENGINE = Memory",
        "SET readonly = 0",
        "SELECT 1 SETTINGS readonly = 0",
    ],
)
def test_readonly_user_cannot_write(stack: Launcher, sql: str):
    agent = stack.client(user="agent")
    assert agent.query("SELECT value FROM system.settings WHERE name = 'readonly'").result_rows == [("1",)]
    with pytest.raises(DatabaseError) as err:
        agent.command(sql)
    assert "Code: 164." in str(err.value)  # READONLY, raised by the engine itself


def test_readonly_user_over_basic_auth_cannot_insert_rows(stack: Launcher):
    token = base64.b64encode(b"agent:").decode()
    status, headers, body = http(
        stack,
        "/?query=INSERT+INTO+default.otel_traces+FORMAT+JSONEachRow",
        b'{"TraceId":"evil"}\n',
        {"Authorization": f"Basic {token}"},
    )
    assert status == 500 and headers["X-ClickHouse-Exception-Code"] == "164"
    assert b"DB::Exception: agent: Cannot execute query in readonly mode" in body
    assert stack.client().query("SELECT count() FROM default.otel_traces").result_rows == [(0,)]


def test_s3_server_has_the_bucket(stack: Launcher):
    s3 = stack.s3()
    assert stack.bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    s3.put_object(Bucket=stack.bucket, Key="otel/x.json", Body=b"{}")
    assert s3.get_object(Bucket=stack.bucket, Key="otel/x.json")["Body"].read() == b"{}"


def test_data_survives_a_restart_and_ports_taken_are_refused(tmp_path, local_stack: Launcher):
    handle = Launcher(tmp_path / "data").start()
    try:
        handle.client().insert("default.otel_traces", [full_span(7)], column_names=SPAN_COLUMNS)
        taken = subprocess.run(
            [sys.executable, "-m", "local_stack", "--clickhouse-port", str(handle.clickhouse_port),
             "--s3-port", str(handle.ports.s3), "--data-dir", str(tmp_path / "other")],
            capture_output=True, text=True, cwd=REPO, timeout=60,
        )  # fmt: skip
        assert taken.returncode != 0
        assert f"port {handle.clickhouse_port}" in taken.stderr and "already in use" in taken.stderr
    finally:
        handle.stop()
    assert handle.stack is not None and handle.stack.returncode == 0  # clean stop on SIGTERM
    again = Launcher(tmp_path / "data").start()
    try:
        assert again.client().query("SELECT SpanId FROM default.otel_traces").result_rows == [(f"{7:016x}",)]
    finally:
        again.stop()
