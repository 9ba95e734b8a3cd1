#!/bin/sh
# One-shot HyperDX setup for the Compose stack (run by the `hyperdx-init` service, image curlimages/curl).
# Registers the first user from .env. HyperDX applies DEFAULT_CONNECTIONS / DEFAULT_SOURCES (docker-compose.yaml)
# only when that first user creates the team, so this is what makes :8080 open with sources and no setup clicks.
# HyperDX answers 200 even when it could not create one of them (it only logs a warning), so the script then logs
# in, reads the connections and sources back through the API and fails naming any that is missing.
# Idempotent: when the team exists already (a later `just up`) it only checks.
set -eu

: "${HYPERDX_API_URL:=http://hyperdx:8000}"
: "${HYPERDX_USER_EMAIL:?HYPERDX_USER_EMAIL is not set}"
: "${HYPERDX_USER_PASSWORD:?HYPERDX_USER_PASSWORD is not set}"
: "${DEFAULT_CONNECTIONS:=[]}"
: "${DEFAULT_SOURCES:=[]}"

case "$HYPERDX_USER_EMAIL$HYPERDX_USER_PASSWORD" in
    *'"'* | *'\'*)
        echo "hyperdx-init: HYPERDX_USER_EMAIL / HYPERDX_USER_PASSWORD must not contain quotes or backslashes" >&2
        exit 1 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# curl, with its own failure (no route, refused, timed out) reported as one line of ours
call() {
    if ! curl -sS --max-time 30 "$@" 2>"$work/curl-error"; then
        echo "hyperdx-init: cannot reach the HyperDX API at $HYPERDX_API_URL: $(cat "$work/curl-error")" >&2
        exit 1
    fi
}

# /ready, not /health: the API answers /health before it has connected to MongoDB
tries=0
until curl -fsS -o /dev/null "$HYPERDX_API_URL/ready" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
        echo "hyperdx-init: HyperDX API at $HYPERDX_API_URL not ready (MongoDB connected) after 240 s" >&2
        exit 1
    fi
    sleep 2
done

login_body=$(printf '{"email":"%s","password":"%s"}' "$HYPERDX_USER_EMAIL" "$HYPERDX_USER_PASSWORD")
code=$(call -o "$work/response" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$(printf '{"email":"%s","password":"%s","confirmPassword":"%s"}' \
        "$HYPERDX_USER_EMAIL" "$HYPERDX_USER_PASSWORD" "$HYPERDX_USER_PASSWORD")" \
    "$HYPERDX_API_URL/register/password")

case "$code" in
    200)
        echo "hyperdx-init: registered $HYPERDX_USER_EMAIL" ;;
    409)
        echo "hyperdx-init: the HyperDX team exists already; log in as the first registered user" ;;
    *)
        echo "hyperdx-init: registration failed (HTTP $code): $(cat "$work/response")" >&2
        echo "hyperdx-init: the password needs 12+ characters with upper, lower, digit and one of !@#\$%^&*(),.?\":{}|<>" >&2
        exit 1 ;;
esac

# Log in. The session cookie comes with Domain=<FRONTEND_URL's host>, which curl's cookie jar would drop for
# this host name: take connect.sid from the headers. A failed login redirects to /login?err=….
call -o /dev/null -D "$work/headers" -X POST -H 'Content-Type: application/json' --data "$login_body" \
    "$HYPERDX_API_URL/login/password"
if grep -qi '^location:.*/login?err=' "$work/headers"; then
    if [ "$code" = 409 ]; then
        echo "hyperdx-init: cannot log in as $HYPERDX_USER_EMAIL (another first user?); not checking the sources"
        exit 0
    fi
    echo "hyperdx-init: registered, but the login as $HYPERDX_USER_EMAIL failed" >&2
    exit 1
fi
session=$(sed -n 's/^[Ss]et-[Cc]ookie: *\(connect\.sid=[^;]*\).*/\1/p' "$work/headers" | tail -n 1)

# Read back what HyperDX created and name whatever is missing.
names() { grep -o '"name": *"[^"]*"' | sed 's/^"name": *"\(.*\)"$/\1/'; }
missing=""
for kind in connections sources; do
    got=$(call -H "Cookie: $session" -o "$work/$kind.json" -w '%{http_code}' "$HYPERDX_API_URL/$kind")
    if [ "$got" != 200 ]; then
        echo "hyperdx-init: GET /$kind answered HTTP $got: $(cat "$work/$kind.json")" >&2
        exit 1
    fi
    if [ "$kind" = connections ]; then wanted=$DEFAULT_CONNECTIONS; else wanted=$DEFAULT_SOURCES; fi
    have=$(names <"$work/$kind.json")
    printf '%s\n' "$wanted" | names >"$work/wanted"
    while IFS= read -r name; do
        if ! printf '%s\n' "$have" | grep -qxF "$name"; then
            missing="$missing ${kind%s} \"$name\";"
        fi
    done <"$work/wanted"
done
if [ -n "$missing" ]; then
    echo "hyperdx-init: HyperDX did not create:$missing see \`docker compose logs hyperdx\` for why" >&2
    exit 1
fi
echo "hyperdx-init: connections and sources in place: $(printf '%s\n' "$DEFAULT_CONNECTIONS" "$DEFAULT_SOURCES" | names | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
