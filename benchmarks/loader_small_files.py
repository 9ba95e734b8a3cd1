"""The s3-loader alone on collector-sized files (issue 17): the default cycle's collector writes one small
file per 200 ms batch (~200 spans), where the loader's fixed cost per file, not its conversion speed, decides.
Floor: ≥ 5k spans/s on such files.

One run, one local stack, the same spans uploaded twice: as small files (`--spans-per-file`, 200) and as large
ones (8192, the s3_loader benchmark's size). Measured side by side, each `--repeat` times (best run counts),
every side starting from empty otel tables and bookkeeping:

- loader_small: `Loader.run_pass()` with its default settings over the small files.
- loader_small_sql: the same with `LOADER_SQL_MIN_BYTES=0` and `LOADER_CLICKHOUSE_READS_S3=false`, i.e. every
  plain document downloaded and converted by ClickHouse's SQL path (the routing before issue 17: the reference
  for what the routing buys).
- loader_large: the loader over the same spans as large files (its per-span speed, fixed costs amortised).
- native_small: ClickHouse's own `s3()` over the small files (benchmarks/s3_loader.py's query).

RESULT: ratio = loader_small / loader_large (how much of the loader's large-file speed survives on
collector-sized files); floor_ok = loader_small ≥ 5000 spans/s.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

from local_stack.collector.sending_queue import MIN_SIZE
from local_stack.launch import Launcher
from s3_loader.settings import LoaderSettings

from benchmarks.s3_loader import collector_file, loaded_spans, native_sql, reset_loaded, timed_pass

FLOOR_SPANS_S = 5000
LARGE_SPANS_PER_FILE = MIN_SIZE  # a full collector batch


def upload(stack: Launcher, prefix: str, spans: int, per_file: int) -> int:
    """spans split into files of per_file spans under prefix (the same seeds, so the same kind of data)."""
    s3 = stack.s3()
    files = max(1, -(-spans // per_file))

    def put(n: int) -> None:
        body = collector_file(min(per_file, spans - n * per_file), seed=n)
        s3.put_object(Bucket=stack.bucket, Key=f"{prefix}/traces_{n:09d}.json", Body=body)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(files)))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=40_000)
    parser.add_argument("--spans-per-file", type=int, default=200, help="one collector batch (200 ms)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with Launcher.temporary("bench-loader-small-") as stack:
        run(stack, args)


def run(stack: Launcher, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    small_files = upload(stack, "otel/small", args.spans, args.spans_per_file)
    large_files = upload(stack, "otel/large", args.spans, LARGE_SPANS_PER_FILE)
    print(f"uploaded {args.spans} spans as {small_files} small and {large_files} large files "
          f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    client = stack.client()

    def loader_side(prefix: str, **overrides: object) -> float:
        env = stack.env(S3_PREFIX=prefix)
        settings = LoaderSettings(
            _env_file=None, **{k: v for k, v in env.items() if k.isupper()}, **overrides
        )
        return timed_pass(settings, client, args.spans)

    def native_side(prefix: str) -> float:
        t0 = time.perf_counter()
        client.command(native_sql(f"{stack.ports.s3_url}/{stack.bucket}/{prefix}/traces_*.json"))
        seconds = time.perf_counter() - t0
        assert loaded_spans(client) == args.spans
        return seconds

    sides = {
        "loader_small": lambda: loader_side("otel/small"),
        "loader_small_sql": lambda: loader_side("otel/small", sql_min_bytes=0, clickhouse_reads_s3=False),
        "loader_large": lambda: loader_side("otel/large"),
        "native_small": lambda: native_side("otel/small"),
    }
    best: dict[str, float] = {}
    for attempt in range(1, args.repeat + 1):
        for name, side in sides.items():
            reset_loaded(client)
            seconds = side()
            best[name] = min(best.get(name, seconds), seconds)
            print(
                f"run {attempt}: {name:17s} {args.spans / seconds:8,.0f} spans/s ({seconds:.2f} s)",
                flush=True,
            )

    rate = {name: args.spans / seconds for name, seconds in best.items()}
    per_file_ms = best["loader_small"] / small_files * 1000
    print(
        f"RESULT spans={args.spans} spans_per_file={args.spans_per_file} files={small_files} "
        f"loader_small_spans_per_s={rate['loader_small']:.0f} ms_per_file={per_file_ms:.1f} "
        f"loader_small_sql_route_spans_per_s={rate['loader_small_sql']:.0f} "
        f"loader_large_spans_per_s={rate['loader_large']:.0f} "
        f"native_small_spans_per_s={rate['native_small']:.0f} "
        f"floor_ok={int(rate['loader_small'] >= FLOOR_SPANS_S)} load_avg={os.getloadavg()[0]:.1f} "
        f"ratio={rate['loader_small'] / rate['loader_large']:.2f}"
    )


if __name__ == "__main__":
    main()
