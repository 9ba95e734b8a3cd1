"""What tests and benchmarks share and production code never ships: the local stack launcher (`stack`), a
loopback OTLP/HTTP sink (`otlp_sink`), OTLP export requests (`otlp_samples`), span rows in the exporter's
shape (`spans`), a TCP proxy that can be cut (`tcp_proxy`) and what each generator failure mode leaves behind
(`failure_modes`). Benchmarks import it as `tests.support` (`just benchmark` runs them as modules from the
repository root)."""
