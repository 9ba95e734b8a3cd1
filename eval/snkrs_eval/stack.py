"""A scenario's data in its own fresh local stack: the stack (chDB endpoint, S3 server, OTLP receiver) on free
ports, one compressed drop from the generator on the simulated clock, and the loader and the enricher run
until every exported span is loaded and enriched (all started by local_stack.launch, each process's log in
the scenario's folder). The labels file is written in the scenario's work folder, outside ClickHouse and the
bucket."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.launch import Launcher, LaunchError, exported_spans

from .scenarios import Scenario

log = logging.getLogger("snkrs_eval")
# A scenario's services take only the settings it gives (none of this environment's, nor .env's).
OWN_SETTINGS = ("GENERATOR_", "OTEL_", "LOADER_", "ENRICHER_")
SERVICE_ENV = {
    "LOADER_POLL_INTERVAL": "0.5",
    "LOADER_BATCH_FILES": "4",
    "ENRICHER_POLL_SECONDS": "0.5",
    "ENRICHER_READ_ROWS": "2000",
}


@dataclass
class Built:
    """A scenario's stack, ready to be asked about."""

    scenario: Scenario
    folder: Path
    stack: Launcher
    labels: dict[str, Any]
    spans: int
    build_s: float

    @property
    def window(self) -> tuple[str, str]:
        """The drop from the start of PRE_DROP to the end of POST_DROP (ISO-8601 UTC, whole seconds)."""
        drop = self.labels["drops"][0]
        return drop["start"], drop["end"]

    @property
    def drop_id(self) -> str:
        return self.labels["drops"][0]["drop_id"]

    def client(self):
        return self.stack.client()

    def trace_ids(self) -> set[str]:
        client = self.client()
        try:
            return {
                row[0] for row in client.query("SELECT DISTINCT TraceId FROM default.otel_traces").result_rows
            }
        finally:
            client.close()

    def stop(self) -> None:
        self.stack.stop()


class BuildError(LaunchError):
    pass


def build(scenario: Scenario, folder: Path, timeout_s: float = 300.0) -> Built:
    """Start a fresh stack in `folder`, generate the scenario's drop, wait for loader and enricher."""
    started = time.monotonic()
    folder.mkdir(parents=True, exist_ok=True)
    stack = Launcher(folder / "data", log_dir=folder, extra_env=SERVICE_ENV, drop_prefixes=OWN_SETTINGS)
    built = Built(scenario, folder, stack, {}, 0, 0.0)
    try:
        stack.start()
        labels_path = folder / "labels.json"
        generator = stack.run(
            "snkrs_generator", "--once", "--seed", str(scenario.seed), "--simulated-clock",
            "--incidents", scenario.plan, "--labels", str(labels_path),
            env=scenario.generator_env(), timeout=timeout_s,
        )  # fmt: skip
        exported = exported_spans(generator.output())
        if not exported:
            raise BuildError(f"generator lost spans\n{generator.tail(12)}")
        built.spans = exported
        labels = json.loads(labels_path.read_text())
        labels["drops"] = [_with_bounds(d, scenario) for d in labels["drops"]]
        built.labels = labels
        services = [stack.service("s3_loader"), stack.service("enricher")]
        client = stack.client()
        try:
            stack.wait_until(
                f"loader and enricher to catch up (spans {built.spans})",
                lambda: stack.caught_up(client, built.spans), timeout_s, services,
            )  # fmt: skip
        finally:
            client.close()
        stack.stop_services()
    except BaseException:
        built.stop()
        raise
    built.build_s = time.monotonic() - started
    log.info("%s: %d spans built in %.1f s", scenario.name, built.spans, built.build_s)
    return built


def _with_bounds(drop: dict[str, Any], scenario: Scenario) -> dict[str, Any]:
    """The whole drop's window: PRE_DROP before DROP_LIVE, POST_DROP after it (default phase lengths)."""
    import datetime as dt

    pre = float(scenario.generator_env().get("GENERATOR_PRE_DROP__DURATION_S", 60))
    post = float(scenario.generator_env().get("GENERATOR_POST_DROP__DURATION_S", 60))
    live_start = dt.datetime.fromisoformat(drop["live_start"].replace("Z", "+00:00"))
    live_end = dt.datetime.fromisoformat(drop["live_end"].replace("Z", "+00:00"))
    start = (live_start - dt.timedelta(seconds=pre)).replace(microsecond=0)
    end = (live_end + dt.timedelta(seconds=post + 1)).replace(microsecond=0)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {**drop, "start": start.strftime(fmt), "end": end.strftime(fmt)}
