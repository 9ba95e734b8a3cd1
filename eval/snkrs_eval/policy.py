"""The two figures that need no API key.

Tool recall: the agent's purpose-built tools, called in one fixed sequence over the drop's window (SEQUENCE
below), must surface the ground truth at all — for every incident: its root-cause entity, a time within
±60 s of its start and the id of an affected trace, all in rows that report something wrong (an error
group, a warning log group, a slow span, an attribute value with errors or slow spans) and name the root
cause (its service, or its version / region / replica where that is the point). On the control drop
there is nothing to surface, so the sequence only has to run without tool errors. This is the ceiling the
tools give any model.

Baseline: a policy without a model reads the same tool results and answers in the same JSON with simple
rules (below); the same scorer scores it. It is the floor a model has to beat."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from trace_agent.results import ToolResult
from trace_agent.tools import ToolContext, execute

from .scoring import TIME_TOLERANCE_S, entity_token, name_matches, norm

# The fixed sequence, over the drop's window (start/end filled in): (tool, input).
SEQUENCE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("error_summary", {"limit": 50, "examples": 5}),
    ("log_summary", {"min_severity": "WARN", "limit": 50, "examples": 5}),
    ("find_slow_spans", {"limit": 30}),
    ("attribute_breakdown", {"attribute": "service.version", "limit": 50}),
    ("attribute_breakdown", {"attribute": "server.address", "limit": 50}),
    ("attribute_breakdown", {"attribute": "snkrs.region", "limit": 50}),
    ("list_services", {"sort_by": "errors"}),
)
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
        return rows


def run_sequence(ctx: ToolContext, start: str, end: str) -> Sequence:
    seq = Sequence()
    for name, tool_input in SEQUENCE:
        seq.results.append(execute(ctx, name, {**tool_input, "start": start, "end": end}))
    return seq


def _times(row: dict[str, Any]) -> list[dt.datetime]:
    out = []
    for key in ("first_seen", "first_bad", "time", "last_seen"):
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
        token = entity_token(inc) if inc.get("entity_kind") in ("version", "region", "replica") else ""
        # every fact must come from a row that names the root cause (its service or entity)
        named = [
            (row, text)
            for row, text in zip(rows, texts, strict=True)
            if (any(norm(n) in norm(text) for n in names) or (token and token in norm(text)))
            and (not token or token in norm(text))
        ]
        start = _parse(inc["start"])
        started = any(
            abs((t - start).total_seconds()) <= TIME_TOLERANCE_S for row, _ in named for t in _times(row)
        )
        affected = set(inc["affected_trace_ids"])
        trace = any(h in affected for _, text in named for h in _HEX32.findall(text))
        entity = bool(named)
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
        hops = [(caller, callee) for caller, callee, head in passed_on if message.startswith(head)]
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
        claims = {"incident": False, "root_cause": [], "start": None, "end": None, "affected_requests": None,
                  "trace_ids": []}  # fmt: skip
        return "The tools show no errors and no warnings beyond expected behaviour.\n\n" + _block(claims)
    entity = entity or _standout(seq)
    examples = chosen.get("example_trace_ids") or []
    claims = {
        "incident": True,
        "root_cause": [{"service": service, "entity": entity}],
        "start": chosen.get("first_seen"),
        "end": chosen.get("last_seen"),
        "affected_requests": chosen.get("traces"),
        "trace_ids": examples[:1],
    }
    return (
        f"Most affected: {service} ({chosen.get('status_message') or chosen.get('template')}).\n\n"
        + _block(claims)
    )


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
