"""critical_path and log_patterns on the local stack, with answers the test computes; the critical path's walk
on its own (pure), HyperDX links and the caps."""

from __future__ import annotations

import random
from datetime import timedelta

from trace_agent import critical_path as cpath
from trace_agent.links import trace_url
from trace_agent.tools import execute

from tests.support.spans import Span, hex_id, insert, minutes_ago

LOG_COLUMNS = ["Timestamp", "TraceId", "SpanId", "SeverityText", "SeverityNumber", "ServiceName", "Body"]


def span(span_id: str, parent: str, start_ms: int, duration_ms: int) -> dict:
    ms = 1_000_000
    return {"SpanId": span_id, "ParentSpanId": parent, "ServiceName": "s", "SpanName": span_id,
            "StatusCode": "Ok", "start_ns": start_ms * ms, "Duration": duration_ms * ms}  # fmt: skip


def test_critical_path_walks_back_from_the_end():
    # root 0–100 calls a (5–40) and b (10–90) in parallel, and e (95–99) after; b calls c (20–50) then
    # d (50–85). Walking back from 100: root 1 ms, e 4, root 5, b 5, d 35, c 30, b 10, a 5 (5–10, before b
    # started), root 5 — 100 ms in all.
    rows = [span("root", "", 0, 100), span("a", "root", 5, 35), span("b", "root", 10, 80),
            span("c", "b", 20, 30), span("d", "b", 50, 35), span("e", "root", 95, 4)]  # fmt: skip
    root = cpath.longest_root(cpath.build(rows))
    path = cpath.critical_path(root)
    on_path = {p.span_id: p.on_path_ns // 1_000_000 for p in path}
    assert [p.span_id for p in path] == ["root", "e", "b", "d", "c", "a"]
    assert on_path == {"root": 1 + 5 + 5, "e": 4, "b": 5 + 10, "d": 35, "c": 30, "a": 5}
    assert sum(on_path.values()) == 100
    # self time: the span less the union of its children (root: 5–90 and 95–99 covered)
    assert {p.span_id: cpath.self_time_ns(p) // 1_000_000 for p in path} == {
        "root": 100 - 85 - 4, "e": 4, "b": 80 - 65, "d": 35, "c": 30, "a": 35
    }  # fmt: skip


def test_critical_path_tool_caps_big_traces(ctx, stack, settings):
    rng = random.Random(4)
    trace = hex_id(rng, 32)
    t0 = minutes_ago(5)
    spans = [Span(trace, "a0" * 8, "gateway", "GET /drop", t0, 2_000_000_000)]
    # a chain: each span the only child of the one before, starting 1 ms later and ending 1 ms earlier
    for i in range(1, 400):
        parent = f"{i - 1:016x}" if i > 1 else "a0" * 8
        spans.append(Span(trace, f"{i:016x}", "svc", f"step {i}", t0 + timedelta(milliseconds=i),
                          2_000_000_000 - 2_000_000 * i, parent_span_id=parent))  # fmt: skip
    insert(stack.client(), spans)
    result = execute(ctx, "critical_path", {"trace_id": trace})
    assert result.error is None, result.error
    cap = settings.max_trace_spans
    assert result.truncated and result.extra["spans"] == 400 and result.extra["shown"] == cap
    assert len(result.rows) == cap and [r[1] for r in result.rows[:3]] == ["a0" * 8, f"{1:016x}", f"{2:016x}"]
    # every span but the last shown owns 1 ms at each end; the last shown one its whole duration
    assert [r[7] for r in result.rows[:3]] == [2.0, 2.0, 2.0]
    assert result.rows[-1][7] == round((2_000_000_000 - 2_000_000 * (cap - 1)) / 1e6, 3)
    assert sum(r[7] for r in result.rows) == 2000.0
    assert result.extra["trace_links"] == {trace: trace_url("http://localhost:8080", "Traces", trace)}
    missing = execute(ctx, "critical_path", {"trace_id": "0" * 32})
    assert "not found" in missing.error


def test_log_patterns_marks_what_is_new_since_the_baseline(ctx, stack):
    rng = random.Random(6)
    rows, traces = [], {"timeout": set(), "reserved": set()}
    for i in range(40):  # both windows: the baseline (60–120 min ago) and now (0–60 min ago)
        minutes = 5 + i * 2.5
        trace = hex_id(rng, 32)
        body = f"stock reserved for sku DZ{rng.randint(1000, 9999)} in {rng.randint(1, 90)} ms"
        rows.append([minutes_ago(minutes), trace, "", "INFO", 9, "inventory", body])
        if minutes < 60:
            traces["reserved"].add(trace)
    for i in range(7):  # only now
        trace = hex_id(rng, 32)
        severity = ("ERROR", 17) if i % 2 else ("WARN", 13)
        rows.append([minutes_ago(3 + i), trace, "", *severity, "payment",
                     f"payment provider timed out after {rng.randint(2000, 9000)} ms for order "
                     f"ord-{rng.getrandbits(40):010x}"])  # fmt: skip
        traces["timeout"].add(trace)
    rows.append([minutes_ago(10), hex_id(rng, 32), "", "INFO", 9, "trace-agent", "agent log line 1"])
    client = stack.client()
    client.insert("default.otel_logs", rows, column_names=LOG_COLUMNS)
    client.close()

    result = execute(ctx, "log_patterns", {"window": "1h", "examples": 10})
    assert result.error is None, result.error
    got = [dict(zip(result.columns, r, strict=True)) for r in result.rows]
    assert [(p["new"], p["records"], p["baseline_records"]) for p in got] == [
        (True, 7, 0),
        (False, len(traces["reserved"]), 40 - len(traces["reserved"])),
    ]
    timeout, reserved = got
    assert timeout["template"].startswith("payment provider timed out after")
    assert timeout["severities"] == ["ERROR", "WARN"] and timeout["services"] == ["payment"]
    assert set(timeout["example_trace_ids"]) == traces["timeout"]
    assert (
        set(reserved["example_trace_ids"]) <= traces["reserved"] and len(reserved["example_trace_ids"]) == 10
    )
    assert result.extra["new_patterns"] == 1 and set(result.extra["trace_links"]) >= traces["timeout"]

    only_new = execute(ctx, "log_patterns", {"window": "1h", "new_only": True, "min_severity": "WARN"})
    assert [r[2] for r in only_new.rows] == [7]
    capped = execute(ctx, "log_patterns", {"window": "1h", "limit": 1})
    assert capped.truncated and len(capped.rows) == 1


def test_new_tools_redact_what_they_return(ctx, stack):
    trace = "7e" * 16
    t0 = minutes_ago(4)
    secret = "Bearer s3cr3tT0kenValue"
    spans = [Span(trace, "a1" * 8, "gateway", f"GET /login {secret}", t0, 50_000_000),
             Span(trace, "b2" * 8, "auth", "check card 4111 1111 1111 1111", t0, 40_000_000,
                  parent_span_id="a1" * 8)]  # fmt: skip
    insert(stack.client(), spans)
    client = stack.client()
    client.insert("default.otel_logs", [[t0, trace, "", "ERROR", 17, "auth", f"login failed with {secret}"]],
                  column_names=LOG_COLUMNS)  # fmt: skip
    client.close()
    for name, args in (("critical_path", {"trace_id": trace}), ("log_patterns", {"window": "1h"})):
        result = execute(ctx, name, args)
        assert result.error is None and result.rows, (name, result.error)
        text = str(result.rows) + str(result.extra)
        assert "s3cr3t" not in text and "4111 1111" not in text and "[REDACTED" in text, (name, text)
