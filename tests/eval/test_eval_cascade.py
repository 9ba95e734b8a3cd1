"""A hard scenario end to end with the fake Messages API (the real anthropic SDK on loopback): the
pool-exhaustion drop, where checkout and the gateway show the errors and inventory's saturated pool is the
cause. A scripted model walks the cascade with service_map and metric_series — the test checks that the
tool results it was handed really show the way (the checkout → inventory calls slow but not failing, the
pool's wait time changing at the incident's start for inventory alone) — and names the origin: 1.0. The
same walk ending at the symptom (checkout) scores 0, and the scorer says which mistake it was."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from snkrs_eval.runner import Options, agent_settings, ask, score_scenario_dicts
from snkrs_eval.scenarios import BY_NAME, QUESTIONS
from snkrs_eval.scoring import Truth
from snkrs_eval.stack import Built, build
from trace_agent.db import Database
from trace_agent.tools import ToolContext

from tests.agent.fake_anthropic import FakeAnthropic, Turn, text, tool_use

pytestmark = pytest.mark.slow
_DATA = re.compile(r"<tool_data tool=\"([a-z_]+)\">\n(.*)\n</tool_data>", re.S)


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pool(tmp_path_factory, fake_api: FakeAnthropic) -> Iterator[tuple[Built, ToolContext, Truth]]:
    built = build(BY_NAME["pool-exhaustion"], tmp_path_factory.mktemp("eval") / "pool-exhaustion")
    overrides = {"anthropic_api_key": "test-key", "anthropic_base_url": fake_api.url, "model": "claude-test",
                 "api_max_retries": 1}  # fmt: skip
    settings = agent_settings(built, Options([], agent_overrides=overrides))
    db = Database(settings)
    yield built, ToolContext(db, settings), Truth.from_labels(built.labels, built.trace_ids())
    db.close()
    built.stop()


def walk(fake: FakeAnthropic, built: Built, ctx: ToolContext, truth: Truth, claims: dict) -> list[dict]:
    """Each question: service_map, then metric_series on the pool's wait time, then the answer."""
    start, end = built.window
    settings = ctx.settings
    answers = []
    for question in QUESTIONS:
        fake.play(
            Turn([tool_use("service_map", {"start": start, "end": end})], stop_reason="tool_use"),
            Turn(
                [
                    tool_use(
                        "metric_series",
                        {"metric": "db.client.connection.wait_time", "start": start, "end": end},
                    )
                ],
                stop_reason="tool_use",
            ),
            Turn([text("The pool.\n\n```json\n" + json.dumps(claims) + "\n```")]),
        )
        answers.append(ask(settings, ctx, question, built, truth))
        assert answers[-1]["tools"] == ["service_map", "metric_series"] and answers[-1]["tool_errors"] == 0
    return answers


def tool_data(fake: FakeAnthropic) -> dict[str, dict]:
    """The tool results the model was handed, by tool (from the last request of the conversation)."""
    out = {}
    for message in fake.requests[-1].body["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            if block.get("type") == "tool_result":
                content = block["content"]
                body = content if isinstance(content, str) else content[0]["text"]
                name, payload = _DATA.search(body).groups()
                out[name] = json.loads(payload.replace("\\u003c", "<").replace("\\u003e", ">"))
    return out


def rows(payload: dict) -> list[dict]:
    return [dict(zip(payload["columns"], row, strict=True)) for row in payload["rows"]]


def claims_for(labels: dict, service: str) -> dict:
    (incident,) = labels["incidents"]
    return {
        "incident": True,
        "root_cause": [{"service": service, "entity": ""}],
        "mechanism": ["pool exhaustion"],
        "start": incident["start"],
        "end": incident["end"],
        "affected_requests": incident["affected_requests"],
        "trace_ids": incident["affected_trace_ids"][:2],
    }


def test_walking_the_cascade_to_the_origin_scores_one(pool, fake_api: FakeAnthropic):
    built, ctx, truth = pool
    answers = walk(fake_api, built, ctx, truth, claims_for(built.labels, "inventory"))
    assert [a["score"] for a in answers] == [1.0, 1.0, 1.0], [a["notes"] for a in answers]
    assert score_scenario_dicts(answers) == 1.0

    # what the model was shown leads there: checkout's calls to inventory are slow, not failing for the pool
    # (their only errors are sold-out 409s), inventory's own database calls are fast, and the pool's wait
    # time changed for inventory within a minute of the incident's start
    seen = tool_data(fake_api)
    edges = {(e["caller"], e["callee"]): e for e in rows(seen["service_map"])}
    to_inventory = edges[("checkout", "inventory")]
    assert to_inventory["slow_calls"] > 0 and to_inventory["max_ms"] > 2000
    assert edges[("inventory", "snkrs-db.internal")]["slow_calls"] == 0
    (series,) = rows(seen["metric_series"])
    assert series["series"] == "inventory" and series["ratio"] > 10
    (incident,) = built.labels["incidents"]
    started = dt.datetime.fromisoformat(incident["start"].replace("Z", "+00:00"))
    changed = dt.datetime.fromisoformat(series["change_at"].replace("Z", "+00:00"))
    assert abs((changed - started).total_seconds()) <= 60


def test_naming_the_symptom_scores_zero_and_says_so(pool, fake_api: FakeAnthropic):
    built, ctx, truth = pool
    answers = walk(fake_api, built, ctx, truth, claims_for(built.labels, "checkout"))
    assert [a["score"] for a in answers] == [0.0, 0.0, 0.0]
    assert score_scenario_dicts(answers) == 0.0
    for a in answers:
        assert a["false_positives"] == 1
        assert (
            "named checkout, which only showed the symptom of pool_exhaustion; the origin is inventory"
            in a["notes"]
        )
