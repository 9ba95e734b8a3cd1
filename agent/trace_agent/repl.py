"""The interactive session: prompt_toolkit history, slash commands, answers streamed with rich."""

from __future__ import annotations

from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.history import FileHistory, InMemoryHistory
from rich.console import Console
from rich.text import Text

from .app import Session
from .loop import AgentAPIError
from .timewindow import WindowError, format_duration, parse_duration
from .tools import execute
from .ui import RichEvents, cost_table, render_result

HELP = """\
Ask a question about the traces, e.g. "what services have the most errors?". Commands:
  /help              this help
  /sql <query>       run one read-only query directly (no model)
  /trace <id>        draw one trace as a tree (no model)
  /window <15m|1h|…> the tools' default time window (now {window})
  /model [name]      show or change the Claude model (now {model})
  /cost              tokens used this session
  /clear             forget the conversation
  /exit              leave (Ctrl-D works too)"""


class Repl:
    def __init__(self, session: Session, console: Console) -> None:
        self.session = session
        self.console = console

    @property
    def agent(self):
        return self.session.agent

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        name = name.lower()
        ctx = self.session.ctx
        if name in ("/exit", "/quit", "/q"):
            return False
        if name == "/help":
            self.console.print(HELP.format(window=ctx.window, model=self.agent.model), highlight=False)
        elif name == "/sql":
            if not arg:
                self.console.print("usage: /sql SELECT …", style="yellow")
            else:
                render_result(self.console, execute(ctx, "run_sql", {"sql": arg}), ctx.window)
        elif name == "/trace":
            if not arg:
                self.console.print("usage: /trace <trace id>", style="yellow")
            else:
                render_result(self.console, execute(ctx, "get_trace_tree", {"trace_id": arg}), ctx.window)
        elif name == "/window":
            if arg:
                try:
                    ctx.window = format_duration(parse_duration(arg))
                except WindowError as exc:
                    self.console.print(str(exc), style="red")
                    return True
            self.console.print(f"tools look at the last {ctx.window} unless asked otherwise")
        elif name == "/model":
            if arg:
                self.agent.model = arg
            self.console.print(f"model: {self.agent.model}")
        elif name == "/cost":
            self.console.print(cost_table(self.agent.session_usage, self.agent.model))
        elif name == "/clear":
            self.agent.clear()
            self.console.print("conversation cleared")
        else:
            self.console.print(f"unknown command {name}; /help lists them", style="yellow")
        return True

    def ask(self, question: str) -> None:
        events = RichEvents(self.console, lambda: self.session.ctx.window)
        self.agent.events = events
        answer = None
        try:
            answer = self.agent.ask(question)
        except AgentAPIError as exc:
            events.finish(None)
            self.console.print(Text(f"✗ {exc}", style="red"))
            return
        except KeyboardInterrupt:
            events.finish(None)
            self.console.print(Text("interrupted", style="yellow"))
            return
        events.finish(answer)

    def run(self, prompt_session: PromptSession | None = None) -> int:
        prompt_session = prompt_session or PromptSession(
            history=history(self.session.settings.history_file), auto_suggest=AutoSuggestFromHistory()
        )
        where = f"{self.session.settings.describe()} · window {self.session.ctx.window}"
        self.console.print(
            Text.assemble(
                ("click-ai trace agent", "bold"), f" · {self.agent.model} · {where} · /help for commands"
            )
        )
        for warning in self.session.warnings:
            self.console.print(Text(f"! {warning}", style="yellow"))
        while True:
            try:
                line = prompt_session.prompt("› ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if not line.strip():
                continue
            if line.lstrip().startswith("/"):
                if not self.command(line):
                    return 0
                continue
            self.ask(line.strip())


def history(path: Path) -> FileHistory | InMemoryHistory:
    path = path.expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)
    except OSError:
        return InMemoryHistory()
    return FileHistory(str(path))
