"""The tests' local stack is the launcher's (local_stack.launch: the stack on free ports, services against
it); here what only the tests know: the repository and the passwords a new user's .env has."""

from __future__ import annotations

from local_stack.launch import PASSWORD_VARIABLES
from local_stack.paths import REPO_ROOT as REPO

__all__ = ["REPO", "env_example", "playground_passwords"]


def env_example() -> dict[str, str]:
    """The settings of .env.example, as a new user's .env has them."""
    lines = (REPO / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))


def playground_passwords() -> dict[str, str]:
    """user → password, as .env.example sets them."""
    example = env_example()
    return {user: example[variable] for user, variable in PASSWORD_VARIABLES.items()}
