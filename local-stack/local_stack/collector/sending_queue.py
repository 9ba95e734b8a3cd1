"""How the stand-in batches, named as config/otel-collector-config.yaml names it for the real collector: each
exporter's `sending_queue.batch` (sizer: items) sends a batch once it holds `min_size` items (spans, log
records, metric data points), or `flush_timeout` after its first item. Stated once here; a test
(tests/compose/test_collector_config.py) checks both exporters of the YAML say the same."""

from __future__ import annotations

MIN_SIZE = 8192  # sending_queue.batch.min_size (items)
FLUSH_TIMEOUT = 0.2  # sending_queue.batch.flush_timeout (200ms), in seconds
