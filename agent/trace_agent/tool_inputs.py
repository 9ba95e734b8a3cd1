"""The tools' inputs as pydantic models: the JSON schema the model sees and the validation it gets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .timewindow import parse_duration, parse_time

_TRACE_ID = re.compile(r"^[0-9a-fA-F]{1,64}$")


def _checked_by(parse: Callable[[str], object]) -> AfterValidator:
    """A text `parse` accepts (its error is the validation error), or None for an empty one."""

    def check(value: str | None) -> str | None:
        if value:
            parse(value)
        return value or None

    return AfterValidator(check)


def _hexadecimal(message: str) -> AfterValidator:
    def check(value: str) -> str:
        if not _TRACE_ID.match(value):
            raise ValueError(message)
        return value.lower()

    return AfterValidator(check)


# The fields several tools share, each written once.
Duration = Annotated[str | None, _checked_by(parse_duration)]
Time = Annotated[str | None, _checked_by(parse_time)]
TraceId = Annotated[
    str,
    _hexadecimal("a trace id is hexadecimal, e.g. 4bf92f3577b34da6a3ce929d0e0e4736"),
    Field(description="The 32-hex-digit TraceId."),
]
HexId = Annotated[str, _hexadecimal("ids are hexadecimal, e.g. 4bf92f3577b34da6a3ce929d0e0e4736")]
Service = Annotated[str | None, Field(description="Service name contains this (case-insensitive).")]
Status = Annotated[
    Literal["Error", "Ok", "Unset"] | None, Field(description="Only spans with this StatusCode.")
]


class ToolInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WindowInput(ToolInput):
    window: Duration = Field(
        None, description="Look-back from now, e.g. 15m, 1h, 6h, 2d. Default: the session window (1h)."
    )
    start: Time = Field(None, description="ISO-8601 UTC start time; with `end` overrides `window`.")
    end: Time = Field(None, description="ISO-8601 UTC end time (default now).")


class DescribeSchemaInput(ToolInput):
    pass


class ListServicesInput(WindowInput):
    service: str | None = Field(
        None, description="Only services whose name contains this (case-insensitive)."
    )
    sort_by: Literal["spans", "errors", "error_rate", "p95_ms", "p99_ms"] = "spans"
    limit: int = Field(50, ge=1, le=200, description="Maximum services returned.")


class FindSlowSpansInput(WindowInput):
    match: str | None = Field(
        None, description="Service OR span name contains this, e.g. 'checkout' (case-insensitive)."
    )
    service: Service = None
    span_name: str | None = Field(
        None, description="Span name contains this (case-insensitive), e.g. checkout."
    )
    min_duration_ms: float = Field(0, ge=0, description="Only spans at least this long (milliseconds).")
    status: Status = None
    limit: int = Field(20, ge=1, le=100, description="Top N slowest spans.")


class ErrorSummaryInput(WindowInput):
    service: Service = None
    limit: int = Field(20, ge=1, le=100, description="Maximum (service, status message) groups.")
    examples: int = Field(3, ge=1, le=10, description="Example trace ids per group.")


class LogSummaryInput(WindowInput):
    service: Service = None
    min_severity: Literal["DEBUG", "INFO", "WARN", "ERROR"] = Field(
        "WARN", description="Only log records at least this severe."
    )
    match: str | None = Field(None, description="Body contains this (case-insensitive).")
    limit: int = Field(20, ge=1, le=100, description="Maximum (service, severity, template) groups.")
    examples: int = Field(3, ge=1, le=10, description="Example trace ids per group.")


class AttributeBreakdownInput(WindowInput):
    attribute: str = Field(
        ...,
        min_length=1,
        max_length=200,
        description="A resource or span attribute key to group by, e.g. service.version, "
        "service.instance.id, server.address, snkrs.region, http.route, http.response.status_code.",
    )
    service: Service = None
    span_name: str | None = Field(None, description="Span name contains this (case-insensitive).")
    limit: int = Field(20, ge=1, le=100, description="Maximum values returned.")


class GetTraceTreeInput(ToolInput):
    trace_id: TraceId


class SemanticSearchInput(WindowInput):
    query: str = Field(..., min_length=1, max_length=1000, description="What to look for, in plain words.")
    service: Service = None
    status: Status = None
    limit: int = Field(10, ge=1, le=50, description="Nearest N kinds of span.")
    examples: int = Field(3, ge=1, le=10, description="Example trace ids per kind.")


class SimilarSpansInput(WindowInput):
    trace_id: HexId = Field(..., description="The span's 32-hex-digit TraceId.")
    span_id: HexId = Field(..., description="The span's 16-hex-digit SpanId.")
    service: Service = None
    status: Status = None
    limit: int = Field(10, ge=1, le=50, description="Nearest N kinds of span.")
    examples: int = Field(3, ge=1, le=10, description="Example trace ids per kind.")


class CriticalPathInput(GetTraceTreeInput):
    pass


class LogPatternsInput(WindowInput):
    service: Service = None
    min_severity: Literal["DEBUG", "INFO", "WARN", "ERROR"] = Field(
        "INFO", description="Only log records at least this severe."
    )
    baseline_offset: Duration = Field(
        None,
        description="How far back the baseline window is (same length), e.g. 1h or 1d. Default: the "
        "window's own length (the window right before). Patterns absent there are marked new.",
    )
    new_only: bool = Field(False, description="Only patterns not seen in the baseline window.")
    limit: int = Field(20, ge=1, le=100, description="Maximum patterns returned.")
    examples: int = Field(3, ge=1, le=10, description="Example trace ids per pattern.")


class CompareWindowsInput(ToolInput):
    window: Duration = Field(
        None, description="Length of both windows, e.g. 15m, 1h. Default: session window."
    )
    end: Time = Field(None, description="ISO-8601 UTC end of the current window (default now).")
    baseline_offset: Duration = Field(
        None,
        description="How far back the baseline window is, e.g. 1h or 1d. Default: the window's own length "
        "(the window right before the current one).",
    )
    service: Service = None
    limit: int = Field(50, ge=1, le=200, description="Maximum services returned.")


class RunSqlInput(ToolInput):
    sql: str = Field(
        ..., min_length=1, max_length=20_000, description="One SELECT/WITH/SHOW/DESCRIBE/EXPLAIN."
    )
    limit: int = Field(100, ge=1, le=1000, description="Maximum rows returned (a LIMIT is enforced).")


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema without pydantic's titles and `anyOf [X, null]` noise."""
    schema: dict[str, Any] = _clean(model.model_json_schema())
    return schema


def _clean(node: Any) -> Any:
    if isinstance(node, dict):
        options = node.get("anyOf")
        if isinstance(options, list):
            rest = [o for o in options if o != {"type": "null"}]
            if len(rest) == 1:
                merged = {**{k: v for k, v in node.items() if k != "anyOf"}, **rest[0]}
                return _clean(merged)
        out = {k: _clean(v) for k, v in node.items() if k != "title"}
        if out.get("default", "x") is None:
            out.pop("default")
        return out
    if isinstance(node, list):
        return [_clean(v) for v in node]
    return node


class ServiceMapInput(WindowInput):
    service: str | None = Field(
        None, description="Only edges whose caller or callee contains this (case-insensitive)."
    )
    slow_ms: float = Field(
        1000, gt=0, description="A call longer than this counts in slow_calls / first_slow (milliseconds)."
    )
    limit: int = Field(100, ge=1, le=300, description="Maximum edges returned.")


class MetricSeriesInput(WindowInput):
    metric: str = Field(
        ..., min_length=1, description="Metric name, e.g. process.memory.usage (describe_schema lists them)."
    )
    group_by: str = Field(
        "service",
        min_length=1,
        description="'service', 'instance' (service.instance.id) or an attribute key, e.g. "
        "db.client.connection.state.",
    )
    service: str | None = Field(
        None, description="Only services whose name contains this (case-insensitive)."
    )
    bucket_s: int | None = Field(
        None,
        ge=1,
        le=86_400,
        description="Bucket width in seconds (default: the window in about 60 buckets).",
    )
    limit: int = Field(20, ge=1, le=100, description="Maximum series returned (the most changed first).")


class SpanDeltasInput(WindowInput):
    subset: Literal["errors", "slow"] = Field(
        "errors", description="Compare error spans, or spans slower than min_duration_ms, with the rest."
    )
    min_duration_ms: float = Field(1000, gt=0, description="What counts as slow for subset='slow' (ms).")
    service: str | None = Field(
        None, description="Only spans of services containing this (case-insensitive)."
    )
    limit: int = Field(25, ge=1, le=100, description="Maximum attribute values returned.")
