-- SNKRS drop questions, as SQL over the collector's tables (default.otel_*).
-- Run them all with `just snkrs-queries` (against whichever stack is up), or paste one into HyperDX.
-- Every statement ends with ';' on its own line end; each is introduced by a '-- name:' line.

-- name: drop funnel per phase
-- Shoppers' requests at each step of a drop (api-gateway SERVER spans), phase by phase.
SELECT
    SpanAttributes['snkrs.drop.id'] AS drop_id,
    SpanAttributes['snkrs.drop.phase'] AS phase,
    countIf(SpanAttributes['http.route'] = '/api/feed/products/{sku}') AS product_views,
    countIf(SpanAttributes['http.route'] = '/api/waiting-room/{dropId}/join') AS queue_joins,
    countIf(SpanAttributes['http.route'] = '/api/waiting-room/{dropId}/status') AS queue_polls,
    countIf(SpanAttributes['http.route'] = '/api/launch/{dropId}/entries'
            AND SpanAttributes['http.response.status_code'] = '201') AS draw_entries,
    countIf(SpanAttributes['http.route'] = '/api/checkout') AS checkouts,
    countIf(SpanAttributes['http.route'] = '/api/checkout'
            AND SpanAttributes['http.response.status_code'] = '201') AS orders,
    countIf(SpanAttributes['http.route'] = '/api/orders/{orderId}') AS order_checks
FROM default.otel_traces
WHERE ServiceName = 'api-gateway' AND SpanKind = 'Server'
GROUP BY drop_id, phase
ORDER BY drop_id, indexOf(['PRE_DROP', 'DROP_LIVE', 'POST_DROP'], phase);

-- name: time to sell-out
-- When each drop's last pair went (seconds of simulated drop time, and the wall clock), and how many
-- checkouts were turned away afterwards.
SELECT
    l.drop_id,
    l.sku,
    l.seconds_to_sellout,
    l.sold_out_at,
    countIf(t.SpanAttributes['http.response.status_code'] = '409') AS turned_away
FROM
(
    SELECT
        LogAttributes['snkrs.drop.id'] AS drop_id,
        LogAttributes['snkrs.product.sku'] AS sku,
        toFloat64(LogAttributes['snkrs.drop.seconds_to_sellout']) AS seconds_to_sellout,
        Timestamp AS sold_out_at
    FROM default.otel_logs
    WHERE EventName = 'snkrs.inventory.sold_out'
) AS l
LEFT JOIN default.otel_traces AS t
    ON t.SpanAttributes['snkrs.drop.id'] = l.drop_id
    AND t.ServiceName = 'api-gateway' AND t.SpanAttributes['http.route'] = '/api/checkout'
GROUP BY l.drop_id, l.sku, l.seconds_to_sellout, l.sold_out_at
ORDER BY l.sold_out_at;

-- name: payment failures by reason
-- Everything that went wrong in payment: calls to the provider (timeouts, declines) and the payment API's
-- answers to launch (draw-entry pre-authorisations) and checkout.
SELECT
    if(SpanKind = 'Client', concat('provider ', SpanAttributes['url.template']),
       concat('api ', SpanAttributes['http.route'])) AS call,
    multiIf(SpanAttributes['http.response.status_code'] = '402', 'card_declined',
            SpanAttributes['error.type'] != '', SpanAttributes['error.type'],
            concat('http_', SpanAttributes['http.response.status_code'])) AS reason,
    count() AS failures,
    anyIf(StatusMessage, StatusMessage != '') AS example
FROM default.otel_traces
WHERE ServiceName = 'payment' AND SpanKind IN ('Server', 'Client')
    AND (StatusCode = 'Error' OR toUInt16OrZero(SpanAttributes['http.response.status_code']) >= 400)
GROUP BY call, reason
ORDER BY failures DESC;

-- name: payment provider timeouts and retries
-- Every call to the external payment provider: which attempt it was and how it ended.
SELECT
    SpanAttributes['url.template'] AS endpoint,
    toUInt8OrZero(SpanAttributes['http.request.resend_count']) AS retry,
    if(StatusCode = 'Error', SpanAttributes['error.type'], 'ok') AS result,
    count() AS calls,
    round(quantile(0.99)(Duration) / 1e6) AS p99_ms
FROM default.otel_traces
WHERE ServiceName = 'payment' AND SpanKind = 'Client'
    AND SpanAttributes['server.address'] = 'api.payments-provider.example'
GROUP BY endpoint, retry, result
ORDER BY endpoint, retry, calls DESC;

-- name: bot blocks
-- Requests bot detection turned away (403 blocked, 429 rate limited), by client.
SELECT
    SpanAttributes['snkrs.drop.id'] AS drop_id,
    SpanAttributes['http.response.status_code'] AS status,
    SpanAttributes['user_agent.original'] AS user_agent,
    count() AS blocked,
    round(avg(toFloat64OrZero(SpanAttributes['snkrs.bot.score'])), 3) AS avg_bot_score,
    min(Timestamp) AS first_seen,
    max(Timestamp) AS last_seen
FROM default.otel_traces
WHERE ServiceName = 'bot-detection' AND SpanKind = 'Server'
    AND SpanAttributes['http.response.status_code'] IN ('403', '429')
GROUP BY drop_id, status, user_agent
ORDER BY blocked DESC;

-- name: p99 by route
-- Latency per service route and phase, from SERVER spans.
SELECT
    ServiceName AS service,
    SpanAttributes['http.route'] AS route,
    SpanAttributes['snkrs.drop.phase'] AS phase,
    count() AS requests,
    round(quantile(0.5)(Duration) / 1e6, 1) AS p50_ms,
    round(quantile(0.99)(Duration) / 1e6, 1) AS p99_ms,
    countIf(StatusCode = 'Error') AS errors
FROM default.otel_traces
WHERE SpanKind = 'Server'
GROUP BY service, route, phase
ORDER BY p99_ms DESC
LIMIT 30;

-- name: errors by service and signature
-- What services have the most errors, and what do they say?
SELECT
    ServiceName AS service,
    SpanKind AS kind,
    SpanAttributes['error.type'] AS error_type,
    count() AS error_spans,
    any(StatusMessage) AS example
FROM default.otel_traces
WHERE StatusCode = 'Error'
GROUP BY service, kind, error_type
ORDER BY error_spans DESC
LIMIT 30;

-- name: exception log records
-- The log side of every failure: exception records by service and type.
SELECT
    ServiceName AS service,
    LogAttributes['exception.type'] AS exception,
    SeverityText AS severity,
    count() AS records,
    any(Body) AS example,
    any(TraceId) AS example_trace
FROM default.otel_logs
WHERE LogAttributes['exception.type'] != ''
GROUP BY service, exception, severity
ORDER BY records DESC;

-- name: order fulfilment lag over kafka
-- Producer (checkout) to consumer (order-fulfillment), tied by the consumer span's link.
SELECT
    count() AS orders,
    round(quantile(0.5)(lag_ms), 1) AS p50_lag_ms,
    round(quantile(0.99)(lag_ms), 1) AS p99_lag_ms
FROM
(
    SELECT (toUnixTimestamp64Nano(c.Timestamp) - toUnixTimestamp64Nano(p.Timestamp) - p.Duration) / 1e6 AS lag_ms
    FROM
    (
        SELECT Timestamp, `Links.SpanId`[1] AS producer_span
        FROM default.otel_traces
        WHERE SpanKind = 'Consumer' AND ServiceName = 'order-fulfillment'
    ) AS c
    INNER JOIN
    (
        SELECT SpanId, Timestamp, Duration
        FROM default.otel_traces
        WHERE SpanKind = 'Producer' AND ServiceName = 'checkout'
    ) AS p ON c.producer_span = p.SpanId
);

-- name: inventory remaining over time
-- The snkrs.inventory.remaining gauge, all sizes together, per drop.
SELECT
    Attributes['snkrs.drop.id'] AS drop_id,
    toStartOfSecond(TimeUnix) AS at,
    sum(Value) AS pairs_left
FROM default.otel_metrics_gauge
WHERE MetricName = 'snkrs.inventory.remaining'
GROUP BY drop_id, at
ORDER BY drop_id, at;

-- name: waiting room peak
-- The deepest the waiting-room queue got, per drop.
SELECT
    Attributes['snkrs.drop.id'] AS drop_id,
    max(Value) AS peak_queue_depth,
    argMax(TimeUnix, Value) AS peak_at
FROM default.otel_metrics_gauge
WHERE MetricName = 'snkrs.waiting_room.queue_depth'
GROUP BY drop_id
ORDER BY drop_id;

-- name: business counters
-- Draw entries, orders and payment outcomes: the last value of each cumulative series, summed.
SELECT
    metric,
    outcome,
    sum(last_value) AS total
FROM
(
    SELECT
        MetricName AS metric,
        coalesce(nullIf(Attributes['snkrs.payment.outcome'], ''), nullIf(Attributes['snkrs.order.result'], ''),
                 nullIf(Attributes['snkrs.entry.result'], ''), '') AS outcome,
        ResourceAttributes['service.instance.id'] AS instance,
        toString(Attributes) AS series,
        argMax(Value, TimeUnix) AS last_value
    FROM default.otel_metrics_sum
    WHERE MetricName IN ('snkrs.launch.entries', 'snkrs.orders', 'snkrs.payment.outcomes')
    GROUP BY metric, outcome, instance, series
)
GROUP BY metric, outcome
ORDER BY metric, total DESC;

-- name: slowest requests from the latency histogram's exemplars
-- Metrics to traces: the exemplars of http.server.request.duration point at the slow requests' traces.
SELECT
    ServiceName AS service,
    Attributes['http.route'] AS route,
    round(e.Value * 1000, 1) AS ms,
    e.TraceId AS trace_id,
    e.SpanId AS span_id
FROM default.otel_metrics_histogram
ARRAY JOIN Exemplars AS e
WHERE MetricName = 'http.server.request.duration'
ORDER BY ms DESC
LIMIT 10;
