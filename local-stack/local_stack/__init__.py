"""The no-Docker stand-ins for click-ai: chDB behind a ClickHouse HTTP endpoint, and an S3 server."""
