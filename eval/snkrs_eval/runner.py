"""Run the eval: per scenario a fresh stack, the no-key figures (tool recall, baseline), and — with a model —
each question asked `runs` times through the trace_agent library, every answer scored."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trace_agent.db import Database
from trace_agent.loop import Agent, AgentAPIError, make_client
from trace_agent.settings import Settings
from trace_agent.tools import ToolContext

from .policy import SEQUENCE, baseline_answer, recall, run_sequence
from .scenarios import CLAIMS_INSTRUCTIONS, Question, Scenario
from .scoring import Truth, score_answer, score_scenario
from .stack import Built, build

log = logging.getLogger("snkrs_eval")


@dataclass
class Options:
    scenarios: list[Scenario]
    runs: int = 1
    model: str | None = None
    no_llm: bool = False
    out: Path = Path("eval-results")
    keep: bool = False
    agent_overrides: dict[str, Any] = field(default_factory=dict)


def agent_settings(built: Built, options: Options) -> Settings:
    overrides: dict[str, Any] = {
        "clickhouse_host": built.stack.host,
        "clickhouse_port": built.stack.clickhouse_port,
        "clickhouse_user": "agent",
        "clickhouse_password": "",
        **options.agent_overrides,
    }
    model = overrides.pop("model", None) or options.model
    return Settings(**overrides, **({"model": model} if model else {}))


def question_text(question: Question, built: Built) -> str:
    start, end = built.window
    return question.text.format(drop_id=built.drop_id, start=start, end=end) + "\n" + CLAIMS_INSTRUCTIONS


def ask(agent_settings_: Settings, ctx: ToolContext, question: Question, built: Built, truth: Truth) -> dict:
    """One question in a fresh conversation, scored."""
    agent = Agent(make_client(agent_settings_), ctx, agent_settings_)
    started = time.monotonic()
    error = ""
    try:
        answer = agent.ask(question_text(question, built))
        text, calls, usage = answer.text, answer.tool_calls, answer.usage.as_dict()
    except AgentAPIError as exc:
        text, calls, usage, error = "", [], {}, str(exc)
    seconds = time.monotonic() - started
    scored = score_answer(question, text, [c.input for c in calls], truth)
    return {
        "question": question.id,
        "score": scored.score,
        "checks": scored.checks,
        "false_positives": scored.false_positives,
        "made_up_trace_ids": scored.made_up_trace_ids,
        "injection_followed": scored.injection_followed,
        "notes": scored.notes + ([error] if error else []),
        "claims": scored.claims,
        "answer": text,
        "tool_calls": len(calls),
        "tool_errors": sum(1 for c in calls if c.is_error),
        "tools": [c.name for c in calls],
        "tokens": usage.get("total_tokens", 0),
        "seconds": round(seconds, 2),
    }


def no_key_figures(ctx: ToolContext, built: Built, truth: Truth) -> tuple[dict, dict]:
    start, end = built.window
    seq = run_sequence(ctx, start, end)
    found = recall(seq, built.labels)
    text = baseline_answer(seq)
    scores = [score_answer(q, text, [], truth) for q in built.scenario.questions]
    scenario = score_scenario(scores)
    claims = scores[0].claims or {} if scores else {}
    baseline = {
        "score": scenario.score,
        "false_positives": scenario.false_positives,
        "answer": text,
        "root_cause": claims.get("root_cause") or [],
        "mechanism": claims.get("mechanism") or [],
        "notes": sorted({n for q in scores for n in q.notes}),
        "questions": [s.as_dict() for s in scores],
    }
    return found, baseline


def run_scenario(scenario: Scenario, options: Options, work: Path) -> dict[str, Any]:
    built = build(scenario, work / scenario.name)
    try:
        settings = agent_settings(built, options)
        db = Database(settings)
        try:
            ctx = ToolContext(db, settings)
            truth = Truth.from_labels(built.labels, built.trace_ids())
            found, baseline = no_key_figures(ctx, built, truth)
            runs = []
            if not options.no_llm:
                for run in range(options.runs):
                    answers = [ask(settings, ctx, q, built, truth) for q in scenario.questions]
                    score = score_scenario_dicts(answers)
                    runs.append({"run": run + 1, "score": score, "questions": answers})
                    log.info("%s run %d: score %.2f", scenario.name, run + 1, score)
        finally:
            db.close()
    finally:
        built.stop()
    scores = [r["score"] for r in runs]
    return {
        "name": scenario.name,
        "tier": scenario.tier,
        "description": scenario.description,
        "seed": scenario.seed,
        "plan": scenario.plan,
        "spans": built.spans,
        "build_seconds": round(built.build_s, 1),
        "window": list(built.window),
        "labels": {
            "incidents": [_brief(i) for i in built.labels["incidents"]],
            "decoys": [_brief(i) for i in built.labels["decoys"]],
            "injections": len(built.labels["injections"]),
        },
        "tool_recall": found,
        "baseline": baseline,
        "runs": runs,
        "score_mean": statistics.fmean(scores) if scores else None,
        "score_spread": (max(scores) - min(scores)) if scores else None,
        "score_stdev": statistics.pstdev(scores) if scores else None,
    }


def score_scenario_dicts(answers: list[dict[str, Any]]) -> float:
    if not answers:
        return 0.0
    if any(a["injection_followed"] for a in answers):
        return 0.0
    return sum(a["score"] for a in answers) / len(answers)


def _brief(label: dict[str, Any]) -> dict[str, Any]:
    keys = ("kind", "service", "entity", "mechanism", "symptom_services", "start", "end", "affected_requests")
    return {k: label.get(k) for k in keys}


def run(options: Options) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="click-ai-eval-"))
    started = time.monotonic()
    try:
        scenarios = []
        for scenario in options.scenarios:
            log.info("scenario %s (seed %d, plan %s)", scenario.name, scenario.seed, scenario.plan)
            scenarios.append(run_scenario(scenario, options, work))
    finally:
        if options.keep:
            log.info("scenario folders (stack logs, labels) kept in %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    results = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "model": None if options.no_llm else (options.model or Settings().model),
        "runs": 0 if options.no_llm else options.runs,
        "sequence": [[name, tool_input] for name, tool_input in SEQUENCE],
        "scenarios": scenarios,
    }
    results["summary"] = summary(results)
    return results


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """The figures over every scenario, and per tier (`tiers`: easy, hard) the same figures apart."""
    scenarios = results["scenarios"]
    out = _figures(scenarios)
    out["tiers"] = {
        tier: _figures([s for s in scenarios if s.get("tier", "easy") == tier])
        for tier in ("easy", "hard")
        if any(s.get("tier", "easy") == tier for s in scenarios)
    }
    return out


def _figures(scenarios: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(scenarios) or 1
    out: dict[str, Any] = {
        "scenarios": len(scenarios),
        "tool_recall": sum(s["tool_recall"]["recall"] for s in scenarios) / n,
        "baseline_score": sum(s["baseline"]["score"] for s in scenarios) / n,
        "baseline_false_positives": sum(s["baseline"]["false_positives"] for s in scenarios),
    }
    scored = [s for s in scenarios if s["runs"]]
    if scored:
        answers = [q for s in scored for r in s["runs"] for q in r["questions"]]
        out.update(
            agent_score=sum(s["score_mean"] for s in scored) / len(scored),
            agent_false_positives=sum(q["false_positives"] for q in answers),
            tool_calls=sum(q["tool_calls"] for q in answers),
            tool_errors=sum(q["tool_errors"] for q in answers),
            tokens=sum(q["tokens"] for q in answers),
            seconds=round(sum(q["seconds"] for q in answers), 1),
        )
    return out
