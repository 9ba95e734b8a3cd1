"""Float corners (edge_payloads.FLOAT_CORNERS: the 1e21 boundary, 1e-7, -0, subnormals, the largest
double, integers written without a point, 0.1 + 0.2, doubles sent as strings) through every way a span
reaches a table: the real clickhouseexporter (default.*, the reference), the loader's ClickHouse conversion
(the schema's view, fed from the real awss3exporter's file), the loader's otlp_rows path on the same file,
and the collector stand-in given the same request. All four must write the same rows.

The NaN/±Inf and array/kvlist/bytes corners are in edge_payloads.ATTRIBUTES (test_rows.py, test_twin.py):
any of them keeps a document off the ClickHouse conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.collector import edge_payloads
from tests.collector.pipeline import (
    except_both_ways,
    post_json,
    run_loader_once,
    settled_count,
    snapshot,
    wait_for_s3_spans,
)

pytestmark = pytest.mark.slow

LOADER_TABLES = ("otel_traces", "otel_traces_trace_id_ts", "s3_loader_files", "s3_loader_batches",
                 "s3_loader_otlp_counts")  # fmt: skip


def test_float_corners_are_written_alike_by_every_route(real_collector, stack, tmp_path: Path) -> None:
    document = edge_payloads.float_traces()
    spans = sum(len(ss["spans"]) for rs in document["resourceSpans"] for ss in rs["scopeSpans"])
    client = stack.client()
    collector = real_collector()
    status, body = post_json(collector.otlp.http_url, "traces", document)
    assert status == 200, (body, collector.tail())
    assert settled_count(client, "default.otel_traces", spans, tail=collector.tail) == spans
    wait_for_s3_spans(stack, spans, collector.tail)
    assert collector.stop() == 0

    def compare(route: str) -> None:
        only_real, only_loaded, sample = except_both_ways(client, "default.otel_traces", "otel.otel_traces")
        assert (only_real, only_loaded) == (0, 0), f"{route}: {sample}"

    # the ClickHouse conversion (the loader's SQL route: it counts the spans it converted)
    run_loader_once(stack, tmp_path, sql_min_bytes=0)
    assert client.command("SELECT sum(spans) FROM otel.s3_loader_otlp_counts") == spans, "not the SQL route"
    compare("ClickHouse's conversion")

    # the same file again, through otlp_rows
    for table in LOADER_TABLES:
        client.command(f"TRUNCATE TABLE otel.{table}")
    run_loader_once(stack, tmp_path, sql_min_bytes=1 << 30)
    assert client.command("SELECT count() FROM otel.s3_loader_otlp_counts") == 0, "not the otlp_rows route"
    assert client.command("SELECT count() FROM otel.otel_traces") == spans
    compare("otlp_rows")

    # the collector stand-in, given the request the real collector was given
    assert snapshot(client, "default", {"otel_traces": "1"}, "real_collector") == {"otel_traces": spans}
    client.command("TRUNCATE TABLE default.otel_traces")
    status, body = post_json(stack.otlp.http_url, "traces", document)
    assert status == 200, body
    assert settled_count(client, "default.otel_traces", spans) == spans
    only_real, only_twin, sample = except_both_ways(
        client, "real_collector.otel_traces", "default.otel_traces"
    )
    assert (only_real, only_twin) == (0, 0), f"stand-in: {sample}"
    client.command("DROP DATABASE real_collector")


# Doubles sent as JSON strings in odd forms: the collector parses them with Go's strconv.ParseFloat (hex
# floats with a p exponent, inf/infinity/nan in any case, underscores between digits; no spaces, no overflow,
# ASCII digits only) and refuses the whole request when one does not parse.
ODD_DOUBLES = [
    "0x1p-2", "0X1.8P1", "-0x1.fffffffffffffp1023", "0x_1p0", "inf", "+Inf", "-infinity", "nan", "NaN",
    "Infinity", " 1.5", "1.5 ", "1_0", "1e400", "-1e400", "+nan", "0x1", "1e-400", "+1.5", ".5", "5.", "1E5",
    "", "1e", "- 1", "infinit", "0x1p", "1.5e+", "٣",
]  # fmt: skip


def one_span(n: int, value: str) -> dict:
    span = {"traceId": edge_payloads.TRACE, "spanId": f"00000000000007{n:02x}", "name": f"odd {n}",
            "startTimeUnixNano": edge_payloads.t(n), "endTimeUnixNano": edge_payloads.t(n + 1),
            "attributes": [edge_payloads.kv("d", {"doubleValue": value})]}  # fmt: skip
    return {"resourceSpans": [{"resource": edge_payloads.resource("odd"), "scopeSpans": [{"spans": [span]}]}]}


def test_doubles_as_odd_strings_are_taken_or_refused_as_the_real_collector_does(
    real_collector, stack
) -> None:
    client = stack.client()
    collector = real_collector()
    real = {
        v: post_json(collector.otlp.http_url, "traces", one_span(n, v))[0] for n, v in enumerate(ODD_DOUBLES)
    }
    accepted = sum(status == 200 for status in real.values())
    assert 0 < accepted < len(ODD_DOUBLES) and set(real.values()) == {200, 400}, real
    assert settled_count(client, "default.otel_traces", accepted, tail=collector.tail) == accepted
    assert collector.stop() == 0
    snapshot(client, "default", {"otel_traces": "1"}, "real_collector")
    client.command("TRUNCATE TABLE default.otel_traces")
    twin = {v: post_json(stack.otlp.http_url, "traces", one_span(n, v))[0] for n, v in enumerate(ODD_DOUBLES)}
    assert twin == real, [(v, real[v], twin[v]) for v in ODD_DOUBLES if real[v] != twin[v]]
    assert settled_count(client, "default.otel_traces", accepted) == accepted
    only_real, only_twin, sample = except_both_ways(
        client, "real_collector.otel_traces", "default.otel_traces"
    )
    assert (only_real, only_twin) == (0, 0), f"stand-in: {sample}"
    client.command("DROP DATABASE real_collector")
