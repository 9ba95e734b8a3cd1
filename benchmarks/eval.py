"""The eval's no-key figures (`just benchmark eval`, the same as `just eval --no-llm`): every scenario in its
own fresh local stack, then tool recall (the fixed tool sequence surfaces each incident's root-cause entity,
start and an affected trace; floor 1.0) and the no-LLM baseline's score (the floor a model has to beat).
Ends with `RESULT tool_recall=… baseline_score=… scenarios=… ratio=<tool_recall>`."""

from __future__ import annotations

import sys

from snkrs_eval.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["--no-llm", *sys.argv[1:]]))
