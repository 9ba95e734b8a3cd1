"""Ops tools that work against whichever stack answers (the Docker or the local one); nothing in
local_stack imports them: `python -m local_stack.tools.bench` (`just bench`),
`python -m local_stack.tools.minio_ls` (`just minio-ls`) and `python -m local_stack.tools.snkrs_queries`
(`just snkrs-queries`)."""
