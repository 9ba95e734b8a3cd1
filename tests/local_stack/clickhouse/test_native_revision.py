"""The endpoint's Native output for clients that name a protocol revision (clickhouse-go over HTTP),
and ClickHouse's compressed-block framing (compress=1 / decompress=1): chDB's own output, walked block
by block."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from local_stack.clickhouse import native_compression
from local_stack.clickhouse.native_revision import for_revision

WIDE = """
SELECT number AS n, toString(number) AS s, toLowCardinality(toString(number % 3)) AS lc,
    toLowCardinality(toNullable(if(number = 2, NULL, toString(number)))) AS lcn,
    range(number % 7) AS arr, if(number % 2, map('k', toString(number)), map()) AS m,
    CAST(if(number % 2, map('a', 'b'), map()) AS Map(LowCardinality(String), String)) AS mlc,
    toNullable(number) AS nn, (number, 'x') AS tup, toDateTime64(number, 9, 'UTC') AS ts,
    toFixedString('ab', 2) AS fs, toUUID('00000000-0000-0000-0000-000000000001') AS u,
    toDecimal64(1.5, 2) AS d
FROM numbers({rows})
"""


def native(stack, sql: str, **params: str) -> bytes:
    query = urllib.parse.urlencode({"default_format": "Native", **params})
    request = urllib.request.Request(f"{stack.ports.clickhouse_url}/?{query}", data=sql.encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


@pytest.mark.parametrize("rows", [0, 1, 5, 70000])
def test_each_block_gains_its_block_info_and_each_column_its_serialization_flag(
    local_stack, rows: int
) -> None:
    plain = native(local_stack, WIDE.format(rows=rows))
    upgraded = for_revision(plain, 54460)
    blocks = (len(upgraded) - len(plain)) // (8 + 13)
    assert len(upgraded) == len(plain) + blocks * (8 + 13)
    assert (blocks > 0) == (rows > 0 or len(plain) > 0)
    assert for_revision(plain, 0) == plain
    # what the endpoint answers a client that sends client_protocol_version (and compress=1)
    framed = native(local_stack, WIDE.format(rows=rows), client_protocol_version="54460", compress="1")
    assert native_compression.decompress(framed) == upgraded


def test_compressed_insert_body(stack) -> None:
    client = stack.client()
    client.command("CREATE TABLE IF NOT EXISTS default.native_framing (a UInt64, b String) ENGINE = Memory")
    client.command("TRUNCATE TABLE default.native_framing")
    body = native(stack, "SELECT number AS a, toString(number) AS b FROM numbers(1000)")
    query = urllib.parse.urlencode(
        {"query": "INSERT INTO default.native_framing FORMAT Native", "decompress": "1"}
    )
    for method in (native_compression.LZ4, native_compression.ZSTD):
        request = urllib.request.Request(
            f"{stack.ports.clickhouse_url}/?{query}", data=native_compression.compress(body, method)
        )
        urllib.request.urlopen(request, timeout=30).read()
    assert client.query("SELECT count(), sum(a) FROM default.native_framing").result_rows == [
        (2000, 2 * 499500)
    ]
    corrupt = bytearray(native_compression.compress(body))
    corrupt[-1] ^= 0xFF
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(
            urllib.request.Request(f"{stack.ports.clickhouse_url}/?{query}", data=bytes(corrupt))
        )
    assert b"CANNOT_DECOMPRESS" in failed.value.read()
    client.command("DROP TABLE default.native_framing")
