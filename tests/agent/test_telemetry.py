"""The agent's own traces: GenAI spans per question, model call and tool call, with the real SDK into an
in-memory exporter, and one real OTLP export into the local stack's receiver (then read back from ClickHouse,
where the tools leave the agent's spans out unless asked)."""

from __future__ import annotations

import time

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from trace_agent.loop import Agent, make_client
from trace_agent.telemetry import Telemetry
from trace_agent.tools import execute

from tests.agent.fake_anthropic import Turn, text, tool_use
from tests.support.spans import Span, insert, minutes_ago

QUESTION = "which services fail for customer zq-7781?"


@pytest.fixture
def checkout(stack) -> list[Span]:
    spans = [Span(f"{i:032x}", f"{i:016x}", "checkout-service", "POST /checkout", minutes_ago(2 + i), 5000000,
                  status="Error" if i < 2 else "Ok", status_message="payment declined" if i < 2 else "")
             for i in range(1, 7)]  # fmt: skip
    client = stack.client()
    insert(client, spans)
    client.close()
    return spans


def ask(settings, ctx, fake_api, telemetry: Telemetry):
    call = tool_use("error_summary", {"window": "30m"})
    fake_api.play(
        Turn([text("Checking."), call], stop_reason="tool_use", input_tokens=300, output_tokens=40),
        Turn([text("checkout-service: 2 payment declined errors.")], input_tokens=410, output_tokens=25),
    )
    agent = Agent(make_client(settings), ctx, settings, telemetry=telemetry)
    return agent.ask(QUESTION), call


def test_spans_per_question_model_call_and_tool_call(settings, ctx, fake_api, checkout):
    exporter = InMemorySpanExporter()
    telemetry = Telemetry.from_settings(settings, exporter)
    answer, call = ask(settings, ctx, fake_api, telemetry)
    telemetry.shutdown()
    spans = exporter.get_finished_spans()
    chat = f"chat {settings.model}"
    assert [s.name for s in spans] == [chat, "execute_tool error_summary", chat, "invoke_agent trace-agent"]
    root = spans[-1]
    assert all(s.parent.span_id == root.context.span_id for s in spans[:-1]) and root.parent is None
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    assert spans[0].resource.attributes["service.name"] == "trace-agent"

    first, tool, second = spans[0].attributes, spans[1].attributes, spans[2].attributes
    assert first["gen_ai.operation.name"] == "chat" and first["gen_ai.provider.name"] == "anthropic"
    assert first["gen_ai.request.model"] == settings.model
    assert (first["gen_ai.usage.input_tokens"], first["gen_ai.usage.output_tokens"]) == (300, 40)
    assert (second["gen_ai.usage.input_tokens"], second["gen_ai.usage.output_tokens"]) == (410, 25)
    assert first["gen_ai.response.finish_reasons"] == ("tool_use",)
    assert tool["gen_ai.operation.name"] == "execute_tool" and tool["gen_ai.tool.name"] == "error_summary"
    assert tool["gen_ai.tool.call.id"] == call["id"]
    assert tool["click_ai.tool.rows"] == answer.tool_calls[0].row_count == 1
    assert spans[1].end_time - spans[1].start_time > 0
    assert root.attributes["gen_ai.usage.input_tokens"] == answer.usage.input_tokens == 710
    assert root.attributes["click_ai.agent.tool_calls"] == 1

    # never the question, the answer or the tool's rows
    values = " ".join(str(v) for s in spans for v in s.attributes.values())
    values += " ".join(e.name for s in spans for e in s.events)
    for private in ("zq-7781", "payment declined", "checkout-service", "Checking"):
        assert private not in values


def test_off_with_a_setting(settings):
    assert not Telemetry.from_settings(settings.model_copy(update={"telemetry": False})).enabled
    assert Telemetry.from_settings(settings, InMemorySpanExporter()).enabled


def test_real_export_to_the_stack_and_left_out_of_answers(settings, ctx, stack, fake_api, checkout):
    telemetry = Telemetry.from_settings(settings.model_copy(update={"otlp_endpoint": stack.otlp.http_url}))
    ask(settings, ctx, fake_api, telemetry)
    telemetry.shutdown()  # flushes the batch over OTLP/HTTP to the receiver

    client = stack.client()
    deadline, rows = time.monotonic() + 20, []
    while time.monotonic() < deadline:
        rows = client.query(
            "SELECT SpanName, SpanAttributes['gen_ai.tool.name'], "
            "SpanAttributes['gen_ai.usage.input_tokens'] FROM default.otel_traces "
            "WHERE ServiceName = 'trace-agent' ORDER BY Timestamp, SpanName"
        ).result_rows
        if len(rows) == 4:
            break
        time.sleep(0.3)
    client.close()
    chat = f"chat {settings.model}"
    assert sorted(r[0] for r in rows) == sorted(
        ["invoke_agent trace-agent", chat, chat, "execute_tool error_summary"]
    )
    assert {r[1] for r in rows if r[0].startswith("execute_tool")} == {"error_summary"}
    assert sorted(r[2] for r in rows if r[0].startswith("chat")) == ["300", "410"]

    services = execute(ctx, "list_services", {})
    assert [r[0] for r in services.rows] == ["checkout-service"]
    asked = execute(ctx, "list_services", {"service": "trace-agent"})
    assert [(r[0], r[1]) for r in asked.rows] == [("trace-agent", 4)]
