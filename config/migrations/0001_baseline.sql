-- Migration 1, the baseline: every table as config/init-db.sql created it when the schema moved to numbered
-- migrations (config/migrations/README.md), less the later patch that is migration 2.
-- Idempotent (every statement IF NOT EXISTS), so a volume made by init-db.sql before migrations existed takes it
-- as a no-op. Runs unchanged on ClickHouse 26.x and chDB 26.9.
-- The default.* tables are the OpenTelemetry Collector clickhouseexporter's tables (classic traces
-- schema, 0.151+ logs schema), created here because the exporter runs with create_schema: false.
-- tests/collector/test_schema.py compares them with what the real exporter 0.159.0 creates; the remaining
-- differences (TTL, nanosecond metric times) and their reasons are in tests/collector/schema_differences.yaml.

CREATE DATABASE IF NOT EXISTS default;
CREATE DATABASE IF NOT EXISTS otel;

-- ---------------------------------------------------------------------------------------------
-- default: the collector's direct export
-- ---------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS default.otel_traces
(
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested
    (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested
    (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
TTL toDateTime(Timestamp) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_traces_trace_id_ts
(
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
TTL toDateTime(Start) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS default.otel_traces_trace_id_ts_mv
TO default.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM default.otel_traces
WHERE TraceId != ''
GROUP BY TraceId;

-- The exporter's 0.151+ logs layout as 0.159 creates it on ClickHouse >= 26.2 (tests/collector/test_schema.py):
-- column comments, 8 materialized resource-attribute columns and text (full-text) indexes.
CREATE TABLE IF NOT EXISTS default.otel_logs
(
    Timestamp DateTime64(9) COMMENT 'Event timestamp with nanosecond precision' CODEC(Delta(8), ZSTD(1)),
    TraceId String COMMENT 'W3C trace identifier' CODEC(ZSTD(1)),
    SpanId String COMMENT 'W3C span identifier' CODEC(ZSTD(1)),
    TraceFlags UInt8 COMMENT 'W3C trace flags',
    SeverityText LowCardinality(String) COMMENT 'Log severity as text' CODEC(ZSTD(1)),
    SeverityNumber UInt8 COMMENT 'Log severity as number (1-24)',
    ServiceName LowCardinality(String) COMMENT 'Service that emitted the log' CODEC(ZSTD(1)),
    Body String COMMENT 'Log message body' CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) COMMENT 'Schema URL for the resource' CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) COMMENT 'Resource attributes as key-value pairs' CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) COMMENT 'Schema URL for the instrumentation scope' CODEC(ZSTD(1)),
    ScopeName String COMMENT 'Instrumentation scope name' CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) COMMENT 'Instrumentation scope version' CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) COMMENT 'Instrumentation scope attributes' CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) COMMENT 'Log record attributes' CODEC(ZSTD(1)),
    EventName String COMMENT 'Event name for log records representing events' CODEC(ZSTD(1)),
    `__otel_materialized_k8s.cluster.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.cluster.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.container.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.container.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.deployment.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.deployment.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.namespace.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.namespace.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.node.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.node.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.pod.name` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.name'] CODEC(ZSTD(1)),
    `__otel_materialized_k8s.pod.uid` LowCardinality(String) MATERIALIZED ResourceAttributes['k8s.pod.uid'] CODEC(ZSTD(1)),
    `__otel_materialized_deployment.environment.name` LowCardinality(String) MATERIALIZED ResourceAttributes['deployment.environment.name'] CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE text(tokenizer = 'array'),
    INDEX idx_lower_body lower(Body) TYPE text(tokenizer = 'splitByNonAlpha')
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_metrics_gauge
(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Exemplars Nested
    (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
TTL toDateTime(TimeUnix) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_metrics_sum
(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Value Float64 CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Exemplars Nested
    (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    IsMonotonic Bool CODEC(Delta, ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
TTL toDateTime(TimeUnix) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_metrics_histogram
(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    BucketCounts Array(UInt64) CODEC(ZSTD(1)),
    ExplicitBounds Array(Float64) CODEC(ZSTD(1)),
    Exemplars Nested
    (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
TTL toDateTime(TimeUnix) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_metrics_exponential_histogram
(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    Scale Int32 CODEC(ZSTD(1)),
    ZeroCount UInt64 CODEC(ZSTD(1)),
    PositiveOffset Int32 CODEC(ZSTD(1)),
    PositiveBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    NegativeOffset Int32 CODEC(ZSTD(1)),
    NegativeBucketCounts Array(UInt64) CODEC(ZSTD(1)),
    Exemplars Nested
    (
        FilteredAttributes Map(LowCardinality(String), String),
        TimeUnix DateTime64(9),
        Value Float64,
        SpanId String,
        TraceId String
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    Min Float64 CODEC(ZSTD(1)),
    Max Float64 CODEC(ZSTD(1)),
    AggregationTemporality Int32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
TTL toDateTime(TimeUnix) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS default.otel_metrics_summary
(
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ResourceSchemaUrl String CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeDroppedAttrCount UInt32 CODEC(ZSTD(1)),
    ScopeSchemaUrl String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    MetricName LowCardinality(String) CODEC(ZSTD(1)),
    MetricDescription String CODEC(ZSTD(1)),
    MetricUnit String CODEC(ZSTD(1)),
    Attributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    StartTimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    TimeUnix DateTime64(9) CODEC(Delta, ZSTD(1)),
    Count UInt64 CODEC(Delta, ZSTD(1)),
    Sum Float64 CODEC(ZSTD(1)),
    ValueAtQuantiles Nested
    (
        Quantile Float64,
        Value Float64
    ) CODEC(ZSTD(1)),
    Flags UInt32 CODEC(ZSTD(1)),
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_key mapKeys(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_attr_value mapValues(Attributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_time_minmax TimeUnix TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(TimeUnix)
ORDER BY (ServiceName, MetricName, toStartOfHour(TimeUnix), cityHash64(Attributes), TimeUnix)
TTL toDateTime(TimeUnix) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- ---------------------------------------------------------------------------------------------
-- otel: spans loaded back from the S3 copy (s3-loader), and what later stages derive from them
-- ---------------------------------------------------------------------------------------------

-- The columns of default.otel_traces (the exporter's insert column list still works unchanged) plus
-- InsertedAt: when the row arrived, set by the server (MATERIALIZED: clients cannot override it and
-- SELECT * does not show it). The enricher tracks its progress on it, since spans arrive out of
-- timestamp order (the loader loads old files late).
CREATE TABLE IF NOT EXISTS otel.otel_traces
(
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested
    (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested
    (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    InsertedAt DateTime64(6) MATERIALIZED now64(6) CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1,
    INDEX idx_inserted_at InsertedAt TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
TTL toDateTime(Timestamp) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS otel.otel_traces_trace_id_ts AS default.otel_traces_trace_id_ts
ENGINE = MergeTree
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
TTL toDateTime(Start) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS otel.otel_traces_trace_id_ts_mv
TO otel.otel_traces_trace_id_ts
AS SELECT
    TraceId,
    min(Timestamp) AS Start,
    max(Timestamp) AS End
FROM otel.otel_traces
WHERE TraceId != ''
GROUP BY TraceId;

-- s3-loader: logs loaded back from the S3 copy (same columns as default.otel_logs, the exporter's 0.151+
-- schema). non_replicated_deduplication_window makes a replayed insert (same insert_deduplication_token,
-- one per S3 object) a no-op: that is how the loader stays exactly-once across crashes and concurrent runs.
CREATE TABLE IF NOT EXISTS otel.otel_logs AS default.otel_logs
ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (toStartOfFiveMinutes(Timestamp), ServiceName, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000;

-- s3-loader bookkeeping: one row per attempt at an S3 object version (key, etag); the newest row wins
-- (ReplacingMergeTree on updated_at; read with FINAL). status: loaded | failed | skipped (metrics files).
CREATE TABLE IF NOT EXISTS otel.s3_loader_files
(
    key String,
    etag String,
    size UInt64,
    last_modified DateTime64(3),
    kind LowCardinality(String),
    status LowCardinality(String),
    rows UInt64,
    error String,
    attempts UInt32,
    first_seen DateTime64(3),
    loaded_at Nullable(DateTime64(3)),
    updated_at DateTime64(6)
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (key, etag);

-- s3-loader batches of small files: one row per batch, claimed before its one insert per table. Its
-- insert_deduplication_token (bucket, window, seq) lets exactly one loader claim a (window, seq); a file listed
-- in a batch is only ever loaded with that batch's token, so a replay (after a crash, by a racing loader) is a
-- no-op.
-- window: the files' S3 LastModified in LOADER_BATCH_WINDOW_SECONDS steps; seq: the window's n-th batch.
CREATE TABLE IF NOT EXISTS otel.s3_loader_batches
(
    bucket String,
    window UInt64,
    seq UInt32,
    members Array(Tuple(key String, etag String)),
    claimed_at DateTime64(3)
)
ENGINE = MergeTree
ORDER BY (bucket, window, seq)
SETTINGS non_replicated_deduplication_window = 10000;

-- s3-loader fast path: a large collector traces document goes into this Null table with its
-- insert_deduplication_token (ClickHouse reads it from the bucket itself with s3(), or the loader streams
-- it), and the view below turns it into exactly the rows the exporter writes (the same values as the
-- otlp_rows library, which the loader uses for everything else: arrays, kvlists, bytes, logs). A span
-- that fails validation aborts the insert, and so does a value only otlp_rows converts: no OTLP JSON form
-- of arrayValue, kvlistValue or bytesValue (an object, a string) parses as Array(Nothing). The loader then
-- falls back to otlp_rows.
CREATE TABLE IF NOT EXISTS otel.s3_loader_otlp_traces
(
    resourceSpans Array(Tuple(
        resource Tuple(
            attributes Array(Tuple(key String, value Tuple(
                stringValue Nullable(String), intValue Nullable(Int64), doubleValue Nullable(Float64),
                boolValue Nullable(Bool), arrayValue Array(Nothing), kvlistValue Array(Nothing),
                bytesValue Array(Nothing))))),
        scopeSpans Array(Tuple(
            scope Tuple(name String, version String),
            spans Array(Tuple(
                traceId String,
                spanId String,
                parentSpanId String,
                traceState String,
                name String,
                kind Int32,
                startTimeUnixNano UInt64,
                endTimeUnixNano UInt64,
                attributes Array(Tuple(key String, value Tuple(
                    stringValue Nullable(String), intValue Nullable(Int64), doubleValue Nullable(Float64),
                    boolValue Nullable(Bool), arrayValue Array(Nothing), kvlistValue Array(Nothing),
                    bytesValue Array(Nothing)))),
                events Array(Tuple(
                    timeUnixNano UInt64,
                    name String,
                    attributes Array(Tuple(key String, value Tuple(
                        stringValue Nullable(String), intValue Nullable(Int64), doubleValue Nullable(Float64),
                        boolValue Nullable(Bool), arrayValue Array(Nothing), kvlistValue Array(Nothing),
                        bytesValue Array(Nothing)))))),
                links Array(Tuple(
                    traceId String,
                    spanId String,
                    traceState String,
                    attributes Array(Tuple(key String, value Tuple(
                        stringValue Nullable(String), intValue Nullable(Int64), doubleValue Nullable(Float64),
                        boolValue Nullable(Bool), arrayValue Array(Nothing), kvlistValue Array(Nothing),
                        bytesValue Array(Nothing)))))),
                status Tuple(code Int32, message String)))))))
)
ENGINE = Null;

-- pdata Value.AsString() of a double: Go's ES6 number format (ClickHouse writes 1e21 where Go writes 1e+21).
CREATE FUNCTION IF NOT EXISTS s3_loader_go_float AS (f) -> multiIf(
    isNaN(f), 'NaN',
    isInfinite(f), if(f > 0, 'Infinity', '-Infinity'),
    replaceRegexpOne(toString(f), 'e(\\d)', 'e+\\1'));

CREATE FUNCTION IF NOT EXISTS s3_loader_any_value AS (v) -> multiIf(
    tupleElement(v, 'stringValue') IS NOT NULL, assumeNotNull(tupleElement(v, 'stringValue')),
    tupleElement(v, 'intValue') IS NOT NULL, toString(assumeNotNull(tupleElement(v, 'intValue'))),
    tupleElement(v, 'boolValue') IS NOT NULL, if(assumeNotNull(tupleElement(v, 'boolValue')), 'true', 'false'),
    tupleElement(v, 'doubleValue') IS NOT NULL, s3_loader_go_float(assumeNotNull(tupleElement(v, 'doubleValue'))),
    '');

-- The exporter's map: keys sorted by bytes, a duplicate key kept (in arrival order) as pdata keeps it.
CREATE FUNCTION IF NOT EXISTS s3_loader_sorted_pairs AS (a) -> arraySort((x, i) -> (tupleElement(x, 'key'), i), a, arrayEnumerate(a));

CREATE FUNCTION IF NOT EXISTS s3_loader_attributes AS (a) -> mapFromArrays(
    arrayMap(x -> tupleElement(x, 'key'), s3_loader_sorted_pairs(a)),
    arrayMap(x -> s3_loader_any_value(tupleElement(x, 'value')), s3_loader_sorted_pairs(a)));

-- traceutil.TraceIDToHexOrEmptyString: lowercase hex, the all-zero id is ''.
CREATE FUNCTION IF NOT EXISTS s3_loader_hex_id AS (id, zeros) -> if(id = zeros, '', lower(id));

CREATE MATERIALIZED VIEW IF NOT EXISTS otel.s3_loader_otlp_traces_mv TO otel.otel_traces AS
SELECT
    fromUnixTimestamp64Nano(toInt64(sp.startTimeUnixNano)) AS Timestamp,
    s3_loader_hex_id(sp.traceId, '00000000000000000000000000000000') AS TraceId,
    s3_loader_hex_id(sp.spanId, '0000000000000000') AS SpanId,
    s3_loader_hex_id(sp.parentSpanId, '0000000000000000') AS ParentSpanId,
    sp.traceState AS TraceState,
    sp.name AS SpanName,
    -- pdata's String() of an unknown (or negative: a negative index counts from the end) enum value is ''
    if(sp.kind >= 0, ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][sp.kind + 1], '') AS SpanKind,
    s3_loader_any_value(arrayFirst(x -> x.key = 'service.name', rs.resource.attributes).value) AS ServiceName,
    s3_loader_attributes(rs.resource.attributes) AS ResourceAttributes,
    ss.scope.name AS ScopeName,
    ss.scope.version AS ScopeVersion,
    s3_loader_attributes(sp.attributes) AS SpanAttributes,
    -- uint64 subtraction as the exporter does it: a span that ends before it starts (or never) wraps around
    sp.endTimeUnixNano - sp.startTimeUnixNano AS Duration,
    if(sp.status.code >= 0, ['Unset', 'Ok', 'Error'][sp.status.code + 1], '') AS StatusCode,
    sp.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.timeUnixNano)), sp.events) AS `Events.Timestamp`,
    arrayMap(e -> e.name, sp.events) AS `Events.Name`,
    arrayMap(e -> s3_loader_attributes(e.attributes), sp.events) AS `Events.Attributes`,
    arrayMap(l -> s3_loader_hex_id(l.traceId, '00000000000000000000000000000000'), sp.links) AS `Links.TraceId`,
    arrayMap(l -> s3_loader_hex_id(l.spanId, '0000000000000000'), sp.links) AS `Links.SpanId`,
    arrayMap(l -> l.traceState, sp.links) AS `Links.TraceState`,
    arrayMap(l -> s3_loader_attributes(l.attributes), sp.links) AS `Links.Attributes`
FROM otel.s3_loader_otlp_traces
ARRAY JOIN resourceSpans AS rs
ARRAY JOIN rs.scopeSpans AS ss
ARRAY JOIN ss.spans AS sp
WHERE throwIf(NOT (
    length(sp.traceId) IN (0, 32) AND length(sp.spanId) IN (0, 16) AND length(sp.parentSpanId) IN (0, 16)
    AND match(concat(sp.traceId, sp.spanId, sp.parentSpanId), '^[0-9A-Fa-f]*$')
    AND sp.startTimeUnixNano <= 9223372036854775807 AND sp.endTimeUnixNano <= 9223372036854775807
    AND arrayAll(e -> e.timeUnixNano <= 9223372036854775807, sp.events)
    AND arrayAll(l -> length(l.traceId) IN (0, 32) AND length(l.spanId) IN (0, 16)
                      AND match(concat(l.traceId, l.spanId), '^[0-9A-Fa-f]*$'), sp.links)
), 'span fails validation') = 0;

-- The spans of each document ClickHouse converted, by the insert's deduplication token: how the loader learns
-- what a document it did not download held, right after the insert (several rows of one token, one per
-- attempt, agree). In memory, the newest 100,000: a count lost with a server restart only sends the loader
-- to download that file (the insert is then a deduplicated replay).
CREATE TABLE IF NOT EXISTS otel.s3_loader_otlp_counts
(
    token String,
    spans UInt64,
    counted_at DateTime DEFAULT now()
)
ENGINE = Memory
SETTINGS max_rows_to_keep = 100000;

CREATE MATERIALIZED VIEW IF NOT EXISTS otel.s3_loader_otlp_counts_mv TO otel.s3_loader_otlp_counts AS
SELECT
    getSetting('insert_deduplication_token') AS token,
    sum(arraySum(rs -> arraySum(ss -> length(ss.spans), rs.scopeSpans), resourceSpans)) AS spans
FROM otel.s3_loader_otlp_traces
GROUP BY token;

-- embedding-enricher: one row per span of otel.otel_traces with its text and its MiniLM vector.
-- ReplacingMergeTree keyed by (TraceId, SpanId) makes a re-written span replace itself, never add a row.
-- SourceInsertedAt is the span's otel.otel_traces.InsertedAt: the enricher's progress is tracked on it.
-- The HNSW index is built when parts merge (the enricher inserts with materialize_skip_indexes_on_insert
-- = 0 by default), again at every merge of a part (on one thread: config/clickhouse-config.xml); parts
-- without it are searched exactly. It keeps ClickHouse's build parameters: 16 neighbours per node and a
-- candidate list of 64 (against 32 and 128) built it in a third of the time but cut recall@10 on
-- benchmarks/vector_recall.py to 0.84 (spans) and 0.93 (semantic_search's kinds) from 1.00 and 0.99. Query it with
-- ORDER BY cosineDistance(Embedding, {q:Array(Float32)}) LIMIT k.
CREATE TABLE IF NOT EXISTS otel.otel_traces_enriched
(
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Duration UInt64 CODEC(ZSTD(1)),
    EmbeddingText String CODEC(ZSTD(1)),
    Embedding Array(Float32) CODEC(ZSTD(1)),
    EmbeddingModel LowCardinality(String) CODEC(ZSTD(1)),
    SourceInsertedAt DateTime64(6) CODEC(Delta, ZSTD(1)),
    EnrichedAt DateTime64(6) DEFAULT now64(6) CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_source_inserted_at SourceInsertedAt TYPE minmax GRANULARITY 1,
    INDEX idx_embedding Embedding TYPE vector_similarity('hnsw', 'cosineDistance', 384)
)
ENGINE = ReplacingMergeTree(EnrichedAt)
PARTITION BY toDate(Timestamp)
ORDER BY (TraceId, SpanId)
TTL toDateTime(Timestamp) + toIntervalDay(3)
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1;

-- The enricher's progress log: one row per written batch. The latest row's Watermark is where the next
-- pass starts (minus a safety lookback); the counters give throughput and the cache hit rate.
CREATE TABLE IF NOT EXISTS otel.enrichment_state
(
    Enricher LowCardinality(String),
    Watermark DateTime64(6),
    Spans UInt64,
    DistinctTexts UInt64,
    CacheHits UInt64,
    Embedded UInt64,
    Seconds Float64,
    UpdatedAt DateTime64(6) DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (Enricher, UpdatedAt)
TTL toDateTime(UpdatedAt) + toIntervalDay(30);
