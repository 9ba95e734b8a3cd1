"""A scenario's data in its own fresh local stack: the stack (chDB endpoint, S3 server, OTLP receiver) on free
ports, one compressed drop from the generator on the simulated clock, and the loader and the enricher run
until every exported span is loaded and enriched. The labels file is written in the scenario's work folder,
outside ClickHouse and the bucket."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scenarios import Scenario

log = logging.getLogger("snkrs_eval")
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


COUNTS_SQL = """
SELECT (SELECT count() FROM default.otel_traces), (SELECT count() FROM otel.otel_traces),
       (SELECT count() FROM otel.otel_traces_enriched FINAL), (SELECT count() FROM default.otel_logs)
"""


@dataclass
class Built:
    """A scenario's stack, ready to be asked about."""

    scenario: Scenario
    folder: Path
    host: str
    clickhouse_port: int
    labels: dict[str, Any]
    spans: int
    build_s: float
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def window(self) -> tuple[str, str]:
        """The drop from the start of PRE_DROP to the end of POST_DROP (ISO-8601 UTC, whole seconds)."""
        drop = self.labels["drops"][0]
        return drop["start"], drop["end"]

    @property
    def drop_id(self) -> str:
        return self.labels["drops"][0]["drop_id"]

    def client(self):
        import clickhouse_connect

        return clickhouse_connect.get_client(host=self.host, port=self.clickhouse_port, username="default")

    def trace_ids(self) -> set[str]:
        client = self.client()
        try:
            return {
                row[0] for row in client.query("SELECT DISTINCT TraceId FROM default.otel_traces").result_rows
            }
        finally:
            client.close()

    def stop(self) -> None:
        for proc in reversed(self.processes):
            stop_process(proc)
        self.processes.clear()


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class BuildError(RuntimeError):
    pass


def _spawn(args: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)


def _tail(path: Path, lines: int = 12) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- {path.name}\n" + "\n".join(text.splitlines()[-lines:])


def build(scenario: Scenario, folder: Path, timeout_s: float = 300.0) -> Built:
    """Start a fresh stack in `folder`, generate the scenario's drop, wait for loader and enricher."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    host, ch, s3 = "127.0.0.1", free_port(), free_port()
    grpc, http = free_port(), free_port()
    built = Built(scenario, folder, host, ch, {}, 0, 0.0)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GENERATOR_", "OTEL_", "LOADER_", "ENRICHER_"))
    }
    env.update(
        CLICKHOUSE_HOST=host, CLICKHOUSE_PORT=str(ch), CLICKHOUSE_USER="default", CLICKHOUSE_PASSWORD="",
        # the scenario's stack has no passwords, whatever .env says (its users file reads these)
        CLICKHOUSE_COLLECTOR_PASSWORD="", CLICKHOUSE_LOADER_PASSWORD="", CLICKHOUSE_ENRICHER_PASSWORD="",
        CLICKHOUSE_AGENT_PASSWORD="",
        S3_ENDPOINT_URL=f"http://{host}:{s3}", S3_BUCKET="otel-data", AWS_ACCESS_KEY_ID="eval",
        AWS_SECRET_ACCESS_KEY="eval", AWS_REGION="us-east-1",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://{host}:{http}", OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        PYTHONUNBUFFERED="1", LOADER_POLL_INTERVAL="0.5", LOADER_BATCH_FILES="4",
        ENRICHER_POLL_SECONDS="0.5", ENRICHER_READ_ROWS="2000",
    )  # fmt: skip
    try:
        stack = _spawn(
            [sys.executable, "-m", "local_stack", "--clickhouse-port", str(ch), "--s3-port", str(s3),
             "--data-dir", str(folder / "data"), "--otlp-grpc-port", str(grpc),
             "--otlp-http-port", str(http)],
            env, folder / "stack.log",
        )  # fmt: skip
        built.processes.append(stack)
        _wait_ready(host, ch, s3, http, stack, folder / "stack.log", 120)
        labels_path = folder / "labels.json"
        gen_env = {**env, **scenario.generator_env()}
        generator = subprocess.run(
            [sys.executable, "-m", "snkrs_generator", "--once", "--seed", str(scenario.seed),
             "--simulated-clock", "--incidents", scenario.plan, "--labels", str(labels_path)],
            env=gen_env, cwd=REPO, capture_output=True, text=True, timeout=timeout_s,
        )  # fmt: skip
        (folder / "generator.log").write_text(generator.stdout + generator.stderr)
        if generator.returncode != 0:
            raise BuildError(f"generator failed ({generator.returncode})\n{_tail(folder / 'generator.log')}")
        found = re.search(r"run finished: .* spans=(\d+) exported=(\d+) dropped=0 failed=0", generator.stderr)
        if not found or found[1] != found[2]:
            raise BuildError(f"generator lost spans\n{_tail(folder / 'generator.log')}")
        built.spans = int(found[2])
        labels = json.loads(labels_path.read_text())
        labels["drops"] = [_with_bounds(d, scenario) for d in labels["drops"]]
        built.labels = labels
        loader = _spawn([sys.executable, "-m", "s3_loader"], env, folder / "loader.log")
        built.processes.append(loader)
        enricher = _spawn([sys.executable, "-m", "enricher"], env, folder / "enricher.log")
        built.processes.append(enricher)
        _wait_caught_up(built, [loader, enricher], timeout_s)
        stop_process(enricher)
        stop_process(loader)
        built.processes = [stack]
    except BaseException:
        built.stop()
        raise
    built.build_s = time.monotonic() - started
    log.info("%s: %d spans built in %.1f s", scenario.name, built.spans, built.build_s)
    return built


def _with_bounds(drop: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """The whole drop's window: PRE_DROP before DROP_LIVE, POST_DROP after it (default phase lengths)."""
    import datetime as dt

    pre = float(scenario.generator_env().get("GENERATOR_PRE_DROP__DURATION_S", 60))
    post = float(scenario.generator_env().get("GENERATOR_POST_DROP__DURATION_S", 60))
    live_start = dt.datetime.fromisoformat(drop["live_start"].replace("Z", "+00:00"))
    live_end = dt.datetime.fromisoformat(drop["live_end"].replace("Z", "+00:00"))
    start = (live_start - dt.timedelta(seconds=pre)).replace(microsecond=0)
    end = (live_end + dt.timedelta(seconds=post + 1)).replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {**drop, "start": start.strftime(fmt), "end": end.strftime(fmt)}


def _wait_ready(
    host: str, ch: int, s3: int, http: int, proc: subprocess.Popen, log_path: Path, timeout: float
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BuildError(f"local stack exited\n{_tail(log_path)}")
        try:
            urllib.request.urlopen(f"http://{host}:{ch}/ping", timeout=1).read()
            urllib.request.urlopen(f"http://{host}:{s3}", timeout=1).read()
            socket.create_connection((host, http), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise BuildError("local stack did not come up in time")


def _wait_caught_up(built: Built, services: list[subprocess.Popen], timeout: float) -> None:
    client = built.client()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            direct, loaded, enriched, _logs = client.query(COUNTS_SQL).result_rows[0]
            if direct >= built.spans and direct == loaded == enriched:
                return
            for proc in services:
                if proc.poll() not in (None, 0):
                    raise BuildError(
                        f"{proc.args[2]} exited with {proc.returncode}\n"
                        f"{_tail(built.folder / 'loader.log')}\n{_tail(built.folder / 'enricher.log')}"
                    )
            time.sleep(0.5)
    finally:
        client.close()
    raise BuildError(f"loader/enricher did not catch up in {timeout:.0f} s (spans {built.spans})")
