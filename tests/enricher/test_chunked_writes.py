"""While the model runs on a batch's new texts (batch_size at a time), what is done is inserted in arrival
order every write_seconds: a burst of new texts does not hold the whole batch back, and a crash between two
of its inserts still ends exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from enricher.embedder import Embedder, VectorCache, text_key

from .spans import insert, make_rows
from .test_exactly_once import assert_exactly_once, enriched


def test_plan_cuts_before_each_chunks_first_text_beyond_the_limit(model):
    embedder = Embedder(model, VectorCache(100))
    texts = ["a ok", "b ok", "a ok", "c ok", "d ok", "b ok", "e ok"]
    ends, stats = embedder.plan(texts, 2)
    assert ends == [3, 6, 7]  # new: a b | c d | e
    assert (stats.texts, stats.distinct, stats.cache_hits, stats.embedded) == (7, 5, 0, 5)

    embedder.cache.put(text_key("a ok"), np.zeros(model.dimension, dtype=np.float32))
    ends, stats = embedder.plan(texts, 2)
    assert ends == [4, 7]  # a is cached; new: b c | d e
    assert (stats.texts, stats.distinct, stats.cache_hits, stats.embedded) == (7, 5, 1, 4)
    assert embedder.plan(texts, 100)[0] == [7] and embedder.plan([], 2)[0] == [0]


class Crash(Exception):
    pass


def test_a_crash_between_a_batchs_inserts_ends_exactly_once(stack, make_enricher):
    client = stack.client()
    now = datetime.now(UTC).replace(tzinfo=None)
    insert(client, make_rows(600, seed=31, base=now - timedelta(hours=1)))
    enricher = make_enricher(stack, read_rows=600, batch_size=2, write_seconds=0, cache_warm_minutes=0)
    write = enricher.store.write
    calls: list[int] = []

    def crashing_write(spans, *args, **kwargs):
        if len(calls) == 2:
            raise Crash
        calls.append(len(spans))
        write(spans, *args, **kwargs)

    enricher.store.write = crashing_write  # type: ignore[method-assign]
    with pytest.raises(Crash):
        enricher.catch_up()
    assert 0 < enriched(client) == sum(calls) < 600  # two inserts of the one batch landed
    assert client.query("SELECT count() FROM otel.enrichment_state").result_rows[0][0] == 0

    restarted = make_enricher(stack, read_rows=600, batch_size=2, write_seconds=0, cache_warm_minutes=0)
    inserts: list[int] = []
    write = restarted.store.write
    restarted.store.write = lambda spans, *a, **k: (inserts.append(len(spans)), write(spans, *a, **k))  # type: ignore[method-assign]
    result = restarted.catch_up()
    assert result.spans == 600 - sum(calls) and len(inserts) > 1
    assert_exactly_once(client, 600)
