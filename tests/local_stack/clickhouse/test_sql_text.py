from local_stack.clickhouse.body_stream import StreamDecoder
from local_stack.clickhouse.sql_text import Insert, Query, content_type, parse_request, streamable_insert


def test_query_in_url():
    assert parse_request("SELECT 1", b"", "TabSeparated") == Query("SELECT 1", "TabSeparated")


def test_query_in_body_with_format_clause():
    assert parse_request("", b"SELECT 1 FORMAT JSONEachRow", "TabSeparated") == Query(
        "SELECT 1 FORMAT JSONEachRow", "JSONEachRow"
    )


def test_query_split_between_url_and_body():
    assert parse_request("SELECT", b" 1", "TSV").sql == "SELECT\n 1"


def test_insert_in_url_data_in_body():
    parsed = parse_request("INSERT INTO t (a, b) FORMAT Native", b"\x01\x02binary", "TabSeparated")
    assert parsed == Insert("INSERT INTO t (a, b)", "Native", b"\x01\x02binary")


def test_insert_with_inline_data_in_body():
    parsed = parse_request("", b'INSERT INTO db.t FORMAT JSONEachRow\n{"a": 1}\n{"a": 2}\n', "TabSeparated")
    assert parsed == Insert("INSERT INTO db.t", "JSONEachRow", b'{"a": 1}\n{"a": 2}\n')


def test_insert_with_settings_keeps_them_in_the_statement():
    parsed = parse_request("INSERT INTO t SETTINGS async_insert=0 FORMAT CSV", b"1,2\n", "TabSeparated")
    assert parsed == Insert("INSERT INTO t SETTINGS async_insert=0", "CSV", b"1,2\n")


def test_insert_values_is_a_plain_query():
    parsed = parse_request("INSERT INTO t VALUES", b"(1, 'a')", "TabSeparated")
    assert isinstance(parsed, Query)
    assert parsed.sql == "INSERT INTO t VALUES\n(1, 'a')"


def test_content_types():
    assert content_type("JSONEachRow").startswith("application/json")
    assert content_type("TSVWithNames").startswith("text/tab-separated-values")
    assert content_type("CSVWithNames").startswith("text/csv")
    assert content_type("Native") == "application/octet-stream"


def test_streamable_insert_only_when_the_url_holds_the_whole_statement():
    assert streamable_insert("INSERT INTO t (a) FORMAT Native") == Insert("INSERT INTO t (a)", "Native", b"")
    assert streamable_insert("INSERT INTO t FORMAT CSV 1,2") is None  # inline data: not a pure body
    assert streamable_insert("SELECT 1") is None


def test_stream_decoder_handles_concatenated_lz4_frames_split_anywhere():
    import lz4.frame

    payload = [bytes(range(256)) * 100, b"second frame", b"x" * 70_000]
    body = b"".join(lz4.frame.compress(p) for p in payload)
    decoder = StreamDecoder("lz4")
    out = b"".join(decoder.feed(body[i : i + 777]) for i in range(0, len(body), 777))
    assert out == b"".join(payload)
