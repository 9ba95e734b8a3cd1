"""The loader on the local stack (chDB endpoint + moto S3): golden files, bad inputs, exactly-once."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from otlp_rows import LOG_COLUMNS, TRACE_COLUMNS, trace_rows
from s3_loader.bookkeeping import ClickHouseBooks
from s3_loader.documents import plain_traces, prepare
from s3_loader.settings import LoaderSettings
from s3_loader.warehouse import Warehouse

GOLDEN = Path(__file__).parent / "golden"
# LOADER_SQL_MIN_BYTES=0: these small documents take ClickHouse's conversion whenever it can do it, so that
# both routes are exercised (by default a document this small goes through otlp_rows)
FAST = {"LOADER_PARSE_WORKERS": "0", "LOADER_POLL_INTERVAL": "0.2", "LOADER_SQL_MIN_BYTES": "0"}


def select_expr(column: str) -> str:
    """Read DateTime64 columns back as integer nanoseconds, like the expected rows."""
    if column in ("Timestamp",):
        return f"toUnixTimestamp64Nano({column})"
    if column == "Events.Timestamp":
        return f"arrayMap(t -> toUnixTimestamp64Nano(t), `{column}`)"
    return f"`{column}`"


def table_rows(stack, table: str, columns: tuple[str, ...], order: str) -> list[dict]:
    query = f"SELECT {', '.join(select_expr(c) for c in columns)} FROM {table} ORDER BY {order}"
    return [dict(zip(columns, row, strict=True)) for row in stack.client().query(query).result_rows]


def assert_rows_equal(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected)
    for n, (g, e) in enumerate(zip(got, expected, strict=True)):
        for column in e:
            assert g[column] == e[column], f"row {n} column {column}: {g[column]!r} != {e[column]!r}"


def test_golden_files_load_column_by_column(stack, run_loader, unique_key, bucket_snapshot):
    s3 = stack.s3()
    traces = (GOLDEN / "traces_all_kinds.json").read_bytes()
    uploads = {
        unique_key("traces.json"): traces,
        unique_key("logs.json.gz"): gzip.compress((GOLDEN / "logs_basic.json").read_bytes()),
        unique_key("metrics.json"): b'{"resourceMetrics":[]}',
        unique_key("traces.json"): b"{}",  # an empty document: loaded with 0 rows
    }
    for key, body in uploads.items():
        s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
    before = bucket_snapshot()

    done = run_loader("--once", **FAST)
    assert done.returncode == 0, done.stderr

    expected = orjson.loads((GOLDEN / "traces_all_kinds.expected.json").read_bytes())
    got = table_rows(stack, "otel.otel_traces", TRACE_COLUMNS, "Timestamp, SpanId")
    assert_rows_equal(got, expected)
    expected_logs = orjson.loads((GOLDEN / "logs_basic.expected.json").read_bytes())
    assert_rows_equal(table_rows(stack, "otel.otel_logs", LOG_COLUMNS, "Timestamp"), expected_logs)

    states = sorted(
        stack.client().query("SELECT kind, status, rows FROM otel.s3_loader_files FINAL").result_rows
    )
    assert states == [
        ("empty", "loaded", 0),
        ("logs", "loaded", 3),
        ("metrics", "skipped", 0),
        ("traces", "loaded", 5),
    ]
    assert "batch: 4 files (3 loaded, 1 skipped, 0 failed), 5 spans, 3 logs" in done.stderr
    assert bucket_snapshot() == before  # read-only: nothing written, moved or deleted

    # A span loaded from S3 is indistinguishable from the same span exported directly into default.*
    client = stack.client()
    client.insert("default.otel_traces", trace_rows(orjson.loads(traces)), column_names=list(TRACE_COLUMNS))
    columns = ", ".join(f"`{c}`" for c in TRACE_COLUMNS)
    loaded, direct = (
        f"SELECT {columns} FROM {table}" for table in ("otel.otel_traces", "default.otel_traces")
    )
    diff = client.query(f"SELECT count() FROM ({loaded} EXCEPT {direct})").result_rows
    assert diff == [(0,)]

    again = run_loader("--once", **FAST)  # nothing left to do, nothing duplicated
    assert again.returncode == 0, again.stderr
    assert stack.client().query("SELECT count() FROM otel.otel_traces").result_rows == [(5,)]


def test_bad_inputs_fail_with_one_line_reasons_and_bounded_retries(stack, run_loader, unique_key, trace_doc):
    s3 = stack.s3()
    bad = {
        "malformed.json": (b'{"resourceSpans": [', "malformed JSON"),
        "truncated.json.gz": (gzip.compress(orjson.dumps(trace_doc(50)))[:200], "bad gzip"),
        "shape.json": (b"[1, 2]", "document must be a JSON object"),
        "listshape.json": (b'{"resourceSpans": {"a": 1}}', "resourceSpans must be a list"),
        "badid.json": (
            orjson.dumps(trace_doc(3)).replace(b'"traceId":"', b'"traceId":"xx', 1),
            "traceId must be 32 hex digits",
        ),
        "badtime.json": (
            orjson.dumps(trace_doc(3)).replace(b'"startTimeUnixNano":"', b'"startTimeUnixNano":"-', 1),
            "startTimeUnixNano must be an unsigned 64-bit integer",
        ),
    }
    keys = {}
    for name, (body, _) in bad.items():
        keys[name] = unique_key("traces_" + name)
        s3.put_object(Bucket=stack.bucket, Key=keys[name], Body=body)
    s3.put_object(
        Bucket=stack.bucket, Key=unique_key("traces.json"), Body=orjson.dumps(trace_doc(40, seed=1))
    )

    env = FAST | {"LOADER_MAX_ATTEMPTS": "2", "LOADER_RETRY_BACKOFF": "0"}
    for attempt in (1, 2, 3):
        done = run_loader("--once", **env)
        assert done.returncode == 1, done.stderr  # a failed file makes --once exit 1
        rows = (
            stack.client()
            .query(
                "SELECT key, status, attempts, error FROM otel.s3_loader_files FINAL WHERE status = 'failed'"
            )
            .result_rows
        )
        by_key = {row[0]: row for row in rows}
        for name, (_, reason) in bad.items():
            _, _, attempts, error = by_key[keys[name]]
            assert reason in error and "\n" not in error
            assert attempts == min(attempt, 2)  # retried at most LOADER_MAX_ATTEMPTS times
    assert stack.client().query("SELECT count() FROM otel.otel_traces").result_rows == [
        (40,)
    ]  # no half-loads

    status = run_loader("status", **env)
    assert status.returncode == 0, status.stderr
    assert "loaded          1 files          40 spans" in status.stdout
    assert "failed          6 files" in status.stdout
    assert "2/2 gave up: malformed JSON" in status.stdout


@pytest.mark.parametrize("route", ["clickhouse-converts", "python-converts"])
def test_replay_after_crash_between_insert_and_bookkeeping_is_a_no_op(
    stack, run_loader, unique_key, trace_doc, route
):
    """The crash window made deterministic: the insert happened, the bookkeeping row did not. Both routes:
    a plain document converted by ClickHouse, and one with an array value (converted by otlp_rows)."""
    doc = trace_doc(25, seed=7)
    if route == "python-converts":
        attrs = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
        attrs.append({"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "hyped"}]}}})
    key, body = unique_key("traces.json"), orjson.dumps(doc)
    etag = stack.s3().put_object(Bucket=stack.bucket, Key=key, Body=body)["ETag"].strip('"')
    settings = LoaderSettings(_env_file=None, **{k: v for k, v in stack.env().items() if k.isupper()})
    warehouse = Warehouse(settings)
    plain = plain_traces(body)
    assert (plain is not None) == (route == "clickhouse-converts")
    if plain is not None:
        warehouse.insert_otlp(warehouse.token(key, etag), plain.document)
    else:
        warehouse.insert_file("traces", warehouse.token(key, etag), prepare(key, body).payload)
    warehouse.close()
    count = "SELECT count() FROM otel.otel_traces"
    assert stack.client().query(count).result_rows == [(25,)]

    done = run_loader("--once", **FAST)
    assert done.returncode == 0, done.stderr
    assert stack.client().query(count).result_rows == [(25,)]
    assert stack.client().query("SELECT count() FROM otel.otel_traces_trace_id_ts").result_rows == [(25,)]
    assert stack.client().query(
        "SELECT status, rows FROM otel.s3_loader_files FINAL WHERE key = {k:String}", parameters={"k": key}
    ).result_rows == [("loaded", 25)]


def test_missing_table_exits_naming_it(stack, run_loader):
    done = run_loader("--once", LOADER_DATABASE="no_such_db", **FAST)
    assert done.returncode == 2
    assert "table no_such_db.otel_traces does not exist" in done.stderr


SCALAR_DOC = {
    "resourceSpans": [
        {
            "resource": {
                "attributes": [
                    {"key": "service.name", "value": {"stringValue": "launch"}},
                    {"key": "host.cores", "value": {"intValue": 8}},
                    {"key": "empty", "value": {}},
                ]
            },
            "scopeSpans": [
                {
                    "scope": {"name": "snkrs.launch", "version": "3.1"},
                    "spans": [
                        {
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "parentSpanId": "0000000000000000",
                            "traceState": "k=v",
                            "name": "POST /launch/entries",
                            "kind": 9,
                            "startTimeUnixNano": "4102444800123456789",
                            "endTimeUnixNano": 4102444800223456789,
                            "futureField": {"ignored": [1, 2]},
                            "attributes": [
                                {"key": "d_int", "value": {"doubleValue": 100}},
                                {"key": "d_big", "value": {"doubleValue": 1e21}},
                                {"key": "d_small", "value": {"doubleValue": 1e-7}},
                                {"key": "d_str", "value": {"doubleValue": "2.5"}},
                                {"key": "d_neg0", "value": {"doubleValue": -0.0}},
                                {"key": "i_str", "value": {"intValue": "-0042"}},
                                {"key": "i_num", "value": {"intValue": 9007199254740993}},
                                {"key": "b", "value": {"boolValue": False}},
                                {"key": "s", "value": {"stringValue": "<b>&</b> ünïcode"}},
                            ],
                            "events": [
                                {
                                    "timeUnixNano": "4102444800123456790",
                                    "name": "queued",
                                    "attributes": [{"key": "pos", "value": {"intValue": "12"}}],
                                },
                                {"name": "no time"},
                            ],
                            "links": [
                                {"traceId": "00000000000000000000000000000000", "spanId": "AAAAAAAAAAAAAAAA"},
                                {"traceId": "0AF7651916CD43DD8448EB211C80319C", "traceState": "t=1"},
                            ],
                            "status": {"code": 7, "message": "odd"},
                        },
                        {
                            "traceId": "0af7651916cd43dd8448eb211c80319c",
                            "startTimeUnixNano": "4102444801000000000",
                        },
                    ],
                }
            ],
        },
        {"scopeSpans": [{"spans": [{"name": "no resource", "startTimeUnixNano": "4102444802000000000"}]}]},
    ]
}


def _with_non_finite_doubles(document: dict) -> dict:
    """The document with NaN and ±Infinity double attributes on every span (strings in OTLP JSON)."""
    doc = orjson.loads(orjson.dumps(document))
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                span.setdefault("attributes", []).extend(
                    {"key": f"d_{name}", "value": {"doubleValue": name}}
                    for name in ("NaN", "Infinity", "-Infinity")
                )
    return doc


@pytest.mark.parametrize("reads_s3", ["true", "false"])
def test_clickhouse_conversion_equals_otlp_rows(stack, run_loader, unique_key, reads_s3):
    """ClickHouse converts the document (the schema's view) into exactly the rows otlp_rows builds, whether
    it reads the file from the bucket itself (the default) or the loader downloads and streams it. Read by
    ClickHouse, non-finite doubles convert too (a downloaded document holding them goes to otlp_rows)."""
    document = _with_non_finite_doubles(SCALAR_DOC) if reads_s3 == "true" else SCALAR_DOC
    key, body = unique_key("traces.json"), orjson.dumps(document)
    stack.s3().put_object(Bucket=stack.bucket, Key=key, Body=body)
    done = run_loader("--once", **FAST, LOADER_CLICKHOUSE_READS_S3=reads_s3)
    assert done.returncode == 0, done.stderr
    assert "using otlp_rows" not in done.stderr  # ClickHouse did the conversion
    assert "downloading" not in done.stderr  # reading it from the bucket itself, when it was asked to

    client = stack.client()
    client.insert("default.otel_traces", trace_rows(document), column_names=list(TRACE_COLUMNS))
    loaded = table_rows(stack, "otel.otel_traces", TRACE_COLUMNS, "Timestamp")
    direct = table_rows(stack, "default.otel_traces", TRACE_COLUMNS, "Timestamp")
    assert len(loaded) == 3
    assert_rows_equal(loaded, direct)
    assert client.query(
        "SELECT status, rows FROM otel.s3_loader_files FINAL WHERE key = {k:String}", parameters={"k": key}
    ).result_rows == [("loaded", 3)]


_NOT_SCALAR = ("arrayValue", "kvlistValue", "bytesValue")


def _scalars_only(value, suffix: str):
    """A copy of an OTLP JSON document without attributes the SQL fast path does not take; spans renamed."""
    if isinstance(value, list):
        return [_scalars_only(v, suffix) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if key == "attributes" and isinstance(v, list):
            v = [
                kv
                for kv in v
                if not any(k in (kv.get("value") or {}) for k in _NOT_SCALAR)
                and str((kv.get("value") or {}).get("doubleValue")).lstrip("-") not in ("NaN", "Infinity")
                and b"\\u" not in orjson.dumps(kv)  # a \u escape (a NUL in a string) also keeps it off
            ]
        out[key] = _scalars_only(v, suffix)
    if "spanId" in value and "startTimeUnixNano" in value and isinstance(value.get("name", ""), str):
        out["name"] = value.get("name", "") + suffix
    return out


def test_every_edge_case_span_loads_the_same_through_both_routes(stack, run_loader, unique_key):
    """Each span of the conformance edge cases (tests/collector/edge_payloads) as its own document: those
    ClickHouse converts (the schema's view, reading each file from the bucket itself) and those it refuses,
    which the loader downloads for otlp_rows, must give exactly the rows otlp_rows builds, so the
    fast path cannot change a value.
    (ClickHouse converting a downloaded document is tested by test_clickhouse_conversion_equals_otlp_rows.)"""
    from tests.collector import edge_payloads

    documents = [
        {"resourceSpans": [{**rs, "scopeSpans": [{**ss, "spans": [span]}]}]}
        for rs in edge_payloads.traces()["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    # and each again without the values only otlp_rows converts (arrays, kvlists, bytes, NaN), so that every
    # edge case also goes through the fast path; renamed so that both rows of a span sort apart
    documents += [_scalars_only(d, " (scalars)") for d in documents]
    s3, routes = stack.s3(), []
    for document in documents:
        key, body = unique_key("traces.json"), orjson.dumps(document)
        routes.append("clickhouse" if plain_traces(body) else "python")
        s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
    assert "clickhouse" in routes and "python" in routes, routes
    done = run_loader("--once", **FAST)
    assert done.returncode == 0, done.stderr
    # every scalar variant takes the fast path
    assert routes.count("clickhouse") >= len(documents) // 2, routes
    # ClickHouse reads every file itself and refuses exactly those with values only otlp_rows converts
    refused = sum(any(f'"{kind}"'.encode() in orjson.dumps(d) for kind in _NOT_SCALAR) for d in documents)
    assert refused > 0 and done.stderr.count("ClickHouse did not load") == refused, done.stderr[-3000:]

    client = stack.client()
    for document in documents:
        client.insert("default.otel_traces", trace_rows(document), column_names=list(TRACE_COLUMNS))
    order = "TraceId, SpanId, Timestamp, SpanName"
    loaded = table_rows(stack, "otel.otel_traces", TRACE_COLUMNS, order)
    direct = table_rows(stack, "default.otel_traces", TRACE_COLUMNS, order)
    assert len(loaded) == len(documents)
    assert_rows_equal(loaded, direct)


def test_small_documents_take_otlp_rows_and_large_ones_the_sql_path_by_default(trace_doc):
    """ClickHouse's conversion pays only on large documents: below LOADER_SQL_MIN_BYTES (uncompressed) a
    plain traces document goes through otlp_rows, whose fixed cost per file is lower."""
    min_bytes = LoaderSettings.model_fields["sql_min_bytes"].default
    small, large = orjson.dumps(trace_doc(200)), orjson.dumps(trace_doc(5000))
    assert len(small) < min_bytes <= len(large)
    assert plain_traces(small, min_bytes) is None
    assert plain_traces(small) is not None  # the SQL path could take it
    for body in (large, gzip.compress(large)):  # the uncompressed size decides
        plain = plain_traces(body, min_bytes)
        assert plain is not None and plain.spans == 5000


def test_a_batch_of_small_files_is_claimed_once_and_its_replay_is_a_no_op(
    stack, run_loader, unique_key, trace_doc
):
    """Small files are inserted together under their claimed batch's token. The crash window made
    deterministic: another loader claimed the batch and inserted it, but recorded nothing. A loader that
    then tries to claim the same (window, seq) loses, adopts that batch and replays it: nothing doubles."""
    s3 = stack.s3()
    docs = {unique_key("traces.json"): orjson.dumps(trace_doc(20 + n, seed=n)) for n in range(3)}
    etags = {
        key: s3.put_object(Bucket=stack.bucket, Key=key, Body=body)["ETag"].strip('"')
        for key, body in docs.items()
    }
    settings = LoaderSettings(_env_file=None, **{k: v for k, v in stack.env().items() if k.isupper()})
    books, warehouse = ClickHouseBooks(settings), Warehouse(settings)
    listed = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket=stack.bucket)["Contents"]}
    windows = {int(t.timestamp()) // settings.batch_window_seconds for t in listed.values()}
    for window in windows:  # the whole window's files in one batch, as a loader would claim them
        members = [
            (k, etags[k])
            for k in docs
            if int(listed[k].timestamp()) // settings.batch_window_seconds == window
        ]
        assert books.claim_batch(window, 0, members) == members
        # a second claim of (window, 0) is refused: the first one stands
        assert books.claim_batch(window, 0, members[:1]) == members
        payload = b",".join(prepare(k, docs[k]).payload for k, _ in members)
        warehouse.insert_file("traces", books.batch_token(window, 0), payload)
    books.close()
    warehouse.close()
    count = "SELECT count() FROM otel.otel_traces"
    assert stack.client().query(count).result_rows == [(63,)]

    done = run_loader("--once", LOADER_PARSE_WORKERS="0")
    assert done.returncode == 0, done.stderr
    assert "batch: 3 files (3 loaded" in done.stderr or "batch: 2 files (2 loaded" in done.stderr
    assert stack.client().query(count).result_rows == [(63,)]
    assert stack.client().query("SELECT count() FROM otel.otel_traces_trace_id_ts").result_rows == [(63,)]
    assert sorted(
        stack.client().query("SELECT status, rows FROM otel.s3_loader_files FINAL").result_rows
    ) == [("loaded", 20), ("loaded", 21), ("loaded", 22)]


def test_small_files_load_in_one_insert_per_batch(stack, run_loader, unique_key, trace_doc):
    s3 = stack.s3()
    for n in range(12):
        s3.put_object(
            Bucket=stack.bucket, Key=unique_key("traces.json"), Body=orjson.dumps(trace_doc(10, seed=n))
        )
    s3.put_object(Bucket=stack.bucket, Key=unique_key("traces.json"), Body=b'{"resourceSpans": [')
    done = run_loader("--once", LOADER_PARSE_WORKERS="0", LOADER_BATCH_FILES="5")
    assert done.returncode == 1, done.stderr  # the malformed file fails alone
    client = stack.client()
    assert client.query("SELECT count(), uniqExact(SpanId) FROM otel.otel_traces").result_rows == [(120, 120)]
    batches = client.query("SELECT length(members) FROM otel.s3_loader_batches").result_rows
    assert sum(n for (n,) in batches) == 13 and max(n for (n,) in batches) <= 5
    # an insert writes a part per day its spans fall on (trace_doc's spans start an hour ago: two days
    # between midnight and 1 am UTC)
    parts, days = client.query(
        "SELECT count(), uniqExact(partition) FROM system.parts "
        "WHERE database = 'otel' AND table = 'otel_traces'"
    ).result_rows[0]
    assert parts <= len(batches) * days  # one insert per batch, not one per file
    assert "malformed JSON" in done.stderr


def test_a_batch_waits_for_members_its_listing_does_not_show(stack, run_loader, unique_key, trace_doc):
    """A racing loader may claim a batch from a newer listing than this loader's: inserting only the members
    this loader sees would spend the batch's token without the others. The batch waits until every member
    still in the bucket is listed; a member gone from the bucket does not hold it back."""
    s3 = stack.s3()
    key = unique_key("traces.json")
    etag = s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(10)))["ETag"].strip('"')
    unlisted = "elsewhere/traces_000000001.json"  # outside S3_PREFIX: in the bucket, not in the listing
    unlisted_etag = s3.put_object(Bucket=stack.bucket, Key=unlisted, Body=b"{}")["ETag"].strip('"')
    settings = LoaderSettings(_env_file=None, **{k: v for k, v in stack.env().items() if k.isupper()})
    books = ClickHouseBooks(settings)
    modified = s3.head_object(Bucket=stack.bucket, Key=key)["LastModified"]
    window = int(modified.timestamp()) // settings.batch_window_seconds
    members = [(key, etag), (unlisted, unlisted_etag)]
    assert books.claim_batch(window, 0, members) == members
    books.close()
    count = "SELECT count() FROM otel.otel_traces"

    held = run_loader("--once", LOADER_PARSE_WORKERS="0")
    assert held.returncode == 0, held.stderr
    assert "waits for files this listing does not show yet" in held.stderr
    assert stack.client().query(count).result_rows == [(0,)]

    s3.delete_object(Bucket=stack.bucket, Key=unlisted)
    done = run_loader("--once", LOADER_PARSE_WORKERS="0")
    assert done.returncode == 0, done.stderr
    assert stack.client().query(count).result_rows == [(10,)]


def test_clickhouse_keeps_only_the_listed_version_of_a_file(stack, run_loader, unique_key, trace_doc):
    """The version check: ClickHouse reads the object in the same statement that compares its ETag with the
    listed one, so a file replaced after the listing is not loaded under the old version's token; the next
    pass loads the new version, once."""
    s3, key = stack.s3(), unique_key("traces.json")
    old = s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(30, seed=1)))["ETag"]
    s3.put_object(Bucket=stack.bucket, Key=key, Body=orjson.dumps(trace_doc(40, seed=2)))  # replaced
    settings = LoaderSettings(_env_file=None, **{k: v for k, v in stack.env().items() if k.isupper()})
    warehouse = Warehouse(settings)
    try:
        url = f"{stack.ports.s3_url}/{stack.bucket}/{key}"
        etag = old.strip('"')
        assert warehouse.insert_from_s3(warehouse.token(key, etag), url, etag, "test", "test") is None
    finally:
        warehouse.close()
    count = "SELECT count() FROM otel.otel_traces"
    assert stack.client().query(count).result_rows == [(0,)]
    for _ in range(2):
        done = run_loader("--once", **FAST)
        assert done.returncode == 0, done.stderr
        assert "downloading" not in done.stderr
    assert stack.client().query(count).result_rows == [(40,)]


def test_when_clickhouse_cannot_read_the_bucket_the_loader_downloads(
    stack, run_loader, unique_key, trace_doc
):
    """ClickHouse pointed at an address where no S3 answers: one warning line, then the loader downloads the
    large files itself for a while; nothing is lost."""
    s3 = stack.s3()
    for n in range(3):
        s3.put_object(Bucket=stack.bucket, Key=unique_key("traces.json"), Body=orjson.dumps(trace_doc(10, n)))
    done = run_loader("--once", **FAST, LOADER_CLICKHOUSE_S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("cannot read http://127.0.0.1:9/") == 1, done.stderr
    assert "downloads large files for 300 s" in done.stderr
    assert stack.client().query("SELECT count() FROM otel.otel_traces").result_rows == [(30,)]


def test_a_conversion_table_of_an_older_schema_is_named(stack, run_loader):
    """An otel.s3_loader_otlp_traces created before it refused arrays, kvlists and bytes would let ClickHouse
    drop such values silently: the loader refuses to start and says what to do."""
    client = stack.client()
    client.command("CREATE DATABASE IF NOT EXISTS old_otel")
    try:
        for table in client.query(
            "SELECT name FROM system.tables WHERE database = 'otel' AND name IN {names:Array(String)}",
            parameters={"names": ["otel_traces", "otel_logs", "s3_loader_files", "s3_loader_batches",
                                  "s3_loader_otlp_counts"]},
        ).result_rows:  # fmt: skip
            client.command(f"CREATE TABLE old_otel.{table[0]} AS otel.{table[0]}")
        client.command(
            "CREATE TABLE old_otel.s3_loader_otlp_traces (resourceSpans Array(Tuple(resource Tuple("
            "attributes Array(Tuple(key String, value Tuple(stringValue Nullable(String)))))))) ENGINE = Null"
        )
        done = run_loader("--once", LOADER_DATABASE="old_otel", **FAST)
        assert done.returncode == 2, done.stderr
        assert "table old_otel.s3_loader_otlp_traces predates" in done.stderr
        assert "Traceback" not in done.stderr
    finally:
        client.command("DROP DATABASE old_otel SYNC")
