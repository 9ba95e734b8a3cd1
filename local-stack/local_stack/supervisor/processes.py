"""A small process supervisor for `just local`: runs a Procfile's processes with prefixed, coloured output,
restarts a process that crashes (with backoff), and on Ctrl-C stops them in reverse order.

Honcho/foreman read the same Procfile but stop everything when one process dies; a playground that runs for
hours wants the crashed service back instead (and its data is safe to replay: every service is idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from click_common.config import EXIT_CONFIG

_COLOURS = ("36", "33", "32", "35", "34", "91", "92", "93", "94", "95", "96")
_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.+)$")


@dataclass(frozen=True)
class ProcSpec:
    name: str
    command: list[str]


def parse_procfile(text: str, python: str = sys.executable) -> list[ProcSpec]:
    """`name: command` lines (comments and blank lines skipped); a leading `python` means this interpreter."""
    specs: list[ProcSpec] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"Procfile line {number}: expected 'name: command', got {line!r}")
        command = shlex.split(match[2])
        if command[0] == "python":
            command[0] = python
        if any(s.name == match[1] for s in specs):
            raise ValueError(f"Procfile line {number}: duplicate process name {match[1]!r}")
        specs.append(ProcSpec(match[1], command))
    if not specs:
        raise ValueError("Procfile has no processes")
    return specs


def restart_delay(failures_in_a_row: int, base: float = 1.0, cap: float = 30.0) -> float:
    return min(cap, base * 2 ** max(0, failures_in_a_row - 1))


@dataclass
class Managed:
    spec: ProcSpec
    colour: str
    process: asyncio.subprocess.Process | None = None
    failures: int = 0
    restarts: int = 0
    started_at: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    def __init__(
        self,
        specs: list[ProcSpec],
        ready_patterns: dict[str, re.Pattern[str]] | None = None,
        colour: bool | None = None,
        stop_timeout: float = 60.0,
        stable_after: float = 60.0,
        write: Callable[[str], None] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        self.ready_patterns = ready_patterns or {}
        self.colour = sys.stdout.isatty() and "NO_COLOR" not in os.environ if colour is None else colour
        self.stop_timeout = stop_timeout
        self.stable_after = stable_after
        self.write = write or (lambda line: print(line, flush=True))
        self.procs = [Managed(spec, _COLOURS[i % len(_COLOURS)]) for i, spec in enumerate(specs)]
        self.width = max(len(s.name) for s in specs)
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.failed = ""

    def say(self, proc: Managed | None, text: str) -> None:
        name = proc.spec.name if proc else "supervisor"
        prefix = f"{time.strftime('%H:%M:%S')} {name:<{self.width}} |"
        if self.colour:
            prefix = f"\033[{proc.colour if proc else '1'}m{prefix}\033[0m"
        self.write(f"{prefix} {text}")

    async def run(self) -> int:
        """Start the processes in Procfile order (each waiting for the previous ones' ready line), keep them
        running, and stop them all when `stop()` is called. Returns 1 if a process never became ready."""
        for proc in self.procs:
            if self._stopping.is_set():
                break
            self._tasks.append(asyncio.create_task(self._keep_running(proc)))
            if proc.spec.name in self.ready_patterns:
                waiter = asyncio.create_task(proc.ready.wait())
                stopper = asyncio.create_task(self._stopping.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
        await self._stopping.wait()
        await self._stop_all()
        if self.failed:
            self.say(None, self.failed)
        return 1 if self.failed else 0

    def stop(self) -> None:
        if not self._stopping.is_set():
            self.say(None, "stopping (Ctrl-C again does not hurry it: each process gets its clean shutdown)")
            self._stopping.set()

    async def _keep_running(self, proc: Managed) -> None:
        while not self._stopping.is_set():
            code = await self._run_once(proc)
            if self._stopping.is_set():
                return
            if code == 0:
                self.say(proc, "exited with 0 (done); not restarting")
                return
            if proc.spec.name in self.ready_patterns and not proc.ready.is_set():
                self.failed = f"{proc.spec.name} exited with {code} before it was ready; nothing else can run"
                self.stop()
                return
            if code == EXIT_CONFIG:  # restarting cannot help until the user changes a setting
                self.say(proc, f"exited with {code}: a configuration error (the line above); not restarting")
                return
            ran = time.monotonic() - proc.started_at
            proc.failures = 1 if ran >= self.stable_after else proc.failures + 1
            delay = restart_delay(proc.failures)
            proc.restarts += 1
            self.say(proc, f"exited with {code} after {ran:.1f} s; restart #{proc.restarts} in {delay:.0f} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _run_once(self, proc: Managed) -> int:
        proc.process = await asyncio.create_subprocess_exec(
            *proc.spec.command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops children in order
        )
        proc.started_at = time.monotonic()
        self.say(proc, f"started (pid {proc.process.pid}): {shlex.join(proc.spec.command)}")
        pattern = self.ready_patterns.get(proc.spec.name)
        assert proc.process.stdout is not None
        async for raw in proc.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.say(proc, line)
            if pattern and not proc.ready.is_set() and pattern.search(line):
                proc.ready.set()
        return await proc.process.wait()

    async def _stop_all(self) -> None:
        for proc in reversed(self.procs):  # Procfile order reversed: the stack, which flushes, goes last
            process = proc.process
            if process is None or process.returncode is not None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            try:
                await asyncio.wait_for(process.wait(), timeout=self.stop_timeout)
                self.say(proc, f"stopped ({process.returncode})")
            except TimeoutError:
                self.say(proc, f"did not stop within {self.stop_timeout:.0f} s; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def load(procfile: Path, ready: list[str]) -> tuple[list[ProcSpec], dict[str, re.Pattern[str]]]:
    specs = parse_procfile(procfile.read_text())
    patterns: dict[str, re.Pattern[str]] = {}
    for item in ready:
        name, _, regex = item.partition("=")
        if name not in {s.name for s in specs}:
            raise ValueError(f"--ready {item!r}: no process named {name!r} in {procfile}")
        patterns[name] = re.compile(regex)
    return specs, patterns
