"""The real MiniLM model behind the cache: each distinct text is embedded once, texts are cut to what the
model reads, similar texts land close together."""

from __future__ import annotations

import numpy as np
from enricher.embedder import Embedder, VectorCache, text_key


def test_identical_texts_are_embedded_once(model):
    embedder = Embedder(model, VectorCache(100))
    texts = ["checkout ok", "payment timeout", "checkout ok", "payment timeout", "checkout ok"]
    cut, vectors, stats = embedder.embed(texts)
    assert cut == texts
    assert (stats.texts, stats.distinct, stats.cache_hits, stats.embedded) == (5, 2, 0, 2)
    assert np.array_equal(vectors[0], vectors[2]) and not np.array_equal(vectors[0], vectors[1])
    assert vectors[0].shape == (model.dimension,) and abs(float(np.linalg.norm(vectors[0])) - 1) < 1e-5

    _, again, stats = embedder.embed(["payment timeout", "sold out"])
    assert (stats.distinct, stats.cache_hits, stats.embedded) == (2, 1, 1)
    assert np.array_equal(again[0], vectors[1])
    # the cached vector is the one the model gives for that text
    assert np.allclose(model.encode(["payment timeout"])[0], vectors[1], atol=1e-5)


def test_cache_is_bounded_lru():
    cache = VectorCache(2)
    for name in ("a", "b"):
        cache.put(text_key(name), np.zeros(3, dtype=np.float32))
    assert cache.get(text_key("a")) is not None  # a is now the most recently used
    cache.put(text_key("c"), np.ones(3, dtype=np.float32))
    assert len(cache) == 2 and cache.get(text_key("b")) is None and cache.get(text_key("a")) is not None
    assert len(VectorCache(0)) == 0


def test_texts_are_cut_to_what_the_model_reads(model):
    long = "inventory-service: " + " ".join(f"word{i}" for i in range(2000))
    (cut,) = model.truncate([long])
    assert long.startswith(cut) and len(cut) < len(long)
    tokens = model._tokenizer(cut, add_special_tokens=False)["input_ids"]
    assert len(tokens) <= model.max_tokens - 2
    # what is stored is what is embedded: the cut text gives the same vector as the long one
    cut_texts, (vector,), _ = Embedder(model, VectorCache(10)).embed([long])
    assert cut_texts == [cut]
    assert np.allclose(vector, model.encode([long])[0], atol=1e-4)
    assert model.truncate(["short text"]) == ["short text"]


def test_similar_spans_are_close(model):
    a, b, c = model.encode(
        [
            "payment-service: client span charge card; error: provider timeout; slow: 2–5 s",
            "payment-service: server span POST /payments; error: payment provider timed out; slow: 2–5 s",
            "inventory-service: server span POST /reserve; error: sold out; status code 409 Conflict",
        ]
    )
    assert float(a @ b) > float(a @ c) + 0.1
