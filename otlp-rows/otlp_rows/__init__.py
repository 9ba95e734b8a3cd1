"""OTLP JSON documents → rows for the collector clickhouseexporter's tables (exporter 0.151 – 0.159).

Pure functions: a document (a dict as ``orjson.loads`` returns it for the collector's ``otlp_json`` files, or
the same shape built from protobuf with hex ids) becomes rows in the exporter's insert column order, ready for
``client.insert(table, rows, column_names=COLUMNS)`` with clickhouse-connect. Used by the S3 loader and by the
local stack's collector stand-in, so a span exported directly and one loaded from S3 cannot differ.

Value encodings follow the exporter exactly:
- ids are lowercase hex; an absent or all-zero span/log id is ``''`` (exemplar ids stay hex, zeros kept);
- SpanKind / StatusCode are pdata's words (``Server``, ``Error``); an unknown number gives ``''``;
- every attribute value is pdata ``Value.AsString()``: ints in decimal, doubles in Go's ES6 style
  (``1.5``, ``100``, ``1e+21``), bools ``true``/``false``, bytes in base64, arrays and kvlists as compact JSON
  with sorted keys and no HTML escaping, an empty value ``''``;
- DateTime64(9) columns are integer nanoseconds since the epoch (clickhouse-connect writes ints as raw ticks).

Accepted input variants (OTLP JSON rules): ids in either hex case, 64-bit integers as decimal strings or
numbers, doubles as numbers or strings (``"NaN"``, ``"Infinity"``), enums as numbers or as their proto names
(``"SPAN_KIND_SERVER"``). Unknown fields are ignored. Anything else raises ``OTLPFormatError`` with one line
saying where and what.

Parse the collector's files with ``orjson.loads(keep_negative_zero(body))``: pdata writes the double -0.0 as
``-0``, which a JSON parser reads as the integer 0 (the exporter writes ``-0``).

Modules: ``json_text`` (the text before parsing), ``columns`` (tables and column order), ``values``
(scalars, AnyValue, attribute maps, the one resource → scope → item walker), ``traces``, ``logs``,
``metrics`` (one row function each), ``signals`` (each signal's keys, item unit, tables and row function:
``SIGNALS``), ``layout`` (where the collector's awss3exporter puts each batch in the bucket).
"""

from __future__ import annotations

from .columns import LOG_COLUMNS, LOGS_TABLE, METRIC_COLUMNS, METRIC_TABLES, TRACE_COLUMNS, TRACES_TABLE
from .json_text import keep_negative_zero
from .logs import log_rows
from .metrics import metric_rows
from .signals import LOGS, METRICS, SIGNALS, TRACES, SignalRows, table_columns
from .traces import trace_rows
from .values import DuplicateKeys, OTLPFormatError, any_value_str, go_float

__all__ = [
    "LOGS",
    "LOGS_TABLE",
    "LOG_COLUMNS",
    "METRICS",
    "METRIC_COLUMNS",
    "METRIC_TABLES",
    "SIGNALS",
    "TRACES",
    "TRACES_TABLE",
    "TRACE_COLUMNS",
    "DuplicateKeys",
    "OTLPFormatError",
    "SignalRows",
    "any_value_str",
    "go_float",
    "keep_negative_zero",
    "log_rows",
    "metric_rows",
    "table_columns",
    "trace_rows",
]
