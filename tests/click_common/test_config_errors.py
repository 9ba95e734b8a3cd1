"""A missing or unusable setting: every service says so in one line naming the variable and where to set it,
exits with EXIT_CONFIG (never a traceback), and `just local`'s supervisor does not restart it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click_common.config import EXIT_CONFIG, WHERE, ConfigError, env_name, load_settings
from local_stack.launch import free_port
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO = Path(__file__).resolve().parents[2]


class Nested(BaseModel):
    probability: float = Field(0.1, ge=0, le=1)


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXAMPLE_", env_nested_delimiter="__")
    port: int = Field(8123, validation_alias="CLICKHOUSE_PORT")
    workers: int = 2
    payment: Nested = Nested()


def test_the_variable_is_named_as_the_user_sets_it(monkeypatch):
    assert env_name(Example, ("port",)) == "CLICKHOUSE_PORT"
    assert env_name(Example, ("workers",)) == "EXAMPLE_WORKERS"
    assert env_name(Example, ("payment", "probability")) == "EXAMPLE_PAYMENT__PROBABILITY"
    monkeypatch.setenv("EXAMPLE_PAYMENT__PROBABILITY", "2")
    with pytest.raises(ConfigError) as caught:
        load_settings(Example)
    assert caught.value.variable == "EXAMPLE_PAYMENT__PROBABILITY"
    assert caught.value.line("svc") == (
        "svc: configuration error: EXAMPLE_PAYMENT__PROBABILITY is not usable: "
        f"Input should be less than or equal to 1 (got '2'); {WHERE}"
    )


def _stripped_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No project variable, no ~/.aws, no .env (the process runs in an empty folder)."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **extra}


@pytest.mark.parametrize(
    ("module", "variable", "value"),
    [
        ("s3_loader", "CLICKHOUSE_PORT", "eighty"),
        ("enricher", "ENRICHER_BATCH_SIZE", "many"),
        ("snkrs_generator", "GENERATOR_TIME_SCALE", "fast"),
        ("trace_agent", "CLICKHOUSE_PORT", "eighty"),
        ("trace_agent.mcp", "AGENT_MCP_PORT", "eighty"),
        ("local_stack", "LOCAL_STACK_S3_PORT", "nine"),
        ("enricher.status", "CLICKHOUSE_PORT", "eighty"),
    ],
)
def test_an_unusable_setting_is_one_line_and_the_config_exit_code(tmp_path, module, variable, value):
    env = _stripped_env(tmp_path, **{variable: value, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"})
    done = subprocess.run(
        [sys.executable, "-m", module], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == EXIT_CONFIG, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"{module}: configuration error: {variable} is not usable: ")
    assert f"(got {value!r}); {WHERE}" in lines[0]


def test_the_loader_without_s3_credentials_names_the_variable(tmp_path):
    for command in ([], ["--once"], ["status"]):
        done = subprocess.run(
            [sys.executable, "-m", "s3_loader", *command],
            env=_stripped_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == EXIT_CONFIG, done.stderr
        assert done.stderr.splitlines() == [
            "s3_loader: configuration error: AWS_ACCESS_KEY_ID is not set, and boto3 found no other "
            f"credentials (profile, instance role); {WHERE}"
        ]
    half = _stripped_env(tmp_path, AWS_ACCESS_KEY_ID="s3-loader")
    done = subprocess.run([sys.executable, "-m", "s3_loader"], env=half, cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == EXIT_CONFIG and "AWS_SECRET_ACCESS_KEY is not set" in done.stderr


def test_loader_once_gives_up_on_a_dead_clickhouse_after_the_configured_wait(tmp_path):
    unused_port = free_port()
    env = _stripped_env(
        tmp_path, AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s", CLICKHOUSE_PORT=str(unused_port),
        LOADER_ONCE_GIVE_UP_SECONDS="3", LOADER_MAX_OUTAGE_BACKOFF="1",
    )  # fmt: skip
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "s3_loader", "--once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert time.monotonic() - started < 60
    assert "Traceback" not in done.stderr
    last = done.stderr.splitlines()[-1]
    assert (
        f"ClickHouse at default@localhost:{unused_port} unavailable for 3 s" in last and "giving up" in last
    )


def test_the_supervisor_does_not_restart_a_process_that_failed_for_configuration(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import sys\nopen(sys.argv[1], 'a').write('started\\n')\n"
        "print('svc: configuration error: CLICKHOUSE_PORT is not usable', file=sys.stderr)\n"
        f"sys.exit({EXIT_CONFIG})\n"
    )
    starts = tmp_path / "starts"
    procfile = tmp_path / "Procfile"
    stack = "python -c 'print(\"local-stack ready\", flush=True); import time; time.sleep(600)'"
    procfile.write_text(f"stack: {stack}\nbad: python {bad} {starts}\n")
    sup = subprocess.Popen(
        [sys.executable, "-m", "local_stack.supervisor", "--procfile", str(procfile)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    assert sup.stdout is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines.append(sup.stdout.readline().rstrip())
        if "not restarting" in lines[-1]:
            break
    time.sleep(3)  # a restart would come after 1 s
    sup.send_signal(2)
    rest, _ = sup.communicate(timeout=60)
    text = "\n".join(lines) + rest
    assert sup.returncode == 0, text
    assert "bad   | svc: configuration error: CLICKHOUSE_PORT is not usable" in text
    assert (
        f"bad   | exited with {EXIT_CONFIG}: a configuration error (the line above); not restarting" in text
    )
    assert starts.read_text() == "started\n"


@pytest.mark.parametrize("module", ["s3_loader", "enricher"])
def test_a_refused_clickhouse_login_is_a_configuration_error_not_an_outage(local_stack, tmp_path, module):
    env = local_stack.env(CLICKHOUSE_USER="nobody", ENRICHER_ONCE_GIVE_UP_SECONDS="5")
    done = subprocess.run([sys.executable, "-m", module, "--once"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == EXIT_CONFIG, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"{module}: configuration error: CLICKHOUSE_PASSWORD (or CLICKHOUSE_USER='nobody') is refused by "
        f"ClickHouse at nobody@127.0.0.1:{local_stack.clickhouse_port}; {WHERE}"
    )
