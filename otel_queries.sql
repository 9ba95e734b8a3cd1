-- click-ai: the everyday questions over the OpenTelemetry tables of config/migrations.
-- Every query runs unchanged on the Docker stack's ClickHouse and on the local stack (chDB), and each is
-- exercised by tests/compose/test_otel_queries.py.
--
--   default.*  what the collector exported directly        otel.*  what s3-loader loaded back from S3
--
-- Queries with inputs use query parameters ({name:Type}). In clickhouse-client:
--   SET param_trace_id = '4bf92f3577b34da6a3ce929d0e0e4736';   then run the query.
-- Over HTTP: curl 'http://localhost:8123/?param_trace_id=...' --data-binary @query.sql
-- Each query starts with a `-- name:` line.

-- name: slowest_routes
-- The slowest routes of the last hour: latency percentiles of server spans, in milliseconds.
SELECT
    ServiceName,
    if(SpanAttributes['http.route'] != '', SpanAttributes['http.route'], SpanName) AS route,
    count() AS requests,
    round(quantile(0.50)(Duration) / 1e6, 1) AS p50_ms,
    round(quantile(0.95)(Duration) / 1e6, 1) AS p95_ms,
    round(quantile(0.99)(Duration) / 1e6, 1) AS p99_ms,
    round(max(Duration) / 1e6, 1) AS max_ms
FROM default.otel_traces
WHERE SpanKind = 'Server' AND Timestamp >= now() - INTERVAL 1 HOUR
GROUP BY ServiceName, route
ORDER BY p95_ms DESC
LIMIT 20;

-- name: error_rates
-- Which services have the most errors in the last hour, and what share of their spans failed.
SELECT
    ServiceName,
    count() AS spans,
    countIf(StatusCode = 'Error') AS errors,
    round(100 * errors / spans, 2) AS error_pct
FROM default.otel_traces
WHERE Timestamp >= now() - INTERVAL 1 HOUR
GROUP BY ServiceName
ORDER BY errors DESC, error_pct DESC;

-- name: errors_per_minute
-- The drop as a time series: spans and errors per minute over the last hour.
SELECT
    toStartOfMinute(Timestamp) AS minute,
    count() AS spans,
    countIf(StatusCode = 'Error') AS errors,
    round(quantile(0.95)(Duration) / 1e6, 1) AS p95_ms
FROM default.otel_traces
WHERE Timestamp >= now() - INTERVAL 1 HOUR
GROUP BY minute
ORDER BY minute;

-- name: top_errors
-- The most frequent failures of the last hour: service, operation and error message.
SELECT
    ServiceName,
    SpanName,
    if(StatusMessage != '', StatusMessage, SpanAttributes['error.type']) AS error,
    count() AS occurrences,
    any(TraceId) AS example_trace_id
FROM default.otel_traces
WHERE StatusCode = 'Error' AND Timestamp >= now() - INTERVAL 1 HOUR
GROUP BY ServiceName, SpanName, error
ORDER BY occurrences DESC
LIMIT 20;

-- name: slowest_traces
-- The slowest end-to-end requests of the last hour (root spans) with their trace id, for trace_lookup.
SELECT
    TraceId,
    ServiceName,
    SpanName,
    round(Duration / 1e6, 1) AS duration_ms,
    StatusCode,
    Timestamp
FROM default.otel_traces
WHERE ParentSpanId = '' AND Timestamp >= now() - INTERVAL 1 HOUR
ORDER BY Duration DESC
LIMIT 20;

-- name: trace_lookup
-- One trace, every span, in order. The lookup table bounds the scan to the trace's time range first
-- (a trace id alone cannot use the table's sort key).
WITH
    (SELECT min(Start) FROM default.otel_traces_trace_id_ts WHERE TraceId = {trace_id:String}) AS trace_start,
    (SELECT max(End) + 1 FROM default.otel_traces_trace_id_ts WHERE TraceId = {trace_id:String}) AS trace_end
SELECT
    Timestamp,
    ServiceName,
    SpanName,
    SpanKind,
    SpanId,
    ParentSpanId,
    round(Duration / 1e6, 2) AS duration_ms,
    StatusCode,
    StatusMessage
FROM default.otel_traces
WHERE TraceId = {trace_id:String}
  AND Timestamp >= trace_start
  AND Timestamp <= trace_end
ORDER BY Timestamp;

-- name: error_logs
-- The newest error logs (severity ERROR and above) with the trace they belong to.
SELECT
    Timestamp,
    ServiceName,
    SeverityText,
    Body,
    TraceId
FROM default.otel_logs
WHERE SeverityNumber >= 17
  AND toStartOfFiveMinutes(Timestamp) >= toStartOfFiveMinutes(now() - INTERVAL 1 HOUR)
  AND Timestamp >= now() - INTERVAL 1 HOUR
ORDER BY Timestamp DESC
LIMIT 50;

-- name: metric_names
-- Which metrics arrive, from which services, and their latest value (gauges and sums).
SELECT
    MetricName,
    ServiceName,
    'gauge' AS type,
    count() AS points,
    argMax(Value, TimeUnix) AS latest_value,
    max(TimeUnix) AS latest_time
FROM default.otel_metrics_gauge
WHERE TimeUnix >= now() - INTERVAL 1 HOUR
GROUP BY MetricName, ServiceName
UNION ALL
SELECT
    MetricName,
    ServiceName,
    'sum' AS type,
    count() AS points,
    argMax(Value, TimeUnix) AS latest_value,
    max(TimeUnix) AS latest_time
FROM default.otel_metrics_sum
WHERE TimeUnix >= now() - INTERVAL 1 HOUR
GROUP BY MetricName, ServiceName
ORDER BY MetricName, ServiceName;

-- name: s3_loss_check
-- Spans exported directly vs loaded back from the S3 copy, per minute: a settled minute with a gap lost spans.
SELECT
    minute,
    direct,
    loaded,
    direct - loaded AS missing
FROM
(
    SELECT toStartOfMinute(Timestamp) AS minute, count() AS direct
    FROM default.otel_traces
    WHERE Timestamp >= now() - INTERVAL 1 HOUR
    GROUP BY minute
) AS d
LEFT JOIN
(
    SELECT toStartOfMinute(Timestamp) AS minute, count() AS loaded
    FROM otel.otel_traces
    WHERE Timestamp >= now() - INTERVAL 1 HOUR
    GROUP BY minute
) AS l USING (minute)
ORDER BY minute;

-- name: loader_files
-- The s3-loader's bookkeeping: files per status, rows loaded, the newest file and the last error.
SELECT
    status,
    count() AS files,
    sum(rows) AS rows,
    max(last_modified) AS newest_file,
    argMax(error, updated_at) AS last_error
FROM otel.s3_loader_files FINAL
GROUP BY status
ORDER BY status;

-- name: similar_spans
-- Semantic neighbours of one span: the enriched spans whose embedding is closest to it.
WITH (SELECT any(Embedding) FROM otel.otel_traces_enriched WHERE SpanId = {span_id:String}) AS target
SELECT
    TraceId,
    SpanId,
    ServiceName,
    SpanName,
    StatusCode,
    EmbeddingText,
    round(cosineDistance(Embedding, target), 4) AS distance
FROM otel.otel_traces_enriched
WHERE SpanId != {span_id:String}
ORDER BY cosineDistance(Embedding, target)
LIMIT 10;

-- name: semantic_search
-- Spans closest in meaning to a question. The query_embedding parameter is the all-MiniLM-L6-v2 vector
-- (384 floats) of the question text, as the agent computes it. The ORDER BY matches the vector index.
SELECT
    TraceId,
    SpanId,
    ServiceName,
    SpanName,
    StatusCode,
    EmbeddingText,
    round(cosineDistance(Embedding, {query_embedding:Array(Float32)}), 4) AS distance
FROM otel.otel_traces_enriched
ORDER BY cosineDistance(Embedding, {query_embedding:Array(Float32)})
LIMIT 10;
