"""The SQL each tool runs, as pure builders: (sql, parameters). The benchmark runs the same text bare.

One module per what they query: `spans` (the spans table as a whole), `traces` (one trace), `embeddings`
(the enriched spans' vectors), `logs`, `metrics`, `tables` (the tables themselves); `filters` holds the
WHERE clauses they share."""

from .embeddings import nearest_spans, semantic_kinds, span_embedding, vector_literal
from .filters import Query, contains, span_filters, spans_where, two_windows, window_filter
from .logs import log_summary, log_templates
from .metrics import METRIC_TABLES, metric_names, metric_series
from .spans import (
    attribute_breakdown,
    compare_windows,
    error_summary,
    find_slow_spans,
    list_services,
    service_map,
    span_deltas,
    span_subset_sizes,
)
from .tables import newest_span, table_overview, table_span
from .traces import trace_path_spans, trace_spans

__all__ = [
    "METRIC_TABLES",
    "Query",
    "attribute_breakdown",
    "compare_windows",
    "contains",
    "error_summary",
    "find_slow_spans",
    "list_services",
    "log_summary",
    "log_templates",
    "metric_names",
    "metric_series",
    "nearest_spans",
    "newest_span",
    "semantic_kinds",
    "service_map",
    "span_deltas",
    "span_embedding",
    "span_filters",
    "span_subset_sizes",
    "spans_where",
    "table_overview",
    "table_span",
    "trace_path_spans",
    "trace_spans",
    "two_windows",
    "vector_literal",
    "window_filter",
]
