"""The same drop through the Docker stack and through the local stack, in one run (issue 25; no floor yet).

Each side runs its loader and enricher (Docker: the compose services; local: `python -m s3_loader` and `python
-m enricher` beside a fresh local stack, as `just local` runs them), is left to settle, and then takes one
generator drop from this host (`python -m snkrs_generator --once` at `--time-scale`, a fixed seed,
OTLP/HTTP on :4318; the stack's own generator is stopped). Every 0.5 s the distinct spans in
default.otel_traces (direct), otel.otel_traces (loaded from the bucket) and otel.otel_traces_enriched are
counted.

- e2e_spans_s: the drop's exported spans over the time from the generator's start until the last is enriched.
- settle_s: seconds from the generator's exit until every exported span is direct, loaded and enriched.
- gap: exported spans missing from otel.otel_traces once settled (or at the timeout): the S3 path's loss.
- RESULT ratio = Docker e2e spans/s over local e2e spans/s.

The Docker side needs an engine (see `just docker-test`) and uses the stand-ins where images cannot be pulled;
it runs under the project name click-ai-bench (stop your own stack first: the host ports are the same).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from local_stack import docker_engine
from local_stack.launch import Launcher

from tests.support.docker_stack import DockerStack
from tests.support.stack import REPO

PROJECT = "click-ai-bench"
COUNTS = (
    "SELECT (SELECT uniqExact(TraceId, SpanId) FROM default.otel_traces), "
    "(SELECT uniqExact(TraceId, SpanId) FROM otel.otel_traces), "
    "(SELECT count() FROM otel.otel_traces_enriched)"
)


@dataclass
class Side:
    name: str
    exported: int
    e2e_spans_s: float
    settle_s: float
    gap: int


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def drop(client_factory: Callable, env: dict[str, str], seed: int, time_scale: float, timeout: float) -> Side:
    """One generator drop from this host into whichever stack answers on env's OTLP endpoint."""
    client = client_factory()
    counts = lambda: tuple(int(c) for c in client.query(COUNTS).result_rows[0])  # noqa: E731
    before = counts()
    started = time.monotonic()
    generator = subprocess.Popen(
        [sys.executable, "-m", "snkrs_generator", "--once", "--seed", str(seed),
         "--time-scale", str(time_scale)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
    )  # fmt: skip
    output, _ = generator.communicate(timeout=timeout)
    ended = time.monotonic()
    if generator.returncode != 0:
        raise SystemExit(f"the generator failed ({generator.returncode}):\n{output[-3000:]}")
    found = re.search(r"run finished[^:]*: .*?exported=(\d+)", output)
    assert found, output[-3000:]
    exported = int(found.group(1))
    deadline = ended + timeout
    now = counts()
    while time.monotonic() < deadline:
        now = counts()
        if all(n - b >= exported for n, b in zip(now, before, strict=True)):
            break
        time.sleep(0.5)
    done = time.monotonic()
    client.close()
    gap = exported - (now[1] - before[1])
    return Side("", exported, exported / (done - started), done - ended, gap)


def local_side(seed: int, time_scale: float, timeout: float, workdir: Path) -> Side:
    with Launcher(workdir / "local", log_dir=workdir / "logs") as stack:
        for module, ready in (("s3_loader", "loading s3://"), ("enricher", "enricher started")):
            stack.service(module).wait_for_log(ready)
        log("local: stack, loader and enricher up; the drop starts")
        side = drop(stack.client, stack.env(), seed, time_scale, timeout)
    side.name = "local"
    return side


def docker_side(seed: int, time_scale: float, timeout: float) -> Side:
    problem = docker_engine.ensure(log)
    if problem:
        raise SystemExit(f"docker_stack: {problem}")
    stack = DockerStack(PROJECT)
    stack.just("docker-standins", timeout=1800)
    stack.just("up", "--headless", timeout=2400)
    try:
        stack.compose("stop", "event-generator")
        settle(stack.client)
        log("docker: stack up and settled; the drop starts")
        generator_env = {k: v for k, v in os.environ.items() if not k.startswith(("GENERATOR_", "OTEL_"))}
        generator_env.update(OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:4318",
                             OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf")  # fmt: skip
        side = drop(stack.client, generator_env, seed, time_scale, timeout)
    finally:
        stack.compose(
            "down", "-v", "--remove-orphans", check=False
        )  # the benchmark's own project and volumes
    side.name = "docker"
    return side


def settle(client_factory: Callable, quiet_s: float = 5, timeout: float = 300) -> None:
    """Wait until the counts stop changing (what the stack's own generator sent is loaded and enriched)."""
    client = client_factory()
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        now = client.query(COUNTS).result_rows[0]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s and now[1] == now[2]:
            break
        time.sleep(0.5)
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="just benchmark docker_stack", description=__doc__.splitlines()[0])
    parser.add_argument("--time-scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=2525)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-docker-") as tmp:
        local = local_side(args.seed, args.time_scale, args.timeout, Path(tmp))
    log(f"local: {local}")
    docker = docker_side(args.seed + 1, args.time_scale, args.timeout)
    log(f"docker: {docker}")
    print(
        f"RESULT time_scale={args.time_scale:g} docker_exported={docker.exported} "
        f"local_exported={local.exported} "
        f"docker_e2e_spans_s={docker.e2e_spans_s:.0f} local_e2e_spans_s={local.e2e_spans_s:.0f} "
        f"docker_settle_s={docker.settle_s:.1f} local_settle_s={local.settle_s:.1f} "
        f"docker_gap={docker.gap} local_gap={local.gap} load_avg={os.getloadavg()[0]:.1f} "
        f"ratio={docker.e2e_spans_s / local.e2e_spans_s:.2f}"
    )


if __name__ == "__main__":
    main()
