# click-ai — every command a user types is a recipe here. `just --list` shows them all.

set dotenv-load := true
set positional-arguments := false

venv := justfile_directory() / ".venv"
py := venv / "bin/python"
bin := venv / "bin"
# torch's CPU build: the version constraints.txt pins, and the local wheel folder `setup` and `up` take it from
torch_version := `grep -E '^torch==' constraints.txt 2>/dev/null | cut -d= -f3`
torch_wheels := env("TORCH_WHEEL_DIR", justfile_directory() / ".." / "shared" / "wheels")

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
    # torch's Linux build on PyPI is CUDA (GBs): take the CPU build from a local wheel folder when there is one
    # (TORCH_WHEEL_DIR, else ../shared/wheels beside the checkout), else from the PyTorch CPU index.
    torch_version="{{torch_version}}"
    wheels="{{torch_wheels}}"
    if [ "$(uname -s)" != Linux ]; then
        torch_args=("torch==${torch_version}")
    elif compgen -G "$wheels/torch-${torch_version}+cpu-*.whl" >/dev/null; then
        echo "setup: torch ${torch_version}+cpu from $wheels"
        torch_args=(--find-links "$wheels" "torch==${torch_version}+cpu")
    else
        echo "setup: torch ${torch_version}+cpu from the PyTorch CPU index (set TORCH_WHEEL_DIR to use a local wheel)"
        torch_args=(--index-url https://download.pytorch.org/whl/cpu --extra-index-url https://pypi.org/simple
            "torch==${torch_version}+cpu")
    fi
    "{{py}}" -m pip install --quiet --disable-pip-version-check -c constraints.txt "${torch_args[@]}"
    "{{py}}" -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements-dev.txt \
        -e ./click-common -e ./otlp-rows -e ./local-stack -e ./s3-loader -e ./event-generator -e ./embedding-enricher -e ./agent \
        -e ./eval
    "{{py}}" -c "import torch; assert not torch.version.cuda, 'a CUDA torch was installed'"
    echo "$want" > "$stamp"
    echo "setup: done"

# create .env from .env.example when it is missing (`just up` and `just local` do this first)
env-file:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -f .env ]; then
        cp .env.example .env
        echo "env-file: created .env from .env.example (playground defaults; edit it to change them)"
    fi

# lint: ruff, mypy, and the static checks of the Docker stack
lint: setup
    #!/usr/bin/env bash
    set -euo pipefail
    "{{bin}}/ruff" check .
    "{{bin}}/ruff" format --check .
    "{{bin}}/mypy"  # strict on the modules [tool.mypy] in pyproject.toml lists
    if [ -f docker-compose.yaml ]; then
        "{{bin}}/docker-compose" --env-file .env.example -f docker-compose.yaml config -q
        echo "lint: docker-compose.yaml ok"
    fi
    shopt -s nullglob
    dockerfiles=(*/Dockerfile config/*/Dockerfile local-stack/standins/*/Dockerfile)
    if [ ${#dockerfiles[@]} -gt 0 ]; then
        "{{bin}}/hadolint" "${dockerfiles[@]}"
        echo "lint: hadolint ok (${#dockerfiles[@]} Dockerfiles)"
    fi
    if [ -f config/otel-collector-config.yaml ]; then
        "{{bin}}/yamllint" -s -d '{extends: default, rules: {line-length: {max: 140}, document-start: disable, truthy: {check-keys: false}}}' config/otel-collector-config.yaml
        echo "lint: collector config ok"
        "{{py}}" -m local_stack.real_collector.validate
    fi
    if command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ]; then
        go=$(command -v go || echo /usr/local/go/bin/go)
        unformatted=$("$(dirname "$go")/gofmt" -l config/otel-collector)
        [ -z "$unformatted" ] || { echo "lint: gofmt would change $unformatted" >&2; exit 1; }
        (cd config/otel-collector && "$go" vet ./...)
        echo "lint: config/otel-collector (queue-slot) gofmt and go vet ok"
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
    cd {{justfile_directory()}} && {{py}} -m benchmarks.{{NAME}} {{ARGS}}

# Targets: otlp_rows, receiver, loader_documents, endpoint_request, sql_guard (`all`: each in turn). Corpora,
# crashes (inputs and tracebacks) and the fuzz time so far stay in .cache/fuzz/TARGET/; a crash exits 1.
# fuzz one parser that takes outside bytes for SECONDS (`just fuzz otlp_rows 600`)
fuzz TARGET SECONDS="60": setup
    cd {{justfile_directory()}} && {{py}} -m tests.fuzz {{TARGET}} {{SECONDS}}

# ---------------------------------------------------------------------------------------------
# The no-Docker local stack
# ---------------------------------------------------------------------------------------------

# chDB behind a ClickHouse HTTP endpoint on :8123 and an S3 server on :9002 (no Docker needed)
local-stack *ARGS: setup env-file
    {{py}} -m local_stack {{ARGS}}

# run one SQL query against whichever stack answers on :8123 (`just sql "SELECT count() FROM otel.otel_traces"`)
sql QUERY:
    @curl -sS --fail-with-body -u "${CLICKHOUSE_USER:-default}:${CLICKHOUSE_PASSWORD:-}" \
        "http://${CLICKHOUSE_HOST:-localhost}:${CLICKHOUSE_PORT:-8123}/?default_format=PrettyCompactMonoBlock" \
        --data-binary {{quote(QUERY)}}

# ---------------------------------------------------------------------------------------------
# The Docker Compose stack (docker-compose.yaml)
# ---------------------------------------------------------------------------------------------

# ClickHouse reads each password as XML; hyperdx-init sends the HyperDX login as JSON.
# check what `just up` needs: Docker Compose >= 2.24, a reachable daemon, and .env values every container can carry
preflight: env-file
    #!/usr/bin/env bash
    set -uo pipefail
    fail() { echo "up: $*; without Docker, \`just local\` runs the same pipeline as plain processes" >&2; exit 1; }
    command -v docker >/dev/null 2>&1 || fail "docker is not installed (https://docs.docker.com/engine/install/)"
    version=$(docker compose version --short 2>/dev/null) \
        || fail "the Docker Compose plugin is missing (\`docker compose version\` fails): install docker-compose-plugin 2.24 or newer"
    version=${version#v}
    IFS=. read -r major minor _ <<<"$version"
    if ! [[ "$major" =~ ^[0-9]+$ && "${minor:-0}" =~ ^[0-9]+$ ]] || (( major < 2 || (major == 2 && minor < 24) )); then
        fail "Docker Compose $version is too old: the stack needs 2.24 or newer"
    fi
    docker info >/dev/null 2>&1 || fail "the Docker daemon is not reachable (\`docker info\` fails): start Docker, or check your access to its socket"
    value() { grep -E "^$1=" .env | tail -n 1 | cut -d= -f2-; }
    bad=0
    # A .env from an older checkout lacks what the stack has needed since: compose would refuse it by name.
    for name in $(grep -o '${[A-Z0-9_]*:?' docker-compose.yaml | sed 's/^..//; s/:?$//' | sort -u); do
        if ! grep -qE "^$name=" .env; then
            echo "up: .env has no $name, which the stack needs: copy its line from .env.example" >&2
            bad=1
        fi
    done
    for name in CLICKHOUSE_PASSWORD CLICKHOUSE_COLLECTOR_PASSWORD CLICKHOUSE_LOADER_PASSWORD CLICKHOUSE_ENRICHER_PASSWORD CLICKHOUSE_AGENT_PASSWORD; do
        if [[ "$(value "$name")" == *[\<\&]* ]]; then
            echo "up: .env: $name contains < or &, which ClickHouse cannot read (it parses each password as XML): choose another" >&2
            bad=1
        fi
    done
    for name in HYPERDX_USER_EMAIL HYPERDX_USER_PASSWORD; do
        if [[ "$(value "$name")" =~ [\"\\\$] ]]; then
            echo "up: .env: $name contains a quote, a backslash or \$, which hyperdx-init cannot send: choose another" >&2
            bad=1
        fi
    done
    # `default` can do anything: it needs a password (a .env from before it had one has CLICKHOUSE_PASSWORD=).
    if [ -z "$(value CLICKHOUSE_PASSWORD)" ]; then
        echo "up: .env: CLICKHOUSE_PASSWORD is empty: user default needs a password (copy its line from .env.example)" >&2
        bad=1
    fi
    password=$(value HYPERDX_USER_PASSWORD)
    if (( ${#password} < 12 )) || ! [[ "$password" =~ [A-Z] && "$password" =~ [a-z] && "$password" =~ [0-9] && "$password" =~ [^A-Za-z0-9] ]]; then
        echo "up: .env: HYPERDX_USER_PASSWORD needs 12+ characters with upper and lower case, a digit and a special character (HyperDX refuses it otherwise)" >&2
        bad=1
    fi
    exit $bad

# start the Docker stack (creates .env from .env.example when missing), then print the URLs and the HyperDX login;
# `just up --headless`: without HyperDX and MongoDB (the `ui` profile), for machines short of memory
[positional-arguments]
up *ARGS: preflight wheels
    #!/usr/bin/env bash
    set -euo pipefail
    headless=0
    for arg in "$@"; do
        case "$arg" in
            --headless) headless=1 ;;
            *) echo "up: unknown argument $arg (only --headless)" >&2; exit 2 ;;
        esac
    done
    profiles=(--profile ui)
    (( headless )) && profiles=()
    docker compose "${profiles[@]}" up -d --build --remove-orphans
    env_value() { grep -E "^$1=" .env | tail -n 1 | cut -d= -f2-; }
    if (( ! headless )); then
        echo "up: waiting for HyperDX and its first user (the first start pulls images and takes a few minutes)..."
        if ! docker compose --profile ui wait hyperdx-init >/dev/null; then
            docker compose --profile ui logs --no-log-prefix hyperdx-init
            echo "up: hyperdx-init failed (see above); the rest of the stack is running: just logs all" >&2
            exit 1
        fi
    fi
    echo
    if (( headless )); then
        echo "  HyperDX        not started (--headless): raw SQL, just bench and the agent work without it"
    else
        echo "  HyperDX        http://localhost:8080   login: $(env_value HYPERDX_USER_EMAIL) / $(env_value HYPERDX_USER_PASSWORD)"
    fi
    echo "  OTLP           grpc localhost:4317, http http://localhost:4318"
    echo "  ClickHouse     http://localhost:8123   login: default / $(env_value CLICKHOUSE_PASSWORD)   (just sql \"SELECT 1\")"
    echo "  MinIO console  http://localhost:9001   login: $(env_value MINIO_ROOT_USER) / $(env_value MINIO_ROOT_PASSWORD)"
    echo
    echo "  Next: just bench (row counts, rates, S3 loss check) · just minio-ls · just logs (the event generator)"

# put the local torch CPU wheel (TORCH_WHEEL_DIR, else ../shared/wheels) into .wheels/ for the enricher and agent
# images; without one they take torch from the PyTorch CPU index
[private]
wheels:
    #!/usr/bin/env bash
    set -euo pipefail
    torch_version="{{torch_version}}"
    wheels="{{torch_wheels}}"
    shopt -s nullglob
    for wheel in "$wheels"/torch-"${torch_version}"+cpu-*.whl; do
        [ -e ".wheels/$(basename "$wheel")" ] || ln "$wheel" .wheels/ 2>/dev/null || cp "$wheel" .wheels/
    done

# build local stand-ins for the images docker-compose.yaml names that are neither present nor pullable (a machine
# without a registry): Debian's base by debootstrap, the real collector from source, chDB as ClickHouse
docker-standins *ARGS: setup
    {{py}} -m local_stack.standins {{ARGS}}

# the Docker stack end to end under a real engine (tests/docker): starts dockerd when none runs and it can, builds
# the stand-ins, `just up --headless` under its own project name, then the tests; arguments go to pytest
docker-test *ARGS: setup env-file
    {{py}} -m local_stack.docker_engine
    {{bin}}/pytest -o addopts="--import-mode=importlib -ra" tests/docker {{ARGS}}

# stop and remove the stack's containers (data volumes are kept; `just reset` deletes them)
down:
    docker compose --profile ui --profile agent down --remove-orphans

# the services the seed's commands act on when none is named: the event generator
generator_service := "event-generator"

# follow the event generator's logs; `just logs SERVICE…` those services', `just logs all` the whole stack's
logs *SERVICES:
    docker compose logs -f --tail=100 {{ if SERVICES == "" { generator_service } else if SERVICES == "all" { "" } else { SERVICES } }}

# stop the event generator (HyperDX and the rest keep running); `just stop SERVICE…` or `just stop all`
stop *SERVICES:
    docker compose stop {{ if SERVICES == "" { generator_service } else if SERVICES == "all" { "" } else { SERVICES } }}

# start the event generator again; `just start SERVICE…` or `just start all` (stopped containers only)
start *SERVICES:
    docker compose start {{ if SERVICES == "" { generator_service } else if SERVICES == "all" { "" } else { SERVICES } }}

# restart the event generator; `just restart SERVICE…` or `just restart all`
restart *SERVICES:
    docker compose restart {{ if SERVICES == "" { generator_service } else if SERVICES == "all" { "" } else { SERVICES } }}

# follow the s3-loader's logs
loader-logs:
    docker compose logs -f --tail=200 s3-loader

# follow the embedding-enricher's logs
enricher-logs:
    docker compose logs -f --tail=200 embedding-enricher

# row counts, rows/s over the last 60 s and the direct-vs-S3 span gap, for whichever stack is on :8123
bench *ARGS: setup
    {{py}} -m local_stack.tools.bench {{ARGS}}

# apply the schema migrations of config/migrations that ClickHouse on :8123 has not recorded yet (either stack; both
# also do it at every start): one line per migration applied; a changed applied migration is refused
migrate *ARGS: setup env-file
    {{py}} -m click_common.migrate {{ARGS}}

# list the newest objects of the bucket on :9002 and a count per signal (either stack; read-only credentials)
minio-ls *ARGS: setup
    {{py}} -m local_stack.tools.minio_ls {{ARGS}}

# run N otel-collector replicas behind the otel-gateway (e.g. `just scale-collector 3`)
scale-collector N:
    docker compose up -d --no-recreate --scale otel-collector={{N}} otel-collector
    @echo "scale-collector: {{N}} replica(s); otel-gateway picks them up within 5 s"

# delete the stack AND its data: ClickHouse tables, the bucket, HyperDX users (asks first)
[confirm("reset: delete every container and volume of the Docker stack (ClickHouse data, bucket, HyperDX users)? [y/N]")]
reset:
    docker compose --profile ui --profile agent down -v --remove-orphans
    @echo "reset: done; \`just up\` starts from scratch"

# simulate SNKRS drops into whichever stack is up (OTLP :4318): `just generate --once --time-scale 10`, --seed, --cycles
generate *ARGS: setup env-file
    {{py}} -m snkrs_generator {{ARGS}}

# run every business question of event-generator/snkrs_queries.sql against ClickHouse (`--name funnel`: just one)
snkrs-queries *ARGS: setup
    {{py}} -m local_stack.tools.snkrs_queries {{ARGS}}

# load the bucket's OTLP JSON files into otel.otel_traces / otel.otel_logs, forever (`just loader --once`: one pass)
loader *ARGS: setup env-file
    {{py}} -m s3_loader {{ARGS}}

# the S3 loader's bookkeeping: loaded / failed / skipped / pending files, rows, and why each failed file failed
loader-status: setup env-file
    {{py}} -m s3_loader status

# embed the spans of otel.otel_traces into otel.otel_traces_enriched, forever (`just enricher --once`: catch up, exit)
enricher *ARGS: setup env-file
    {{py}} -m enricher {{ARGS}}

# the enricher's progress: enriched and pending rows, watermark, lag, cache hit rate, spans/s (either stack)
enrichment-status: setup env-file
    {{py}} -m enricher.status

# The agent reads ClickHouse as the read-only `agent` user (password: CLICKHOUSE_AGENT_PASSWORD in .env).
# ask Claude about the traces: `just agent` opens a session; `just agent "question" [--json]` answers once
[positional-arguments]
agent *ARGS: setup env-file
    #!/usr/bin/env bash
    set -euo pipefail
    export AGENT_CLICKHOUSE_USER="${AGENT_CLICKHOUSE_USER:-agent}"
    export AGENT_CLICKHOUSE_PASSWORD="${AGENT_CLICKHOUSE_PASSWORD:-${CLICKHOUSE_AGENT_PASSWORD:-}}"
    if [ "$#" -eq 0 ]; then exec "{{py}}" -m trace_agent; fi
    exec "{{py}}" -m trace_agent ask "$@"

# The local stack (ClickHouse endpoint, S3, OTLP receiver on 4317/4318) starts first, then the generator, loader and
# enricher as supervised processes (Procfile). `just local --port-offset 1000` moves every port;
# `--args generator="--once --time-scale 20"` passes arguments to one process.
# the whole pipeline without Docker, as plain processes; Ctrl-C stops them all cleanly
[positional-arguments]
local *ARGS: setup env-file
    #!/usr/bin/env bash
    exec "{{py}}" -m local_stack.supervisor "$@"

# ---------------------------------------------------------------------------------------------
# The agent's tools over MCP (Claude Code, Claude Desktop, any MCP client)
# ---------------------------------------------------------------------------------------------

# the agent's tools as an MCP server: stdio for a client to launch (`just mcp`), or `just mcp --http` (127.0.0.1:8765/mcp)
[positional-arguments]
mcp *ARGS:
    #!/usr/bin/env bash
    set -euo pipefail
    # stdout is the MCP stream: setup's messages go to stderr
    "{{just_executable()}}" --justfile "{{justfile()}}" setup >&2
    export AGENT_CLICKHOUSE_USER="${AGENT_CLICKHOUSE_USER:-agent}"
    export AGENT_CLICKHOUSE_PASSWORD="${AGENT_CLICKHOUSE_PASSWORD:-${CLICKHOUSE_AGENT_PASSWORD:-}}"
    exec "{{py}}" -m trace_agent.mcp "$@"

# ---------------------------------------------------------------------------------------------
# The eval (issue 14)
# ---------------------------------------------------------------------------------------------

# score the agent on drops with injected incidents: each scenario in a fresh local stack; writes eval-results/
# (`just eval --no-llm`: tool recall and the no-LLM baseline only; `--scenarios a,b --runs 3 --model M`)
eval *ARGS: setup
    {{py}} -m snkrs_eval {{ARGS}}

# ---------------------------------------------------------------------------------------------
# The real OpenTelemetry Collector, built from source (needs Go; ocb v0.159.0, config/otelcol-builder.yaml)
# ---------------------------------------------------------------------------------------------

# build the real collector into .cache/otelcol/<manifest hash>/ (a no-op when built) and print its path
collector: setup
    {{py}} -m local_stack.real_collector.build

# `otelcol validate` of config/otel-collector-config.yaml with the compose environment (.env.example values)
collector-validate: setup
    {{py}} -m local_stack.real_collector.validate
