#!/usr/bin/env bash
# A PostgreSQL cluster owned by this checkout, for local development and integration tests,
# run from the distribution's server binaries (Debian: apt-get install postgresql): no Docker,
# no system service.
#
# Usage: deploy/local/postgres.sh {start|stop|crash|status|destroy}
#   crash: pg_ctl stop -m immediate, what a power cut or an OOM kill does (for fault tests)
#   destroy: stop, then delete the cluster's folder (wherever it lives), for a run from nothing
#
# Environment (defaults in brackets):
#   FT_STATE_DIR   state folder [<repo>/.local-stack]; the cluster lives in $FT_STATE_DIR/postgres
#   FT_PG_PORT     TCP port on 127.0.0.1 [15432]
#   FT_PG_BINDIR   server binaries [`pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin]
#   FT_PG_OS_USER  OS user that runs the server when this script runs as root [postgres]
#   FT_PG_DURABILITY  on: PostgreSQL's own defaults (fsync, synchronous_commit and
#                  full_page_writes on), so a commit that was answered survives a crash [on];
#                  off: all three off, for throwaway test clusters only (the test suite opts in)
#   FT_PG_SERVER_OPTS more server settings for pg_ctl start, e.g. the benchmark's
#                  "-c shared_preload_libraries=pg_stat_statements" []
#
# The cluster: superuser "fasttrack", trust authentication (it listens on 127.0.0.1 only, plus a
# Unix socket in the state folder), database "fasttrack". With FT_PG_DURABILITY=off a stop with
# -m immediate (a power cut, an OOM kill) loses commits that were already acknowledged, and a
# crash of the machine can lose the cluster; delete $FT_STATE_DIR/postgres to start over.
#
# PostgreSQL refuses to run as root. As root the script runs initdb and pg_ctl as the postgres
# user (runuser) and gives that user the $FT_STATE_DIR/postgres folder; every folder above it
# must be traversable (o+x) by that user. As any other user the server runs as that user.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"

# Absolute: the broker and the server run from other working directories.
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")"
PG_PORT="${FT_PG_PORT:-15432}"
PG_OS_USER="${FT_PG_OS_USER:-postgres}"
DB_USER="fasttrack"
DB_NAME="fasttrack"

PG_STATE="${STATE_DIR}/postgres"
# As root the server runs as the postgres user, who may not be able to reach the state folder
# (a clone under a private home or mktemp folder). The cluster then lives under /var/tmp, one
# folder per state folder, so CI in any checkout works without changing permissions.
if [[ "$(id -u)" == 0 ]] && id -u "${PG_OS_USER}" >/dev/null 2>&1 \
    && command -v runuser >/dev/null 2>&1; then
    probe="${STATE_DIR}"
    while [[ ! -e "${probe}" ]]; do probe="$(dirname "${probe}")"; done
    if ! runuser -u "${PG_OS_USER}" -- test -x "${probe}" 2>/dev/null; then
        PG_STATE="/var/tmp/fast-track-postgres/$(printf '%s' "${STATE_DIR}" | md5sum | cut -c1-12)"
        mkdir -p "$(dirname "${PG_STATE}")"
        chmod 0755 "$(dirname "${PG_STATE}")"
    fi
    unset probe
fi
DATA_DIR="${PG_STATE}/data"
LOG_FILE="${PG_STATE}/postgres.log"
SOCKET_DIR="${PG_STATE}"
# Unix socket paths are limited to 107 bytes; with a deeper state folder go TCP-only.
if ((${#SOCKET_DIR} + ${#PG_PORT} + 10 > 100)); then
    SOCKET_DIR=""
fi

# Durable unless the caller opts out for a throwaway cluster (see the header).
case "${FT_PG_DURABILITY:-on}" in
    on) DURABILITY_OPTS="" INITDB_SYNC="" ;;
    off)
        DURABILITY_OPTS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        INITDB_SYNC="--no-sync"
        ;;
    *)
        printf 'postgres: error: FT_PG_DURABILITY must be on or off, not %s\n' \
            "${FT_PG_DURABILITY}" >&2
        exit 2
        ;;
esac

log() { printf 'postgres: %s\n' "$*"; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }

# --- binaries ------------------------------------------------------------------------------

find_bindir() {
    if [[ -n "${FT_PG_BINDIR:-}" ]]; then
        printf '%s\n' "${FT_PG_BINDIR}"
        return 0
    fi
    local dir=""
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
    fi
    if [[ -z "${dir}" || ! -x "${dir}/pg_ctl" ]]; then
        # pg_config comes with libpq-dev; the server package alone still has its folder.
        dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null \
            | sort -V | tail -n 1 || true)"
    fi
    printf '%s\n' "${dir}"
}

BINDIR="$(find_bindir)"

check_binaries() {
    local b missing=()
    for b in initdb pg_ctl postgres pg_isready psql; do
        [[ -n "${BINDIR}" && -x "${BINDIR}/${b}" ]] || missing+=("${b}")
    done
    if ((${#missing[@]})); then
        echo "postgres: missing PostgreSQL server binaries: ${missing[*]} (looked in '${BINDIR:-nowhere}')" >&2
        echo "postgres:   install them with: apt-get install postgresql" >&2
        echo "postgres:   (or point FT_PG_BINDIR at the folder holding initdb and pg_ctl)" >&2
        exit 1
    fi
}

# --- running as the right user -------------------------------------------------------------

if [[ "$(id -u)" -eq 0 ]]; then
    AS_ROOT=1
else
    AS_ROOT=0
fi

# Runs a server binary as the user owning the cluster.
as_pg() {
    if ((AS_ROOT)); then
        # From /: the server user may not be allowed into the caller's working directory.
        (cd / && runuser -u "${PG_OS_USER}" -- "$@")
    else
        "$@"
    fi
}

# As root: give the cluster folder to the postgres user, after checking that user can reach it.
prepare_dirs() {
    mkdir -p "${PG_STATE}"
    [[ -f "${STATE_DIR}/.gitignore" ]] || printf '*\n' >"${STATE_DIR}/.gitignore"
    if ! ((AS_ROOT)); then
        return 0
    fi
    id -u "${PG_OS_USER}" >/dev/null 2>&1 \
        || die "user '${PG_OS_USER}' does not exist (it comes with apt-get install postgresql; or set FT_PG_OS_USER)"
    command -v runuser >/dev/null 2>&1 || die "runuser is missing (apt-get install util-linux)"
    if [[ "$(stat -c %U "${PG_STATE}")" != "${PG_OS_USER}" ]]; then
        chown -R "${PG_OS_USER}:" "${PG_STATE}"
    fi
    chmod 0700 "${PG_STATE}"
    if ! runuser -u "${PG_OS_USER}" -- test -w "${PG_STATE}" -a -x "${PG_STATE}"; then
        # Find the folder above that the postgres user cannot traverse.
        local d="${PG_STATE}" blocked=""
        while [[ "${d}" != / ]]; do
            d="$(dirname "${d}")"
            runuser -u "${PG_OS_USER}" -- test -x "${d}" || blocked="${d}"
        done
        echo "postgres: error: user '${PG_OS_USER}' cannot reach ${PG_STATE}" >&2
        if [[ -n "${blocked}" ]]; then
            echo "postgres:   ${blocked} is not traversable by others; either run" >&2
            echo "postgres:     chmod o+x ${blocked}" >&2
            echo "postgres:   or put the state elsewhere, e.g. FT_STATE_DIR=/var/tmp/fast-track" >&2
        fi
        exit 1
    fi
}

# One start/stop at a time per state folder (flock is optional); fd 8 is closed for the server.
lock_state() {
    mkdir -p "${STATE_DIR}"
    if command -v flock >/dev/null 2>&1; then
        exec 8>"${STATE_DIR}/.postgres.lock"
        flock 8
    fi
}

# --- state ---------------------------------------------------------------------------------

# Is the postmaster of *this* cluster alive? (pg_ctl status reads postmaster.pid.)
cluster_running() {
    [[ -f "${DATA_DIR}/postmaster.pid" ]] || return 1
    as_pg "${BINDIR}/pg_ctl" status -D "${DATA_DIR}" >/dev/null 2>&1
}

accepting() {
    "${BINDIR}/pg_isready" -q -h 127.0.0.1 -p "${PG_PORT}" -t 2
}

# Port answering although our cluster is not running: someone else holds it.
port_taken() {
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

init_cluster() {
    if [[ -f "${DATA_DIR}/PG_VERSION" ]]; then
        return 0
    fi
    log "creating cluster in ${DATA_DIR} (superuser ${DB_USER}, trust auth)"
    # initdb into a temporary folder, renamed when complete: an interrupted initdb never
    # leaves a half-made cluster behind.
    local tmp="${PG_STATE}/data.initdb"
    rm -rf "${tmp}"
    if ! as_pg "${BINDIR}/initdb" -D "${tmp}" -U "${DB_USER}" -A trust -E UTF8 \
        --locale=C ${INITDB_SYNC} >"${PG_STATE}/initdb.log" 2>&1; then
        cat "${PG_STATE}/initdb.log" >&2
        rm -rf "${tmp}"
        die "initdb failed"
    fi
    mv -T "${tmp}" "${DATA_DIR}"
}

ensure_database() {
    local exists
    exists="$("${BINDIR}/psql" -X -q -h 127.0.0.1 -p "${PG_PORT}" -U "${DB_USER}" -d postgres \
        -tAc "select 1 from pg_database where datname = '${DB_NAME}'")"
    if [[ "${exists}" != 1 ]]; then
        "${BINDIR}/psql" -X -q -h 127.0.0.1 -p "${PG_PORT}" -U "${DB_USER}" -d postgres \
            -c "create database ${DB_NAME} owner ${DB_USER}"
        log "created database ${DB_NAME}"
    fi
}

# --- commands ------------------------------------------------------------------------------

start() {
    check_binaries
    lock_state
    prepare_dirs
    if cluster_running; then
        if accepting; then
            ensure_database
            warn_if_not_durable
            log "already running on 127.0.0.1:${PG_PORT}"
            return 0
        fi
        die "the cluster in ${DATA_DIR} runs but does not accept connections on 127.0.0.1:${PG_PORT} (started with another FT_PG_PORT? see ${LOG_FILE}; $0 stop)"
    fi
    if port_taken "${PG_PORT}"; then
        die "port ${PG_PORT} on 127.0.0.1 is taken by another process (set FT_PG_PORT)"
    fi
    init_cluster
    local started_at=${SECONDS}
    if ! as_pg "${BINDIR}/pg_ctl" -D "${DATA_DIR}" -l "${LOG_FILE}" -w -t 60 \
        -o "-p ${PG_PORT} -k '${SOCKET_DIR}' -c listen_addresses=127.0.0.1 ${DURABILITY_OPTS} ${FT_PG_SERVER_OPTS:-}" \
        start >/dev/null 8>&-; then
        echo "postgres: --- last lines of ${LOG_FILE} ---" >&2
        tail -n 30 "${LOG_FILE}" >&2 || true
        die "pg_ctl start failed"
    fi
    ensure_database
    log "ready on 127.0.0.1:${PG_PORT} after $((SECONDS - started_at))s (durability ${FT_PG_DURABILITY:-on}), log ${LOG_FILE}"
}

# A cluster started before durability was the default keeps its settings until restarted.
warn_if_not_durable() {
    [[ "${FT_PG_DURABILITY:-on}" == on ]] || return 0
    local fsync
    fsync="$("${BINDIR}/psql" -X -q -h 127.0.0.1 -p "${PG_PORT}" -U "${DB_USER}" -d postgres \
        -tAc "show fsync" 2>/dev/null || true)"
    if [[ "${fsync}" == off ]]; then
        log "warning: this cluster runs with fsync=off (started without durability);"
        log "  stop and start it again ($0 stop; $0 start) to make commits durable"
    fi
}

crash() {
    check_binaries
    if ! cluster_running; then
        log "not running"
        return 0
    fi
    as_pg "${BINDIR}/pg_ctl" -D "${DATA_DIR}" -m immediate -w stop >/dev/null
    log "stopped immediately (crash)"
}

stop() {
    check_binaries
    if [[ ! -d "${DATA_DIR}" ]]; then
        log "not running"
        return 0
    fi
    lock_state
    if ! cluster_running; then
        log "not running"
        return 0
    fi
    log "stopping"
    as_pg "${BINDIR}/pg_ctl" -D "${DATA_DIR}" -m fast -w -t 30 stop >/dev/null \
        || as_pg "${BINDIR}/pg_ctl" -D "${DATA_DIR}" -m immediate -w stop >/dev/null
    log "stopped"
}

destroy() {
    stop
    rm -rf "${PG_STATE}"
    log "deleted ${PG_STATE}"
}

status() {
    check_binaries
    if cluster_running && accepting; then
        echo "postgres: running on 127.0.0.1:${PG_PORT}, data ${DATA_DIR}"
        return 0
    fi
    echo "postgres: stopped"
    return 3
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    crash) crash ;;
    status) status ;;
    destroy) destroy ;;
    *)
        echo "usage: $0 {start|stop|crash|status|destroy}" >&2
        exit 2
        ;;
esac
