#!/bin/sh
# One-shot MinIO setup for the Compose stack (run by the `minio-init` service, image quay.io/minio/mc).
# Idempotent: safe on every `just up`.
#   - the bucket ($S3_BUCKET), with objects expiring after $S3_RETENTION_DAYS (the tables' TTL)
#   - a write-only user for the collector  (policy config/minio/policy-collector-write.json)
#   - a read-only user for the s3-loader   (policy config/minio/policy-loader-read.json)
set -eu

: "${MINIO_URL:=http://minio:9000}"
: "${S3_RETENTION_DAYS:=3}"
: "${MINIO_ROOT_USER:?MINIO_ROOT_USER is not set}"
: "${MINIO_ROOT_PASSWORD:?MINIO_ROOT_PASSWORD is not set}"
: "${S3_BUCKET:?S3_BUCKET is not set}"
: "${MINIO_COLLECTOR_ACCESS_KEY:?MINIO_COLLECTOR_ACCESS_KEY is not set}"
: "${MINIO_COLLECTOR_SECRET_KEY:?MINIO_COLLECTOR_SECRET_KEY is not set}"
: "${MINIO_LOADER_ACCESS_KEY:?MINIO_LOADER_ACCESS_KEY is not set}"
: "${MINIO_LOADER_SECRET_KEY:?MINIO_LOADER_SECRET_KEY is not set}"

POLICY_DIR=/config/minio
ALIAS=playground
WORK=$(mktemp -d)

tries=0
until mc alias set "$ALIAS" "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "minio-init: MinIO at $MINIO_URL still unreachable after 60 s (check MINIO_ROOT_USER/PASSWORD)" >&2
        exit 1
    fi
    sleep 1
done

mc mb --ignore-existing "$ALIAS/$S3_BUCKET"
if ! mc ilm rule ls "$ALIAS/$S3_BUCKET" >/dev/null 2>&1; then
    mc ilm rule add --expire-days "$S3_RETENTION_DAYS" "$ALIAS/$S3_BUCKET" \
        || echo "minio-init: could not set a lifecycle rule on $S3_BUCKET (objects will not expire)"
fi

# Render a policy template: the only substitution in the JSON files is ${S3_BUCKET}.
render_policy() {
    eval "cat <<__POLICY__
$(cat "$1")
__POLICY__"
}

# attach_user NAME ACCESS_KEY SECRET_KEY: (re)create the policy and the user, and bind them.
attach_user() {
    render_policy "$POLICY_DIR/policy-$1.json" > "$WORK/$1.json"
    mc admin policy create "$ALIAS" "$1" "$WORK/$1.json"
    mc admin user add "$ALIAS" "$2" "$3"
    if ! out=$(mc admin policy attach "$ALIAS" "$1" --user "$2" 2>&1); then
        case "$out" in
            *already*) ;;
            *) echo "minio-init: attaching policy $1 to $2 failed: $out" >&2; exit 1 ;;
        esac
    fi
    echo "minio-init: user $2 has policy $1"
}

attach_user collector-write "$MINIO_COLLECTOR_ACCESS_KEY" "$MINIO_COLLECTOR_SECRET_KEY"
attach_user loader-read "$MINIO_LOADER_ACCESS_KEY" "$MINIO_LOADER_SECRET_KEY"

rm -rf "$WORK"
echo "minio-init: bucket $S3_BUCKET ready"
