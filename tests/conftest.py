"""Shared fixtures. `local_stack` starts the real no-Docker stack (chDB endpoint + S3 server) once per session
as its own process on free ports; `stack` hands it to a test with every table and the bucket emptied."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# re-exported: tests import these from here
from tests.support.stack import REPO, StackHandle, free_port, start_local_stack, stop_local_stack

__all__ = ["REPO", "StackHandle", "free_port", "start_local_stack", "stop_local_stack"]


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    handle = start_local_stack(tmp_path_factory.mktemp("local-stack") / "data")
    yield handle
    stop_local_stack(handle)


@pytest.fixture
def stack(local_stack: StackHandle) -> StackHandle:
    """The session's local stack with every table and the bucket emptied for this test."""
    local_stack.reset()
    return local_stack
