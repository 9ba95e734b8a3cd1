"""The agent's tools over the Model Context Protocol: `python -m trace_agent.mcp` (stdio) or `--http`."""
