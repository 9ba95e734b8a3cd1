"""SNKRS drop simulation: realistic traces, logs and metrics over OTLP, none of them lost."""

__version__ = "0.1.0"

from .processes import run_processes
from .settings import FailureMode, Settings
from .simulation import PhaseReport, RunReport, run
from .telemetry import Exporters

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
