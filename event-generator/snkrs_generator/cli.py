"""Command line → Settings (flags override GENERATOR_* environment variables)."""

from __future__ import annotations

import argparse

from click_common.config import load_settings

from .settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m snkrs_generator",
        description="Simulate SNKRS drops and export their traces, logs and metrics over OTLP "
        "(OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318).",
    )
    parser.add_argument("--seed", type=int, help="reproducible runs (GENERATOR_SEED)")
    parser.add_argument("--cycles", type=int, help="stop after N drop cycles (GENERATOR_CYCLES)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (GENERATOR_DURATION_S)")
    parser.add_argument(
        "--once", action="store_true", help="one drop cycle; exit non-zero if anything was lost"
    )
    parser.add_argument("--time-scale", type=float, help="run phases N times faster (GENERATOR_TIME_SCALE)")
    parser.add_argument(
        "--flat-out", action="store_true", help="no think time: generate as fast as export allows"
    )
    parser.add_argument(
        "--processes", type=int, help="split the shoppers over N processes (GENERATOR_PROCESSES)"
    )
    parser.add_argument(
        "--incidents",
        help="none, random (seeded) or kind[:target][@start-end][*strength],... (GENERATOR_INCIDENTS)",
    )
    parser.add_argument("--labels", help="write the run's ground truth here (GENERATOR_LABELS_FILE)")
    parser.add_argument(
        "--simulated-clock",
        action="store_true",
        help="deterministic: simulated time, one thread, the drop ends now (GENERATOR_SIMULATED_CLOCK)",
    )
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        "seed": args.seed,
        "cycles": 1 if args.once else args.cycles,
        "duration_s": args.duration,
        "time_scale": args.time_scale,
        "flat_out": True if args.flat_out else None,
        "processes": args.processes,
        "incidents": args.incidents,
        "labels_file": args.labels,
        "simulated_clock": True if args.simulated_clock else None,
    }
    base = load_settings(Settings)
    # validated again with the flags applied: a bad plan is one readable line, not a traceback
    return load_settings(
        Settings, **{**base.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
    )
