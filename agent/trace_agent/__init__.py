"""click-ai trace agent: Claude answers questions about the traces with read-only ClickHouse tools."""
