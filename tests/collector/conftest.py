"""Fixtures of the conformance tests: the real collector binary (built from source on first use; skipped
without Go, except under CI) and one collector process per test, pointed at the session's local stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from local_stack.launch import Launcher

from tests.collector.otelcol import RealCollector, binary_or_skip


@pytest.fixture(scope="session")
def otelcol_binary() -> Path:
    return binary_or_skip()


@pytest.fixture
def real_collector(
    otelcol_binary: Path, stack: Launcher, tmp_path: Path
) -> Iterator[Callable[..., RealCollector]]:
    """Starts the real collector with the project's config (addresses changed, `edit` applied)."""
    started: list[RealCollector] = []

    def start(edit: Callable[[dict[str, Any]], None] | None = None, name: str = "otelcol") -> RealCollector:
        collector = RealCollector(otelcol_binary, stack, tmp_path / f"{name}-{len(started)}", edit)
        started.append(collector)
        return collector.start()

    yield start
    for collector in started:
        try:
            collector.stop()
        finally:
            collector.kill()
