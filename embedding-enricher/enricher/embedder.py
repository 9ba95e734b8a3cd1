"""The model behind a cache: texts are cut to what the model reads, deduplicated, looked up by hash,
and only the unseen ones go through the model."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger("enricher")


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class VectorCache:
    """A bounded LRU map text hash → vector."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[bytes, np.ndarray] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: bytes) -> bool:  # a look that does not count as a use
        return key in self._items

    def get(self, key: bytes) -> np.ndarray | None:
        vector = self._items.get(key)
        if vector is not None:
            self._items.move_to_end(key)
        return vector

    def put(self, key: bytes, vector: np.ndarray) -> None:
        if self.capacity <= 0:
            return
        self._items[key] = vector
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)


@dataclass
class EmbedStats:
    texts: int = 0  # texts asked for (one per span)
    distinct: int = 0  # distinct texts among them
    cache_hits: int = 0  # distinct texts whose vector came from the cache
    embedded: int = 0  # distinct texts the model ran on

    def add(self, other: EmbedStats) -> None:
        self.texts += other.texts
        self.distinct += other.distinct
        self.cache_hits += other.cache_hits
        self.embedded += other.embedded

    @property
    def reuse_rate(self) -> float:
        """Share of texts that needed no model run (in-batch duplicates and cache hits)."""
        return 1 - self.embedded / self.texts if self.texts else 0.0


class Model:
    """A sentence-transformers model loaded from a local directory, never from a hub."""

    def __init__(self, path: str, batch_size: int = 64, threads: int = 0) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub, whatever the path says
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.disable_progress_bar()

        if threads > 0:
            torch.set_num_threads(threads)
        if not Path(path).is_dir():
            raise SystemExit(f"enricher: model directory {path} does not exist (ENRICHER_MODEL)")
        self.path = path
        self.batch_size = batch_size
        self._st = SentenceTransformer(path, device="cpu", local_files_only=True)
        dimension = getattr(self._st, "get_embedding_dimension", self._st.get_sentence_embedding_dimension)
        self.dimension = int(dimension() or 0)
        self.max_tokens = int(self._st.max_seq_length)
        self._tokenizer = self._st.tokenizer

    def truncate(self, texts: Sequence[str]) -> list[str]:
        """Each text cut to the prefix the model actually reads (max_seq_length minus [CLS] and [SEP])."""
        if not texts:
            return []
        limit = self.max_tokens - 2
        encoded = self._tokenizer(
            list(texts),
            add_special_tokens=False,
            truncation=True,
            max_length=limit,
            return_offsets_mapping=True,
        )
        out = []
        for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"], strict=True):
            out.append(text[: offsets[-1][1]].rstrip() if len(ids) >= limit and offsets else text)
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._st.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class Embedder:
    """texts → (the texts as embedded, one vector each), running the model once per unseen text."""

    def __init__(self, model: Model, cache: VectorCache) -> None:
        self.model = model
        self.cache = cache

    def warm(self, items: Iterable[tuple[str, Sequence[float]]]) -> int:
        loaded = 0
        for text, vector in items:
            self.cache.put(text_key(text), np.asarray(vector, dtype=np.float32))
            loaded += 1
        return loaded

    def plan(self, texts: Sequence[str], new_per_chunk: int) -> tuple[list[int], EmbedStats]:
        """Where to cut `texts` (in order) so that each chunk brings at most `new_per_chunk` texts the model
        has to run on (the chunks' end indices), and the stats `embed` would give for all of them at once."""
        distinct = list(dict.fromkeys(texts))
        cut = dict(zip(distinct, self.model.truncate(distinct), strict=True))
        seen: set[str] = set()
        ends: list[int] = []
        new = embedded = 0
        for index, text in enumerate(texts):
            final = cut[text]
            if final in seen:
                continue
            seen.add(final)
            if text_key(final) in self.cache:
                continue
            if new >= max(1, new_per_chunk):
                ends.append(index)
                new = 0
            new += 1
            embedded += 1
        ends.append(len(texts))
        stats = EmbedStats(len(texts), len(seen), len(seen) - embedded, embedded)
        return ends, stats

    def embed(self, texts: Sequence[str]) -> tuple[list[str], list[np.ndarray], EmbedStats]:
        distinct = list(dict.fromkeys(texts))
        cut = dict(zip(distinct, self.model.truncate(distinct), strict=True))
        vectors: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for text in dict.fromkeys(cut.values()):
            vector = self.cache.get(text_key(text))
            if vector is None:
                missing.append(text)
            else:
                vectors[text] = vector
        if missing:
            for text, vector in zip(missing, self.model.encode(missing), strict=True):
                vectors[text] = vector
                self.cache.put(text_key(text), vector)
        stats = EmbedStats(
            texts=len(texts),
            distinct=len(vectors),
            cache_hits=len(vectors) - len(missing),
            embedded=len(missing),
        )
        final = [cut[t] for t in texts]
        return final, [vectors[t] for t in final], stats
