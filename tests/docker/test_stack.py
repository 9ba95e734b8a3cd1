"""The Docker stack end to end under a real engine: what a user of `just up` does, and the failures only a
real run showed (acknowledged spans lost on a container recreation, duplicate ids after every restart,
`docker compose run --rm agent "…"` failing). The tests share one stack and run in file order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import anyio
import boto3
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from otlp_rows import trace_rows
from trace_agent.tools import TOOLS

from tests.agent.fake_anthropic import FakeAnthropic, Turn, text, tool_use
from tests.docker.conftest import PROJECT, span_count_line, wait_for
from tests.generator.conftest import generator_env
from tests.support.docker_stack import DockerStack
from tests.support.generator_env import COMPRESSED_DROP, FEW_SHOPPERS
from tests.support.stack import REPO

pytestmark = pytest.mark.slow

SPANS = "SELECT uniqExact(TraceId, SpanId) FROM {table}"


def direct_spans(stack: DockerStack) -> int:
    return int(stack.scalar(SPANS.format(table="default.otel_traces")))


def loaded(stack: DockerStack) -> tuple[int, int]:
    """otel.otel_traces: rows and distinct (TraceId, SpanId)."""
    rows, distinct = stack.row("SELECT count(), uniqExact(TraceId, SpanId) FROM otel.otel_traces")
    return int(rows), int(distinct)


def bucket_spans(stack: DockerStack) -> int:
    """Spans in the bucket's traces files, read with the loader's read-only keys."""
    env = stack.dotenv
    s3 = boto3.client(
        "s3", endpoint_url="http://localhost:9002", region_name=env.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=env["MINIO_LOADER_ACCESS_KEY"],
        aws_secret_access_key=env["MINIO_LOADER_SECRET_KEY"],
    )  # fmt: skip
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=env.get("S3_BUCKET", "otel-data")):
        for item in page.get("Contents", []):
            if item["Key"].rsplit("/", 1)[-1].startswith("traces_"):
                body = s3.get_object(Bucket=env.get("S3_BUCKET", "otel-data"), Key=item["Key"])["Body"].read()
                total += len(trace_rows(json.loads(body)))
    return total


def settled(stack: DockerStack) -> tuple[int, int, int, int]:
    """(distinct direct spans, loaded rows, spans in the bucket, enriched rows) once they stop changing, the
    loader has every file of the bucket (each once) and the enricher every distinct loaded span (each once: a
    file the collector uploaded twice holds spans the enricher embeds once)."""

    def counts() -> tuple[int, int, int, int, int]:
        rows, distinct = loaded(stack)
        return direct_spans(stack), rows, bucket_spans(stack), distinct, enriched(stack)

    def snapshot() -> tuple[int, int, int, int]:
        first = counts()
        time.sleep(3)
        second = counts()
        direct, rows, in_bucket, distinct, enriched_rows = second
        if first != second or rows != in_bucket or enriched_rows != distinct:  # the message shows the counts
            raise AssertionError(
                f"direct={direct} loaded={rows} in_bucket={in_bucket} distinct={distinct} "
                f"enriched={enriched_rows}"
            )
        return direct, rows, in_bucket, enriched_rows

    return wait_for("the pipeline to settle (loader and enricher caught up)", snapshot, timeout=240, every=1)


def enriched(stack: DockerStack) -> int:
    return int(stack.scalar("SELECT count() FROM otel.otel_traces_enriched"))


def host_generator(*args: str, extra: dict[str, str]) -> subprocess.Popen:
    """`python -m snkrs_generator --once` on the host, exporting through the stack's gateway on :4318."""
    env = generator_env(
        {
            **extra,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        }
    )
    return subprocess.Popen(
        [sys.executable, "-m", "snkrs_generator", "--once", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def finished(generator: subprocess.Popen, timeout: float = 300, lossless: bool = True) -> dict[str, int]:
    """The generator's counts. `lossless=False`: while the collector is down the SDK's retries may give up on
    spans (`failed`, exit 1); those were never acknowledged, so only `exported` is owed."""
    output, _ = generator.communicate(timeout=timeout)
    counts = span_count_line(output)
    assert generator.returncode == 0 or (not lossless and counts["failed"] > 0), output[-3000:]
    return counts


# ------------------------------------------------------------------------------------------------------------
def test_preflight_says_what_is_missing_in_one_line_when_the_daemon_is_down(tmp_path):
    done = subprocess.run(
        ["just", "preflight"], cwd=REPO, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"},
    )  # fmt: skip
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if not line.startswith("error: recipe")]  # just's own
    assert len(lines) == 1, done.stderr
    assert "Docker daemon is not reachable" in lines[0] and "just local" in lines[0]


def test_data_reaches_every_table_and_the_bucket_and_bench_says_ok(docker_stack):
    stack = docker_stack
    wait_for("spans in default.otel_traces", lambda: direct_spans(stack) > 0)
    wait_for(
        "metrics in default.otel_metrics_*",
        lambda: stack.scalar("SELECT count() FROM default.otel_metrics_sum"),
    )
    wait_for("files in the bucket", lambda: bucket_spans(stack) > 0)
    wait_for("spans loaded into otel.otel_traces", lambda: loaded(stack)[0] > 0)
    wait_for("enriched spans", lambda: enriched(stack) > 0)
    dims = stack.scalar("SELECT length(any(Embedding)) FROM otel.otel_traces_enriched")
    assert dims == 384
    # `just bench` against the stack: OK once some spans are older than the settle time
    wait_for("spans older than 20 s", lambda: stack.scalar(
        "SELECT countIf(Timestamp < now() - 20) FROM default.otel_traces"), timeout=120)  # fmt: skip

    def bench_ok() -> str | None:
        out = stack.just("bench", "--settle", "20").stdout
        return out if "OK: every settled span" in out else None

    report = wait_for("just bench to say OK", bench_ok)
    assert "LOSS" not in report and "DUPLICATES" not in report


def http(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """(status, body) of one request to the stack's ClickHouse on :8123, errors included."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_default_needs_its_password_and_a_web_page_cannot_write(docker_stack):
    """Issue 27 in the Docker stack: `default` has a password, and nothing a web page can send changes data (a
    page cannot know the password; a GET is read-only whoever sends it)."""
    stack = docker_stack
    password = stack.dotenv["CLICKHOUSE_PASSWORD"]
    assert password, "default must have a password in .env"
    url = "http://localhost:8123/"
    for headers in ({}, {"X-ClickHouse-User": "default", "X-ClickHouse-Key": "wrong"}):
        status, text = http(url, b"SELECT 1", headers)
        assert status != 200 and "Code: 516" in text, (headers, status, text)
    # what a page can send cross-site without asking: a text/plain POST (and a GET, e.g. an <img> tag)
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    status, text = http(url, b"CREATE TABLE default.web_page_was_here (x UInt8) ENGINE = Memory", page)
    assert status != 200, text
    create = urllib.parse.quote("CREATE TABLE default.web_page_was_here (x UInt8) ENGINE = Memory")
    status, text = http(f"{url}?user=default&password={urllib.parse.quote(password)}&query={create}")
    assert status != 200 and "Code: 164" in text, text  # READONLY: GET implies readonly
    assert stack.scalar("SELECT count() FROM system.tables WHERE name = 'web_page_was_here'") == 0
    status, text = http(url, b"SELECT 1", {"X-ClickHouse-User": "default", "X-ClickHouse-Key": password})
    assert (status, text.strip()) == (200, "1")


def test_the_readmes_clickhouse_client_commands_run_as_written(docker_stack):
    stack = docker_stack
    oldest = "SELECT TraceId FROM default.otel_traces WHERE Timestamp < now() - 20 ORDER BY Timestamp LIMIT 1"
    trace_id = wait_for("a trace older than 20 s", lambda: stack.first(oldest))
    awk = "awk '/^-- name: trace_lookup/{f=1;next} /^-- name:/{f=0} f' otel_queries.sql"
    lookup = (
        f'docker compose exec -T clickhouse clickhouse-client --param_trace_id={trace_id} --query "$({awk})"'
    )
    spans = stack.run("bash", "-c", lookup).stdout.splitlines()  # the trace's spans, in order
    stored = stack.scalar(f"SELECT count() FROM default.otel_traces WHERE TraceId = '{trace_id}'")
    assert len(spans) == stored > 0
    # the README's schema command: the migrate service migrated ClickHouse at start (its log says so), so a
    # second run has nothing to apply
    assert "schema up to date at" in stack.compose("logs", "migrate").stdout
    migrated = stack.just("migrate")
    assert "nothing to apply" in migrated.stdout + migrated.stderr


def test_sigkill_of_collector_loader_and_enricher_mid_drop_loses_and_duplicates_nothing(docker_stack):
    stack = docker_stack
    stack.compose("stop", "event-generator")
    before_direct = settled(stack)[0]

    generator = host_generator("--seed", "2501", extra=dict(COMPRESSED_DROP))
    time.sleep(4)  # the drop is live from ~3 s (time-scale 20)
    for service in ("otel-collector", "s3-loader", "embedding-enricher"):
        stack.crash(service)
        time.sleep(2)
    counts = finished(generator, lossless=False)
    assert counts["exported"] > 200, counts  # PRE_DROP alone sends ~150; what the SDK gave up on is not owed

    # everything the collector acknowledged reaches ClickHouse (a crashed collector may deliver twice: at
    # least once), and the S3 path holds each span the bucket holds exactly once, enriched exactly once
    wait_for("every acknowledged span in default.otel_traces",
             lambda: direct_spans(stack) >= before_direct + counts["exported"], timeout=240)  # fmt: skip
    # (more may arrive: a request it stored just before the kill got no answer, so the SDK counted it failed)
    direct, rows, in_bucket, enriched_rows = settled(stack)
    assert rows == in_bucket  # the loader: each file's spans once, whatever it was doing when killed
    # each distinct span made the round trip through the bucket and was enriched once
    assert enriched_rows == loaded(stack)[1] == direct


def test_a_recreated_collector_delivers_what_its_predecessor_acknowledged(docker_stack):
    """Bug 1: the persistent queue lived under the container id, so a recreation started an empty queue."""
    stack = docker_stack
    before = direct_spans(stack)
    # without ClickHouse the collector acknowledges and cannot deliver: its queue holds the spans
    stack.compose("stop", "clickhouse")
    try:
        # the simulated clock ends now (FEW_SHOPPERS' fixed start is months old: past the tables' TTL)
        now = {k: v for k, v in FEW_SHOPPERS.items() if k != "GENERATOR_SIM_START_NS"}
        generator = host_generator("--seed", "2502", "--simulated-clock", extra=now)
        counts = finished(generator)
        assert counts["exported"] > 100, counts
        old = stack.container("otel-collector")
        stack.compose("up", "-d", "--no-deps", "--force-recreate", "otel-collector")
        assert stack.container("otel-collector") != old
    finally:
        stack.compose("start", "clickhouse")
    expected = before + counts["exported"]
    wait_for("the queued spans after the recreation", lambda: direct_spans(stack) == expected, timeout=240)
    logs = stack.compose("logs", "--no-color", "otel-collector").stdout
    assert "queue-slot: this replica's persistent queue is /var/lib/otelcol/queue/slot-1" in logs


def test_scaled_replicas_keep_a_slot_each_and_a_scale_down_drains_first(docker_stack):
    stack = docker_stack

    def replicas() -> list[str]:
        return stack.compose("ps", "-q", "otel-collector").stdout.split()

    def slots() -> set[str]:
        logs = stack.compose("logs", "--no-color", "otel-collector").stdout.splitlines()
        return {line.rsplit("/", 1)[-1] for line in logs if "persistent queue is" in line}

    stack.just("scale-collector", "2")
    two = wait_for("two collector replicas", lambda: len(replicas()) == 2 and replicas())
    wait_for("a slot for each replica", lambda: {"slot-1", "slot-2"} <= slots())
    follow = {
        container: subprocess.Popen(
            ["docker", "logs", "-f", container], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for container in two
    }
    stack.just("scale-collector", "1")
    (kept,) = replicas()
    for container, logs in follow.items():
        if kept.startswith(container[:12]):
            logs.kill()
            logs.wait()
            continue
        out, _ = logs.communicate(timeout=60)  # the removed replica's whole log, to its exit
        assert "queue-slot: drain: queues empty, stopping the collector" in out, out[-2000:]


def test_down_and_up_keep_the_data_and_make_no_duplicate_ids(docker_stack):
    """Bug 2: a fixed default seed made every restarted generator resend the ids it had sent before."""
    stack = docker_stack
    stack.compose("start", "event-generator")
    sending = direct_spans(stack)
    wait_for("the stack's generator sending", lambda: direct_spans(stack) > sending + 50)
    direct, rows = direct_spans(stack), loaded(stack)[0]  # it goes on sending: what is stored so far
    repeats = stack.scalar("SELECT count() - uniqExact(TraceId, SpanId) FROM default.otel_traces")

    stack.just("down")
    assert stack.running() == []  # `just down` leaves nothing running
    assert stack.volumes()  # and keeps the data
    stack.just("up", "--headless", timeout=900)
    assert direct_spans(stack) >= direct and loaded(stack)[0] >= rows  # the data survived
    assert "nothing to apply" in stack.compose("logs", "migrate").stdout  # it ran again, on the old volume
    wait_for(
        "new spans from the restarted generator", lambda: direct_spans(stack) > direct + 200, timeout=240
    )
    assert stack.scalar("SELECT count() - uniqExact(TraceId, SpanId) FROM default.otel_traces") == repeats


def test_the_agent_answers_through_docker_compose_run(docker_stack):
    """Bug 3: the agent image had CMD, not ENTRYPOINT, so a question replaced the command."""
    stack = docker_stack
    network = f"{PROJECT}_default"
    gateway = stack.run(
        "docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", network
    ).stdout.strip()  # the host, seen from the stack's own bridge network
    fake = FakeAnthropic(host=gateway).start()
    try:
        fake.play(
            Turn([tool_use("error_summary", {})], stop_reason="tool_use"),
            Turn([text("checkout-service has the most errors.")]),
        )
        done = stack.compose(
            "run", "--rm", "-T", "-e", "ANTHROPIC_API_KEY=test-key", "-e", f"ANTHROPIC_BASE_URL={fake.url}",
            "-e", "AGENT_MODEL=claude-test", "-e", "AGENT_TELEMETRY=false",
            "agent", "what services have the most errors?", timeout=600,
        )  # fmt: skip
    finally:
        fake.stop()
    assert "checkout-service has the most errors." in done.stdout
    assert len(fake.requests) == 2
    first = fake.requests[0].body
    assert first["messages"][0]["content"] == "what services have the most errors?"
    results = fake.requests[1].tool_results()
    assert results and not results[0].get("is_error"), results


def test_the_mcp_service_answers_with_the_token_and_refuses_without(docker_stack):
    stack = docker_stack
    token = stack.dotenv["AGENT_MCP_TOKEN"]
    url = "http://127.0.0.1:8765/mcp"

    async def tools(sent: str) -> list[str]:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {sent}"}, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            return [t.name for t in (await client.list_tools()).tools]

    assert anyio.run(tools, token) == list(TOOLS)
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        request = urllib.request.Request(url, data=b"{}", headers=headers, method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401


def test_reset_deletes_the_data_and_down_leaves_nothing(docker_stack):
    stack = docker_stack
    stack.just("--yes", "reset", timeout=300)
    assert stack.running() == []
    assert stack.volumes() == []
