"""One compressed drop cycle, run once per session as a real `python -m snkrs_generator --once` process
exporting OTLP/HTTP to a receiver inside the test process, decoded with opentelemetry-proto."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.otlp_sink import OtlpSink

REPO = Path(__file__).resolve().parents[2]
SEED = 11
TIME_SCALE = 10  # the 60/90/60 s phases take 6/9/6 s


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def attributes(key_values) -> dict:
    return {kv.key: any_value(kv.value) for kv in key_values}


@dataclass
class Span:
    service: str
    resource: dict
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    status_code: int
    status_message: str
    attrs: dict
    events: list
    links: list
    start: int
    end: int


@dataclass
class LogRecord:
    service: str
    trace_id: str
    span_id: str
    severity: str
    body: str
    attrs: dict
    event_name: str


@dataclass
class Cycle:
    returncode: int
    output: str
    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)
    metrics: dict[str, list] = field(default_factory=dict)  # name → [(service, metric proto)]
    raw: list[tuple[str, bytes]] = field(default_factory=list)

    def phase_lines(self) -> list[dict[str, str]]:
        lines = []
        for line in self.output.splitlines():
            if " phase=" in line:
                fields = line.split(" phase=", 1)[1]
                lines.append(dict(kv.split("=", 1) for kv in f"phase={fields}".split() if "=" in kv))
        return lines


def _items(requests: list, resources: str, scopes: str, items: str) -> Iterator[tuple[dict, Any]]:
    """(resource attributes, item) of every item of every scope of every resource of the requests."""
    for request in requests:
        for r in getattr(request, resources):
            resource = attributes(r.resource.attributes)
            for scope in getattr(r, scopes):
                for item in getattr(scope, items):
                    yield resource, item


def decode(sink: OtlpSink) -> tuple[list[Span], list[LogRecord], dict[str, list]]:
    requests = sink.received.requests
    spans = [
        Span(
            resource["service.name"],
            resource,
            s.trace_id.hex(),
            s.span_id.hex(),
            s.parent_span_id.hex(),
            s.name,
            s.kind,
            s.status.code,
            s.status.message,
            attributes(s.attributes),
            [(e.name, attributes(e.attributes)) for e in s.events],
            [(link.trace_id.hex(), link.span_id.hex()) for link in s.links],
            s.start_time_unix_nano,
            s.end_time_unix_nano,
        )
        for resource, s in _items(requests["traces"], "resource_spans", "scope_spans", "spans")
    ]
    logs = [
        LogRecord(
            resource["service.name"],
            r.trace_id.hex(),
            r.span_id.hex(),
            r.severity_text,
            any_value(r.body),
            attributes(r.attributes),
            r.event_name,
        )
        for resource, r in _items(requests["logs"], "resource_logs", "scope_logs", "log_records")
    ]
    metrics: dict[str, list] = {}
    for resource, metric in _items(requests["metrics"], "resource_metrics", "scope_metrics", "metrics"):
        metrics.setdefault(metric.name, []).append((resource["service.name"], metric))
    return spans, logs, metrics


def generator_env(settings: dict[str, str]) -> dict[str, str]:
    """This process's environment without any generator or OTel setting of the caller's, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENERATOR_", "OTEL_"))}
    env.update(settings)
    return env


def run_generator(
    args: list[str], env: dict[str, str], *, keep_raw: bool = False, cwd: Path = REPO, timeout: float = 300
) -> Cycle:
    """`python -m snkrs_generator --once ARGS` exporting OTLP/HTTP to a sink in this process, with only
    `env`'s generator and OTel settings (none of the caller's), decoded."""
    with OtlpSink(keep_raw=keep_raw) as sink:
        clean = generator_env({**env, "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint})
        proc = subprocess.run(
            [sys.executable, "-m", "snkrs_generator", "--once", *args],
            env=clean, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        spans, logs, metrics = decode(sink)
        return Cycle(
            proc.returncode, proc.stdout + proc.stderr, spans, logs, metrics, list(sink.received.raw)
        )


@pytest.fixture(scope="session")
def drop_cycle() -> Cycle:
    return run_generator(
        ["--seed", str(SEED), "--time-scale", str(TIME_SCALE)],
        {
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "PYTHONUNBUFFERED": "1",
            "GENERATOR_METRIC_INTERVAL_S": "20",  # every 2 s at time-scale 10
        },
        keep_raw=True,
        cwd=REPO / "tests",
        timeout=180,
    )
