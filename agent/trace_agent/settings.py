"""Agent settings: click_common's ClickHouse settings (CLICKHOUSE_*), the shared ANTHROPIC_* and AGENT_MODEL
names, and AGENT_-prefixed ones."""

from __future__ import annotations

import re
from pathlib import Path

from click_common.clickhouse import ClickHouseSettings
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

DEFAULT_MODEL = "claude-sonnet-5-5"
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class Settings(ClickHouseSettings):
    # populate_by_name: Settings(model=…, clickhouse_port=…) sets those fields too, not only AGENT_MODEL etc.
    model_config = SettingsConfigDict(
        env_prefix="AGENT_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # CLICKHOUSE_HOST and CLICKHOUSE_PORT as every service reads them; the user is the read-only `agent`:
    # AGENT_CLICKHOUSE_USER/PASSWORD win over the shared names, so one .env can hold both (a user that can
    # write is refused at start).
    clickhouse_user: str = Field(
        "agent", validation_alias=AliasChoices("AGENT_CLICKHOUSE_USER", "CLICKHOUSE_USER")
    )
    clickhouse_password: str = Field(
        "", validation_alias=AliasChoices("AGENT_CLICKHOUSE_PASSWORD", "CLICKHOUSE_PASSWORD")
    )
    query_timeout_s: float = 30.0

    anthropic_api_key: str = Field("", validation_alias="ANTHROPIC_API_KEY")
    anthropic_base_url: str | None = Field(None, validation_alias="ANTHROPIC_BASE_URL")
    model: str = Field(DEFAULT_MODEL, validation_alias="AGENT_MODEL")
    api_max_retries: int = 4
    api_timeout_s: float = 120.0

    # Budgets per question: past either, the loop stops and answers with what it has.
    max_tool_calls: int = 12
    token_budget: int = 200_000
    max_output_tokens: int = 4096

    window: str = "1h"
    max_rows: int = 50
    max_sql_rows: int = 200
    max_trace_spans: int = 300
    # semantic_search / similar_spans: how many nearest spans the HNSW index returns (ClickHouse rewrites
    # ORDER BY distance LIMIT k into an index search for k ≤ max_limit_for_vector_search_queries, 1000).
    vector_fetch: int = Field(1000, ge=10, le=1000)
    # log_patterns: at most this many (masked body, service, severity) groups go to Drain3.
    max_log_groups: int = Field(2000, ge=10, le=20000)
    traces_table: str = "default.otel_traces"
    trace_lookup_table: str = "default.otel_traces_trace_id_ts"
    enriched_table: str = "otel.otel_traces_enriched"
    logs_table: str = "default.otel_logs"
    # metric_series reads <prefix>gauge, <prefix>sum and <prefix>histogram (the exporter's table names)
    metrics_table_prefix: str = "default.otel_metrics_"
    # The enricher's model: queries must be embedded with the same one (offline, shipped in a package).
    embedding_model: str = Field("", validation_alias=AliasChoices("AGENT_EMBEDDING_MODEL", "ENRICHER_MODEL"))

    # Links into HyperDX: every trace id in a tool result comes with a URL opening that trace there
    # (`/search?source=<source>&traceId=<id>`, HyperDX 2.36). "Traces" is the compose stack's source for
    # default.otel_traces. An empty URL leaves the links out.
    hyperdx_url: str = "http://localhost:8080"
    hyperdx_trace_source: str = "Traces"

    # The agent's own telemetry (OTel GenAI spans: question, model calls, tool calls) sent to the collector
    # as service.name=trace-agent. Never tool results or questions. AGENT_TELEMETRY=false turns it off.
    telemetry: bool = True
    otlp_endpoint: str = Field("", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    # The tools leave the agent's own spans out unless asked (include_agent=true on a tool).
    self_service_name: str = "trace-agent"

    history_file: Path = Path("~/.local/state/click-ai/agent_history")

    # The MCP server's streamable HTTP transport (`python -m trace_agent.mcp --http`, served at /mcp).
    # Loopback by default; any other address needs the bearer token (clients send `Authorization: Bearer …`).
    mcp_host: str = "127.0.0.1"
    mcp_port: int = Field(8765, ge=1, le=65535)
    mcp_token: str = ""

    @field_validator(
        "traces_table", "trace_lookup_table", "enriched_table", "logs_table", "metrics_table_prefix"
    )
    @classmethod
    def _qualified_table(cls, value: str) -> str:
        if not _TABLE.match(value + ("gauge" if value.endswith("_") else "")):
            raise ValueError(f"expected database.table, got {value!r}")
        return value
