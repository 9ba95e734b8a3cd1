"""The whole pipeline live (generator → OTLP receiver → S3 + default tables → loader → enricher), then each
stage alone on the same data, in one run. Floor (issue 8): no stage falls behind for good at the default
DROP_LIVE rate — the enrichment lag returns under 30 s within one POST_DROP phase.

- live: a fresh local stack (receiver included), the loader and the enricher as processes with their default
  settings, and once both are up (the enricher's model loaded), one generator cycle with its defaults
  (`--time-scale` compresses it for a quick look). Every second the spans the receiver has accepted (its
  `/status`: the generator's exports as they happen), and the counts of otel.otel_traces (loaded) and
  otel.otel_traces_enriched (enriched) are sampled. The lag at time t is the age of the oldest span not yet
  enriched, counted from its export: with E(t) spans enriched, it is t minus the moment the accepted count
  first exceeded E(t) (every stage works in arrival order, so the counts are FIFO queues). Phase boundaries
  come from the generator's own `phase=…` log lines.
- end-to-end spans/s: the spans that ended during DROP_LIVE over the time from DROP_LIVE's start until the
  last of them was enriched.
- alone, on the data of the live run: the loader (`--once`, bookkeeping and otel tables emptied first), the
  enricher (`--once`, cold: its tables empty), the receiver (the S3 trace files replayed as OTLP/HTTP protobuf
  by 4 clients), and the generator flat out into the receiver for 20 s. A stage's rate is rows over the time
  from its first to its last row (process and model start-up excluded).
- issue 17's figures: peak lag during DROP_LIVE (floor ≤ 5 s at time-scale 1, ≤ 15 s at 10); recovery5 =
  seconds from the end of DROP_LIVE until the lag stays under 5 s up to POST_DROP's end (floor at time-scale
  10: within POST_DROP, i.e. finite);
  idle lag = the 90th percentile of the lag sampled during PRE_DROP once the first span is enriched (floor
  ≤ 2 s at 1); keeps_up = 1 when the peak lag is ≤ 15 s and recovery5 ≤ POST_DROP.
- RESULT: ratio = seconds from the end of DROP_LIVE until the lag is back under 30 s, over the POST_DROP
  duration (floor: ≤ 1.0, lower is better); bound = the slowest stage alone; e2e_vs_input = end-to-end over
  DROP_LIVE input spans/s. `--live-only` skips the stages alone (bound=none).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import re
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from local_stack.collector.payload import Signal, decode_json
from local_stack.launch import Child, Launcher

LAG_FLOOR_S = 30.0
RECOVERED_UNDER_S = 5.0  # issue 17: the lag is "back" once it stays under this
KEEPS_UP_PEAK_S = 15.0  # issue 17's floor at time-scale 10
COUNTS = "SELECT (SELECT count() FROM otel.otel_traces), (SELECT count() FROM otel.otel_traces_enriched)"
PHASE = re.compile(r"phase=(PRE_DROP|DROP_LIVE|POST_DROP)\b")


@dataclass
class Sample:
    t: float  # wall clock, seconds since the epoch (the spans' timestamps are wall clock too)
    received: int  # spans the receiver accepted (exported by the generator)
    loaded: int
    enriched: int


@dataclass
class LiveRun:
    samples: list[Sample] = field(default_factory=list)
    phase_end: dict[str, float] = field(default_factory=dict)  # phase → wall-clock time it ended
    started: float = field(default_factory=time.time)

    def lag_at(self, index: int, column: str = "enriched") -> float:
        """Age at samples[index] of the oldest accepted span not yet in `column` (0 when none waits)."""
        now = self.samples[index]
        done = getattr(now, column)
        if done >= now.received:
            return 0.0
        arrived = next(s.t for s in self.samples[: index + 1] if s.received > done)
        return now.t - arrived


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def accepted_spans(stack: Launcher) -> int:
    with urllib.request.urlopen(f"{stack.otlp.http_url}/status", timeout=30) as answer:
        traces = orjson.loads(answer.read())["signals"]["traces"]
    return traces["received"] - traces["rejected"]


def run_live(stack: Launcher, time_scale: float, settle_s: float) -> LiveRun:
    client = stack.client()
    loader = stack.service("s3_loader")
    enricher = stack.service("enricher")
    # the drop starts once both services are up (the enricher's model loaded), as in a deployed stack: at
    # time-scale 10 the whole PRE_DROP lasts less than the model's load on a busy machine
    loader.wait_for_log("loading s3://")
    enricher.wait_for_log("enricher started")
    run = LiveRun()
    generator = stack.service("snkrs_generator", "--once", "--time-scale", str(time_scale))

    def follow() -> None:
        for line in generator.follow():
            match = PHASE.search(line)
            if match:
                run.phase_end[match[1]] = time.time()
                _log(f"generator: {line.strip()[:160]}")

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    settle_deadline: float | None = None
    try:
        while True:
            received = accepted_spans(stack)
            loaded, enriched = client.query(COUNTS).result_rows[0]
            run.samples.append(Sample(time.time(), received, loaded, enriched))
            if len(run.samples) % 15 == 0:
                _log(f"received={received} loaded={loaded} enriched={enriched}")
            if generator.returncode is not None and settle_deadline is None:
                settle_deadline = time.monotonic() + settle_s
            caught_up = received > 0 and received == loaded == enriched
            if settle_deadline and (caught_up or time.monotonic() > settle_deadline):
                break
            time.sleep(1.0)
    finally:
        generator.stop(60)
        reader.join(timeout=10)
        stack.stop_services()
        client.close()
    if generator.returncode != 0:
        raise SystemExit(f"the generator failed ({generator.returncode}); see {generator.log_path}")
    return run


def _rate_while(stack: Launcher, process: Child, sql: str, expected: int, timeout: float) -> float:
    """Rows/s of `sql`'s count from its first row to `expected` rows (start-up excluded)."""
    client = stack.client()
    first: tuple[float, int] | None = None
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            count = client.command(sql)
            now = time.monotonic()
            if count and first is None:
                first = (now, count)
            if count >= expected:
                break
            if process.failed:
                raise SystemExit(f"{process.name} failed with {process.returncode}\n{process.tail()}")
            time.sleep(0.2)
        else:
            raise SystemExit(f"{process.name}: {count} of {expected} rows after {timeout:.0f} s")
    finally:
        client.close()
    assert first is not None
    elapsed = max(now - first[0], 0.2)
    return (count - first[1]) / elapsed if count > first[1] else count / elapsed


def loader_alone(stack: Launcher, spans: int) -> float:
    client = stack.client()
    for (name,) in client.query(
        "SELECT name FROM system.tables WHERE database = 'otel' AND engine LIKE '%MergeTree%'"
    ).result_rows:
        client.command(f"TRUNCATE TABLE otel.`{name}`")
    client.close()
    process = stack.service("s3_loader", "--once")
    rate = _rate_while(stack, process, "SELECT count() FROM otel.otel_traces", spans, 600)
    process.wait(timeout=120)
    return rate


def enricher_alone(stack: Launcher, spans: int) -> float:
    process = stack.service("enricher", "--once")
    rate = _rate_while(stack, process, "SELECT count() FROM otel.otel_traces_enriched", spans, 1200)
    process.wait(timeout=120)
    return rate


def receiver_alone(stack: Launcher) -> tuple[float, int]:
    s3 = stack.s3()
    bodies: list[bytes] = []
    spans = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="otel/"):
        for obj in page.get("Contents", []):
            if "/traces_" in obj["Key"]:
                raw = s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read()
                request = decode_json(Signal.TRACES, raw)
                spans += sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
                bodies.append(request.SerializeToString())
    client = stack.client()
    before = client.command("SELECT count() FROM default.otel_traces")

    def post(body: bytes) -> None:
        request = urllib.request.Request(
            f"{stack.otlp.http_url}/v1/traces", data=body, headers={"Content-Type": "application/x-protobuf"}
        )
        urllib.request.urlopen(request, timeout=120).read()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(post, bodies))
    while client.command("SELECT count() FROM default.otel_traces") < before + spans:
        time.sleep(0.1)
    elapsed = time.monotonic() - started
    client.close()
    return spans / elapsed, spans


def generator_alone(stack: Launcher, seconds: float) -> float:
    process = stack.service("snkrs_generator", "--flat-out", "--duration", str(seconds))
    process.wait(timeout=seconds + 120)
    finished = re.findall(r"run finished: seconds=([\d.]+) spans=(\d+)", process.log())
    if process.returncode != 0 or not finished:
        raise SystemExit(f"the flat-out generator run failed; see {process.log_path}")
    duration, spans = finished[-1]
    return int(spans) / float(duration)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--time-scale", type=float, default=1.0, help="generator time scale (1 = real time)")
    parser.add_argument("--settle", type=float, default=180.0, help="max seconds to wait after the generator")
    parser.add_argument("--flat-out-seconds", type=float, default=20.0)
    parser.add_argument("--live-only", action="store_true", help="skip each stage alone (no bound)")
    args = parser.parse_args()

    log_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))  # kept: the services' logs are worth a look
    with Launcher(log_dir / "data") as stack:
        _log(f"local stack up (logs in {log_dir}); live: one drop cycle, time-scale {args.time_scale:g}")
        live = run_live(stack, args.time_scale, args.settle)
        spans = live.samples[-1].received
        if args.live_only:
            report(live, args.time_scale, 0.0, 0.0, 0.0, 0.0)
            return
        _log(f"live run done: {spans} spans; now each stage alone on the same data")
        loader_rate = loader_alone(stack, spans)
        _log(f"loader alone: {loader_rate:,.0f} spans/s")
        enricher_rate = enricher_alone(stack, spans)
        _log(f"enricher alone: {enricher_rate:,.0f} spans/s")
        receiver_rate, replayed = receiver_alone(stack)
        _log(f"receiver alone: {receiver_rate:,.0f} spans/s ({replayed} spans replayed)")
        generator_rate = generator_alone(stack, args.flat_out_seconds)
        _log(f"generator flat out: {generator_rate:,.0f} spans/s")
    report(live, args.time_scale, loader_rate, enricher_rate, receiver_rate, generator_rate)


def _recovery(samples: list[Sample], lags: list[float], after: float, under: float, until: float) -> float:
    """Seconds from `after` until the lag stays under `under` up to `until` (the cycle's end; what the
    generator flushes as it exits comes later); inf when it is not under by then."""
    inside = [i for i, s in enumerate(samples) if after <= s.t <= until]
    for n, i in enumerate(inside):
        if all(lags[j] < under for j in inside[n:]):
            return samples[i].t - after
    return float("inf")


def _window_rate(samples: list[Sample], column: str, start: float, end: float) -> float:
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2:
        return 0.0
    return (getattr(inside[-1], column) - getattr(inside[0], column)) / max(inside[-1].t - inside[0].t, 1e-9)


def _peak_rate(samples: list[Sample], column: str, window: float = 10.0) -> float:
    return max((_window_rate(samples, column, s.t, s.t + window) for s in samples), default=0.0)


def report(
    live: LiveRun, time_scale: float, loader: float, enricher: float, receiver: float, gen: float
) -> None:
    samples = live.samples
    drop_start = live.phase_end.get("PRE_DROP", samples[0].t)
    drop_end = live.phase_end.get("DROP_LIVE", samples[-1].t)
    post_end = live.phase_end.get("POST_DROP", samples[-1].t)
    post_drop_s = post_end - drop_end
    lags = [live.lag_at(i) for i in range(len(samples))]
    loader_lags = [live.lag_at(i, "loaded") for i in range(len(samples))]
    in_drop = [i for i, s in enumerate(samples) if drop_start <= s.t <= drop_end]
    peak_lag = max((lags[i] for i in in_drop), default=0.0)
    peak_loader_lag = max((loader_lags[i] for i in in_drop), default=0.0)
    # the first moment after DROP_LIVE from which the lag stays under the floor
    recovered_at = None
    for i, s in enumerate(samples):
        if s.t >= drop_end and all(lag < LAG_FLOOR_S for lag in lags[i:]):
            recovered_at = s.t
            break
    recovery_s = (recovered_at - drop_end) if recovered_at is not None else float("inf")
    recovery5_s = _recovery(samples, lags, drop_end, RECOVERED_UNDER_S, until=post_end)
    first_enriched = next((s.t for s in samples if s.enriched > 0), drop_start)
    idle = sorted(lags[i] for i, s in enumerate(samples) if first_enriched <= s.t <= drop_start)
    idle_lag = idle[min(len(idle) - 1, int(0.9 * len(idle)))] if idle else float("nan")
    keeps_up = peak_lag <= KEEPS_UP_PEAK_S and recovery5_s <= post_drop_s
    lag_end_post = lags[min(range(len(samples)), key=lambda i: abs(samples[i].t - post_end))]
    ratio = recovery_s / post_drop_s if post_drop_s > 0 else float("inf")

    def accepted_at(when: float) -> int:
        return max((s.received for s in samples if s.t <= when), default=0)

    through_drop = accepted_at(drop_end)
    drop_spans = through_drop - accepted_at(drop_start)
    done_at = next((s.t for s in samples if s.enriched >= through_drop), samples[-1].t)
    e2e = drop_spans / max(done_at - drop_start, 1e-9)
    input_drop = drop_spans / max(drop_end - drop_start, 1e-9)
    e2e_peak = _peak_rate(samples, "enriched")
    stages = {"receiver": receiver, "loader": loader, "enricher": enricher}
    bound = min(stages, key=stages.get) if any(stages.values()) else "none"

    print()
    last = samples[-1]
    print(f"live cycle at time-scale {time_scale:g}: {last.received} spans, {last.enriched} enriched")
    drop_s = drop_end - drop_start
    print(f"  DROP_LIVE input        {input_drop:10,.0f} spans/s  ({drop_spans} spans in {drop_s:.0f} s)")
    print(f"  end-to-end             {e2e:10,.0f} spans/s  (DROP_LIVE's spans, exported → enriched)")
    print(f"  enriched, best 10 s    {e2e_peak:10,.0f} spans/s")
    print(
        f"  peak lag in DROP_LIVE  {peak_lag:10.1f} s   (to otel.otel_traces alone: {peak_loader_lag:.1f} s)"
    )
    print(
        f"  back under {LAG_FLOOR_S:.0f} s after   {recovery_s:10.1f} s   of a {post_drop_s:.0f} s POST_DROP"
    )
    print(
        f"  back under {RECOVERED_UNDER_S:.0f} s after    {recovery5_s:10.1f} s   "
        f"(keeps up: {'yes' if keeps_up else 'no'}: peak ≤ {KEEPS_UP_PEAK_S:.0f} s, "
        "back under 5 s in POST_DROP)"
    )
    print(f"  lag at POST_DROP's end {lag_end_post:10.1f} s")
    print(f"  idle lag (PRE_DROP p90) {idle_lag:9.1f} s")
    print("each stage alone on the same data:")
    for name, rate in (("generator (flat out)", gen), *stages.items()):
        headroom = f"{rate / input_drop:6.1f}× the DROP_LIVE input" if input_drop else ""
        print(f"  {name:<22} {rate:10,.0f} spans/s  {headroom}")
    print(f"the pipeline is bounded by the {bound}")
    print(
        f"RESULT time_scale={time_scale:g} e2e_spans_s={e2e:.0f} drop_live_input_spans_s={input_drop:.0f} "
        f"e2e_vs_input={e2e / input_drop if input_drop else 0.0:.2f} peak_lag_s={peak_lag:.1f} "
        f"recovery5_s={recovery5_s:.1f} idle_lag_s={idle_lag:.1f} keeps_up={int(keeps_up)} "
        f"load_avg={os.getloadavg()[0]:.1f} "
        f"lag_end_post_drop_s={lag_end_post:.1f} recovery_s={recovery_s:.1f} post_drop_s={post_drop_s:.0f} "
        f"receiver_spans_s={receiver:.0f} loader_spans_s={loader:.0f} enricher_spans_s={enricher:.0f} "
        f"generator_flat_out_spans_s={gen:.0f} bound={bound} ratio={ratio:.2f}"
    )


if __name__ == "__main__":
    main()
