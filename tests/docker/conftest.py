"""The Docker stack under a real engine, brought up as `just up --headless` brings it up for a user.

`just docker-test` runs this folder (`just test` leaves it out). The session starts an engine when none
answers and one can be started, builds the stand-ins of the images this machine cannot pull (`just
docker-standins`), and starts the stack with the stand-ins' compose override under its own project name, so a
user's own stack and its volumes are never touched (the host ports are the same: stop your stack first).
Without an engine it skips with the reason, except under CI=true on Linux, where it fails.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from local_stack import docker_engine

from tests.support.docker_stack import DockerStack
from tests.support.stack import REPO

PROJECT = "click-ai-test"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 180, every: float = 2) -> Any:
    """check()'s first truthy value; fails naming `what` and the last value or error after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as exc:  # a service still starting: try again
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(every)


def engine_or_skip() -> None:
    problem = docker_engine.ensure(log=lambda line: print(line, file=sys.stderr))
    if problem is None:
        return
    if os.environ.get("CI") == "true" and sys.platform.startswith("linux"):
        pytest.fail(f"CI=true on Linux and {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="session")
def docker_stack() -> Iterator[DockerStack]:
    engine_or_skip()
    stack = DockerStack(PROJECT)
    started = time.monotonic()
    stack.just("docker-standins", timeout=1800)
    print(f"docker: stand-ins ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
    stack.compose("down", "-v", "--remove-orphans", timeout=300)  # this project's own: what a failed run left
    started = time.monotonic()
    try:
        stack.just("up", "--headless", timeout=2400)
        print(f"docker: `just up --headless` took {time.monotonic() - started:.0f} s", file=sys.stderr)
        yield stack
    finally:
        logs = stack.compose("logs", "--no-color", "--tail=400", check=False).stdout
        (REPO / ".cache").mkdir(exist_ok=True)
        (REPO / ".cache" / "docker-test.log").write_text(logs)
        stack.just("down", check=False)


def span_count_line(output: str) -> dict[str, int]:
    """The generator's `run finished: … spans=N exported=N dropped=N failed=N …` numbers."""
    found = re.search(r"run finished[^:]*: (.*)", output)
    assert found, output[-3000:]
    return {k: int(float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", found.group(1))}
