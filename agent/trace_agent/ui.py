"""Terminal output with rich: the answer streamed as markdown, one status line per tool call, tables and
trace trees."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .loop import Answer, Usage
from .results import ToolResult
from .trace_tree import SpanNode, node_line

MAX_TABLE_ROWS = 15
_WINDOWED = {"list_services", "find_slow_spans", "error_summary", "semantic_search", "compare_windows"}


def call_label(name: str, tool_input: dict[str, Any], default_window: str) -> str:
    """`error_summary(window=1h, service="checkout")` — the default window shown when none was given."""
    args = dict(tool_input)
    if name in _WINDOWED and not any(args.get(k) for k in ("window", "start", "end")):
        args = {"window": default_window, **args}
    parts = []
    for key, value in args.items():
        text = value if isinstance(value, int | float) or key == "window" else f'"{value}"'
        text = str(text)
        parts.append(f"{key}={text if len(text) <= 60 else text[:57] + '…'}")
    return f"{name}({', '.join(parts)})"


def status_line(result: ToolResult, default_window: str) -> Text:
    line = Text("→ ", style="cyan")
    line.append(call_label(result.name, result.input, default_window), style="bold")
    if result.error:
        line.append(f" · error: {result.error}", style="red")
    else:
        count = result.extra.get("spans", result.row_count) if result.kind == "tree" else result.row_count
        noun = "spans" if result.kind == "tree" else "rows"
        line.append(f" · {count} {noun}")
        if result.truncated:
            line.append(" (truncated)", style="yellow")
    line.append(f" · {result.elapsed_ms:.0f} ms", style="dim")
    return line


def result_table(result: ToolResult) -> Table | None:
    if not result.columns or not result.rows:
        return None
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None)
    for column in result.columns:
        numeric = all(isinstance(r[result.columns.index(column)], int | float) for r in result.rows[:5])
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in result.rows[:MAX_TABLE_ROWS]:
        table.add_row(*[_cell(v) for v in row])
    if len(result.rows) > MAX_TABLE_ROWS:
        table.caption = f"… {len(result.rows) - MAX_TABLE_ROWS} more rows sent to the model"
    return table


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def result_tree(result: ToolResult) -> Tree | None:
    if not result.roots:
        return None
    title = f"trace {result.extra.get('trace_id')} · {result.extra.get('spans')} spans"
    if result.truncated:
        title += f" (first {result.extra.get('shown')} shown)"
    tree = Tree(Text(title, style="bold"))

    def add(parent: Tree, node: SpanNode) -> None:
        style = "red" if node.status == "Error" else ""
        branch = parent.add(Text(node_line(node), style=style))
        for child in node.children:
            add(branch, child)

    for root in result.roots:
        add(tree, root)
    return tree


def render_result(console: Console, result: ToolResult, default_window: str) -> None:
    console.print(status_line(result, default_window))
    if result.error:
        return
    body = result_tree(result) if result.kind == "tree" else result_table(result)
    if body is not None:
        console.print(body)
    for change in result.extra.get("biggest_changes", []):
        console.print(Text(f"  • {change}", style="dim"))
    if note := result.extra.get("note"):
        console.print(Text(f"  {note}", style="yellow"))


def usage_line(answer: Answer, seconds: float) -> Text:
    calls = len(answer.tool_calls)
    text = f"{calls} tool call{'s' if calls != 1 else ''} · {answer.usage.total:,} tokens · {seconds:.1f} s"
    return Text(text, style="dim")


def cost_table(session: Usage, model: str) -> Table:
    table = Table(title=f"tokens this session ({model})", show_edge=False, box=None)
    table.add_column("kind")
    table.add_column("tokens", justify="right")
    for label, value in (
        ("input", session.input_tokens),
        ("output", session.output_tokens),
        ("cache write", session.cache_creation_input_tokens),
        ("cache read", session.cache_read_input_tokens),
        ("total", session.total),
    ):
        table.add_row(label, f"{value:,}")
    table.caption = f"{session.requests} API requests"
    return table


class RichEvents:
    """Streams the answer as markdown (re-rendered as it grows) and prints each tool call as it finishes."""

    def __init__(self, console: Console, window: Any) -> None:
        self.console = console
        self._window = window  # a callable giving the session window, so /window changes show up
        self._live: Live | None = None
        self._text = ""
        self._status = None
        self.started = time.perf_counter()

    def on_text(self, delta: str) -> None:
        self._stop_status()
        self._text += delta
        if not self.console.is_terminal:  # a pipe gets the finished markdown, not a redraw per delta
            return
        if self._live is None:
            self._live = Live(console=self.console, refresh_per_second=12, vertical_overflow="visible")
            self._live.start()
        self._live.update(Markdown(self._text))

    def _end_text(self) -> None:
        if self._live is not None:
            self._live.update(Markdown(self._text))
            self._live.stop()
            self._live = None
        elif self._text:
            self.console.print(Markdown(self._text))
        self._text = ""

    def _stop_status(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def on_tool_start(self, name: str, tool_input: dict[str, Any]) -> None:
        self._end_text()
        self._status = self.console.status(Text(f"running {call_label(name, tool_input, self._window())}…"))
        self._status.start()

    def on_tool_result(self, result: ToolResult) -> None:
        self._stop_status()
        render_result(self.console, result, self._window())

    def on_notice(self, message: str) -> None:
        self._end_text()
        self._stop_status()
        self.console.print(Text(f"! {message}", style="yellow"))

    def finish(self, answer: Answer | None) -> None:
        self._end_text()
        self._stop_status()
        if answer is not None:
            self.console.print(usage_line(answer, time.perf_counter() - self.started))
