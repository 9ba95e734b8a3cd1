"""A library the click-ai services share (never a service itself): settings and configuration errors
(`config`), the ClickHouse client and its errors (`clickhouse`), and backoff while a dependency is down
(`backoff`)."""
