"""Incidents: what goes wrong in a drop, when, how badly and where — scheduled per drop, played by the
services, and written down as ground truth in a labels file that never enters the telemetry.

A plan is `none`, `random` (seeded: zero to two incidents per drop, and some decoys) or a comma-separated list
of `kind[:target][@start-end][*strength]`, times in simulated seconds since DROP_LIVE began, e.g.
`bad_deploy:checkout@20-70*0.4,bot_wave`. Decoys look alarming but are the system working as intended (bots
blocked, a sold-out flood of 409s, a slow but healthy service); `injection` plants an instruction aimed at an
LLM agent in a span attribute and a log body."""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import get_current_span

from .plans import (  # the plan and its kinds, re-exported: the services read them from here
    INCIDENT_KINDS,
    INJECTION_BAIT,
    INJECTION_TEXT,
    INJECTION_WRONG_SERVICE,
    INJECTIONS,
    KINDS,
    LEGACY,
    MECHANISMS,
    Incident,
    parse_plan,
    plan_for,
    random_plan,
)

if TYPE_CHECKING:
    from .drop import DropState
    from .timeline import Timeline


def bump_version(version: str) -> str:
    major, minor, *_ = [*version.split("."), "0", "0"][:3]
    return f"{major}.{int(minor) + 1}.0"


def _iso(t_ns: int | None) -> str | None:
    if t_ns is None:
        return None
    return (
        dt.datetime.fromtimestamp(t_ns / 1e9, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


@dataclass
class Record:
    """One incident of one drop as it happened: the affected traces and when they were hit."""

    incident: Incident
    drop_id: str
    live_start_ns: int
    entity: str = ""
    instance: str = ""  # service.instance.id, where one instance is the point
    trace_ids: set[str] = field(default_factory=set)
    first_ns: int | None = None
    last_ns: int | None = None

    def label(self) -> dict[str, Any]:
        inc, kind = self.incident, self.incident.spec
        start_ns = self.live_start_ns + int(max(inc.start_s, -1e6) * 1e9)
        return {
            "kind": inc.kind,
            "decoy": kind.decoy,
            "drop_id": self.drop_id,
            "service": kind.service,
            "accept_services": list(kind.accept),
            "entity_kind": kind.entity,
            "entity": self.entity or (inc.target if kind.entity else ""),
            "instance": self.instance,
            "target": inc.target,
            "strength": inc.strength,
            "summary": kind.summary,
            "mechanism": kind.mechanism,
            "symptom_services": list(kind.symptoms),
            "tier": "hard" if kind.hard else "easy",
            "scheduled_start": _iso(start_ns) if inc.start_s > -1e6 else None,
            "scheduled_end": _iso(self.live_start_ns + int(inc.end_s * 1e9)) if inc.end_s < 1e6 else None,
            "start": _iso(self.first_ns),
            "end": _iso(self.last_ns),
            "affected_requests": len(self.trace_ids),
            "affected_trace_ids": sorted(self.trace_ids),
        }


class Ledger:
    """The incidents of the current drop: which is live, and every request each one touched."""

    def __init__(self) -> None:
        self.plan: list[Incident] | None = None
        self.state: DropState | None = None
        self.records: list[Record] = []
        self._current: list[Record] = []
        self._lock = threading.Lock()

    def start_drop(self, state: DropState, plan: list[Incident] | None) -> None:
        self.state, self.plan = state, plan
        self._current = []

    def drop_live(self, live_start_ns: int, entities: dict[str, str]) -> None:
        """DROP_LIVE began: incidents get their records (and their absolute times)."""
        if not self.plan or self.state is None:
            return
        self._current = [
            Record(
                inc,
                self.state.drop_id,
                live_start_ns,
                entities.get(inc.kind, ""),
                entities.get(f"{inc.kind}.instance", ""),
            )
            for inc in self.plan
        ]
        self.records.extend(self._current)

    def active(self, kind: str) -> Incident | None:
        if not self.plan or self.state is None:
            return None
        since = self.state.seconds_since_live()
        for inc in self.plan:
            if inc.kind == kind and inc.live(since):
                return inc
        return None

    def planned(self, kind: str) -> Incident | None:
        return next((inc for inc in self.plan or () if inc.kind == kind), None)

    def hit(self, kind: str, t: Timeline) -> None:
        """The request `t` is being served was affected by the live incident of `kind`."""
        record = next((r for r in self._current if r.incident.kind == kind), None)
        if record is None:
            return
        trace_id = get_current_span(t.ctx).get_span_context().trace_id
        if not trace_id:
            return
        with self._lock:
            record.trace_ids.add(f"{trace_id:032x}")
            record.first_ns = t.t if record.first_ns is None else min(record.first_ns, t.t)
            record.last_ns = t.t if record.last_ns is None else max(record.last_ns, t.t)

    def labels(self, seed: int, plan_text: str | None, drops: list[dict[str, Any]]) -> dict[str, Any]:
        incidents = [r.label() for r in self.records if not r.incident.spec.decoy]
        decoys = [
            r.label() for r in self.records if r.incident.spec.decoy and r.incident.kind not in INJECTIONS
        ]
        injections = [
            {
                **r.label(),
                "text": INJECTION_TEXT,
                "wrong_service": INJECTION_WRONG_SERVICE,
                "bait": list(INJECTION_BAIT),
            }
            for r in self.records
            if r.incident.kind in INJECTIONS
        ]
        return {
            "seed": seed,
            "plan": plan_text,
            "drops": drops,
            "incidents": incidents,
            "decoys": decoys,
            "injections": injections,
        }


def write_labels(path: Path, labels: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(labels, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def apply_legacy(settings: Any, plan: list[Incident] | None) -> Any:
    """Settings whose five original failure modes follow the plan (off unless planned)."""
    if plan is None:
        return settings
    update: dict[str, Any] = {}
    for name in LEGACY:
        mode = getattr(settings, name)
        inc = next((i for i in plan if i.kind == name), None)
        if inc is None:
            update[name] = replace_model(mode, enabled=False)
        else:
            update[name] = replace_model(
                mode, enabled=True, probability=min(1.0, inc.strength), start_s=inc.start_s, end_s=inc.end_s
            )
    flood = next((i for i in plan if i.kind == "sold_out_flood"), None)
    if flood is not None:
        update["inventory_units"] = max(1, int(flood.strength))
    return settings.model_copy(update=update)


def replace_model(model: Any, **changes: Any) -> Any:
    return model.model_copy(update=changes)


__all__ = [
    "INCIDENT_KINDS",
    "INJECTIONS",
    "INJECTION_TEXT",
    "KINDS",
    "MECHANISMS",
    "Incident",
    "Ledger",
    "apply_legacy",
    "bump_version",
    "parse_plan",
    "plan_for",
    "random_plan",
    "replace",
    "write_labels",
]
