"""The SNKRS generator flat-out vs a bare OpenTelemetry SDK loop, in the same run, both exporting OTLP/HTTP
to the same local sink (a thread of this process that decodes every request).

- generator: `snkrs_generator.run` with `flat_out` (no think time) over one compressed drop cycle: 11
  services, logs and metrics included, workers paced only by its export backlog.
- bare: one TracerProvider and a loop creating the same number of spans with the generator's span names,
  kinds and attribute sets (sampled from its own journeys), through the same exporter and processor sizes.
- the same bare loop with the SDK's default BatchSpanProcessor, to show what the default queue drops.
- a paced (not flat-out) compressed cycle for the DROP_LIVE vs PRE_DROP span rate.

- the flat-out cycle again with `--processes N` (default 2): the sink still runs in this process.

Floors (issue 3): generator/bare ≥ 0.7, drops 0, DROP_LIVE span rate ≥ 10× PRE_DROP's; (issue 17)
generator/bare ≥ 0.85, --processes 2 ≥ 1.6× one process.
"""

from __future__ import annotations

import argparse
import logging
import random
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from snkrs_generator import Exporters, Settings, run, run_processes
from snkrs_generator.drop import PHASES
from snkrs_generator.journeys import Journeys
from snkrs_generator.simulation import new_drop
from snkrs_generator.telemetry import Telemetry

from tests.support.otlp_sink import OtlpSink


def span_templates(settings: Settings, per_phase: int = 1500) -> list[tuple]:
    """(name, kind, attributes) of the generator's spans, in its phase mix, recorded in memory."""
    spans = InMemorySpanExporter()
    telemetry = Telemetry(settings, Exporters(spans, InMemoryLogRecordExporter()))
    state = new_drop(settings, 0)
    journeys = Journeys(settings, telemetry, state)
    rng = random.Random(settings.seed)
    weights = {"PRE_DROP": 1, "DROP_LIVE": 10, "POST_DROP": 1}
    for phase in PHASES:
        state.enter(phase)
        shopper = journeys.new_shopper(rng)
        for _ in range(per_phase * weights[phase.value] // 4):
            journeys.step(rng, shopper)
            if shopper.done:
                shopper = journeys.new_shopper(rng)
    telemetry.shutdown()
    return [(s.name, s.kind, dict(s.attributes)) for s in spans.get_finished_spans()]


def bare_loop(
    sink: OtlpSink, templates: list[tuple], count: int, settings: Settings | None
) -> tuple[float, int]:
    """Seconds until `count` spans are exported, and how many the SDK dropped (sink shortfall)."""
    before = sink.count("traces")
    exporter = OTLPSpanExporter(endpoint=f"{sink.endpoint}/v1/traces")
    if settings is None:
        processor = BatchSpanProcessor(exporter)  # the SDK defaults: 2048 queue, 512 batch, 5 s delay
    else:  # the generator's batch settings, and a queue that holds every span: the bare loop never drops
        processor = BatchSpanProcessor(
            exporter,
            max_queue_size=count + 1,
            schedule_delay_millis=settings.export_delay_ms,
            max_export_batch_size=settings.export_batch_size,
        )
    provider = TracerProvider(resource=Resource.create({"service.name": "bare-loop"}), shutdown_on_exit=False)
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bare-loop")
    started = time.perf_counter()
    now = time.time_ns()
    n = len(templates)
    for i in range(count):
        name, kind, attributes = templates[i % n]
        span = tracer.start_span(name, kind=kind, attributes=attributes, start_time=now)
        span.end(end_time=now + 1_000_000)
    provider.shutdown()
    seconds = time.perf_counter() - started
    return seconds, count - (sink.count("traces") - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--time-scale", type=float, default=10.0, help="compression of the flat-out cycle")
    parser.add_argument("--paced-time-scale", type=float, default=10.0, help="compression of the paced cycle")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--processes", type=int, default=2, help="processes of the multi-process run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("snkrs_generator").setLevel(logging.WARNING)

    with OtlpSink(keep=False) as sink:
        endpoint = sink.endpoint
        # a generous export timeout: the sink shares this process's GIL with 40 flat-out shoppers, and an
        # exporter timing out and re-sending a batch would count spans twice
        base = Settings(_env_file=None, seed=args.seed, cycles=1, otlp_endpoint=endpoint, export_timeout_s=30)

        print(f"paced cycle at time-scale {args.paced_time_scale:g} (phase span rates) ...", flush=True)
        paced = run(base.model_copy(update={"time_scale": args.paced_time_scale}))
        rates = {p.phase.value: p.span_rate for p in paced.phases}
        rate_ratio = rates["DROP_LIVE"] / rates["PRE_DROP"]
        for p in paced.phases:
            print(
                f"  {p.phase.value:9} {p.spans.emitted:7d} spans in {p.seconds:5.1f} s = {p.span_rate:7.0f}/s"
            )

        print(f"generator flat-out, one cycle at time-scale {args.time_scale:g} ...", flush=True)
        before = sink.count("traces")
        started = time.perf_counter()
        report = run(base.model_copy(update={"time_scale": args.time_scale, "flat_out": True}))
        gen_seconds = time.perf_counter() - started
        gen_spans = report.spans.exported
        received = sink.count("traces") - before
        if received != gen_spans:
            print(f"  note: the sink received {received} spans, the generator counted {gen_spans} exported")
        gen_drops = report.spans.dropped + report.spans.failed
        gen_rate = gen_spans / gen_seconds
        print(f"  {gen_spans} spans exported in {gen_seconds:.1f} s = {gen_rate:.0f}/s, dropped={gen_drops} "
              f"(+{report.logs.exported} logs, {report.metric_points.exported} metric points)")  # fmt: skip

        print(f"generator flat-out, --processes {args.processes} ...", flush=True)
        before = sink.count("traces")
        started = time.perf_counter()
        flat = {"time_scale": args.time_scale, "flat_out": True, "processes": args.processes}
        multi = run_processes(base.model_copy(update=flat))  # wall time includes starting the processes
        multi_seconds = time.perf_counter() - started
        multi_rate = multi.spans.exported / multi_seconds
        multi_drops = multi.spans.dropped + multi.spans.failed
        print(f"  {multi.spans.exported} spans exported in {multi_seconds:.1f} s = {multi_rate:.0f}/s, "
              f"dropped={multi_drops}, sink received {sink.count('traces') - before}")  # fmt: skip

        templates = span_templates(base)
        attrs = sum(len(t[2]) for t in templates) / len(templates)
        print(f"bare SDK loop: {gen_spans} spans from {len(templates)} generator templates "
              f"({attrs:.1f} attributes/span), same exporter and queue sizes ...", flush=True)  # fmt: skip
        bare_seconds, bare_drops = bare_loop(sink, templates, gen_spans, base)
        bare_rate = (gen_spans - bare_drops) / bare_seconds
        print(
            f"  {gen_spans} spans exported in {bare_seconds:.1f} s = {bare_rate:.0f}/s, dropped={bare_drops}"
        )

        print("bare SDK loop with the SDK's default BatchSpanProcessor ...", flush=True)
        default_seconds, default_drops = bare_loop(sink, templates, gen_spans, None)
        share = 100 * default_drops / gen_spans
        print(f"  {gen_spans - default_drops} of {gen_spans} spans exported in {default_seconds:.1f} s: "
              f"the default queue dropped {default_drops} ({share:.0f}%)")  # fmt: skip

    print(
        f"RESULT generator_spans_per_s={gen_rate:.0f} bare_spans_per_s={bare_rate:.0f} spans={gen_spans} "
        f"drops={gen_drops} drop_live_vs_pre_drop={rate_ratio:.1f} sdk_default_drops={default_drops} "
        f"ratio={gen_rate / bare_rate:.2f} processes={args.processes} multi_spans_per_s={multi_rate:.0f} "
        f"multi_drops={multi_drops} multi_vs_one={multi_rate / gen_rate:.2f}"
    )


if __name__ == "__main__":
    main()
