"""Command line: `python -m trace_agent` (interactive) or `python -m trace_agent [ask] "…" [--json]`."""

from __future__ import annotations

import argparse
import logging
import sys
import time

import orjson
from click_common.config import load_settings

from .settings import Settings
from .startup import EXIT_FAILURE, StartupError, require_api_key


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="trace_agent", description="Ask Claude about the traces in ClickHouse (read-only)."
    )
    sub = parser.add_subparsers(dest="command")
    ask = sub.add_parser("ask", help="answer one question and exit")
    ask.add_argument("question", nargs="+", help="the question")
    ask.add_argument("--json", action="store_true", help="print the answer and every tool call as JSON")
    sub.add_parser("chat", help="the interactive session (the default)")
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("ask", "chat") and not argv[0].startswith("-"):
        argv = ["ask", *argv]  # a bare question: `python -m trace_agent "…"`, `docker compose run agent "…"`
    return parser.parse_args(argv)


def setup_logging() -> None:
    """Our own one-line messages only: urllib3's and clickhouse-connect's retries are reported by ours."""
    logging.basicConfig(handlers=[logging.NullHandler()], force=True)
    ours = logging.getLogger("trace_agent")
    if not ours.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("trace_agent: %(message)s"))
        ours.addHandler(handler)
        ours.setLevel(logging.INFO)
        ours.propagate = False


def run(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    settings = settings or load_settings(Settings)
    as_json = args.command == "ask" and args.json
    try:
        require_api_key(settings)  # before anything else: no imports of the SDK, no ClickHouse connection
    except StartupError as exc:
        return _startup_failed(exc, as_json)

    from rich.console import Console

    from .app import open_session
    from .repl import Repl

    err = Console(stderr=True)
    console = Console(stderr=as_json)
    try:
        session = open_session(settings)
    except StartupError as exc:
        return _startup_failed(exc, as_json)
    try:
        if args.command != "ask":
            return Repl(session, console).run()
        return ask_once(session, " ".join(args.question), as_json, console, err)
    finally:
        session.close()


def _startup_failed(exc: StartupError, as_json: bool) -> int:
    if as_json:
        sys.stdout.write(orjson.dumps({"error": exc.message}).decode() + "\n")
    sys.stderr.write(f"trace_agent: {exc.message}\n")
    return int(exc.code or EXIT_FAILURE)


def ask_once(session, question: str, as_json: bool, console, err) -> int:
    from .loop import AgentAPIError, SilentEvents
    from .ui import RichEvents

    events = SilentEvents() if as_json else RichEvents(console, lambda: session.ctx.window)
    session.agent.events = events
    started = time.perf_counter()
    try:
        answer = session.agent.ask(question)
    except AgentAPIError as exc:
        if as_json:
            sys.stdout.write(orjson.dumps({"question": question, "error": str(exc)}).decode() + "\n")
        else:
            events.finish(None)
        err.print(f"trace_agent: {exc}", style="red", highlight=False, soft_wrap=True)
        return EXIT_FAILURE
    if as_json:
        payload = answer.as_json()
        payload["elapsed_s"] = round(time.perf_counter() - started, 2)
        sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        events.finish(answer)
    return 0
