"""What tests and benchmarks share and production code never ships: the local stack launcher (`stack`), a
loopback OTLP/HTTP sink (`otlp_sink`). Benchmarks import it as `tests.support` (`just benchmark` runs them as
modules from the repository root)."""
