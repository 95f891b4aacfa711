#!/usr/bin/env bash
# The local stack without Docker: PostgreSQL (postgres.sh), a single-node Kafka (kafka.sh) and
# the reverse proxy that puts people's pages at one origin (proxy.sh, nginx) and the trace UI
# (zipkin.sh, in-memory).
#
# Usage: deploy/local/stack.sh {up|down|status}
#
# Environment: FT_STATE_DIR, FT_PG_PORT, FT_KAFKA_PORT, FT_KAFKA_CONTROLLER_PORT, FT_ZIPKIN_PORT,
# FT_CACHE_DIR, FT_PROXY_PORT (set: the stack runs the proxy) and the FT_PROXY_<SERVICE>
# upstreams (see postgres.sh, kafka.sh, proxy.sh, zipkin.sh). Two stacks run side by side with
# different state folders and ports. `up` also writes $FT_STATE_DIR/stack.env
# (FT_KAFKA_BOOTSTRAP_SERVERS, FT_DATABASE_URL, FT_ZIPKIN_ENDPOINT) for
# `set -a; . .local-stack/stack.env; set +a`.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
# Absolute: the broker and the server run from other working directories.
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")"
BOOTSTRAP="127.0.0.1:${FT_KAFKA_PORT:-19092}"
DATABASE_URL="postgresql://fasttrack@127.0.0.1:${FT_PG_PORT:-15432}/fasttrack"
ZIPKIN_URL="http://127.0.0.1:${FT_ZIPKIN_PORT:-19411}"

up() {
    # Zipkin and PostgreSQL start alongside Kafka (none needs another); waited for before the
    # summary.
    "${SCRIPT_DIR}/zipkin.sh" start &
    local zipkin=$!
    "${SCRIPT_DIR}/postgres.sh" start &
    local postgres=$!
    "${SCRIPT_DIR}/kafka.sh" start
    wait "${postgres}"
    # The proxy of people's pages, when the stack has one (make up and the test suite's stack;
    # the chaos and benchmark stacks open no pages).
    if [[ -n "${FT_PROXY_PORT:-}" ]]; then
        "${SCRIPT_DIR}/proxy.sh" start
    fi
    wait "${zipkin}"
    mkdir -p "${STATE_DIR}"
    cat >"${STATE_DIR}/stack.env" <<EOF
FT_KAFKA_BOOTSTRAP_SERVERS=${BOOTSTRAP}
FT_DATABASE_URL=${DATABASE_URL}
FT_ZIPKIN_ENDPOINT=${ZIPKIN_URL}/api/v2/spans
EOF
    echo "stack: up"
    echo "  Kafka bootstrap: ${BOOTSTRAP}"
    echo "  Database URL:    ${DATABASE_URL}"
    echo "  Trace UI:        ${ZIPKIN_URL}/zipkin/"
    echo "  (also written to ${STATE_DIR}/stack.env)"
}

down() {
    local rc=0
    "${SCRIPT_DIR}/proxy.sh" stop || rc=1
    "${SCRIPT_DIR}/zipkin.sh" stop || rc=1
    "${SCRIPT_DIR}/kafka.sh" stop || rc=1
    "${SCRIPT_DIR}/postgres.sh" stop || rc=1
    return "${rc}"
}

status() {
    local rc=0
    "${SCRIPT_DIR}/postgres.sh" status || rc=3
    "${SCRIPT_DIR}/kafka.sh" status || rc=3
    if [[ -n "${FT_PROXY_PORT:-}" ]]; then
        "${SCRIPT_DIR}/proxy.sh" status || rc=3
    fi
    "${SCRIPT_DIR}/zipkin.sh" status || rc=3
    return "${rc}"
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    status) status ;;
    *)
        echo "usage: $0 {up|down|status}" >&2
        exit 2
        ;;
esac
