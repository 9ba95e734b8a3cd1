"""The two figures that need no API key.

Tool recall: the agent's purpose-built tools, called in one fixed sequence over the drop's window (SEQUENCE
below, then metric_series once per metric describe_schema lists), must surface the ground truth at all —
for every incident: its root-cause entity, a time within ±60 s of its start and the id of an affected
trace, all in rows that report something wrong (an error group, a warning log group, a slow span, an
attribute value with errors or slow spans, a service-map edge with errors or slow calls, a metric series
with a change point, an attribute value span_deltas ranks) and name the root cause (its service, or its
version / region / replica / instance where that is the point; for a version meeting a region, rows must
name both). On the control drop there is nothing to surface, so the sequence only has to run without tool
errors. This is the ceiling the tools give any model.

Baseline: a policy without a model reads the same tool results and answers in the same JSON with simple
rules (below) — the script a user could write with the same tools; the same scorer scores it. It is the
floor a model has to beat."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from trace_agent.results import ToolResult
from trace_agent.tools import ToolContext, execute

from .scoring import ENTITY_KINDS, TIME_TOLERANCE_S, entity_tokens, name_matches, norm

# The fixed sequence, over the drop's window (start/end filled in): (tool, input).
SEQUENCE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("error_summary", {"limit": 50, "examples": 5}),
    ("log_summary", {"min_severity": "WARN", "limit": 50, "examples": 5}),
    ("find_slow_spans", {"limit": 30}),
    ("attribute_breakdown", {"attribute": "service.version", "limit": 50}),
    ("attribute_breakdown", {"attribute": "server.address", "limit": 50}),
    ("attribute_breakdown", {"attribute": "snkrs.region", "limit": 50}),
    ("list_services", {"sort_by": "errors"}),
    ("attribute_breakdown", {"attribute": "service.instance.id", "limit": 50}),
    ("service_map", {"limit": 200}),
    ("span_deltas", {"subset": "errors", "limit": 40}),
    ("span_deltas", {"subset": "slow", "min_duration_ms": 1000, "limit": 40}),
    ("describe_schema", {}),
)
METRIC_INPUT = {"group_by": "instance", "limit": 40}  # metric_series, for every metric describe_schema lists
_HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
# Errors that are the system working as intended or another service's error passed on (the baseline's rules)
_EXPECTED = re.compile(r"answered \d{3}|sold out|bot blocked|rate limited|card declined", re.I)
_PASSED_ON = re.compile(r"^(\S+) answered \d{3}: (.+)$", re.S)
_HOST = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:internal|example)\b")


@dataclass
class Sequence:
    results: list[ToolResult] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for r in self.results if r.is_error)

    def by_name(self, name: str, attribute: str | None = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for r in self.results:
            if r.name != name or r.is_error:
                continue
            if attribute is not None and r.input.get("attribute") != attribute:
                continue
            rows.extend(dict(zip(r.columns, row, strict=True)) for row in r.rows)
        return rows

    def anomalous_rows(self) -> list[dict[str, Any]]:
        """Rows that report something wrong (list_services rows list every service, so they do not count)."""
        rows = self.by_name("error_summary") + self.by_name("log_summary") + self.by_name("find_slow_spans")
        for row in self.by_name("attribute_breakdown"):
            if row.get("errors") or (row.get("max_ms") or 0) > 1000:
                rows.append(row)
        rows += [r for r in self.by_name("service_map") if r.get("errors") or r.get("slow_calls")]
        rows += [r for r in self.by_name("metric_series") if r.get("change_at")]
        rows += self.by_name("span_deltas")  # over-represented among error or slow spans, by construction
        return rows

    def metric_names(self) -> list[str]:
        for r in self.results:
            if r.name == "describe_schema" and not r.is_error:
                for table in r.extra.get("tables", []):
                    if "metrics" in table:
                        return [m.split(" (")[0] for m in table["metrics"]]
        return []


def run_sequence(ctx: ToolContext, start: str, end: str) -> Sequence:
    seq = Sequence()
    for name, tool_input in SEQUENCE:
        window = {} if name == "describe_schema" else {"start": start, "end": end}
        seq.results.append(execute(ctx, name, {**tool_input, **window}))
    for metric in seq.metric_names():
        seq.results.append(execute(ctx, "metric_series", {**METRIC_INPUT, "metric": metric, "start": start,
                                                          "end": end}))  # fmt: skip
    return seq


def _times(row: dict[str, Any]) -> list[dt.datetime]:
    out = []
    for key in ("first_seen", "first_bad", "time", "last_seen", "first_error", "first_slow", "change_at"):
        value = row.get(key)
        if isinstance(value, str) and value[:4].isdigit() and not value.startswith("1970"):
            out.append(_parse(value))
    return out


def _parse(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def recall(seq: Sequence, labels: dict[str, Any]) -> dict[str, Any]:
    """Per incident: entity, start and trace surfaced or not; the scenario's recall is 1 only if all are."""
    incidents = labels["incidents"]
    if not incidents:
        ok = seq.errors == 0
        return {"recall": 1.0 if ok else 0.0, "incidents": [], "tool_errors": seq.errors}
    rows = seq.anomalous_rows()
    texts = [json.dumps(row, default=str).lower() for row in rows]
    found = []
    for inc in incidents:
        names = [inc["service"], *inc.get("accept_services", [])]
        tokens = entity_tokens(inc) if inc.get("entity_kind") in ENTITY_KINDS else []
        # every fact must come from a row that names the root cause (its service or entity; where the entity
        # is the point, the entity itself — for an interaction either half, and both halves must be seen)
        named = [
            (row, text)
            for row, text in zip(rows, texts, strict=True)
            if (any(t in norm(text) for t in tokens) if tokens else any(norm(n) in norm(text) for n in names))
        ]
        start = _parse(inc["start"])
        started = any(
            abs((t - start).total_seconds()) <= TIME_TOLERANCE_S for row, _ in named for t in _times(row)
        )
        affected = set(inc["affected_trace_ids"])
        trace = any(h in affected for _, text in named for h in _HEX32.findall(text))
        entity = bool(named) and all(any(t in norm(text) for _, text in named) for t in tokens)
        found.append({"kind": inc["kind"], "entity": entity, "start": started, "trace": trace})
    complete = all(f["entity"] and f["start"] and f["trace"] for f in found)
    return {"recall": 1.0 if complete else 0.0, "incidents": found, "tool_errors": seq.errors}


def baseline_answer(seq: Sequence) -> str:
    """The no-model policy's answer (the same trailing JSON as a model's).

    1. Error groups from error_summary, without expected outcomes and errors passed on by callers
       ("X answered 503", sold out, bot blocked, rate limited, card declined); the group touching the most
       traces is the incident. Its root cause: the service that raised the message (the deepest callee that
       callers' "X answered NNN: <message>" name, else the group's service) and the host the message names.
    2. No such group: the warning log group touching the most traces (at least 3, expected outcomes left
       out), its service the cause.
    3. The entity: the host the message of rule 1 names; else a service.version whose error rate is over 3×
       its service's other versions' (5+ errors), or a snkrs.region's over 3× the rest's, or a replica in
       server.address whose p95 is over 5× the median address's.
    4. start/end = the group's first_seen/last_seen, affected_requests = its traces, one example trace.
    5. No error and no warning group: the metric series (by instance) whose change_at is set, whose peak is
       furthest from its baseline (ratio over 1.5 or under 0.67) and which has a peer instance of the same
       service that did not change (a change all instances share is the load); its service and instance
       are the cause, change_at the start.
    6. The mechanism: keywords of the chosen message or metric (MECHANISM_WORDS), first match.
    Nothing found: "incident": false."""
    groups = [
        r for r in seq.by_name("error_summary") if not _EXPECTED.search(str(r.get("status_message", "")))
    ]
    # a message the gateway's root span repeats belongs to the service that raised it
    raised = {str(r.get("status_message")) for r in groups if r["service"] != "api-gateway"}
    groups = [
        r for r in groups if r["service"] != "api-gateway" or str(r.get("status_message")) not in raised
    ]
    groups.sort(key=lambda r: -(r.get("traces") or 0))
    # callers repeat a callee's message ("payment answered 502: <message>"): the callee raised it
    passed_on = [
        (r["service"], m[1], m[2][:60])
        for r in seq.by_name("error_summary")
        if (m := _PASSED_ON.match(str(r.get("status_message", ""))))
    ]
    chosen, service, entity = None, "", ""
    if groups:
        chosen = groups[0]
        message = str(chosen.get("status_message", ""))
        hops = [(caller, callee) for caller, callee, head in passed_on if head and message.startswith(head)]
        deepest = [callee for _, callee in hops if callee not in {caller for caller, _ in hops}]
        service = deepest[0] if deepest else chosen["service"]
        host = _HOST.search(str(chosen.get("status_message", "")))
        entity = host.group(0) if host else ""
    else:
        logs = [
            r
            for r in seq.by_name("log_summary")
            if (r.get("traces") or 0) >= 3 and not _EXPECTED.search(str(r.get("template", "")))
        ]
        logs.sort(key=lambda r: -(r.get("traces") or 0))
        if logs:
            chosen = logs[0]
            service = chosen["service"]
    if chosen is None:
        return _metric_answer(seq)
    entity = entity or _standout(seq)
    examples = chosen.get("example_trace_ids") or []
    message = str(chosen.get("status_message") or chosen.get("template") or "")
    claims = {
        "incident": True,
        "root_cause": [{"service": service, "entity": entity}],
        "mechanism": [mechanism_of(message)] if mechanism_of(message) else [],
        "start": chosen.get("first_seen"),
        "end": chosen.get("last_seen"),
        "affected_requests": chosen.get("traces"),
        "trace_ids": examples[:1],
    }
    return f"Most affected: {service} ({message}).\n\n" + _block(claims)


# The baseline's mechanism rules: the first pattern the message matches.
MECHANISM_WORDS: tuple[tuple[str, str], ...] = (
    (r"no space left|disk", "disk full"),
    (r"certificate|ssl|tls", "certificate"),
    (r"lock", "lock"),
    (r"pool|connection\.wait", "pool exhaustion"),
    (r"memory|gc\.", "resource leak"),
    (r"timed out|timeout|deadline", "timeout"),
    (r"overloaded|shedding|backlog|capacity", "capacity"),
    (r"behind|lag", "lag"),
    (r"stampede|rebuild", "cache stampede"),
    (r"retry|retries", "retry storm"),
    (r"keyerror|version|deploy", "bad deploy"),
    (r"answered 50\d|unavailable|outage|disconnect", "outage"),
)


def mechanism_of(text: str) -> str:
    lowered = text.lower()
    return next((word for pattern, word in MECHANISM_WORDS if re.search(pattern, lowered)), "")


def _metric_answer(seq: Sequence) -> str:
    changed: list[tuple[dict[str, Any], str]] = []
    for result in seq.results:
        if result.name != "metric_series" or result.is_error:
            continue
        rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
        for row in rows:
            service = str(row["series"]).partition(" ")[0]
            peers = [r for r in rows if r is not row and str(r["series"]).partition(" ")[0] == service]
            # an instance that departs while a peer of the same service stays put (load moves them all)
            if (row.get("change_at") and not 0.67 <= float(row.get("ratio") or 1.0) <= 1.5
                    and any(not p.get("change_at") for p in peers)):  # fmt: skip
                changed.append((row, str(result.input.get("metric", ""))))
    if not changed:
        claims = {"incident": False, "root_cause": [], "mechanism": [], "start": None, "end": None,
                  "affected_requests": None, "trace_ids": []}  # fmt: skip
        return "The tools show no errors and no warnings beyond expected behaviour.\n\n" + _block(claims)
    row, metric = max(changed, key=lambda pair: abs(float(pair[0]["ratio"]) - 1.0))
    service, _, instance = str(row["series"]).partition(" ")
    mechanism = mechanism_of(metric)
    claims = {
        "incident": True,
        "root_cause": [{"service": service, "entity": instance}],
        "mechanism": [mechanism] if mechanism else [],
        "start": row["change_at"],
        "end": None,
        "affected_requests": None,
        "trace_ids": [],
    }
    return f"No errors; {metric} of {row['series']} changed at {row['change_at']}.\n\n" + _block(claims)


def _standout(seq: Sequence) -> str:
    for attribute in ("service.version", "snkrs.region"):
        rows = seq.by_name("attribute_breakdown", attribute)
        for row in rows:
            rest = [r for r in rows if r is not row]
            if attribute == "service.version":  # a version stands out against the service's other versions
                rest = [r for r in rest if r["services"] == row["services"]]
                if not rest:
                    continue
            rest_spans = sum(r["spans"] for r in rest) or 1
            rest_rate = sum(r["errors"] for r in rest) / rest_spans
            if row["errors"] >= 5 and row["error_rate"] > 3 * max(rest_rate, 0.001):
                return str(row["value"])
    rows = seq.by_name("attribute_breakdown", "server.address")
    if len(rows) >= 3:
        p95s = sorted(r["p95_ms"] for r in rows)
        median = p95s[len(p95s) // 2] or 0.001
        worst = max(rows, key=lambda r: r["p95_ms"])
        if worst["p95_ms"] > 5 * median and "replica" in str(worst["value"]):
            return str(worst["value"])
    return ""


def _block(claims: dict[str, Any]) -> str:
    return "```json\n" + json.dumps(claims, default=str) + "\n```"


__all__ = ["SEQUENCE", "Sequence", "baseline_answer", "name_matches", "recall", "run_sequence"]
