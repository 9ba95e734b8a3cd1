"""The real MiniLM model, loaded once per test session (it takes seconds on a shared 2-core machine)."""

from __future__ import annotations

import pytest
from enricher.embedder import Embedder, Model, VectorCache
from enricher.pipeline import Enricher
from enricher.settings import DEFAULT_MODEL_NAME, Settings, default_model_path
from enricher.store import Store


@pytest.fixture(scope="session")
def model() -> Model:
    return Model(default_model_path(), batch_size=64)


@pytest.fixture
def make_enricher(model: Model):
    """An in-process Enricher on the session's model, pointed at a stack."""
    made: list[Enricher] = []

    def make(stack, **overrides) -> Enricher:
        settings = Settings(
            CLICKHOUSE_HOST=stack.host, CLICKHOUSE_PORT=stack.clickhouse_port, CLICKHOUSE_USER="default",
            CLICKHOUSE_PASSWORD="", **overrides,
        )  # fmt: skip
        store = Store(settings, give_up_seconds=10)
        enricher = Enricher(
            settings, store, Embedder(model, VectorCache(settings.cache_size)), DEFAULT_MODEL_NAME
        )
        made.append(enricher)
        return enricher

    yield make
    for enricher in made:
        enricher.store.close()
