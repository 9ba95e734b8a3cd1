"""{"resourceSpans": [...]} → otel_traces rows in TRACE_COLUMNS order."""

from __future__ import annotations

from typing import Any

from .values import (
    _EMPTY,
    _SPAN_KIND_NAMES,
    _SPAN_KINDS,
    _STATUS_CODE_NAMES,
    _STATUS_CODES,
    _UINT64,
    DuplicateKeys,
    OTLPFormatError,
    _attrs,
    _enum,
    _list,
    _obj,
    _span_id,
    _string,
    _timestamp,
    _trace_id,
    resource_attrs,
    walk,
)

KEYS = ("resourceSpans", "scopeSpans", "spans")

_Scope = tuple[str, dict[str, str] | DuplicateKeys, str, str]


def trace_rows(doc: dict[str, Any]) -> list[list[Any]]:
    """{"resourceSpans": [...]} → rows in TRACE_COLUMNS order."""
    rows: list[list[Any]] = []
    append = rows.append

    def on_scope(resource: tuple[dict[str, str] | DuplicateKeys, str], ss: dict[str, Any]) -> _Scope:
        res_attrs, service = resource
        scope = _obj(ss.get("scope"), "scope")
        return (
            service,
            res_attrs,
            _string(scope.get("name"), "scope.name"),
            _string(scope.get("version"), "scope.version"),
        )

    def on_item(scope: _Scope, span: Any) -> None:
        append(_span_row(span, *scope))

    walk(doc, KEYS, resource_attrs, on_scope, on_item)
    return rows


_KIND_WORDS: dict[Any, str] = {i: w for i, w in enumerate(_SPAN_KINDS)} | {
    name: _SPAN_KINDS[i] for name, i in _SPAN_KIND_NAMES.items()
}
_STATUS_WORDS: dict[Any, str] = {i: w for i, w in enumerate(_STATUS_CODES)} | {
    name: _STATUS_CODES[i] for name, i in _STATUS_CODE_NAMES.items()
}


def _word(value: Any, words: dict[Any, str], names: dict[str, int], field: str) -> str:
    """An enum as the exporter writes it; an unknown number is '' (pdata's String() of it)."""
    if value is None:
        return words[0]
    if value.__class__ is not bool:
        word = words.get(value)
        if word is not None:
            return word
    n = _enum(value, names, field)  # raises for a name it does not know, or a non-integer
    return words.get(n, "")


def _str_field(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name, "")
    return value if value.__class__ is str else _string(value, name)


def _span_row(
    span: Any, service: str, res_attrs: dict[str, str] | DuplicateKeys, scope_name: str, scope_version: str
) -> list[Any]:
    if span.__class__ is not dict:
        raise OTLPFormatError(f"span must be an object, got {type(span).__name__}")
    get = span.get
    start = _timestamp(get("startTimeUnixNano"), "startTimeUnixNano")
    end = _timestamp(get("endTimeUnixNano"), "endTimeUnixNano")
    status = get("status") or _EMPTY
    if status.__class__ is not dict:
        raise OTLPFormatError("status must be an object")
    kind = get("kind")
    kind_word = (
        _KIND_WORDS[kind]
        if kind.__class__ is int and 0 <= kind < 6
        else _word(kind, _KIND_WORDS, _SPAN_KIND_NAMES, "kind")
    )
    code = status.get("code")
    status_word = (
        _STATUS_WORDS[code]
        if code.__class__ is int and 0 <= code < 3
        else _word(code, _STATUS_WORDS, _STATUS_CODE_NAMES, "status.code")
    )

    ev_times: list[int] = []
    ev_names: list[str] = []
    ev_attrs: list[dict[str, str] | DuplicateKeys] = []
    events = get("events")
    if events:
        for n, ev in enumerate(_list(events, "events")):
            ev = _obj(ev, f"events[{n}]")
            ev_times.append(_timestamp(ev.get("timeUnixNano"), f"events[{n}].timeUnixNano"))
            ev_names.append(_string(ev.get("name"), f"events[{n}].name"))
            ev_attrs.append(_attrs(ev.get("attributes"), f"events[{n}].attributes"))

    ln_traces: list[str] = []
    ln_spans: list[str] = []
    ln_states: list[str] = []
    ln_attrs: list[dict[str, str] | DuplicateKeys] = []
    links = get("links")
    if links:
        for n, ln in enumerate(_list(links, "links")):
            ln = _obj(ln, f"links[{n}]")
            ln_traces.append(_trace_id(ln.get("traceId"), f"links[{n}].traceId"))
            ln_spans.append(_span_id(ln.get("spanId"), f"links[{n}].spanId"))
            ln_states.append(_string(ln.get("traceState"), f"links[{n}].traceState"))
            ln_attrs.append(_attrs(ln.get("attributes"), f"links[{n}].attributes"))

    parent = get("parentSpanId")
    return [
        start,
        _trace_id(get("traceId")),
        _span_id(get("spanId")),
        _span_id(parent, "parentSpanId"),
        _str_field(span, "traceState"),
        _str_field(span, "name"),
        kind_word,
        service,
        res_attrs,
        scope_name,
        scope_version,
        _attrs(get("attributes"), "attributes"),
        (end - start)
        & _UINT64,  # pcommon.Timestamp (uint64) subtraction: end < start wraps around, as upstream
        status_word,
        _str_field(status, "message"),
        ev_times,
        ev_names,
        ev_attrs,
        ln_traces,
        ln_spans,
        ln_states,
        ln_attrs,
    ]
