"""{"resourceLogs": [...]} → otel_logs rows in LOG_COLUMNS order."""

from __future__ import annotations

from typing import Any

from .values import (
    _SEVERITY_NAMES,
    DuplicateKeys,
    _attrs,
    _enum,
    _obj,
    _span_id,
    _string,
    _timestamp,
    _trace_id,
    _uint32,
    any_value_str,
    resource_attrs,
    walk,
)

KEYS = ("resourceLogs", "scopeLogs", "logRecords")

_Map = dict[str, str] | DuplicateKeys
_Resource = tuple[_Map, str, str]
_Scope = tuple[str, str, _Map, str, str, str, _Map]


def _resource(rl: dict[str, Any]) -> _Resource:
    res_attrs, service = resource_attrs(rl)
    return res_attrs, service, _string(rl.get("schemaUrl"), "schemaUrl")


def _scope(resource: _Resource, sl: dict[str, Any]) -> _Scope:
    res_attrs, service, res_url = resource
    scope = _obj(sl.get("scope"), "scope")
    scope_name = _string(scope.get("name"), "scope.name")
    scope_version = _string(scope.get("version"), "scope.version")
    scope_attrs = _attrs(scope.get("attributes"), "scope.attributes")
    scope_url = _string(sl.get("schemaUrl"), "schemaUrl")
    return service, res_url, res_attrs, scope_url, scope_name, scope_version, scope_attrs


def log_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """{"resourceLogs": [...]} → rows in LOG_COLUMNS order."""
    rows: list[list[Any]] = []
    append = rows.append

    def on_item(scope: _Scope, rec: Any) -> None:
        service, res_url, res_attrs, scope_url, scope_name, scope_version, scope_attrs = scope
        rec = _obj(rec, "logRecord")
        ts = _timestamp(rec.get("timeUnixNano"), "timeUnixNano")
        if ts == 0:
            ts = _timestamp(rec.get("observedTimeUnixNano"), "observedTimeUnixNano")
        append(
            [
                ts,
                _trace_id(rec.get("traceId")),
                _span_id(rec.get("spanId")),
                _uint32(rec.get("flags"), "flags") & 0xFF,
                _string(rec.get("severityText"), "severityText"),
                _enum(rec.get("severityNumber"), _SEVERITY_NAMES, "severityNumber") & 0xFF,
                service,
                any_value_str(rec.get("body"), "body"),
                res_url,
                res_attrs,
                scope_url,
                scope_name,
                scope_version,
                scope_attrs,
                _attrs(rec.get("attributes"), "attributes"),
                _string(rec.get("eventName"), "eventName"),
            ]
        )

    walk(doc, KEYS, _resource, _scope, on_item)
    return rows
