#!/bin/sh
# One-shot HyperDX setup for the Compose stack (run by the `hyperdx-init` service, image curlimages/curl).
# Registers the first user from .env. HyperDX applies DEFAULT_CONNECTIONS / DEFAULT_SOURCES (docker-compose.yaml)
# only when that first user creates the team, so this is what makes :8080 open with sources and no setup clicks.
# Idempotent: when the team exists already (a later `just up`) there is nothing to do.
set -eu

: "${HYPERDX_API_URL:=http://hyperdx:8000}"
: "${HYPERDX_USER_EMAIL:?HYPERDX_USER_EMAIL is not set}"
: "${HYPERDX_USER_PASSWORD:?HYPERDX_USER_PASSWORD is not set}"

case "$HYPERDX_USER_EMAIL$HYPERDX_USER_PASSWORD" in
    *'"'* | *'\'*)
        echo "hyperdx-init: HYPERDX_USER_EMAIL / HYPERDX_USER_PASSWORD must not contain quotes or backslashes" >&2
        exit 1 ;;
esac

tries=0
until curl -fsS -o /dev/null "$HYPERDX_API_URL/health"; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
        echo "hyperdx-init: HyperDX API at $HYPERDX_API_URL not healthy after 240 s" >&2
        exit 1
    fi
    sleep 2
done

body=$(printf '{"email":"%s","password":"%s","confirmPassword":"%s"}' \
    "$HYPERDX_USER_EMAIL" "$HYPERDX_USER_PASSWORD" "$HYPERDX_USER_PASSWORD")
response=$(mktemp)
code=$(curl -sS -o "$response" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$body" "$HYPERDX_API_URL/register/password")

case "$code" in
    200)
        echo "hyperdx-init: registered $HYPERDX_USER_EMAIL; default connection and sources created" ;;
    409)
        echo "hyperdx-init: the HyperDX team exists already; log in as the first registered user" ;;
    *)
        echo "hyperdx-init: registration failed (HTTP $code): $(cat "$response")" >&2
        echo "hyperdx-init: the password needs 12+ characters with upper, lower, digit and one of !@#\$%^&*(),.?\":{}|<>" >&2
        exit 1 ;;
esac
rm -f "$response"
