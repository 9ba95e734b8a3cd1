"""SNKRS drop simulation: realistic traces, logs and metrics over OTLP, none of them lost."""

from .processes import run_processes
from .settings import FailureMode, Settings
from .simulation import PhaseReport, RunReport, run
from .telemetry import Exporters
from .version import __version__

__all__ = [
    "Exporters",
    "FailureMode",
    "PhaseReport",
    "RunReport",
    "Settings",
    "__version__",
    "run",
    "run_processes",
]
