"""What is checked before anything else happens (kept free of heavy imports so it answers at once)."""

from __future__ import annotations

from click_common.config import EXIT_CONFIG

from .settings import Settings

EXIT_FAILURE = 1
__all__ = ["EXIT_CONFIG", "EXIT_FAILURE", "StartupError", "require_api_key"]


class StartupError(SystemExit):
    """A one-line reason the agent cannot start, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(code)
        self.message = message


def require_api_key(settings: Settings) -> None:
    if not settings.anthropic_api_key.strip():
        raise StartupError(
            "ANTHROPIC_API_KEY is not set: put it in .env or the environment "
            "(export ANTHROPIC_API_KEY=sk-ant-…) and run again.",
            EXIT_CONFIG,
        )
