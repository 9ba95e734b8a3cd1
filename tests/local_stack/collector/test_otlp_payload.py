"""Decoding, screening and responses of the OTLP receiver (pure)."""

from __future__ import annotations

import orjson
import pytest
from local_stack.collector import otlp_json
from local_stack.collector.payload import BadPayload, Signal, decode_json, decode_protobuf, response, screen

from tests.support.otlp_samples import TRACE_ID, logs_request, metrics_request, traces_request
from tests.support.otlp_sink import count_items


@pytest.mark.parametrize(
    ("signal", "make", "to_json"),
    [
        (Signal.TRACES, traces_request, otlp_json.traces_to_json),
        (Signal.LOGS, logs_request, otlp_json.logs_to_json),
        (Signal.METRICS, metrics_request, otlp_json.metrics_to_json),
    ],
    ids=["traces", "logs", "metrics"],
)
def test_json_body_decodes_to_the_same_request_as_protobuf(signal, make, to_json) -> None:
    original = make()
    # what an OTLP/JSON client sends is exactly what the collector writes: hex ids, ints as strings
    body = orjson.dumps(to_json(original))
    assert decode_json(signal, body) == original
    assert decode_protobuf(signal, original.SerializeToString()) == original


def test_json_body_accepts_upper_case_ids_enum_names_numbers_and_unknown_fields() -> None:
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "feed"}}]},
                "futureField": {"x": 1},
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_ID.hex().upper(),
                                "spanId": "EEE19B7EC3C1B174",
                                "name": "GET /feed",
                                "kind": "SPAN_KIND_SERVER",
                                "startTimeUnixNano": 1700000000000000000,  # a number or a string
                                "endTimeUnixNano": "1700000000500000000",
                                "status": {"code": "STATUS_CODE_ERROR"},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    request = decode_json(Signal.TRACES, orjson.dumps(body))
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert span.trace_id == TRACE_ID
    assert (span.kind, span.status.code, span.end_time_unix_nano) == (2, 2, 1700000000500000000)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}', "is not a hex string"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"spanId": 5}]}]}]}', "must be a hex string"),
        (
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}',
            "not an OTLP traces",
        ),
        (b'{"resourceSpans": {"oops": 1}}', "not an OTLP traces"),
    ],
)
def test_bad_json_bodies_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(BadPayload, match=reason):
        decode_json(Signal.TRACES, body)


def test_bad_protobuf_body_says_why() -> None:
    with pytest.raises(BadPayload, match="not a protobuf ExportTraceServiceRequest"):
        decode_protobuf(Signal.TRACES, b"\x0a\xff\xff\xff\xff\x0f garbage")


def test_an_id_of_the_wrong_length_refuses_the_whole_request_and_zero_or_empty_ids_are_kept() -> None:
    """As pdata's decoder (the real collector answers 400 / InvalidArgument; tests/collector shows it)."""
    request = traces_request(spans=5)
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[3].span_id = bytes(8)  # all zero: stored with SpanId ''
    spans[4].trace_id = b""  # empty: stored with TraceId ''
    screened = screen(Signal.TRACES, request)
    assert (screened.accepted, screened.rejected) == (5, 0)
    spans[1].trace_id = b"\x01\x02\x03"  # wrong length
    with pytest.raises(BadPayload, match="trace_id: 3 bytes"):
        screen(Signal.TRACES, request)
    spans[1].trace_id = TRACE_ID
    spans[2].links.add(trace_id=TRACE_ID, span_id=b"\x01")
    with pytest.raises(BadPayload, match="link span_id: 1 bytes"):
        screen(Signal.TRACES, request)


def test_fully_accepted_request_leaves_partial_success_unset() -> None:
    request = traces_request(spans=3)
    screened = screen(Signal.TRACES, request)
    assert (screened.accepted, screened.rejected) == (3, 0)
    assert not response(Signal.TRACES, screened).HasField("partial_success")


def test_log_records_without_trace_context_are_fine_but_times_beyond_datetime64_are_not() -> None:
    request = logs_request(records=4)
    records = request.resource_logs[0].scope_logs[0].log_records
    records[0].trace_id = b""
    records[0].span_id = b""
    records[1].span_id = bytes(8)  # zeros: "no span", as some SDKs send it
    records[3].time_unix_nano = 1 << 63
    screened = screen(Signal.LOGS, request)
    assert (screened.accepted, screened.rejected) == (3, 1)
    assert response(Signal.LOGS, screened).partial_success.rejected_log_records == 1
    records[2].trace_id = b"\x00" * 5
    with pytest.raises(BadPayload, match="trace_id: 5 bytes"):
        screen(Signal.LOGS, request)


def test_metric_points_are_counted_and_a_bad_exemplar_id_refuses_the_request() -> None:
    request = metrics_request()
    total = count_items("metrics", request)
    screened = screen(Signal.METRICS, request)
    assert (screened.accepted, screened.rejected) == (total, 0)
    request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars[
        0
    ].span_id = b"\x01"
    with pytest.raises(BadPayload, match="exemplar span_id: 1 bytes"):
        screen(Signal.METRICS, request)
