"""The collector stand-in: OTLP gRPC and HTTP receivers → screening → batches → the awss3 and clickhouse
exporters (`receiver` wires them; `pipeline` is the path a request takes)."""
