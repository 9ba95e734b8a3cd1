"""The registry: every tool's name, title, description, input model and function, and `execute`, the one
way to run a tool by name (every failure comes back as a result with `error` set)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ..links import add_trace_links
from ..results import ToolResult
from ..timewindow import WindowError
from ..tool_inputs import (
    AttributeBreakdownInput,
    CompareWindowsInput,
    CriticalPathInput,
    DescribeSchemaInput,
    ErrorSummaryInput,
    FindSlowSpansInput,
    GetTraceTreeInput,
    ListServicesInput,
    LogPatternsInput,
    LogSummaryInput,
    MetricSeriesInput,
    RunSqlInput,
    SemanticSearchInput,
    ServiceMapInput,
    SimilarSpansInput,
    SpanDeltasInput,
    json_schema,
)
from . import logs, metrics, schema, search, spans, sql, traces
from .context import ToolContext, ToolError


@dataclass
class Tool:
    name: str
    title: str  # a human-readable name (MCP clients show it)
    description: str
    input_model: type[BaseModel]
    run: Callable[[ToolContext, Any], ToolResult]
    schema: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.schema = json_schema(self.input_model)

    def definition(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "input_schema": self.schema}


TOOLS: dict[str, Tool] = {
    t.name: t
    for t in [
        Tool(
            "describe_schema",
            "Describe the trace tables",
            "The trace tables, their columns and what they mean, row counts and time ranges. Call it before "
            "writing SQL for run_sql.",
            DescribeSchemaInput,
            schema.describe_schema,
        ),
        Tool(
            "list_services",
            "Services: traffic, errors, latency",
            "Per service in the window: spans, errors, error_rate (0..1) and p50/p95/p99 latency in ms. "
            "sort_by='errors' answers 'which services have the most errors'.",
            ListServicesInput,
            spans.list_services,
        ),
        Tool(
            "find_slow_spans",
            "Find slow spans",
            "The slowest spans in the window, filtered by service and/or span name (substring match; `match` "
            "checks both, e.g. match='checkout' for 'slow checkout spans'), a minimum duration in ms and a "
            "status. Returns trace ids to pass to get_trace_tree.",
            FindSlowSpansInput,
            spans.find_slow_spans,
        ),
        Tool(
            "error_summary",
            "Summarize errors",
            "Error spans (StatusCode = 'Error') grouped by service and status message, with counts, "
            "example trace ids and when each was last seen.",
            ErrorSummaryInput,
            spans.error_summary,
        ),
        Tool(
            "log_summary",
            "Summarize logs",
            "Log records (WARN and worse by default) grouped by service, severity and message template "
            "(numbers and ids masked): records, traces, first_seen, last_seen, example trace ids and one "
            "example line. Finds what the spans do not say: slow queries, consumer lag, retries.",
            LogSummaryInput,
            logs.log_summary,
        ),
        Tool(
            "attribute_breakdown",
            "Break down by attribute",
            "Spans grouped by the value of one resource or span attribute (service.version, "
            "service.instance.id, server.address, snkrs.region, …), optionally for one service or span "
            "name: spans, errors, error_rate, p50/p95/max ms, first_bad/last_bad (error or > 1 s), an "
            "example error trace and the slowest span's trace. Use it to find the one version, host, "
            "replica or region that is different.",
            AttributeBreakdownInput,
            spans.attribute_breakdown,
        ),
        Tool(
            "get_trace_tree",
            "Trace tree",
            "One trace as an indented span tree: service · span · duration · start offset · status "
            "(message) {key attributes}. Very large traces are capped (truncated=true).",
            GetTraceTreeInput,
            traces.get_trace_tree,
        ),
        Tool(
            "semantic_search",
            "Semantic span search",
            "Kinds of span whose meaning is nearest to a plain-language query (vector search over the "
            "enriched spans): one row per distinct span text with distance (0 = identical, 1 = unrelated), "
            "spans (its count in the window), services, statuses, p50_ms, first_seen/last_seen and example "
            "trace ids. Service, status and time filters.",
            SemanticSearchInput,
            search.semantic_search,
        ),
        Tool(
            "similar_spans",
            "Spans like this one",
            "More like this span: kinds of span nearest to one span's stored embedding (give its trace_id "
            "and span_id), with counts, services, first/last seen and example traces — the same failure in "
            "other services, routes or times. Distance 0 is the span's own kind.",
            SimilarSpansInput,
            search.similar_spans,
        ),
        Tool(
            "critical_path",
            "Critical path of a trace",
            "The chain of spans that sets one trace's duration, root first: per span its duration, self_ms "
            "(time not covered by its children), on_path_ms (its own time on the path) and share of the "
            "trace. Answers 'where did this request spend its time'. Very large traces are capped.",
            CriticalPathInput,
            traces.critical_path,
        ),
        Tool(
            "log_patterns",
            "Log patterns (Drain)",
            "Templates mined from the log bodies in the window with Drain (INFO and worse by default): "
            "records, baseline_records (the same-length window before, or baseline_offset back), new=true "
            "for patterns absent from the baseline (listed first), severities, services, first/last seen, "
            "example trace ids and an example line. Finds the new kind of message an incident brings.",
            LogPatternsInput,
            logs.log_patterns,
        ),
        Tool(
            "compare_windows",
            "Compare two time windows",
            "Two equally long windows side by side per service (the current one ending now or at `end`, "
            "and a baseline `baseline_offset` earlier): traffic, error rate, p95, and the biggest changes.",
            CompareWindowsInput,
            spans.compare_windows,
        ),
        Tool(
            "service_map",
            "Service map: caller → callee",
            "Caller → callee edges from the spans in the window (HTTP calls, database and provider hosts, "
            "Kafka topics): calls, errors, error_rate, p50/p95/max ms, slow_calls, first_error, first_slow, "
            "the slowest call's trace and an error trace. Walk a cascade down to its origin: the deepest "
            "edge that is slow or failing, whose callee's own calls are healthy.",
            ServiceMapInput,
            spans.service_map,
        ),
        Tool(
            "metric_series",
            "Metric over time",
            "One metric (describe_schema lists the names) bucketed over the window per service, instance "
            "(group_by='instance') or attribute value: per series its baseline, peak, ratio, change_at (the "
            "first bucket that departs from the baseline and stays departed) and the bucket values. Finds "
            "what has no error span: a saturated pool, a leaking instance, GC pauses, lag.",
            MetricSeriesInput,
            metrics.metric_series,
        ),
        Tool(
            "span_deltas",
            "What sets failing or slow spans apart",
            "For the error spans (subset='errors') or the slow ones (subset='slow', over min_duration_ms) "
            "against every other span in the window: the attribute values — of every attribute, "
            "service.name, span.name, versions, instances, regions, hosts, routes — the subset "
            "over-represents, ranked by delta (share in the subset minus share in the rest), with first/last "
            "seen and example traces.",
            SpanDeltasInput,
            spans.span_deltas,
        ),
        Tool(
            "run_sql",
            "Run read-only SQL",
            "Escape hatch: one read-only ClickHouse query (SELECT/WITH/SHOW/DESCRIBE/EXPLAIN), LIMIT "
            "enforced. "
            "Prefer the other tools; Duration is in ns, filter on Timestamp to keep it fast.",
            RunSqlInput,
            sql.run_sql,
        ),
    ]
}


def tool_definitions() -> list[dict[str, Any]]:
    return [tool.definition() for tool in TOOLS.values()]


def validation_message(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "input"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "invalid input: " + "; ".join(problems)


def execute(ctx: ToolContext, name: str, raw_input: Any) -> ToolResult:
    """Run a tool by name; every failure comes back as a result with `error` set, never as an exception."""
    started = time.perf_counter()
    raw = raw_input if isinstance(raw_input, dict) else {}
    tool = TOOLS.get(name)
    if tool is None:
        return ToolResult(name, raw, kind="error", error=f"unknown tool {name!r}; tools: {', '.join(TOOLS)}")
    try:
        args = tool.input_model.model_validate(raw_input if raw_input is not None else {})
        result = tool.run(ctx, args)
    except ValidationError as exc:
        result = ToolResult(name, raw, kind="error", error=validation_message(exc))
    except (ToolError, WindowError) as exc:
        result = ToolResult(name, raw, kind="error", error=str(exc))
    if not result.elapsed_ms:
        result.elapsed_ms = (time.perf_counter() - started) * 1000
    add_trace_links(result, ctx.settings.hyperdx_url, ctx.settings.hyperdx_trace_source)
    result.input = raw  # as the model sent it (defaults left out): what status lines and --json show
    return result
