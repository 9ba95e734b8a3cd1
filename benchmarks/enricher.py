"""The embedding enricher against the raw MiniLM model, on real generator spans, in the same run.
Floors (issue 17, raised from issue 5): enricher spans/s ≥ 20× the raw model's texts/s on the distinct texts
of generator data, and ≥ 0.95× the raw model when every span has a text of its own.

- spans: `snkrs_generator.run` (compressed drop cycles) with an injected span exporter that encodes each
  export batch to OTLP protobuf (the SDK's own encoder), turns it into the collector's OTLP JSON
  (`local_stack.collector.otlp_json`) and into rows (`otlp_rows`, the loader's converter); rows are inserted
  into otel.otel_traces of a fresh local stack in loader-sized chunks.
- enricher: `Enricher.catch_up()` in this process with default settings and a cold cache: read pending spans,
  build texts, embed, write otel.otel_traces_enriched, record progress (model loading not timed).
- raw model: `Model.encode` on the distinct texts the enricher produces (what the model must embed at the
  least), right before and right after the enricher (once the enriched table's merges have settled); the
  faster of the two counts, so the ratio is the conservative one.
- all distinct: a sample of the generator spans, each renamed so its text is unique, in rounds: each round
  inserts its spans, then runs the enricher (cold cache) and the raw model on the same texts, alternating
  which goes first; the median of the paired ratios counts (this machine's load changes by the minute).
"""

from __future__ import annotations

import argparse
import itertools
import logging
import random
import signal
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

from enricher.embedder import Embedder, Model, VectorCache
from enricher.pipeline import Enricher
from enricher.settings import DEFAULT_MODEL_NAME, Settings, default_model_path
from enricher.span_text import SpanFields, span_text
from enricher.store import Store
from local_stack.collector.otlp_json import traces_to_json
from local_stack.launch import Launcher
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from otlp_rows import TRACE_COLUMNS, trace_rows
from snkrs_generator import Exporters, run
from snkrs_generator import Settings as GeneratorSettings


class RowsExporter(SpanExporter):
    """Generator spans → OTLP protobuf → the collector's OTLP JSON → the loader's rows."""

    def __init__(self) -> None:
        self.rows: list[list] = []

    def export(self, spans) -> SpanExportResult:
        self.rows.extend(trace_rows(traces_to_json(encode_spans(spans))))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def generator_rows(target: int, seed: int, time_scale: float) -> list[list]:
    """Rows of at least `target` spans from compressed drop cycles."""
    exporter = RowsExporter()
    cycles = 0
    while len(exporter.rows) < target:
        settings = GeneratorSettings(_env_file=None, seed=seed + cycles, cycles=1, time_scale=time_scale)
        run(settings, Exporters(spans=exporter))  # logs and metrics are discarded
        cycles += 1
        print(f"generator: {cycles} drop cycle(s), {len(exporter.rows):,} spans", flush=True)
    return exporter.rows


def insert(client, rows: list[list], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        client.insert("otel.otel_traces", rows[start : start + chunk], column_names=list(TRACE_COLUMNS))


def unique_words():
    for size in itertools.count(3):
        for letters in itertools.product(string.ascii_lowercase, repeat=size):
            yield "".join(letters)


def raw_rate(model: Model, texts: list[str]) -> float:
    started = time.perf_counter()
    model.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def make_enricher(stack, model: Model, **overrides) -> Enricher:
    """An enricher as the service runs it: started once, connected before anything is timed."""
    settings = Settings(
        CLICKHOUSE_HOST=stack.host, CLICKHOUSE_PORT=stack.clickhouse_port, CLICKHOUSE_USER="default",
        CLICKHOUSE_PASSWORD="", **overrides,
    )  # fmt: skip
    store = Store(settings)
    store.watermark(settings.name)  # connects
    return Enricher(settings, store, Embedder(model, VectorCache(settings.cache_size)), DEFAULT_MODEL_NAME)


def enrich(enricher: Enricher) -> float:
    """One catch-up pass; spans/s end to end (read, text, embed, write, record progress)."""
    result = enricher.catch_up()
    return result.spans / result.seconds


def settle(client, timeout: float = 60.0) -> None:
    """Wait for the background merges of the enriched table (they build its HNSW index) to finish, so they
    don't eat into the raw model's measurement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        merging = client.query(
            "SELECT count() FROM system.merges WHERE database = 'otel' AND table = 'otel_traces_enriched'"
        ).result_rows[0][0]
        if not merging:
            return
        time.sleep(0.5)


def expected_texts(model: Model, rows: list[list]) -> list[str]:
    """The distinct texts of `rows` as the enricher builds them (span_text is pure), cut as the model cuts."""
    at = {name: TRACE_COLUMNS.index(name) for name in TRACE_COLUMNS}
    texts = {
        span_text(
            SpanFields(
                service=row[at["ServiceName"]],
                name=row[at["SpanName"]],
                kind=row[at["SpanKind"]],
                status_code=row[at["StatusCode"]],
                status_message=row[at["StatusMessage"]],
                duration_ns=row[at["Duration"]],
                attributes=row[at["SpanAttributes"]],
                events=list(zip(row[at["Events.Name"]], row[at["Events.Attributes"]], strict=False)),
            )
        )
        for row in rows
    }
    return sorted(set(model.truncate(sorted(texts))))


def nearest(client, model: Model, question: str, k: int = 3) -> list[tuple]:
    """The k distinct texts closest to a question."""
    (vector,) = model.encode([question])
    return client.query(
        "SELECT ServiceName, EmbeddingText, min(cosineDistance(Embedding, {q:Array(Float32)})) AS d "
        "FROM otel.otel_traces_enriched GROUP BY ServiceName, EmbeddingText ORDER BY d LIMIT {k:UInt32}",
        parameters={"q": [float(x) for x in vector], "k": k},
    ).result_rows


def distinct_texts(client) -> list[str]:
    return [
        r[0] for r in client.query("SELECT DISTINCT EmbeddingText FROM otel.otel_traces_enriched").result_rows
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50_000, help="generator spans to enrich (at least)")
    parser.add_argument("--distinct", type=int, default=1200, help="spans in the all-distinct comparison")
    parser.add_argument("--rounds", type=int, default=6, help="paired rounds of the all-distinct comparison")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-scale", type=float, default=10.0, help="drop cycle compression")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the local stack on the way out
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    rows = generator_rows(args.spans, args.seed, args.time_scale)
    model = Model(default_model_path())
    model.encode(["warm-up: api-gateway server span GET /feed; ok"] * 8)
    with tempfile.TemporaryDirectory() as tmp:
        stack = Launcher(Path(tmp) / "data").start()
        try:
            client = stack.client()
            insert(client, rows)
            print(f"loaded {len(rows):,} generator spans into otel.otel_traces", flush=True)

            # --- generator data: the enricher vs the raw model on the distinct texts ---
            texts = expected_texts(model, rows)
            raw_before = raw_rate(model, texts)
            enricher = make_enricher(stack, model)
            spans_per_s = enrich(enricher)
            settle(client)
            raw_after = raw_rate(model, texts)
            raw = max(raw_before, raw_after)  # the model at its best: the conservative ratio
            stats = enricher.total
            enriched = client.query(
                "SELECT count(), uniqExact(TraceId, SpanId) FROM otel.otel_traces_enriched"
            )
            count, unique = enriched.result_rows[0]
            assert count == unique == len(rows), f"enriched {count} rows ({unique} distinct) of {len(rows)}"
            assert set(distinct_texts(client)) == set(texts), "the enricher's texts differ from span_text's"
            ratio = spans_per_s / raw
            print(
                f"generator data: {len(rows):,} spans, {len(texts)} distinct texts; "
                f"raw model {raw:.1f} texts/s (before {raw_before:.1f}, after {raw_after:.1f}); "
                f"enricher {spans_per_s:.0f} spans/s; "
                f"cache hit rate {stats.cache_hits / stats.distinct:.1%} of distinct texts per batch, "
                f"{stats.reuse_rate:.2%} of spans needed no model run; ratio {ratio:.1f}x (floor 20x)",
                flush=True,
            )

            for question in ("payment provider timeout", "sold out"):
                print(f"nearest spans to {question!r}:", flush=True)
                for service, text, distance in nearest(client, model, question):
                    print(f"  {distance:.3f} {service}: {text[:150]}", flush=True)

            # --- all distinct: every span its own text, in rounds that alternate which side goes first ---
            client.command("TRUNCATE TABLE otel.otel_traces")
            client.command("TRUNCATE TABLE otel.otel_traces_enriched")
            client.command("TRUNCATE TABLE otel.enrichment_state")
            sample = random.Random(args.seed).sample(rows, args.distinct)
            name_at = TRACE_COLUMNS.index("SpanName")
            for row, word in zip(sample, unique_words(), strict=False):
                row[name_at] = f"{row[name_at]} {word}"
            per_round = args.distinct // args.rounds
            settle(client)  # the first part's merges are still building its index
            cold = make_enricher(stack, model, cache_size=0)  # no cache: every text goes through the model
            pairs = []
            for n in range(args.rounds):
                chunk = sample[n * per_round : (n + 1) * per_round]
                insert(client, chunk)
                chunk_texts = expected_texts(model, chunk)
                assert len(chunk_texts) == len(chunk), "renamed spans must all have texts of their own"
                if n % 2:
                    enricher_rate = enrich(cold)
                    settle(client)
                    model_rate = raw_rate(model, chunk_texts)
                else:
                    model_rate = raw_rate(model, chunk_texts)
                    enricher_rate = enrich(cold)
                pairs.append((enricher_rate, model_rate))
                print(
                    f"all distinct, round {n + 1}/{args.rounds}: {len(chunk)} spans; "
                    f"raw model {model_rate:.1f} texts/s, enricher {enricher_rate:.1f} spans/s, "
                    f"ratio {enricher_rate / model_rate:.2f}",
                    flush=True,
                )
            assert len(distinct_texts(client)) == per_round * args.rounds
            distinct_ratio = statistics.median(e / r for e, r in pairs)
            distinct_spans_per_s = statistics.median(e for e, _ in pairs)
            raw_distinct = statistics.median(r for _, r in pairs)
            print(
                f"all distinct: {per_round * args.rounds} spans; median of the paired rounds: raw model "
                f"{raw_distinct:.1f} texts/s, enricher {distinct_spans_per_s:.1f} spans/s, ratio "
                f"{distinct_ratio:.2f}x (floor 0.95x)",
                flush=True,
            )
            hit_rate = stats.cache_hits / stats.distinct
            print(
                f"RESULT spans={len(rows)} distinct_texts={len(texts)} raw_texts_per_s={raw:.1f} "
                f"enricher_spans_per_s={spans_per_s:.0f} cache_hit_rate={hit_rate:.3f} "
                f"model_free_spans={stats.reuse_rate:.4f} distinct_raw_texts_per_s={raw_distinct:.1f} "
                f"distinct_enricher_spans_per_s={distinct_spans_per_s:.1f} "
                f"distinct_ratio={distinct_ratio:.2f} ratio={ratio:.1f}"
            )
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
