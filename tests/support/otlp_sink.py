"""A minimal OTLP/HTTP (protobuf) receiver on loopback that decodes and keeps what it is sent: the far end
for tests and benchmarks of the generator when no collector runs. Not a collector: it stores messages in
memory (or only counts them) and answers 200 with an empty Export*ServiceResponse."""

from __future__ import annotations

import gzip
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

ROUTES = {
    "/v1/traces": ("traces", ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/logs": ("logs", ExportLogsServiceRequest, ExportLogsServiceResponse),
    "/v1/metrics": ("metrics", ExportMetricsServiceRequest, ExportMetricsServiceResponse),
}


def count_items(signal: str, request) -> int:
    """Spans, log records or metric data points in one export request."""
    if signal == "traces":
        return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
    if signal == "logs":
        return sum(len(sl.log_records) for rl in request.resource_logs for sl in rl.scope_logs)
    total = 0
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                total += len(getattr(metric, kind).data_points) if kind else 0
    return total


@dataclass
class Received:
    requests: dict[str, list] = field(default_factory=lambda: {"traces": [], "logs": [], "metrics": []})
    items: dict[str, int] = field(default_factory=lambda: {"traces": 0, "logs": 0, "metrics": 0})
    raw: list[tuple[str, bytes]] = field(default_factory=list)


class OtlpSink:
    """`with OtlpSink() as sink:` → `sink.endpoint` for OTEL_EXPORTER_OTLP_ENDPOINT; `sink.received`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, keep: bool = True, keep_raw: bool = False
    ) -> None:
        self.keep, self.keep_raw = keep, keep_raw
        self.received = Received()
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                route = ROUTES.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                signal, request_type, response_type = route
                request = request_type.FromString(body)
                sink._store(signal, request, body)
                payload = response_type().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="otlp-sink", daemon=True)

    def _store(self, signal: str, request, body: bytes) -> None:
        items = count_items(signal, request)
        with self._lock:
            self.received.items[signal] += items
            if self.keep:
                self.received.requests[signal].append(request)
            if self.keep_raw:
                self.received.raw.append((signal, body))

    def count(self, signal: str) -> int:
        with self._lock:
            return self.received.items[signal]

    def start(self) -> OtlpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> OtlpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
