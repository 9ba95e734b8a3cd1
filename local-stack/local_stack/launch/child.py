"""One child process with its output in a log file of its own, and its clean stop."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import REPO_ROOT

log = logging.getLogger("local_stack.launch")
STOP_TIMEOUT_S = 30.0


class LaunchError(RuntimeError):
    """A launched process exited, or was not ready or caught up in time (the message has its log's tail)."""


def stop_process(process: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT_S) -> int | None:
    """SIGTERM (the clean stop every service and the stack handle), SIGKILL after `timeout` seconds; the exit
    code (None: it was never started)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@dataclass
class Child:
    """`python -m <module> <args>` (or any command), run from the repository root unless told, its output
    appended to `log_path`; `start()` again runs it anew (a restart after a kill)."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path = REPO_ROOT
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    log_offset: int = field(default=0, init=False, repr=False)  # where this run's output starts in the log

    @classmethod
    def module(cls, module: str, args: tuple[str, ...], env: dict[str, str], log_dir: Path) -> Child:
        return cls(module, [sys.executable, "-m", module, *args], env, log_dir / f"{module}.log")

    def start(self) -> Child:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:  # the child keeps its own copy of the descriptor
            self.log_offset = out.tell()
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.cwd
            )
        log.info("%s started (pid %d), log in %s", self.name, self.process.pid, self.log_path)
        return self

    @property
    def returncode(self) -> int | None:
        """None while it runs (or before it started)."""
        return self.process.poll() if self.process else None

    @property
    def failed(self) -> bool:
        """It exited with an error (0 is done, not failed)."""
        return self.returncode not in (None, 0)

    def wait(self, timeout: float | None = None) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        return stop_process(self.process, timeout) if self.process else None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def output(self) -> str:
        """What this run wrote (the log holds earlier runs' output too)."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as out:
            out.seek(self.log_offset)
            return out.read().decode(errors="replace")

    def tail(self, lines: int = 15) -> str:
        text = "\n".join(self.log().splitlines()[-lines:])
        return f"--- {self.name} (last {lines} lines of {self.log_path})\n{text}"

    def wait_for_log(self, text: str, timeout: float = 300.0) -> None:
        """Return once the log holds `text`; LaunchError when the process exits first or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.returncode is not None or time.monotonic() > deadline:
                raise LaunchError(f"{self.name} did not log {text!r}\n{self.tail()}")
            time.sleep(0.2)

    def follow(self, poll_s: float = 0.05) -> Iterator[str]:
        """This run's log lines as they are written, until the process has exited."""
        with open(self.log_path, errors="replace") as out:
            out.seek(self.log_offset)
            pending = ""
            while True:
                exited = self.returncode is not None
                chunk = out.read()
                pending += chunk
                *lines, pending = pending.split("\n")
                yield from lines
                if exited and not chunk:
                    if pending:
                        yield pending
                    return
                if not chunk:
                    time.sleep(poll_s)
