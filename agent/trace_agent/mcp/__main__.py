from click_common.config import run_main

from .cli import run

run_main("trace_agent.mcp", run)
