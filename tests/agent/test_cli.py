"""`python -m trace_agent` as a process (exit codes, --json, status lines) and the interactive session driven
through prompt_toolkit's pipe input."""

from __future__ import annotations

import io
import subprocess
import sys
import time

import orjson
import pytest
from click_common.config import EXIT_CONFIG
from prompt_toolkit import PromptSession
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console
from trace_agent.app import open_session
from trace_agent.cli import run
from trace_agent.repl import Repl
from trace_agent.settings import Settings

from tests.agent.fake_anthropic import Fail, Turn, text, tool_use
from tests.support.spans import Span, insert, minutes_ago

MISSING_KEY = (
    "ANTHROPIC_API_KEY is not set: put it in .env or the environment (export ANTHROPIC_API_KEY=sk-ant-…) "
    "and run again."
)


def run_agent(args: list[str], env: dict[str, str], cwd, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trace_agent", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def agent_env(stack, fake_api, tmp_path):
    fake_api.play()
    env = stack.env(
        AGENT_CLICKHOUSE_USER="agent",
        ANTHROPIC_API_KEY="test-key",
        ANTHROPIC_BASE_URL=fake_api.url,
        AGENT_MODEL="claude-test",
        AGENT_API_MAX_RETRIES="1",
        AGENT_HISTORY_FILE=str(tmp_path / "history"),
        COLUMNS="160",
    )
    return env


@pytest.fixture
def failed_checkout(stack) -> Span:
    span = Span("ab" * 16, "cd" * 8, "checkout-service", "POST /checkout", minutes_ago(4), 750_000_000,
                status="Error", status_message="payment declined")  # fmt: skip
    client = stack.client()
    insert(client, [span])
    client.close()
    return span


def test_missing_api_key_exits_with_the_config_code_before_anything_else(tmp_path, capsys):
    env = {"PATH": "/usr/bin:/bin", "CLICKHOUSE_PORT": "1", "HOME": str(tmp_path)}
    started = time.monotonic()
    done = run_agent(["ask", "what services have the most errors?"], env, tmp_path)
    assert done.returncode == EXIT_CONFIG
    assert done.stderr == "trace_agent: " + MISSING_KEY + "\n"
    assert time.monotonic() - started < 20  # no ClickHouse connection attempts before the check
    # the interactive session too (in process: nothing but the settings is touched)
    assert run([], Settings(_env_file=None, anthropic_api_key="", clickhouse_port=1)) == EXIT_CONFIG
    assert MISSING_KEY in capsys.readouterr().err


def test_ask_json_prints_answer_and_tool_calls(agent_env, fake_api, failed_checkout, tmp_path):
    fake_api.play(
        Turn([tool_use("find_slow_spans", {"span_name": "checkout"})], stop_reason="tool_use"),
        Turn([text(f"The slowest checkout span took 750 ms (trace {failed_checkout.trace_id}).")]),
    )
    done = run_agent(["ask", "find slow checkout spans in the last hour", "--json"], agent_env, tmp_path)
    assert done.returncode == 0, done.stderr
    out = orjson.loads(done.stdout)
    assert out["answer"] == f"The slowest checkout span took 750 ms (trace {failed_checkout.trace_id})."
    assert out["stop_reason"] == "end_turn" and out["model"] == "claude-test"
    assert out["tool_calls"] == [
        {
            "name": "find_slow_spans",
            "input": {"span_name": "checkout"},
            "rows": 1,
            "truncated": False,
            "elapsed_ms": out["tool_calls"][0]["elapsed_ms"],
            "error": None,
        }
    ]
    assert out["usage"]["requests"] == 2


def test_ask_streams_answer_with_status_lines(settings, fake_api, failed_checkout, capsys):
    fake_api.play(
        Turn([tool_use("error_summary", {})], stop_reason="tool_use"),
        Turn([text("**checkout-service** has 1 error: payment declined.")]),
    )
    assert run(["ask", "what services have the most errors?"], settings) == 0
    shown = capsys.readouterr().out
    assert "→ error_summary(window=1h) · 1 rows ·" in shown
    assert "checkout-service has 1 error: payment declined." in shown
    assert "1 tool call" in shown


def test_api_failure_is_one_line_and_exit_1(settings, fake_api, capsys):
    settings.api_max_retries = 1
    fake_api.play(Fail(429), Fail(429))
    assert run(["ask", "hello"], settings) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("trace_agent:")]
    assert lines == [
        "trace_agent: Anthropic API rate limited [429] (after 1 retries): Number of requests has exceeded "
        "your rate limit"
    ]


def test_refuses_a_user_that_can_write(settings, capsys):
    settings.clickhouse_user = "default"
    assert run(["ask", "hello"], settings) == EXIT_CONFIG
    assert "refusing to start: ClickHouse user 'default' can write" in capsys.readouterr().err


def test_interactive_session_commands(settings, fake_api, failed_checkout, tmp_path):
    settings.history_file = tmp_path / "history"
    session = open_session(settings)
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=False, color_system=None)
    fake_api.play(
        Turn([text("One failed checkout: payment declined.")]),
        Fail(401, "authentication_error", "invalid x-api-key", headers={}, retry=False),
    )
    lines = [
        "/help",
        "/window 15m",
        "/sql SELECT ServiceName, count() AS n FROM default.otel_traces GROUP BY ServiceName",
        "/sql DROP TABLE default.otel_traces",
        f"/trace {failed_checkout.trace_id}",
        "/model claude-other",
        "anything failing?",
        "and now?",
        "/cost",
        "/clear",
        "/nope",
        "/exit",
    ]
    with create_pipe_input() as pipe:
        pipe.send_text("".join(line + "\n" for line in lines))
        prompt = PromptSession(input=pipe, output=DummyOutput())
        code = Repl(session, console).run(prompt)
    session.close()
    shown = out.getvalue()
    assert code == 0
    assert "/sql <query>" in shown and "tools look at the last 15m" in shown
    assert "→ run_sql(" in shown and "checkout-service" in shown and "1 rows" in shown
    assert "error: query refused" in shown
    assert f"trace {failed_checkout.trace_id} · 1 spans" in shown and "payment declined" in shown
    assert "model: claude-other" in shown and fake_api.requests[0].body["model"] == "claude-other"
    assert "One failed checkout: payment declined." in shown
    assert (
        "✗ Anthropic API the API key was rejected [401]: invalid x-api-key" in shown
    )  # and the session goes on
    assert "tokens this session" in shown and "150" in shown
    assert "conversation cleared" in shown and session.agent.messages == []
    assert "unknown command /nope" in shown
