"""A library the click-ai services share (never a service itself): settings and configuration errors
(`config`), the ClickHouse client and its errors (`clickhouse`), backoff while a dependency is down
(`backoff`), and the schema migrations tool (`migrations`, run by `python -m click_common.migrate`)."""
