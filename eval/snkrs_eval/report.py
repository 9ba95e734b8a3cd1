"""results.json → a Markdown report."""

from __future__ import annotations

from typing import Any


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _figures(label: str, s: dict[str, Any]) -> str:
    return (
        f"{label}: **tool recall {s['tool_recall']:.2f}** · **baseline {s['baseline_score']:.2f}** "
        f"({s['baseline_false_positives']} false positives)"
        + (
            f" · **agent {s['agent_score']:.2f}** ({s['agent_false_positives']} false positives, "
            f"{s['tool_calls']} tool calls, {s['tool_errors']} tool errors, {s['tokens']} tokens, "
            f"{s['seconds']} s)"
            if "agent_score" in s
            else ""
        )
        + f" — {s['scenarios']} scenarios"
    )


def markdown(results: dict[str, Any]) -> str:
    s = results["summary"]
    tiers = s.get("tiers", {})
    lines = [
        "# click-ai eval report",
        "",
        f"Started {results['started']} · {s['scenarios']} scenarios · "
        f"model {results['model'] or '(none: --no-llm)'} · runs {results['runs']} · {results['seconds']} s",
        "",
        "Tool recall: the fixed tool sequence surfaces every incident's root-cause entity, start and an "
        "affected trace. Baseline: the no-LLM policy (a script over the same tools), scored like a model.",
        "",
        "- " + _figures("All", s),
    ]
    lines += ["- " + _figures(f"{tier.capitalize()} tier", figures) for tier, figures in tiers.items()]
    lines.append("")
    for tier in ("easy", "hard"):
        chosen = [sc for sc in results["scenarios"] if sc.get("tier", "easy") == tier]
        if chosen:
            lines += [f"## {tier.capitalize()} tier", "", *_table(chosen)]
    hard = [sc for sc in results["scenarios"] if sc.get("tier") == "hard"]
    if hard:
        lines += ["## What the baseline answered on the hard tier", ""]
        lines += ["| scenario | truth: origin (mechanism) | baseline named (mechanism) | score | why |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for sc in hard:
            truth = "; ".join(
                f"{i['service']}{' ' + i['entity'] if i.get('entity') else ''} ({i.get('mechanism') or '–'})"
                for i in sc["labels"]["incidents"]
            )
            base = sc["baseline"]
            named = (
                "; ".join(
                    f"{c.get('service')}{' ' + c['entity'] if c.get('entity') else ''}"
                    for c in base.get("root_cause", [])
                )
                or "no incident"
            )
            mechanism = ", ".join(base.get("mechanism") or []) or "–"
            why = "; ".join(base.get("notes") or []) or "–"
            lines.append(f"| {sc['name']} | {truth} | {named} ({mechanism}) | {base['score']:.2f} | {why} |")
        lines.append("")
    return "\n".join(lines + _tail(results))


def _table(scenarios: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| scenario | incidents (decoys) | spans | recall | baseline | agent mean | spread | FP | "
        "tool calls | tool errors | tokens | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for sc in scenarios:
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
    return lines


def _tail(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []
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
    return lines
