"""recall@10 of the HNSW (vector_similarity) search against the exact one, on 200k enriched spans.

Data: 200k spans in otel.otel_traces_enriched over the last 50 minutes, with ~1,500 distinct span texts (8
services × operations × outcomes × routes × duration buckets, as the enricher writes them) embedded with the
real MiniLM model; a skewed spread (a few texts very common, most rare), like a drop. The part is merged so
the index covers it.

For each of 20 questions:
- spans: the index's 10 nearest spans (`ORDER BY cosineDistance LIMIT 10`, the rewrite) against the exact 10
  (`use_skip_indexes = 0`); copies of one text tie, so a returned span is a hit when its exact distance is
  within the exact 10th (+1e-6).
- kinds: semantic_search's 10 kinds (the tool, whichever path it takes) against the exact ranking of all
  kinds.
- narrow filter (one rare service): the index with the filter applied after it (ClickHouse's default post-
  filter) against exact, and the tool (which takes the exact path for filters).

Floor: 0.95 for the tool's kinds, with and without a filter.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from local_stack.launch import Launcher
from trace_agent import queries
from trace_agent.db import Database
from trace_agent.embedding import _model, default_model_path, embed
from trace_agent.settings import Settings
from trace_agent.timewindow import resolve_window, utcnow
from trace_agent.tools import ToolContext, execute

SERVICES = {
    "frontend": ["GET /launch/{sku}", "GET /", "GET /product/{sku}"],
    "waiting-room": ["POST /entries", "GET /waiting-room", "admit batch"],
    "inventory": ["SELECT inventory", "reserve stock", "release stock"],
    "checkout": ["POST /checkout", "GET /cart", "apply promo"],
    "payment": ["POST /payments/authorize", "charge card", "refund"],
    "notification": ["send push", "send email"],
    "fulfillment": ["ship order", "allocate warehouse"],
    "bot-shield": ["score request"],  # the rare one: the narrow-filter case
}
OUTCOMES = ["ok", "error: upstream timeout", "error: card declined", "error: sold out",
            "error: rate limited by bot detection", "error: connection reset"]  # fmt: skip
ROUTES = ["", "; route /api/v1", "; route /api/v2", "; peer redis", "; peer postgres"]
BUCKETS = ["under 10 ms", "10 to 100 ms", "100 ms to 1 s", "over 1 s", "over 5 s"]
QUESTIONS = [
    "payment provider timed out", "card payments declined", "sold out sneakers", "bots blocked",
    "slow database query for inventory", "push notification failed", "checkout errors", "waiting room queue",
    "redis connection reset", "orders shipped late", "promo code applied", "refund issued", "login page",
    "rate limit exceeded", "launch page rendered slowly", "stock reservation failed", "email sent",
    "warehouse allocation slow", "authorization requests over five seconds", "request scored as a bot",
]  # fmt: skip
COLUMNS = ["Timestamp", "TraceId", "SpanId", "ServiceName", "SpanName", "StatusCode", "EmbeddingText",
           "Embedding", "EmbeddingModel", "SourceInsertedAt"]  # fmt: skip


def texts() -> list[tuple[str, str, str, str]]:
    """(service, span name, outcome, text): every combination, two in three kept (~2,000)."""
    combos = [
        (service, name, outcome, f"{service}: {name}; {outcome}{route}; {bucket}")
        for service, names in SERVICES.items()
        for name in names
        for outcome in OUTCOMES
        for route in ROUTES
        for bucket in BUCKETS
    ]
    return [c for i, c in enumerate(combos) if i % 3]


def generate(client, spans: int) -> tuple[list[str], np.ndarray]:
    kinds = texts()
    started = time.perf_counter()
    model = _model(default_model_path())
    vectors = model.encode([k[3] for k in kinds], batch_size=64, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)  # fmt: skip
    print(f"embedded {len(kinds)} distinct texts in {time.perf_counter() - started:.1f} s", flush=True)
    client.command("CREATE TABLE IF NOT EXISTS default.bench_kinds (n UInt32, Service String, Name String, "
                   "Status String, Text String, Vec Array(Float32)) ENGINE = Memory")  # fmt: skip
    client.insert(
        "default.bench_kinds",
        [[i, k[0], k[1], "Ok" if k[2] == "ok" else "Error", k[3], v.tolist()] for i, (k, v) in
         enumerate(zip(kinds, vectors, strict=True))],
        column_names=["n", "Service", "Name", "Status", "Text", "Vec"],
    )  # fmt: skip
    started = time.perf_counter()
    # skewed: kind = floor(K * u^3), u uniform — the first kinds are common, the tail rare
    client.command(f"""
INSERT INTO otel.otel_traces_enriched ({", ".join(COLUMNS)})
SELECT now64(9) - toIntervalMillisecond(h % 3000000), lower(hex(MD5(toString(number)))),
       substring(lower(hex(MD5(toString(number + 1)))), 1, 16), k.Service, k.Name, k.Status, k.Text, k.Vec,
       'all-MiniLM-L6-v2', now64(6)
FROM (SELECT number, cityHash64(number) AS h,
             toUInt32(floor({len(kinds)} * pow((h % 1000003) / 1000003, 3))) AS kind
      FROM numbers({int(spans)})) AS s
INNER JOIN default.bench_kinds AS k ON k.n = s.kind
SETTINGS materialize_skip_indexes_on_insert = 0""")
    client.command("OPTIMIZE TABLE otel.otel_traces_enriched FINAL")
    print(f"inserted {spans:,} enriched spans and built the index in {time.perf_counter() - started:.1f} s",
          flush=True)  # fmt: skip
    return [k[3] for k in kinds], vectors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vector-recall-") as tmp:
        stack = Launcher(Path(tmp) / "data").start()
        try:
            writer = stack.client()
            names, vectors = generate(writer, args.spans)
            by_text = dict(zip(names, vectors, strict=True))
            settings = Settings(_env_file=None, clickhouse_host=stack.host,
                                clickhouse_port=stack.clickhouse_port, clickhouse_user="agent",
                                anthropic_api_key="unused")  # fmt: skip
            db = Database(settings)
            frozen = utcnow()
            ctx = ToolContext(db, settings, now=lambda: frozen)
            window = resolve_window("1h", None, None, default="1h", now=frozen)
            table = settings.enriched_table
            span_recall, kind_recall, post_recall, narrow_recall, paths = [], [], [], [], []
            index_ms, exact_ms = [], []
            for question in QUESTIONS:
                q = np.asarray(embed(question), dtype=np.float32)
                vector_sql = queries.vector_literal(q.tolist())
                exact_of = {t: float(1 - np.dot(v, q)) for t, v in by_text.items()}
                sql, params = queries.nearest_spans(table, window, vector_sql, None, 10)
                started = time.perf_counter()
                indexed = writer.query(sql, parameters=params).result_rows
                index_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                exact = writer.query(sql + "\nSETTINGS use_skip_indexes = 0", parameters=params).result_rows
                exact_ms.append((time.perf_counter() - started) * 1000)
                tenth = max(exact_of[t] for t, _ in exact)
                span_recall.append(sum(exact_of[t] <= tenth + 1e-6 for t, _ in indexed) / 10)

                truth = writer.query(
                    *queries.semantic_kinds(table, window, vector_sql, None, None, None, 10, 1)
                )
                want = {r[0] for r in truth.result_rows[:10]}
                tool = execute(ctx, "semantic_search", {"query": question, "limit": 10})
                paths.append(tool.extra["search"].split()[0])
                kind_recall.append(len(want & {r[0] for r in tool.rows}) / len(want))

                where, fparams = queries.window_filter(window)
                naive = writer.query(
                    f"SELECT EmbeddingText FROM {table} WHERE {where} AND ServiceName = 'bot-shield' "
                    f"ORDER BY cosineDistance(Embedding, {vector_sql}) LIMIT 10", parameters=fparams
                ).result_rows  # fmt: skip
                narrow_truth = writer.query(
                    f"SELECT EmbeddingText, cosineDistance(Embedding, {vector_sql}) AS d FROM {table} "
                    f"WHERE {where} AND ServiceName = 'bot-shield' ORDER BY d LIMIT 10 "
                    "SETTINGS use_skip_indexes = 0", parameters=fparams
                ).result_rows  # fmt: skip
                tenth = max((d for _, d in narrow_truth), default=0.0)
                post_recall.append(
                    sum(exact_of[t] <= tenth + 1e-6 for (t,) in naive) / max(len(narrow_truth), 1)
                )
                narrow_want = writer.query(*queries.semantic_kinds(
                    table, window, vector_sql, "bot-shield", None, None, 10, 1)).result_rows  # fmt: skip
                narrow_tool = execute(ctx, "semantic_search",
                                      {"query": question, "service": "bot-shield", "limit": 10})  # fmt: skip
                want = {r[0] for r in narrow_want[:10]}
                narrow_recall.append(len(want & {r[0] for r in narrow_tool.rows}) / max(len(want), 1))
            db.close()
            writer.close()
        finally:
            stack.stop()

    mean = statistics.mean
    print(
        f"spans recall@10 (HNSW vs exact, ties counted): mean {mean(span_recall):.3f} "
        f"min {min(span_recall):.2f}"
    )
    print(f"  index p50 {statistics.median(index_ms):.1f} ms, exact p50 {statistics.median(exact_ms):.1f} ms")
    print(f"kinds recall@10 (semantic_search vs exact kinds): mean {mean(kind_recall):.3f} "
          f"min {min(kind_recall):.2f}; paths {dict((p, paths.count(p)) for p in set(paths))}")  # fmt: skip
    print(f"narrow filter (service bot-shield): index + post-filter {mean(post_recall):.3f}, "
          f"semantic_search (exact path) {mean(narrow_recall):.3f}")  # fmt: skip
    print(
        f"RESULT spans={args.spans} kinds={len(names)} queries={len(QUESTIONS)} "
        f"span_recall10={mean(span_recall):.3f} tool_recall10={mean(kind_recall):.3f} "
        f"narrow_postfilter_recall10={mean(post_recall):.3f} narrow_tool_recall10={mean(narrow_recall):.3f} "
        f"ratio={min(mean(kind_recall), mean(narrow_recall)):.3f}"  # the recall the floor (0.95) names
    )
    return 0 if min(mean(kind_recall), mean(narrow_recall)) >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
