"""The no-Docker stand-ins for click-ai, one room each: `clickhouse` (chDB behind a ClickHouse HTTP
endpoint), `collector` (an OTLP receiver standing in for the collector), `s3` (an S3 server) and
`supervisor` (`just local`'s process supervisor); `stack` starts the first three together
(`python -m local_stack`); `launch` runs that as a process on free ports with services against it (the
eval, the benchmarks, the tests). Beside them: `real_collector` (the real collector, built from source) and
`tools` (ops tools that work against either stack)."""
