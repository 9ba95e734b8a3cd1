"""{"resourceMetrics": [...]} → rows of the five otel_metrics_* tables, each in its METRIC_COLUMNS order."""

from __future__ import annotations

from typing import Any

from .columns import METRIC_COLUMNS
from .values import (
    _TEMPORALITY_NAMES,
    _ZERO_SPAN_ID,
    _ZERO_TRACE_ID,
    DuplicateKeys,
    OTLPFormatError,
    _attrs,
    _double,
    _enum,
    _hex_id,
    _int32,
    _int64,
    _list,
    _obj,
    _string,
    _timestamp,
    _uint32,
    _uint64,
    resource_attrs,
    walk,
)

KEYS = ("resourceMetrics", "scopeMetrics", "metrics")

_Resource = tuple[dict[str, str] | DuplicateKeys, str, str]


def _resource(rm: dict[str, Any]) -> _Resource:
    res_attrs, service = resource_attrs(rm)
    return res_attrs, service, _string(rm.get("schemaUrl"), "schemaUrl")


def _scope(resource: _Resource, sm: dict[str, Any]) -> tuple[Any, ...]:
    res_attrs, service, res_url = resource
    scope = _obj(sm.get("scope"), "scope")
    return (
        res_attrs,
        res_url,
        _string(scope.get("name"), "scope.name"),
        _string(scope.get("version"), "scope.version"),
        _attrs(scope.get("attributes"), "scope.attributes"),
        _uint32(scope.get("droppedAttributesCount"), "scope.droppedAttributesCount"),
        _string(sm.get("schemaUrl"), "schemaUrl"),
        service,
    )


def metric_rows(doc: dict[str, Any]) -> dict[str, list[list[Any]]]:
    """{"resourceMetrics": [...]} → {kind: rows in METRIC_COLUMNS[kind] order}, every kind present."""
    out: dict[str, list[list[Any]]] = {kind: [] for kind in METRIC_COLUMNS}

    def on_item(scope_prefix: tuple[Any, ...], metric: Any) -> None:
        _metric(_obj(metric, "metric"), scope_prefix, out)

    walk(doc, KEYS, _resource, _scope, on_item)
    return out


_METRIC_DATA_KEYS = (
    ("gauge", "gauge"),
    ("sum", "sum"),
    ("histogram", "histogram"),
    ("exponentialHistogram", "exponential_histogram"),
    ("summary", "summary"),
)


def _exemplars(
    exemplars: Any, field: str
) -> tuple[list[dict[str, str] | DuplicateKeys], list[int], list[float], list[str], list[str]]:
    attrs: list[dict[str, str] | DuplicateKeys] = []
    times: list[int] = []
    values: list[float] = []
    span_ids: list[str] = []
    trace_ids: list[str] = []
    for n, ex in enumerate(_list(exemplars, field)):
        ex = _obj(ex, f"{field}[{n}]")
        attrs.append(_attrs(ex.get("filteredAttributes"), f"{field}[{n}].filteredAttributes"))
        times.append(_timestamp(ex.get("timeUnixNano"), f"{field}[{n}].timeUnixNano"))
        values.append(_number_value(ex, f"{field}[{n}]"))
        # the exporter hex-encodes the raw 16/8 bytes: an absent id is all zeros, not ''
        span_ids.append(_hex_id(ex.get("spanId"), 16, f"{field}[{n}].spanId") or _ZERO_SPAN_ID)
        trace_ids.append(_hex_id(ex.get("traceId"), 32, f"{field}[{n}].traceId") or _ZERO_TRACE_ID)
    return attrs, times, values, span_ids, trace_ids


def _number_value(point: dict[str, Any], field: str) -> float:
    if "asDouble" in point:
        return _double(point["asDouble"], field + ".asDouble")
    if "asInt" in point:
        return float(_int64(point["asInt"], field + ".asInt"))
    return 0.0


def _uint64_list(value: Any, field: str) -> list[int]:
    return [_uint64(v, field) for v in _list(value, field)]


def _double_list(value: Any, field: str) -> list[float]:
    return [_double(v, field) for v in _list(value, field)]


def _metric(metric: dict[str, Any], scope_prefix: tuple[Any, ...], out: dict[str, list[list[Any]]]) -> None:
    name = _string(metric.get("name"), "name")
    prefix = (
        *scope_prefix,
        name,
        _string(metric.get("description"), "description"),
        _string(metric.get("unit"), "unit"),
    )
    found = next(((key, kind) for key, kind in _METRIC_DATA_KEYS if metric.get(key) is not None), None)
    if found is None:  # the exporter fails the whole push ("metrics type is unset"): nothing of it is stored
        raise OTLPFormatError(f"metric {name!r}: metrics type is unset (no gauge, sum, histogram or summary)")
    key, kind = found
    data = metric[key]
    data = _obj(data, key)
    temporality = _enum(data.get("aggregationTemporality"), _TEMPORALITY_NAMES, "aggregationTemporality")
    rows = out[kind]
    for n, dp in enumerate(_list(data.get("dataPoints"), f"{key}.dataPoints")):
        f = f"{key}.dataPoints[{n}]"
        dp = _obj(dp, f)
        common = [
            *prefix,
            _attrs(dp.get("attributes"), f + ".attributes"),
            _timestamp(dp.get("startTimeUnixNano"), f + ".startTimeUnixNano"),
            _timestamp(dp.get("timeUnixNano"), f + ".timeUnixNano"),
        ]
        flags = _uint32(dp.get("flags"), f + ".flags")
        exemplars = _exemplars(dp.get("exemplars"), f + ".exemplars")
        if kind == "gauge":
            rows.append([*common, _number_value(dp, f), flags, *exemplars])
        elif kind == "sum":
            mono = data.get("isMonotonic", False)
            if type(mono) is not bool:
                raise OTLPFormatError(f"sum.isMonotonic must be true or false, got {mono!r:.60}")
            rows.append([*common, _number_value(dp, f), flags, *exemplars, temporality, mono])
        elif kind == "histogram":
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    _uint64_list(dp.get("bucketCounts"), f + ".bucketCounts"),
                    _double_list(dp.get("explicitBounds"), f + ".explicitBounds"),
                    *exemplars,
                    flags,
                    _double(dp.get("min"), f + ".min"),
                    _double(dp.get("max"), f + ".max"),
                    temporality,
                ]
            )
        elif kind == "exponential_histogram":
            pos = _obj(dp.get("positive"), f + ".positive")
            neg = _obj(dp.get("negative"), f + ".negative")
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    _int32(dp.get("scale"), f + ".scale"),
                    _uint64(dp.get("zeroCount"), f + ".zeroCount"),
                    _int32(pos.get("offset"), f + ".positive.offset"),
                    _uint64_list(pos.get("bucketCounts"), f + ".positive.bucketCounts"),
                    _int32(neg.get("offset"), f + ".negative.offset"),
                    _uint64_list(neg.get("bucketCounts"), f + ".negative.bucketCounts"),
                    *exemplars,
                    flags,
                    _double(dp.get("min"), f + ".min"),
                    _double(dp.get("max"), f + ".max"),
                    temporality,
                ]
            )
        else:  # summary
            quantiles: list[float] = []
            values: list[float] = []
            for q_i, q in enumerate(_list(dp.get("quantileValues"), f + ".quantileValues")):
                q = _obj(q, f"{f}.quantileValues[{q_i}]")
                quantiles.append(_double(q.get("quantile"), f"{f}.quantileValues[{q_i}].quantile"))
                values.append(_double(q.get("value"), f"{f}.quantileValues[{q_i}].value"))
            rows.append(
                [
                    *common,
                    _uint64(dp.get("count"), f + ".count"),
                    _double(dp.get("sum"), f + ".sum"),
                    quantiles,
                    values,
                    flags,
                ]
            )
