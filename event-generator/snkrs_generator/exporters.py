"""OTLP exporters from the standard settings: OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_PROTOCOL
(http/protobuf on :4318 or grpc on :4317); every other OTEL_EXPORTER_OTLP_* variable (headers, compression,
per-signal endpoints) is read by the SDK exporters themselves."""

from __future__ import annotations

import logging
import os
import re

from click_common.text import one_line

from .settings import Settings
from .telemetry import Exporters

SIGNAL_ENV = {
    "traces": "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "logs": "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
    "metrics": "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
}


def _http_endpoint(base: str | None, signal: str) -> str | None:
    if base is None or os.environ.get(SIGNAL_ENV[signal]):
        return None  # the exporter resolves its env (or default http://localhost:4318/v1/<signal>)
    return f"{base.rstrip('/')}/v1/{signal}"


def otlp_exporters(settings: Settings) -> Exporters:
    timeout = settings.export_timeout_s
    if settings.otlp_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        kwargs: dict = {"timeout": timeout}
        if settings.otlp_endpoint:
            kwargs["endpoint"] = settings.otlp_endpoint
            kwargs["insecure"] = settings.otlp_endpoint.startswith("http://")
        endpoint = settings.otlp_endpoint or "http://localhost:4317"
        return Exporters(
            OTLPSpanExporter(**kwargs),
            OTLPLogExporter(**kwargs),
            OTLPMetricExporter(**kwargs),
            endpoint=f"{endpoint} (grpc)",
        )

    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = settings.otlp_endpoint
    return Exporters(
        OTLPSpanExporter(endpoint=_http_endpoint(base, "traces"), timeout=timeout),
        OTLPLogExporter(endpoint=_http_endpoint(base, "logs"), timeout=timeout),
        OTLPMetricExporter(endpoint=_http_endpoint(base, "metrics"), timeout=timeout),
        endpoint=base or "http://localhost:4318",
    )


class ExporterErrors(logging.Handler):
    """Keeps the SDK exporters' retry chatter out of the log: their last message becomes the reason in the
    generator's own once-per-interval outage line."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "due to timeout, max retries or shutdown" in message:
            return  # keep the cause, not the give-up line
        message = message.removeprefix("Transient error ").split(" encountered while exporting")[0]
        if errno := re.search(r"\[Errno \d+\] [^\"')]+", message):  # urllib3's nesting → the OS error
            message = f"{errno.group(0)} ({message.split(':')[0]})"
        self.last = one_line(message, 240)

    @classmethod
    def install(cls) -> ExporterErrors:
        sdk_log = logging.getLogger("opentelemetry.exporter")
        handler = next((h for h in sdk_log.handlers if isinstance(h, cls)), None)
        if handler is None:
            handler = cls()
            sdk_log.addHandler(handler)
            sdk_log.propagate = False
        return handler
