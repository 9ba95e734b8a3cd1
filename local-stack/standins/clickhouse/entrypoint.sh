#!/bin/sh
# The ClickHouse stand-in's start: the endpoint with the files the compose file mounts where the official image
# reads them. No native protocol (:9000), no interserver port: the HTTP interface only.
set -eu
exec python -m local_stack.clickhouse --host 0.0.0.0 --port 8123 --data-dir /var/lib/clickhouse \
    --users-xml /etc/clickhouse-server/users.d/click-ai.xml \
    --config-xml /etc/clickhouse-server/config.d/click-ai.xml \
    --init-sql /docker-entrypoint-initdb.d "$@"
