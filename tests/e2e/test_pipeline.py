"""The whole pipeline as separate processes on the local stack: generator → OTLP receiver → S3 + default
tables → loader → otel.otel_traces → enricher → otel.otel_traces_enriched, and the agent on top. Nothing may
be lost or duplicated, not even when the loader and the enricher are SIGKILLed mid-run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from local_stack.launch import Child, exported_spans
from local_stack.paths import REPO_ROOT

from tests.agent.fake_anthropic import FakeAnthropic, Request, Turn, text, tool_use
from tests.support.failure_modes import FAILURE_MODES
from tests.support.generator_env import COMPRESSED_DROP
from tests.support.processes import children, wait_gone

pytestmark = pytest.mark.slow

SERVICE_ENV = {
    "LOADER_POLL_INTERVAL": "0.5",
    "LOADER_BATCH_FILES": "4",
    "ENRICHER_POLL_SECONDS": "0.5",
    "ENRICHER_READ_ROWS": "1000",
}


def kill(service: Child) -> None:
    """SIGKILL, and its own processes (the loader's parse workers) end with it."""
    assert service.process is not None
    spawned = children(service.process.pid)
    service.kill()
    assert wait_gone(spawned, 10) == [], f"{service.name}'s processes outlived it"


def exported(generator: Child) -> int:
    """The generator's own count of spans it exported (its last line), after checking it dropped none."""
    last = generator.output().splitlines()[-1]
    count = exported_spans(last)
    assert count is not None, last
    return count


def s3_span_count(stack) -> int:
    """Spans in every traces object the receiver wrote, counted from the OTLP JSON itself."""
    s3 = stack.s3()
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/"):
        for obj in page.get("Contents", []):
            if "/traces_" not in obj["Key"]:
                continue
            doc = orjson.loads(s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read())
            total += sum(
                len(ss.get("spans", [])) for rs in doc["resourceSpans"] for ss in rs.get("scopeSpans", [])
            )
    return total


def _top_errors_answer(request: Request) -> Turn:
    """The fake model's second turn: it reads the list_services result the agent sent and names the service
    with the most errors, as a model would (so the answer comes from the data, through the agent's tool)."""
    (result,) = request.tool_results()
    content = result["content"] if isinstance(result["content"], str) else result["content"][0]["text"]
    payload = json.loads(re.search(r"<tool_data[^>]*>\n(.*)\n</tool_data>", content, re.S).group(1))
    columns = payload["columns"]
    name_col = next(i for i, c in enumerate(columns) if "service" in c.lower())
    errors_col = columns.index("errors")
    top = max(payload["rows"], key=lambda row: row[errors_col])
    return Turn([text(f"{top[name_col]} has the most errors: {top[errors_col]} error spans in the window.")])


class DataDrivenFake(FakeAnthropic):
    """The agent engineer's fake Messages API, where a scripted turn may be a function of the request."""

    async def _messages(self, request):
        body = await request.json()
        if self.script and callable(self.script[0]):
            self.script[0] = self.script[0](Request(dict(request.headers), body))
        return await super()._messages(request)


def ask_agent(stack, question: str) -> dict[str, Any]:
    fake = DataDrivenFake().start()
    try:
        fake.play(
            Turn([tool_use("list_services", {"sort_by": "errors", "window": "1h"})], stop_reason="tool_use"),
            _top_errors_answer,
        )
        env = stack.env(
            ANTHROPIC_API_KEY="test-key", ANTHROPIC_BASE_URL=fake.url, AGENT_MODEL="claude-test",
            AGENT_API_MAX_RETRIES="1", CLICKHOUSE_USER="agent", AGENT_CLICKHOUSE_USER="agent",
            # the counts below are the generator's spans; the agent's own are tested in tests/agent
            AGENT_TELEMETRY="false",
        )  # fmt: skip
        result = subprocess.run(
            [sys.executable, "-m", "trace_agent", "ask", question, "--json"],
            env=env, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)
    finally:
        fake.stop()


def test_the_pipeline_loses_and_duplicates_nothing(stack, tmp_path: Path) -> None:
    started = time.monotonic()
    env = {**SERVICE_ENV, **COMPRESSED_DROP}
    loader = stack.service("s3_loader", env=env, log_dir=tmp_path)
    enricher = stack.service("enricher", env=env, log_dir=tmp_path)
    services = [loader, enricher]
    client = stack.client()
    try:
        # --- one compressed drop cycle through the OTLP receiver --------------------------------------
        generator = stack.service("snkrs_generator", "--once", "--seed", "11", env=env, log_dir=tmp_path)
        code = generator.wait(timeout=180)
        print(f"generator cycle 1 done at {time.monotonic() - started:.1f} s")
        assert code == 0, generator.tail(30)
        first = exported(generator)

        counts = stack.wait_until(
            "the pipeline to catch up", lambda: stack.caught_up(client, first), 150, services
        )
        spans = counts[0]
        assert spans == first  # the receiver's table holds every span the SDK exported, once
        print(f"caught up with {spans} spans at {time.monotonic() - started:.1f} s")
        assert spans > 3000
        assert s3_span_count(stack) == spans
        failed = client.command("SELECT count() FROM otel.s3_loader_files FINAL WHERE status = 'failed'")
        assert failed == 0

        # --- every failure mode is findable with SQL, in the loaded copy and the logs ---------------------
        for phrase, exception, service in FAILURE_MODES:
            params = {"phrase": phrase, "exception": exception, "service": service}
            error_spans = client.command(
                "SELECT count() FROM otel.otel_traces WHERE StatusCode = 'Error' "
                "AND position(StatusMessage, {phrase:String}) > 0 "
                "AND SpanAttributes['error.type'] != ''",
                parameters=params,
            )
            assert error_spans > 0, f"no error span for {phrase!r}"
            error_logs = client.command(
                "SELECT count() FROM default.otel_logs WHERE ServiceName = {service:String} "
                "AND endsWith(LogAttributes['exception.type'], {exception:String}) "
                "AND TraceId IN (SELECT TraceId FROM otel.otel_traces WHERE StatusCode = 'Error' "
                "AND position(StatusMessage, {phrase:String}) > 0)",
                parameters=params,
            )
            assert error_logs > 0, f"no exception log record for {exception} in an error span's trace"

        # --- the agent names the service the data says ----------------------------------------------------
        errors_by_service = dict(
            client.query(
                "SELECT ServiceName, countIf(StatusCode = 'Error') FROM default.otel_traces GROUP BY ALL"
            ).result_rows
        )
        answer = ask_agent(stack, "what services have the most errors?")
        print(f"agent answered at {time.monotonic() - started:.1f} s: {answer['answer']}")
        named = re.match(r"(\S+) has the most errors", answer["answer"])
        assert named, answer
        assert errors_by_service[named[1]] == max(errors_by_service.values()) > 0
        assert [call["name"] for call in answer["tool_calls"]] == ["list_services"]

        # --- SIGKILL the loader and the enricher mid-run, restart them, nothing lost or doubled ----------
        before = spans
        generator = stack.service("snkrs_generator", "--once", "--seed", "12", env=env, log_dir=tmp_path)
        loaded_more = lambda: stack.counts(client)[1] > before  # noqa: E731
        stack.wait_until("the loader to load part of the second cycle", loaded_more, 120, services)
        kill(loader)
        enriched_more = lambda: stack.counts(client)[2] > before  # noqa: E731
        stack.wait_until("the enricher to enrich part of the second cycle", enriched_more, 120, [enricher])
        kill(enricher)
        loader.start()
        enricher.start()
        print(f"killed and restarted the loader and the enricher at {time.monotonic() - started:.1f} s")
        assert generator.wait(timeout=180) == 0, generator.tail(30)
        total = before + exported(generator)

        counts = stack.wait_until(
            "everything to catch up after the kills", lambda: stack.caught_up(client, total), 180, services
        )
        assert counts[0] == total
        print(f"caught up again with {counts[0]} spans at {time.monotonic() - started:.1f} s")
        assert counts[0] > before
        assert s3_span_count(stack) == counts[0]
    finally:
        client.close()
        stack.stop_services()
