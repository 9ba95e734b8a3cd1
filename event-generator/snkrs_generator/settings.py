"""Generator settings: environment variables with the `GENERATOR_` prefix (nested values with `__`, e.g.
`GENERATOR_PAYMENT_TIMEOUT__PROBABILITY=0.2`) plus the standard `OTEL_EXPORTER_OTLP_*` names."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .plans import parse_plan


def new_seed() -> int:
    """A fresh 63-bit seed: ids of separate runs never repeat unless a seed is asked for (GENERATOR_SEED)."""
    return secrets.randbits(63)


class FailureMode(BaseModel):
    """One failure mode: on/off, how likely, and when it is live (simulated seconds into DROP_LIVE)."""

    enabled: bool = True
    probability: float = Field(ge=0.0, le=1.0)
    start_s: float = Field(0.0, ge=0.0)
    end_s: float = Field(90.0, ge=0.0)

    def active(self, seconds_into_drop: float) -> bool:
        return self.enabled and self.start_s <= seconds_into_drop < self.end_s


class Latency(BaseModel):
    """A log-normal latency given by its median and 99th percentile, in milliseconds."""

    p50_ms: float = Field(gt=0)
    p99_ms: float = Field(gt=0)

    @model_validator(mode="after")
    def _p99_above_p50(self) -> Latency:
        if self.p99_ms < self.p50_ms:
            raise ValueError(f"p99_ms ({self.p99_ms}) must be >= p50_ms ({self.p50_ms})")
        return self


class Latencies(BaseModel):
    gateway: Latency = Latency(p50_ms=2, p99_ms=12)
    network: Latency = Latency(p50_ms=1.5, p99_ms=9)
    handler: Latency = Latency(p50_ms=6, p99_ms=45)
    cache: Latency = Latency(p50_ms=0.6, p99_ms=4)
    database: Latency = Latency(p50_ms=4, p99_ms=60)
    payment_provider: Latency = Latency(p50_ms=220, p99_ms=1400)
    bot_scoring: Latency = Latency(p50_ms=8, p99_ms=40)
    kafka: Latency = Latency(p50_ms=3, p99_ms=25)
    push_provider: Latency = Latency(p50_ms=60, p99_ms=450)


class PhaseSpec(BaseModel):
    duration_s: float = Field(gt=0)
    workers: int = Field(ge=1, le=1000)
    think_s: float = Field(gt=0, description="median think time between a shopper's requests")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GENERATOR_",
        env_file=".env",
        extra="ignore",
        env_nested_delimiter="__",
        nested_model_default_partial_update=True,
        populate_by_name=True,  # Settings(otlp_endpoint=...) as well as OTEL_EXPORTER_OTLP_ENDPOINT
    )

    # run bounds
    seed: int = Field(
        default_factory=new_seed,
        description="the run's seed (its ids, shoppers and incidents); unset: a new one each run, logged at "
        "start, so a restart never sends a trace or span id already stored",
    )
    time_scale: float = Field(1.0, gt=0, description="phases (and think times) run this many times faster")
    cycles: int | None = Field(None, ge=1, description="stop after this many drop cycles (None: forever)")
    duration_s: float | None = Field(None, gt=0, description="stop after this many wall-clock seconds")
    flat_out: bool = Field(
        False, description="no think time: shoppers fire requests as fast as export allows"
    )
    processes: int = Field(
        1, ge=1, le=64, description="shoppers split over N processes (same seed and N: same traffic)"
    )

    # clock and incidents
    simulated_clock: bool = Field(
        False,
        description="one thread on a simulated clock: the seed reproduces the run; ends now (needs cycles)",
    )
    sim_start_ns: int | None = Field(
        None, description="simulated clock start (epoch ns; default: so it ends now)"
    )
    incidents: str | None = Field(
        None,
        description="incident plan per drop: none, random or kind[:target][@start-end][*strength],... "
        "(unset: the failure modes below run as configured)",
    )
    labels_file: Path | None = Field(
        None, description="where the run's ground truth goes (JSON; never into the telemetry)"
    )

    # phases
    pre_drop: PhaseSpec = PhaseSpec(duration_s=60, workers=5, think_s=4.0)
    drop_live: PhaseSpec = PhaseSpec(duration_s=90, workers=40, think_s=0.6)
    post_drop: PhaseSpec = PhaseSpec(duration_s=60, workers=8, think_s=2.5)

    # the drop
    inventory_units: int = Field(120, ge=1, description="pairs released per drop, spread over the sizes")
    waiting_room_poll_s: float = Field(1.0, gt=0)
    waiting_room_admit_probability: float = Field(0.4, gt=0, le=1)
    waiting_room_crowd_scale: int = Field(
        250, ge=1, description="real shoppers each simulated one stands for"
    )
    load_sensitivity: float = Field(
        0.08, ge=0, description="latency grows by this share per extra unit of load"
    )
    inventory_contention_per_rps: float = Field(0.05, ge=0, description="row-lock latency growth per req/s")
    inventory_lock_timeout_s: float = Field(1.5, gt=0)
    payment_timeout_s: float = Field(3.0, gt=0)
    payment_max_attempts: int = Field(3, ge=1)
    bot_block_threshold: float = Field(0.9, gt=0, le=1)

    # failure modes (on by default during DROP_LIVE)
    payment_timeout: FailureMode = FailureMode(probability=0.06, start_s=0, end_s=90)
    inventory_contention: FailureMode = FailureMode(probability=0.15, start_s=0, end_s=90)
    bot_wave: FailureMode = FailureMode(probability=0.35, start_s=10, end_s=40)
    cache_stampede: FailureMode = FailureMode(probability=0.3, start_s=0, end_s=6)
    waiting_room_backlog: FailureMode = FailureMode(probability=0.2, start_s=20, end_s=45)

    latency: Latencies = Latencies()

    # resource
    environment: str = Field("playground", description="deployment.environment.name")
    service_namespace: str = "snkrs"

    # export (the standard OTEL_EXPORTER_OTLP_* names; unset → the SDK's defaults and its own env handling)
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otlp_protocol: str = Field("http/protobuf", validation_alias="OTEL_EXPORTER_OTLP_PROTOCOL")
    export_timeout_s: float = Field(5.0, gt=0, description="per export request")
    span_queue_size: int = Field(32768, ge=1024)
    log_queue_size: int = Field(16384, ge=1024)
    export_batch_size: int = Field(1024, ge=64)
    export_delay_ms: int = Field(500, ge=10)
    max_pending: int = Field(8192, ge=256, description="shoppers pause while this many items await export")
    metric_interval_s: float = Field(10.0, gt=0, description="metric export interval (divided by time_scale)")
    outage_log_interval_s: float = Field(
        10.0, gt=0, description="while the collector is down, say so this often"
    )

    @field_validator("incidents")
    @classmethod
    def _known_plan(cls, value: str | None) -> str | None:
        if value is not None and value.strip() != "random":
            parse_plan(value)
        return value

    @property
    def metric_interval_ms(self) -> float:
        """Every service's metric export interval on the compressed clock (at least 200 ms)."""
        return max(200.0, self.metric_interval_s * 1000.0 / self.time_scale)

    @model_validator(mode="after")
    def _simulated_runs_end(self) -> Settings:
        if self.simulated_clock and self.cycles is None:
            raise ValueError("a simulated clock needs a number of cycles (--cycles N or --once)")
        return self

    @field_validator("otlp_protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        if value not in ("http/protobuf", "grpc"):
            raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or grpc, not {value!r}")
        return value

    @model_validator(mode="after")
    def _queues_hold_the_backlog(self) -> Settings:
        # a shopper checks the backlog before each request, so each can add one request's spans beyond it
        headroom = min(self.span_queue_size, self.log_queue_size) - self.max_pending
        if headroom < 40 * max(self.pre_drop.workers, self.drop_live.workers, self.post_drop.workers):
            raise ValueError(
                "span/log queue sizes must exceed max_pending by at least 40 items per worker "
                f"(queues {self.span_queue_size}/{self.log_queue_size}, max_pending {self.max_pending})"
            )
        return self
