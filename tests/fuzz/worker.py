"""One atheris process: `python -m tests.fuzz.worker TARGET SECONDS WORKDIR`.

Python exceptions do not stop it: each one is a crash, recorded once per signature (exception type and the
innermost frame) with the input and traceback under WORKDIR/crashes/, and fuzzing goes on. libFuzzer's own
findings (a timeout, memory over the limit, a native crash) end the process; the campaign restarts it.
Counters go to WORKDIR/stats.json every second and when the budget is spent.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import atheris

from tests.fuzz.targets import TARGETS, Broken, crash_name, describe


def _signature(exc: BaseException) -> str:
    if isinstance(exc, Broken):  # a broken property: what broke (the message up to its first colon)
        return f"Broken: {str(exc).split(':')[0][:100]}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def _dict_escape(word: bytes) -> str:
    """libFuzzer's dictionary syntax: printable ASCII as is, anything else (and quote, backslash) as \\xNN."""
    return "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in word)


def main() -> None:
    name, seconds, workdir = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
    target = TARGETS[name]
    corpus, crashes = workdir / "corpus", workdir / "crashes"
    crashes.mkdir(parents=True, exist_ok=True)
    stats_path = workdir / "stats.json"
    with atheris.instrument_imports(include=list(target.instrument)):
        one = target.setup()
    known = {
        json.loads(p.read_text())["signature"] for p in crashes.glob("*.json")
    }  # crashes of earlier runs count once
    stats = {"target": name, "inputs": 0, "new_crashes": [], "started": time.time()}
    deadline = time.monotonic() + seconds
    next_write = time.monotonic() + 1

    def write_stats() -> None:
        stats["seconds"] = round(time.time() - stats["started"], 1)
        tmp = stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(stats_path)

    def test_one(data: bytes) -> None:
        nonlocal next_write
        stats["inputs"] += 1
        try:
            one(data)
        except Exception as exc:
            signature = _signature(exc)
            if signature not in known:
                known.add(signature)
                path = crashes / crash_name(data)
                path.write_bytes(data)
                report = {"signature": signature, "error": describe(exc), "input": path.name,
                          "traceback": traceback.format_exc()}  # fmt: skip
                path.with_suffix(".json").write_text(json.dumps(report, indent=1))
                stats["new_crashes"].append(signature)
                print(f"fuzz {name}: NEW CRASH {signature}: {describe(exc)}", file=sys.stderr, flush=True)
        now = time.monotonic()
        if now >= next_write:
            next_write = now + 1
            write_stats()
            if now >= deadline:
                os._exit(0)

    args = [sys.argv[0], str(corpus), f"-max_total_time={int(seconds) + 60}", "-timeout=20",
            "-rss_limit_mb=3000", "-max_len=262144", f"-artifact_prefix={crashes}/"]  # fmt: skip
    dictionary = target.dictionary()
    if dictionary:
        dict_path = workdir / "dictionary.txt"
        dict_path.write_text("".join(f'"{_dict_escape(w)}"\n' for w in dictionary))
        args.append(f"-dict={dict_path}")
    atheris.Setup(args, test_one)
    write_stats()
    atheris.Fuzz()


if __name__ == "__main__":
    main()
