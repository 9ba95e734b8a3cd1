"""What tests and benchmarks share and production code never ships: the local stack launcher (`stack`), a
loopback OTLP/HTTP sink (`otlp_sink`), OTLP export requests (`otlp_samples`), span rows in the exporter's
shape (`spans`), a TCP proxy that can be cut (`tcp_proxy`), what each generator failure mode leaves behind
(`failure_modes`), the generator settings the tests that run it share (`generator_env`) and a process's
children (`processes`). Benchmarks import it as `tests.support` (`just benchmark` runs them as modules from
the repository root)."""
