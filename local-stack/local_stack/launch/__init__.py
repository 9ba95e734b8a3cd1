"""One launcher for a local stack and chosen services, each a process on free ports with its own log file:
for `just local`'s supervisor (the ports it moves), the eval, the benchmarks and the tests.

`ports` (free ports, and the variables and arguments that name them), `child` (one process, its log file,
a clean stop), `launcher` (the stack, the services against it, waiting until they are ready or caught up,
stopping services first and the stack last)."""

from .child import Child, LaunchError, stop_process
from .launcher import PASSWORD_VARIABLES, Launcher, exported_spans
from .ports import OtlpPorts, StackPorts, free_port, wait_listening

__all__ = [
    "PASSWORD_VARIABLES",
    "Child",
    "LaunchError",
    "Launcher",
    "OtlpPorts",
    "StackPorts",
    "exported_spans",
    "free_port",
    "stop_process",
    "wait_listening",
]
