"""The protobuf → OTLP JSON conversion against the protobuf library's own JSON mapping (ids aside)."""

from __future__ import annotations

import base64

import orjson
import pytest
from google.protobuf.json_format import MessageToDict
from local_stack.collector import otlp_json
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.support.otlp_samples import (
    PARENT_ID,
    SPAN_ID,
    T0,
    TRACE_ID,
    logs_request,
    metrics_request,
    traces_request,
)

_IDS = {"traceId", "spanId", "parentSpanId"}


def _library_json(message) -> dict:
    """MessageToDict with OTLP's one exception applied: ids as lowercase hex instead of base64."""

    def fix(node):
        if isinstance(node, dict):
            return {
                k: base64.b64decode(v).hex() if k in _IDS and isinstance(v, str) else fix(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(MessageToDict(message, use_integers_for_enums=True))


@pytest.mark.parametrize(
    ("request_msg", "convert"),
    [
        (traces_request(), otlp_json.traces_to_json),
        (logs_request(), otlp_json.logs_to_json),
        (metrics_request(), otlp_json.metrics_to_json),
    ],
    ids=["traces", "logs", "metrics"],
)
def test_matches_the_protobuf_json_mapping(request_msg, convert) -> None:
    assert convert(request_msg) == _library_json(request_msg)


def test_span_encoding_follows_the_collector() -> None:
    doc = otlp_json.traces_to_json(traces_request(spans=1))
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["traceId"] == TRACE_ID.hex()
    assert span["spanId"] == SPAN_ID.hex()
    assert span["parentSpanId"] == PARENT_ID.hex()
    assert span["kind"] == 2  # enums are integers
    assert span["status"] == {"code": 2, "message": "payment provider timeout"}
    assert span["startTimeUnixNano"] == str(T0)  # 64-bit ints are strings
    values = {kv["key"]: kv["value"] for kv in span["attributes"]}
    assert values["http.response.status_code"] == {"intValue": "409"}
    assert values["raw"] == {"bytesValue": "AAH/"}
    assert values["empty.string"] == {"stringValue": ""}


def test_zero_fields_are_omitted_but_status_resource_and_scope_are_always_written() -> None:
    req = ExportTraceServiceRequest()
    span = (
        req.resource_spans.add().scope_spans.add().spans.add(trace_id=TRACE_ID, span_id=SPAN_ID, name="GET /")
    )
    span.start_time_unix_nano = span.end_time_unix_nano = 1
    doc = otlp_json.traces_to_json(req)
    assert orjson.dumps(doc) == (
        b'{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"'
        + TRACE_ID.hex().encode()
        + b'","spanId":"'
        + SPAN_ID.hex().encode()
        + b'","name":"GET /","startTimeUnixNano":"1","endTimeUnixNano":"1","status":{}}]}]}]}'
    )


def test_empty_request_is_an_empty_document() -> None:
    assert otlp_json.traces_to_json(ExportTraceServiceRequest()) == {}


def test_non_finite_doubles_use_the_proto_json_strings() -> None:
    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add(trace_id=TRACE_ID, span_id=SPAN_ID)
    span.attributes.add(key="nan").value.double_value = float("nan")
    span.attributes.add(key="inf").value.double_value = float("-inf")
    attrs = otlp_json.traces_to_json(req)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
    assert [a["value"] for a in attrs] == [{"doubleValue": "NaN"}, {"doubleValue": "-Infinity"}]
