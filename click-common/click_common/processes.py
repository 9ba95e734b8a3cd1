"""Worker processes that do not outlive their parent."""

from __future__ import annotations

import os
import threading

PARENT_CHECK_SECONDS = 1.0


def exit_with_parent(parent: int) -> None:
    """A process-pool initializer (`initargs=(os.getpid(),)`): the worker exits once `parent`, the process
    that started it, is gone. A parent killed with SIGKILL (a crash test, the OOM killer, `kill -9`) never
    shuts its pool down, and spawn workers would otherwise wait on their task queue for ever — or, in the
    generator's case, keep sending traffic. The pid comes from the parent: a parent that dies while the
    worker is still starting has already made the worker an orphan by the time this runs."""

    def watch() -> None:
        stop = threading.Event()
        while os.getppid() == parent:
            stop.wait(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
