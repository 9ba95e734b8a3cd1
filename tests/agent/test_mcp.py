"""The MCP server (`python -m trace_agent.mcp`) as its own process on the local stack, driven by the official
MCP client over stdio and streamable HTTP: tools, resources and prompts, answers the test computes itself,
the read-only guarantees, validation errors and the loopback/token rule."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import httpx2
import numpy as np
import orjson
import pytest
from click_common.config import EXIT_CONFIG
from local_stack.launch import Launcher, free_port, stop_process, wait_listening
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from trace_agent.embedding import embed
from trace_agent.prompts import POLICY, SEED_QUESTIONS, SERVER_INSTRUCTIONS, SYSTEM_PROMPT
from trace_agent.results import DATA_PREAMBLE
from trace_agent.tools import TOOLS

from tests.support.spans import Span, hex_id, insert, minutes_ago
from tests.support.stack import REPO

TRANSPORTS = ["stdio", "http"]
ENRICHED_COLUMNS = [
    "Timestamp", "TraceId", "SpanId", "ParentSpanId", "ServiceName", "SpanName", "SpanKind", "StatusCode",
    "StatusMessage", "Duration", "EmbeddingText", "Embedding", "EmbeddingModel", "SourceInsertedAt",
]  # fmt: skip
TEXTS = [
    "payment-service charge card failed: card declined by issuer",
    "inventory-service reserve stock error: sold out, no pairs left",
    "frontend GET /launch page rendered for the sneaker drop",
]


def server_env(stack: Launcher, **overrides: str) -> dict[str, str]:
    # The server's own spans would land in the tables these tests count (telemetry has its own tests below).
    env = stack.env(
        AGENT_CLICKHOUSE_USER="agent", AGENT_CLICKHOUSE_PASSWORD="", TOKENIZERS_PARALLELISM="false",
        AGENT_TELEMETRY="false",
    )  # fmt: skip
    env.pop("AGENT_MCP_TOKEN", None)
    env.update(overrides)
    return env


def start_http(stack: Launcher, cwd: Path, port: int, **env: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "trace_agent.mcp", "--http", "--port", str(port)],
        env=server_env(stack, **env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_listening(process, port, "MCP server")
    return process


@pytest.fixture(scope="module")
def http_url(local_stack: Launcher, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_http(local_stack, tmp_path_factory.mktemp("mcp-http"), port)
    yield f"http://127.0.0.1:{port}/mcp"
    stop_process(process, 15)


@pytest.fixture
def connect(request, stack: Launcher, tmp_path: Path):
    """`connect(transport)` → an official MCP client for that transport (stdio spawns its own server)."""

    def make(transport: str) -> Client:
        if transport == "http":
            return Client(request.getfixturevalue("http_url"))
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "trace_agent.mcp"], env=server_env(stack), cwd=tmp_path
        )
        return Client(params)

    return make


def data(result) -> dict:
    """The JSON inside the <tool_data> marker (the same text the CLI's agent hands the model)."""
    assert not result.is_error, result.content[0].text
    text = result.content[0].text
    preamble, opening, rest = text.split("\n", 2)
    assert preamble == DATA_PREAMBLE and opening.startswith("<tool_data tool=")
    body, closing = rest.rsplit("\n", 1)
    assert closing == "</tool_data>"
    return orjson.loads(body)


def rows(payload: dict) -> list[dict]:
    return [dict(zip(payload["columns"], row, strict=True)) for row in payload["rows"]]


def error_text(result) -> str:
    assert result.is_error
    text = result.content[0].text
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture
def failed_trace(stack) -> list[Span]:
    """One failed payment: frontend → checkout (Error, a bearer token in an attribute) → payment (Error, a
    card number in the message) and inventory."""
    trace = "9f" * 16
    t0 = minutes_ago(8)
    spans = [
        Span(trace, "a" * 16, "frontend", "GET /drop", t0, 900_000_000),
        Span(trace, "b" * 16, "checkout-service", "POST /checkout", t0 + timedelta(milliseconds=10),
             700_000_000,
             parent_span_id="a" * 16, status="Error", status_message="payment failed",
             attributes={"http.route": "/checkout", "http.request.header.authorization": "Bearer s3cr3t"}),
        Span(trace, "c" * 16, "payment-service", "charge card", t0 + timedelta(milliseconds=20), 650_000_000,
             parent_span_id="b" * 16, kind="Client", status="Error",
             status_message="card 4111 1111 1111 1111 declined"),
        Span(trace, "d" * 16, "inventory-service", "reserve stock", t0 + timedelta(milliseconds=15),
             5_000_000,
             parent_span_id="b" * 16),
    ]  # fmt: skip
    client = stack.client()
    insert(client, spans)
    client.close()
    return spans


@pytest.fixture
def enriched(stack) -> list[tuple[str, str, str]]:
    """Two spans per text in otel.otel_traces_enriched, embedded with the real model: (trace, span, text)."""
    rng = random.Random(9)
    out, rows_ = [], []
    for i, text in enumerate(TEXTS):
        vector = embed(text)
        for _ in range(2):
            trace, span, start = hex_id(rng, 32), hex_id(rng, 16), minutes_ago(5 + i)
            rows_.append([start, trace, span, "", text.split()[0], " ".join(text.split()[1:3]), "Server",
                          "Error", "", 1_000_000, text, vector, "all-MiniLM-L6-v2", start])  # fmt: skip
            out.append((trace, span, text))
    client = stack.client()
    client.insert("otel.otel_traces_enriched", rows_, column_names=ENRICHED_COLUMNS)
    client.close()
    return out


LOG_COLUMNS = ["Timestamp", "TraceId", "SpanId", "SeverityText", "SeverityNumber", "ServiceName", "Body"]


@pytest.fixture
def warnings(stack) -> list[list]:
    """Five consumer-lag warnings in the last hour (one log template), and an INFO line no default counts."""
    rng = random.Random(11)
    rows_ = [[minutes_ago(30 - i), hex_id(rng, 32), hex_id(rng, 16), "WARN", 13, "order-fulfillment",
              f"order ord-{rng.getrandbits(40):010x} consumed {3 + i}.5s after it was published"]
             for i in range(5)]  # fmt: skip
    info = [minutes_ago(2), hex_id(rng, 32), hex_id(rng, 16), "INFO", 9, "checkout-service", "order placed"]
    client = stack.client()
    client.insert("default.otel_logs", [*rows_, info], column_names=LOG_COLUMNS)
    client.close()
    return rows_


def test_instructions_are_the_system_prompts_policy():
    assert POLICY in SYSTEM_PROMPT and POLICY in SERVER_INSTRUCTIONS
    assert "Use run_sql only when" in POLICY and "milliseconds" in POLICY and "last hour" in POLICY


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_tool_resource_and_prompt(transport, connect, traffic, failed_trace, enriched, warnings, stack):
    checkout = [s for s in traffic if s.service == "checkout-service"]
    gauge = [[{"service.name": "payment-service"}, "payment-service", "process.memory.usage", "By",
              minutes_ago(30 - 10 * i), 100.0 * (i + 1)] for i in range(3)]  # fmt: skip
    client_ = stack.client()
    client_.insert("default.otel_metrics_gauge", gauge,
                   column_names=["ResourceAttributes", "ServiceName", "MetricName", "MetricUnit", "TimeUnix",
                                 "Value"])  # fmt: skip
    client_.close()
    by_service: dict[str, list[Span]] = defaultdict(list)
    for span in traffic + failed_trace:
        by_service[span.service].append(span)
    question = "card payments declined"
    q = np.asarray(embed(question))
    nearest = sorted(enriched, key=lambda e: (round(1 - float(np.dot(embed(e[2]), q)), 4), e[0], e[1]))

    async def session() -> None:
        async with connect(transport) as client:
            assert client.instructions == SERVER_INSTRUCTIONS

            listed = (await client.list_tools()).tools
            assert [t.name for t in listed] == list(TOOLS)
            for tool in listed:
                assert tool.input_schema == TOOLS[tool.name].schema
                assert tool.description == TOOLS[tool.name].description
                assert tool.title == tool.annotations.title == TOOLS[tool.name].title
                assert tool.annotations.read_only_hint is True and tool.annotations.open_world_hint is False
            assert listed[-1].input_schema["required"] == ["sql"]

            called = set()

            async def call(name: str, arguments: dict) -> dict:
                called.add(name)
                return data(await client.call_tool(name, arguments))

            schema = await call("describe_schema", {})
            tables = {t["table"]: t for t in schema["tables"]}
            assert tables["default.otel_traces"]["rows"] == len(traffic) + 20 + len(failed_trace)
            assert any("NANOSECONDS" in c for c in tables["default.otel_traces"]["columns"])

            services = {r["service"]: r for r in rows(await call("list_services", {"sort_by": "errors"}))}
            assert set(services) == set(by_service)
            for service, spans in by_service.items():
                assert services[service]["spans"] == len(spans)
                assert services[service]["errors"] == sum(s.status == "Error" for s in spans)

            slow = await call("find_slow_spans", {"span_name": "checkout", "status": "Ok", "limit": 5})
            expected = sorted((s for s in checkout if "checkout" in s.name.lower() and s.status == "Ok"),
                              key=lambda s: -s.duration_ns)  # fmt: skip
            assert [r["trace_id"] for r in rows(slow)] == [s.trace_id for s in expected[:5]]
            assert [r["duration_ms"] for r in rows(slow)] == [
                round(s.duration_ns / 1e6, 2) for s in expected[:5]
            ]

            counts = Counter(
                (s.service, s.status_message) for s in traffic + failed_trace if s.status == "Error"
            )
            # the card number in the failed payment's message reaches no client
            counts[("payment-service", "card [REDACTED-CARD] declined")] = counts.pop(
                ("payment-service", failed_trace[2].status_message)
            )
            errors = rows(await call("error_summary", {"limit": 100}))
            assert {(r["service"], r["status_message"]): r["errors"] for r in errors} == counts

            tree = await call("get_trace_tree", {"trace_id": failed_trace[0].trace_id.upper()})
            lines = tree["tree"]
            assert [line.split()[0] for line in lines] == ["a" * 16, "b" * 16, "d" * 16, "c" * 16]
            assert [len(line) - len(line.lstrip()) for line in lines] == [0, 2, 4, 4]
            assert tree["errors"] == 2 and "payment failed" in lines[1]
            assert tree["trace_links"] == {
                failed_trace[
                    0
                ].trace_id: f"http://localhost:8080/search?source=Traces&traceId={failed_trace[0].trace_id}"
            }

            # kinds of span, not copies: one row per text, its two spans counted
            found = await call("semantic_search", {"query": question, "limit": 3})
            kinds = list(dict.fromkeys(e[2] for e in nearest))
            assert [r["text"] for r in rows(found)] == kinds[:3] and rows(found)[0]["text"] == TEXTS[0]
            for row in rows(found):
                traces = {e[0] for e in enriched if e[2] == row["text"]}
                assert row["spans"] == 2 and set(row["example_trace_ids"]) == traces
                assert all(found["trace_links"][t].endswith(f"traceId={t}") for t in traces)

            like = await call("similar_spans", {"trace_id": enriched[0][0], "span_id": enriched[0][1]})
            assert rows(like)[0]["text"] == enriched[0][2] and rows(like)[0]["distance"] == 0
            assert like["span"]["text"] == enriched[0][2] and rows(like)[0]["spans"] == 2

            path = await call("critical_path", {"trace_id": failed_trace[0].trace_id})
            # a (0–900 ms) waits for b (10–710), b for c (20–670) and d (15–20): a's own 200 ms on the path,
            # b's 45, c's 650, d's 5 — they add up to the trace's 900 ms
            assert [(r["span_id"][0], r["on_path_ms"], r["self_ms"]) for r in rows(path)] == [
                ("a", 200.0, 200.0), ("b", 45.0, 45.0), ("c", 650.0, 650.0), ("d", 5.0, 5.0)
            ]  # fmt: skip
            assert path["duration_ms"] == 900.0 and rows(path)[2]["share"] == round(650 / 900, 4)

            patterns = rows(await call("log_patterns", {"window": "1h", "min_severity": "WARN"}))
            assert [(p["records"], p["new"], p["severities"]) for p in patterns] == [(5, True, ["WARN"])]
            assert "consumed" in patterns[0]["template"]

            compared = rows(await call("compare_windows", {"window": "1h"}))
            now = {r["service"]: r for r in compared}
            assert now["checkout-service"]["spans_per_min_now"] == round((len(checkout) + 1) / 60, 2)
            assert now["checkout-service"]["spans_per_min_before"] == 0

            breakdown = rows(await call("attribute_breakdown", {"attribute": "service.name", "window": "1h"}))
            recent = [s for s in traffic + failed_trace if s.start > minutes_ago(60)]
            assert {r["value"]: (r["spans"], r["errors"]) for r in breakdown} == {
                service: (sum(s.service == service for s in recent),
                          sum(s.service == service and s.status == "Error" for s in recent))
                for service in {s.service for s in recent}
            }  # fmt: skip

            logs = rows(await call("log_summary", {"window": "1h"}))
            assert [(r["service"], r["severity"], r["template"], r["records"]) for r in logs] == [
                (
                    "order-fulfillment",
                    "WARN",
                    "order <id> consumed <n>s after it was published",
                    len(warnings),
                )
            ]
            assert set(logs[0]["example_trace_ids"]) <= {w[1] for w in warnings}

            recent = [s for s in traffic + failed_trace if s.start > minutes_ago(60)]
            edges = rows(await call("service_map", {"window": "1h"}))
            callers = {(s.service, s.attributes["server.address"]) for s in recent
                       if s.kind == "Client" and s.attributes.get("server.address")}  # fmt: skip
            assert {(e["caller"], e["callee"]) for e in edges} == callers
            deltas = await call("span_deltas", {"window": "1h", "subset": "errors"})
            failed = [s for s in recent if s.status == "Error"]
            assert deltas["subset_spans"] == len(failed) and deltas["rest_spans"] == len(recent) - len(failed)
            by_value = {(r["attribute"], r["value"]): r for r in rows(deltas)}
            payment_errors = sum(s.service == "payment-service" for s in failed)
            assert by_value[("service.name", "payment-service")]["subset_spans"] == payment_errors
            memory = rows(await call("metric_series", {"metric": "process.memory.usage", "window": "1h"}))
            assert [(r["series"], r["values"]) for r in memory] == [
                ("payment-service", [100.0, 200.0, 300.0])
            ]

            sql = "SELECT count() FROM default.otel_traces WHERE Timestamp > now() - INTERVAL 1 HOUR"
            assert (await call("run_sql", {"sql": sql}))["rows"] == [[len(traffic) + len(failed_trace)]]

            assert called == set(TOOLS)

            text = (await client.call_tool("get_trace_tree", {"trace_id": failed_trace[0].trace_id})).content[
                0
            ]
            assert "s3cr3t" not in text.text and "4111" not in text.text and "[REDACTED" in text.text

            resources = (await client.list_resources()).resources
            assert [str(r.uri) for r in resources] == ["clickai://schema"]
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["clickai://trace/{trace_id}"]
            read = (await client.read_resource("clickai://schema")).contents[0]
            assert read.text.startswith(DATA_PREAMBLE) and "NANOSECONDS" in read.text
            uri = f"clickai://trace/{failed_trace[0].trace_id}"
            read = (await client.read_resource(uri)).contents[0]
            assert str(read.uri) == uri and "payment failed" in read.text and "s3cr3t" not in read.text
            with pytest.raises(MCPError, match="not found"):
                await client.read_resource(f"clickai://trace/{'0' * 32}")

            prompts = (await client.list_prompts()).prompts
            assert [p.name for p in prompts] == list(SEED_QUESTIONS)
            for name, (title, text_) in SEED_QUESTIONS.items():
                got = await client.get_prompt(name)
                assert got.description == title
                assert [(m.role, m.content.text) for m in got.messages] == [("user", text_)]

    anyio.run(session)


def test_writes_are_tool_errors_and_data_survives(connect, stack, traffic):
    def snapshot():
        client = stack.client()
        try:
            return client.query(
                "SELECT count(), sum(cityHash64(SpanId, StatusCode)) FROM default.otel_traces"
            ).result_rows
        finally:
            client.close()

    before = snapshot()

    async def session() -> None:
        async with connect("http") as client:
            for sql, reason in [
                ("DROP TABLE default.otel_traces", "only SELECT"),
                ("INSERT INTO default.otel_traces (TraceId, SpanId) VALUES ('x', 'y')", "only SELECT"),
                ("SELECT 1; DROP TABLE default.otel_traces", "one statement"),
                ("SELECT * FROM url('http://example.com', 'CSV')", "url()"),
            ]:
                result = await client.call_tool("run_sql", {"sql": sql})
                assert reason in error_text(result)
            broken = await client.call_tool(
                "run_sql", {"sql": "SELECT no_such_column FROM default.otel_traces"}
            )
            assert error_text(broken).startswith("Code: 47")

    anyio.run(session)
    assert snapshot() == before and before[0][0] == len(traffic) + 20


def test_bad_arguments_are_validation_errors_naming_the_field(connect, stack):
    async def session() -> None:
        async with connect("http") as client:
            for name, arguments, field in [
                ("find_slow_spans", {"limit": 0}, "limit"),
                ("list_services", {"window": "7 fortnights"}, "window"),
                ("get_trace_tree", {"trace_id": "x'; DROP"}, "trace_id"),
                ("get_trace_tree", {}, "trace_id"),
                ("error_summary", {"bogus": 1}, "bogus"),
                ("run_sql", {"sql": 42}, "sql"),
            ]:
                text = error_text(await client.call_tool(name, arguments))
                assert text.startswith(f"invalid input: {field}:"), text
            with pytest.raises(MCPError, match="unknown tool"):
                await client.call_tool("drop_everything", {})

    anyio.run(session)


def test_http_beyond_loopback_needs_a_token(stack, tmp_path):
    refused = subprocess.run(
        [sys.executable, "-m", "trace_agent.mcp", "--http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=server_env(stack), cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == EXIT_CONFIG
    assert refused.stderr.count("\n") == 1 and "AGENT_MCP_TOKEN" in refused.stderr
    assert "refusing to serve MCP on 0.0.0.0" in refused.stderr


def test_token_guards_http_when_set(stack, tmp_path):
    port = free_port()
    process = start_http(stack, tmp_path, port, AGENT_MCP_TOKEN="playground-token")
    url = f"http://127.0.0.1:{port}/mcp"

    async def session(token: str) -> list[str]:
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            return [t.name for t in (await client.list_tools()).tools]

    try:
        assert anyio.run(session, "playground-token") == list(TOOLS)
        for sent in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "playground-token"}):
            request = urllib.request.Request(url, data=b"{}", headers=sent, method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"].startswith(
                "Bearer"
            )
        with pytest.raises(BaseExceptionGroup):  # the official client gets the 401 too
            anyio.run(session, "wrong")
    finally:
        stop_process(process, 15)


def test_http_on_loopback_refuses_a_foreign_host_or_origin(stack, tmp_path):
    """DNS rebinding and cross-site pages: on loopback the transport takes only loopback Host and Origin
    headers (421 and 403), while a loopback page and a client without an Origin are served."""
    port = free_port()
    process = start_http(stack, tmp_path, port)
    url = f"http://127.0.0.1:{port}/mcp"
    initialize = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"}}}
    ).encode()  # fmt: skip
    base = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}

    def post(**headers: str) -> int:
        request = urllib.request.Request(url, data=initialize, headers={**base, **headers}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    try:
        assert post(Host="evil.example") == 421
        assert post(Host=f"evil.example:{port}") == 421
        assert post(Origin="http://evil.example") == 403
        assert post(Origin="null") == 403
        assert post() == 200
        assert post(Origin=f"http://localhost:{port}") == 200
    finally:
        stop_process(process, 15)


def test_a_user_that_can_write_is_refused(stack, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "trace_agent.mcp"], env=server_env(stack, AGENT_CLICKHOUSE_USER="default"),
        cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == EXIT_CONFIG and "can write (readonly=0)" in done.stderr and done.stdout == ""


def test_just_mcp_speaks_stdio(stack, tmp_path):
    """`just mcp` as a client launches it: nothing but MCP on stdout (setup's messages go to stderr)."""
    just = REPO / ".venv" / "bin" / "just"
    params = StdioServerParameters(
        command=str(just),
        args=["--justfile", str(REPO / "justfile"), "mcp"],
        env=server_env(stack),
        cwd=tmp_path,
    )

    async def session() -> list[str]:
        async with Client(params) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert anyio.run(session) == list(TOOLS)


def test_parallel_calls_over_http_get_the_answers_of_sequential_ones(connect, traffic):
    calls = [
        ("list_services", {"sort_by": "errors"}),
        ("error_summary", {"limit": 100}),
        ("find_slow_spans", {"match": "checkout", "limit": 30}),
        ("run_sql", {"sql": "SELECT ServiceName, count() FROM default.otel_traces GROUP BY 1 ORDER BY 1"}),
    ]

    async def session() -> tuple[list, list]:
        async with connect("http") as client:
            sequential = [data(await client.call_tool(name, args))["rows"] for name, args in calls]
            twice = calls + calls
            parallel: list = [None] * len(twice)

            async def one(i: int) -> None:
                parallel[i] = data(await client.call_tool(*twice[i]))["rows"]

            async with anyio.create_task_group() as group:
                for i in range(len(twice)):
                    group.start_soon(one, i)
            return sequential, parallel

    sequential, parallel = anyio.run(session)
    assert parallel == sequential + sequential and all(sequential)


def test_an_unexpected_failure_is_a_one_line_tool_error(settings):
    from trace_agent.db import Database
    from trace_agent.mcp.server import build_server
    from trace_agent.tools import ToolContext

    db = Database(settings)

    def broken(sql, parameters=None):
        raise KeyError("a bug deep inside")

    db.query = broken  # type: ignore[method-assign]

    async def session() -> str:
        async with Client(build_server(ToolContext(db, settings))) as client:
            return error_text(await client.call_tool("list_services", {}))

    assert anyio.run(session) == "internal error: KeyError: 'a bug deep inside'"


def test_tool_calls_are_execute_tool_spans_as_the_clis(ctx, settings, traffic):
    """Each MCP tool call (and resource read) is the CLI's GenAI `execute_tool` span: the tool's name, the
    request id as the call id, rows and the error flag; never the tool's input or rows."""
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from trace_agent.mcp.server import SCHEMA_URI, build_server
    from trace_agent.telemetry import Telemetry

    exporter = InMemorySpanExporter()
    telemetry = Telemetry.from_settings(settings, exporter)
    drop = "DROP TABLE default.otel_traces"

    async def session() -> dict:
        async with Client(build_server(ctx, telemetry)) as client:
            services = data(await client.call_tool("list_services", {}))
            error_text(await client.call_tool("run_sql", {"sql": drop}))
            await client.read_resource(SCHEMA_URI)
            return services

    services = anyio.run(session)
    telemetry.shutdown()
    spans = exporter.get_finished_spans()
    names = ["execute_tool list_services", "execute_tool run_sql", "execute_tool describe_schema"]
    assert [s.name for s in spans] == names
    listed, refused, schema = (dict(s.attributes) for s in spans)
    assert listed["gen_ai.operation.name"] == "execute_tool" and listed["gen_ai.tool.type"] == "function"
    assert listed["gen_ai.tool.name"] == "list_services" and schema["gen_ai.tool.name"] == "describe_schema"
    assert listed["click_ai.tool.rows"] == len(services["rows"]) > 0 and "error.type" not in listed
    assert refused["error.type"] == "tool_error" and refused["click_ai.tool.rows"] == 0
    call_ids = [a["gen_ai.tool.call.id"] for a in (listed, refused, schema)]
    assert len(set(call_ids)) == 3 and all(call_ids)
    assert spans[0].resource.attributes["service.name"] == "trace-agent"
    assert all(s.end_time > s.start_time and s.parent is None for s in spans)
    values = " ".join(str(v) for s in spans for v in s.attributes.values())
    assert "DROP" not in values and not any(str(row[0]) in values for row in services["rows"])


def test_the_http_servers_spans_reach_the_stack(stack, tmp_path):
    """The server process exports its tool spans over OTLP (flushed on shutdown), as service trace-agent."""
    port = free_port()
    process = start_http(stack, tmp_path, port, AGENT_TELEMETRY="true")

    async def session() -> None:
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            assert not (await client.call_tool("list_services", {})).is_error

    try:
        anyio.run(session)
    finally:
        stop_process(process, 15)
    client = stack.client()
    deadline, rows = time.monotonic() + 20, []
    while time.monotonic() < deadline and not rows:
        rows = client.query(
            "SELECT SpanName, SpanAttributes['gen_ai.tool.name'] FROM default.otel_traces "
            "WHERE ServiceName = 'trace-agent'"
        ).result_rows
        time.sleep(0.3)
    client.close()
    assert rows == [("execute_tool list_services", "list_services")]
