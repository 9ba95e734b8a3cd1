"""The wiring shared by the one-shot and the interactive modes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .db import Database
from .loop import Agent, Events, make_client
from .preflight import check_database
from .settings import Settings
from .startup import require_api_key
from .telemetry import Telemetry
from .tools import ToolContext


@dataclass
class Session:
    settings: Settings
    db: Database
    ctx: ToolContext
    agent: Agent
    warnings: list[str]

    def close(self) -> None:
        self.agent.telemetry.shutdown()
        self.db.close()


def open_session(settings: Settings, events: Events | None = None) -> Session:
    require_api_key(settings)
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    db = Database(settings)
    warnings = check_database(db, settings)
    ctx = ToolContext(db, settings)
    agent = Agent(make_client(settings), ctx, settings, events, Telemetry.from_settings(settings))
    return Session(settings, db, ctx, agent, warnings)
