-- Migration 2: the loader's exactly-once needs non_replicated_deduplication_window on the tables it writes: a
-- replayed insert (same insert_deduplication_token, one per S3 object or batch) is then a no-op. The tables of
-- the loader's own (otel.otel_logs, otel.s3_loader_batches) are created with it; these two came before the
-- loader. The lookup table needs it too: a deduplicated insert still reaches the materialized view, whose block
-- is then deduplicated in its target table.
ALTER TABLE otel.otel_traces MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel.otel_traces_trace_id_ts MODIFY SETTING non_replicated_deduplication_window = 10000;
