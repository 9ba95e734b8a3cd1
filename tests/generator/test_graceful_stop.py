"""SIGTERM in the middle of the drop: the generator cuts the phase short, exports everything it emitted
(nothing lost, nothing twice) and exits 0."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.generator.conftest import generator_env
from tests.support.otlp_sink import OtlpSink


def test_sigterm_mid_drop_flushes_everything():
    with OtlpSink() as sink:
        env = generator_env({"OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint, "PYTHONUNBUFFERED": "1"})
        proc = subprocess.Popen(
            [sys.executable, "-m", "snkrs_generator", "--time-scale", "20", "--seed", "5"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while sink.count("traces") < 3000:  # well into DROP_LIVE
                assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read()
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, output
        finished = next(line for line in output.splitlines() if "run finished" in line)
        fields = dict(kv.split("=", 1) for kv in finished.split("run finished: ", 1)[1].split())
        assert fields["dropped"] == fields["failed"] == fields["logs_dropped"] == "0", finished
        assert int(fields["exported"]) == int(fields["spans"]) == sink.count("traces")
        assert int(fields["logs_exported"]) == int(fields["logs"]) == sink.count("logs")
        span_ids = [s.span_id for r in sink.received.requests["traces"] for rs in r.resource_spans
                    for ss in rs.scope_spans for s in ss.spans]  # fmt: skip
        assert len(span_ids) == len(set(span_ids))
