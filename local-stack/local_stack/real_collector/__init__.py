"""The real OpenTelemetry Collector, built from source (`build`, `just collector`) and its config checked
(`validate`, `just collector-validate`); tests and benchmarks run it beside the stand-in."""
