"""The agent's own traces, OTel GenAI semantic conventions: one `invoke_agent` span per question, a `chat`
span per model call (model, token usage, finish reason) and an `execute_tool` span per tool call (tool name,
rows, truncated, duration), exported as service.name=trace-agent to OTEL_EXPORTER_OTLP_ENDPOINT.

Only names, counts and timings: never the question, the answer, tool inputs or tool results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from .settings import Settings

log = logging.getLogger(__name__)
# Best effort: with no collector listening, the exporter's retries must not print into the answer.
for _name in ("opentelemetry.exporter.otlp.proto.http", "opentelemetry.exporter.otlp.proto.grpc",
              "opentelemetry.sdk.trace.export"):  # fmt: skip
    logging.getLogger(_name).setLevel(logging.CRITICAL)
EXPORT_TIMEOUT_S = 2

PROVIDER = "anthropic"
DEFAULT_ENDPOINT = "http://localhost:4318"  # the collector (or `just local`'s receiver), as the generator


class Telemetry:
    """A tracer for the agent's spans; `Telemetry()` (no provider) records nothing."""

    def __init__(self, provider: TracerProvider | None = None, agent_name: str = "trace-agent") -> None:
        self.provider = provider
        self.agent_name = agent_name
        self.tracer = provider.get_tracer("trace_agent") if provider else trace.NoOpTracer()

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    @classmethod
    def from_settings(cls, settings: Settings, exporter: SpanExporter | None = None) -> Telemetry:
        """Off when AGENT_TELEMETRY=false; else spans go to `exporter` (tests) or OTLP at the endpoint."""
        if not settings.telemetry:
            return cls()
        resource = Resource.create(
            {"service.name": settings.self_service_name, "service.namespace": "click-ai"}
        )
        provider = TracerProvider(resource=resource)
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            provider.add_span_processor(BatchSpanProcessor(otlp_exporter(settings.otlp_endpoint)))
        return cls(provider, settings.self_service_name)

    def shutdown(self) -> None:
        """Send what is buffered (two seconds at most, e.g. when no collector listens) and stop."""
        if self.provider is not None:
            self.provider.force_flush(timeout_millis=EXPORT_TIMEOUT_S * 1000)
            self.provider.shutdown()
            self.provider = None
            self.tracer = trace.NoOpTracer()

    @contextmanager
    def _operation(
        self, operation: str, target: str, kind: SpanKind, attributes: dict[str, Any]
    ) -> Iterator[trace.Span]:
        """A GenAI span of the current context (see _genai)."""
        name, attributes = _genai(operation, target, attributes)
        with self.tracer.start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span

    def question(self, model: str) -> AbstractContextManager[trace.Span]:
        return self._operation(
            "invoke_agent",
            self.agent_name,
            SpanKind.INTERNAL,
            {
                "gen_ai.agent.name": self.agent_name,
                "gen_ai.provider.name": PROVIDER,
                "gen_ai.request.model": model,
            },
        )

    def model_call(self, model: str, max_tokens: int) -> AbstractContextManager[trace.Span]:
        return self._operation(
            "chat",
            model,
            SpanKind.CLIENT,
            {
                "gen_ai.provider.name": PROVIDER,
                "gen_ai.request.model": model,
                "gen_ai.request.max_tokens": max_tokens,
            },
        )

    def tool_call(self, name: str, call_id: str) -> AbstractContextManager[trace.Span]:
        return self._operation("execute_tool", name, SpanKind.INTERNAL, _tool_attributes(name, call_id))

    def finished_tool_call(self, name: str, call_id: str, result: Any, start_ns: int, end_ns: int) -> None:
        """The `tool_call` span (with `record_tool`) of a call already answered, at the times it ran: the MCP
        server records it after the answer is sent, so building the span delays no caller."""
        span_name, attributes = _genai("execute_tool", name, _tool_attributes(name, call_id))
        span = self.tracer.start_span(
            span_name, kind=SpanKind.INTERNAL, attributes=attributes, start_time=start_ns
        )
        record_tool(span, result)
        span.end(end_time=end_ns)


def _genai(operation: str, target: str, attributes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A GenAI span's name `<operation> <target>` and its attributes with `gen_ai.operation.name`, as the
    semantic conventions name them."""
    return f"{operation} {target}", {"gen_ai.operation.name": operation, **attributes}


def _tool_attributes(name: str, call_id: str) -> dict[str, Any]:
    return {
        "gen_ai.tool.name": name,
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": call_id,
    }


def record_response(span: trace.Span, message: Any) -> None:
    """A model call's outcome: response model and id, finish reason, token usage (no content)."""
    usage = getattr(message, "usage", None)
    attributes: dict[str, Any] = {
        "gen_ai.response.model": getattr(message, "model", "") or "",
        "gen_ai.response.id": getattr(message, "id", "") or "",
        "gen_ai.response.finish_reasons": [getattr(message, "stop_reason", "") or ""],
    }
    for attribute, field in (
        ("gen_ai.usage.input_tokens", "input_tokens"),
        ("gen_ai.usage.output_tokens", "output_tokens"),
        ("gen_ai.usage.cache_read.input_tokens", "cache_read_input_tokens"),
        ("gen_ai.usage.cache_creation.input_tokens", "cache_creation_input_tokens"),
    ):
        attributes[attribute] = int(getattr(usage, field, 0) or 0)
    span.set_attributes(attributes)


def record_tool(span: trace.Span, result: Any) -> None:
    """A tool call's outcome: rows, truncated, the tool's own elapsed time; errors by type only."""
    span.set_attributes(
        {
            "click_ai.tool.rows": int(result.row_count),
            "click_ai.tool.truncated": bool(result.truncated),
            "click_ai.tool.elapsed_ms": round(float(result.elapsed_ms), 3),
        }
    )
    if result.is_error:
        span.set_attribute("error.type", "tool_error")
        span.set_status(Status(StatusCode.ERROR))


def record_answer(span: trace.Span, usage: Any, tool_calls: int, stop_reason: str) -> None:
    span.set_attributes(
        {
            "gen_ai.usage.input_tokens": int(usage.input_tokens),
            "gen_ai.usage.output_tokens": int(usage.output_tokens),
            "click_ai.agent.tool_calls": tool_calls,
            "click_ai.agent.model_calls": int(usage.requests),
            "gen_ai.response.finish_reasons": [stop_reason or ""],
        }
    )


def otlp_exporter(endpoint: str) -> SpanExporter:
    """OTLP over HTTP (protobuf) to <endpoint>/v1/traces, or gRPC when OTEL_EXPORTER_OTLP_PROTOCOL=grpc."""
    base = (endpoint or DEFAULT_ENDPOINT).rstrip("/")
    if os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").lower() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(endpoint=base, insecure=base.startswith("http://"), timeout=EXPORT_TIMEOUT_S)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=EXPORT_TIMEOUT_S)
