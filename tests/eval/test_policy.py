"""The no-LLM baseline's rules on hand-made tool results (pure, fast): the metric fallback names an instance
only when a peer of the same service stayed put, and the mechanism comes from the message's words."""

from __future__ import annotations

from snkrs_eval.policy import Sequence, baseline_answer, mechanism_of
from snkrs_eval.scoring import parse_claims
from trace_agent.results import ToolResult

COLUMNS = ["series", "buckets", "baseline", "peak", "ratio", "change_at", "min", "max", "last", "values"]


def series(metric: str, *rows: tuple[str, float, str | None]) -> ToolResult:
    return ToolResult(
        "metric_series",
        {"metric": metric},
        columns=COLUMNS,
        rows=[[name, 40, 1.0, ratio, ratio, at, 1.0, ratio, ratio, []] for name, ratio, at in rows],
    )


def test_a_change_every_instance_shares_is_the_load_not_an_incident():
    seq = Sequence([series("db.client.connection.count", ("inventory", 12.0, "2026-12-07T10:00:05Z"))])
    claims = parse_claims(baseline_answer(seq))
    assert claims is not None and claims["incident"] is False and claims["root_cause"] == []


def test_one_instance_departing_from_its_peer_is_named_with_its_metric():
    seq = Sequence(
        [
            series("db.client.connection.count", ("inventory", 12.0, "2026-12-07T10:00:05Z")),
            series(
                "process.memory.usage",
                ("feed aaaa", 1.0, None),
                ("feed bbbb", 2.4, "2026-12-07T10:01:00Z"),
            ),
        ]
    )
    claims = parse_claims(baseline_answer(seq))
    assert claims is not None and claims["incident"] is True
    assert claims["root_cause"] == [{"service": "feed", "entity": "bbbb"}]
    assert claims["mechanism"] == ["resource leak"] and claims["start"] == "2026-12-07T10:01:00Z"


def test_the_mechanism_comes_from_the_first_matching_words():
    assert mechanism_of("could not extend file: No space left on device") == "disk full"
    assert mechanism_of("lock wait timeout on inventory row") == "lock"
    assert mechanism_of("context deadline exceeded after 2.0s") == "timeout"
    assert mechanism_of("account overloaded; shedding load") == "capacity"
    assert mechanism_of("something else entirely") == ""
