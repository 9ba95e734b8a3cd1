"""`python -m snkrs_eval [--scenarios a,b | --tier easy|hard] [--runs N] [--model M] [--no-llm]`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .report import markdown
from .runner import Options, run
from .scenarios import SCENARIOS, select


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="just eval", description=__doc__)
    parser.add_argument("--scenarios", help="comma-separated: " + ", ".join(s.name for s in SCENARIOS))
    parser.add_argument(
        "--tier", choices=("easy", "hard", "all"), default="all", help="without --scenarios: which tier (all)"
    )
    parser.add_argument("--runs", type=int, default=3, help="times each question is asked (default 3)")
    parser.add_argument("--model", help="AGENT_MODEL for this eval")
    parser.add_argument(
        "--no-llm", action="store_true", help="only the no-key figures: tool recall, baseline"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("eval-results"), help="results.json and report.md go here"
    )
    parser.add_argument("--keep", action="store_true", help="keep each scenario's folder (logs, labels)")
    return parser.parse_args(argv)


def result_line(summary: dict) -> str:
    """The figures over every scenario, the hard tier's apart; ratio = the hard tier's tool recall (the
    whole run's when it has no hard scenario)."""
    line = (
        f"RESULT tool_recall={summary['tool_recall']:.2f} baseline_score={summary['baseline_score']:.2f} "
        f"scenarios={summary['scenarios']}"
    )
    hard = summary.get("tiers", {}).get("hard")
    if hard:
        line += f" hard_baseline={hard['baseline_score']:.2f} hard_tool_recall={hard['tool_recall']:.2f}"
    if "agent_score" in summary:
        line += (
            f" agent_score={summary['agent_score']:.2f} false_positives={summary['agent_false_positives']}"
        )
        if hard and "agent_score" in hard:
            line += f" hard_agent_score={hard['agent_score']:.2f}"
    return line + f" ratio={(hard or summary)['tool_recall']:.2f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.runs < 1:
        sys.exit("eval: --runs must be at least 1")
    options = Options(
        select(args.scenarios, args.tier), args.runs, args.model, args.no_llm, args.out, args.keep
    )
    if not args.no_llm:
        from trace_agent.settings import Settings

        settings = Settings()
        if not settings.anthropic_api_key and not settings.anthropic_base_url:
            sys.exit(
                "eval: ANTHROPIC_API_KEY is not set (or run `just eval --no-llm` for the no-key figures)"
            )
    results = run(options)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.out / "report.md").write_text(markdown(results))
    print(markdown(results))
    print(f"results: {args.out / 'results.json'} · report: {args.out / 'report.md'}")
    print(result_line(results["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
