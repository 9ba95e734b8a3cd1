"""The eval: scenarios with injected incidents, a pure scorer, the no-key figures and `just eval`."""
