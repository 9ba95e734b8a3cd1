import logging
import signal
import threading

from click_common.config import run_main

from .cli import parse_args, settings_from
from .processes import run_processes


def main() -> int:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings_from(args)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    report = run_processes(settings, stop=stop)
    if args.once and not report.complete:
        logging.getLogger("snkrs_generator").error(
            "--once: not everything was exported (see the counts above)"
        )
        return 1
    return 0


if __name__ == "__main__":
    run_main("snkrs_generator", main)
