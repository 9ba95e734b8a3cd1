"""Shared fixtures. `local_stack` starts the real no-Docker stack (chDB endpoint, S3 server, OTLP receiver)
once per session with the launcher (local_stack.launch), as its own process on free ports; `stack` hands it
to a test with every table and the bucket emptied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_stack.launch import Launcher


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    with Launcher(tmp_path_factory.mktemp("local-stack") / "data") as launcher:
        yield launcher


@pytest.fixture
def stack(local_stack: Launcher) -> Launcher:
    """The session's local stack with every table and the bucket emptied for this test."""
    local_stack.reset()
    return local_stack
