# click-ai — every command a user types is a recipe here. `just --list` shows them all.

set dotenv-load := true
set positional-arguments := false

venv := justfile_directory() / ".venv"
py := venv / "bin/python"
bin := venv / "bin"

# list the recipes
default:
    @just --list

# ---------------------------------------------------------------------------------------------
# Development
# ---------------------------------------------------------------------------------------------

# create .venv and install every package (editable) plus the test tools; a no-op when up to date
setup:
    #!/usr/bin/env bash
    set -euo pipefail
    want=$(cat constraints.txt requirements-dev.txt */pyproject.toml | sha256sum | cut -d' ' -f1)
    stamp="{{venv}}/.setup-stamp"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
    [ -x "{{py}}" ] || python3 -m venv "{{venv}}"
    echo "setup: installing into .venv (torch CPU build first, so nothing pulls a CUDA build)"
    "{{py}}" -m pip install --quiet --disable-pip-version-check -c constraints.txt torch==2.13.0
    "{{py}}" -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt \
        -e ./local-stack -e ./s3-loader -e ./event-generator -e ./embedding-enricher -e ./agent
    "{{py}}" -c "import torch; assert not torch.version.cuda, 'a CUDA torch was installed'"
    echo "$want" > "$stamp"
    echo "setup: done"

# lint: ruff, and the static checks of the Docker stack
lint: setup
    #!/usr/bin/env bash
    set -euo pipefail
    "{{bin}}/ruff" check .
    "{{bin}}/ruff" format --check .
    if [ -f docker-compose.yaml ]; then
        "{{bin}}/docker-compose" --env-file .env.example -f docker-compose.yaml config -q
        echo "lint: docker-compose.yaml ok"
    fi
    shopt -s nullglob
    dockerfiles=(*/Dockerfile)
    if [ ${#dockerfiles[@]} -gt 0 ]; then
        "{{bin}}/hadolint" "${dockerfiles[@]}"
        echo "lint: hadolint ok (${#dockerfiles[@]} Dockerfiles)"
    fi
    if [ -f config/otel-collector-config.yaml ]; then
        "{{bin}}/yamllint" -s -d '{extends: default, rules: {line-length: {max: 140}, document-start: disable, truthy: {check-keys: false}}}' config/otel-collector-config.yaml
        echo "lint: collector config ok"
    fi
    xmls=(config/*.xml)
    if [ ${#xmls[@]} -gt 0 ]; then
        "{{py}}" -c 'import sys, xml.etree.ElementTree as E; [E.parse(f) for f in sys.argv[1:]]' "${xmls[@]}"
        echo "lint: ${#xmls[@]} XML files well-formed"
    fi

# lint, then the whole test suite (arguments go to pytest)
test *ARGS: lint
    {{bin}}/pytest {{ARGS}} || [ $? -eq 5 ]

# format the code with ruff
fmt: setup
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# run a benchmark from benchmarks/ (e.g. `just benchmark clickhouse_endpoint`)
benchmark NAME *ARGS: setup
    {{py}} benchmarks/{{NAME}}.py {{ARGS}}

# ---------------------------------------------------------------------------------------------
# The no-Docker local stack
# ---------------------------------------------------------------------------------------------

# chDB behind a ClickHouse HTTP endpoint on :8123 and an S3 server on :9002 (no Docker needed)
local-stack *ARGS: setup
    {{py}} -m local_stack {{ARGS}}

# section:recipes-compose

# section:recipes-generator

# section:recipes-loader

# section:recipes-enricher

# section:recipes-agent

# section:recipes-local
