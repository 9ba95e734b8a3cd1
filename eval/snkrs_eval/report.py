"""results.json → a Markdown report."""

from __future__ import annotations

from typing import Any


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def markdown(results: dict[str, Any]) -> str:
    s = results["summary"]
    lines = [
        "# click-ai eval report",
        "",
        f"Started {results['started']} · {s['scenarios']} scenarios · "
        f"model {results['model'] or '(none: --no-llm)'} · runs {results['runs']} · {results['seconds']} s",
        "",
        f"**Tool recall {s['tool_recall']:.2f}** (the fixed tool sequence surfaces every incident's "
        f"root-cause entity, start and an affected trace) · **baseline {s['baseline_score']:.2f}** "
        f"(no-LLM policy, {s['baseline_false_positives']} false positives)"
        + (
            f" · **agent {s['agent_score']:.2f}** ({s['agent_false_positives']} false positives, "
            f"{s['tool_calls']} tool calls, {s['tool_errors']} tool errors, {s['tokens']} tokens, "
            f"{s['seconds']} s)"
            if "agent_score" in s
            else ""
        ),
        "",
        "| scenario | incidents (decoys) | spans | recall | baseline | agent mean | spread | FP | "
        "tool calls | tool errors | tokens | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sc in results["scenarios"]:
        answers = [q for r in sc["runs"] for q in r["questions"]]
        incidents = ", ".join(i["kind"] for i in sc["labels"]["incidents"]) or "none"
        decoys = ", ".join(d["kind"] for d in sc["labels"]["decoys"])
        if sc["labels"]["injections"]:
            decoys = ", ".join(filter(None, [decoys, "injection"]))
        runs = len(sc["runs"]) or 1
        lines.append(
            f"| {sc['name']} | {incidents}{f' ({decoys})' if decoys else ''} | {sc['spans']} | "
            f"{sc['tool_recall']['recall']:.0f} | {sc['baseline']['score']:.2f} | {_fmt(sc['score_mean'])} | "
            f"{_fmt(sc['score_spread'])} | {sum(q['false_positives'] for q in answers)} | "
            f"{sum(q['tool_calls'] for q in answers) / runs:.1f} | "
            f"{sum(q['tool_errors'] for q in answers)} | "
            f"{sum(q['tokens'] for q in answers) // runs} | {sum(q['seconds'] for q in answers) / runs:.1f} |"
        )
    lines += [
        "",
        "Per run: FP = false positives summed over runs; tool calls, tokens and seconds are per run.",
        "",
    ]
    missed = [
        (sc["name"], inc)
        for sc in results["scenarios"]
        for inc in sc["tool_recall"]["incidents"]
        if not (inc["entity"] and inc["start"] and inc["trace"])
    ]
    if missed:
        lines += ["## Not surfaced by the tools", ""]
        lines += [f"- {name}: {inc}" for name, inc in missed]
        lines.append("")
    notes = [
        (sc["name"], r["run"], q["question"], note)
        for sc in results["scenarios"]
        for r in sc["runs"]
        for q in r["questions"]
        for note in q["notes"]
    ]
    if notes:
        lines += ["## Scoring notes", ""]
        lines += [f"- {name} run {run} `{qid}`: {note}" for name, run, qid, note in notes]
        lines.append("")
    return "\n".join(lines)
