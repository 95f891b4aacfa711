#!/usr/bin/env bash
# Zipkin (trace storage, query API and web UI in one executable jar from Maven Central) for the
# local stack: no Docker. The services export their spans to it (FT_ZIPKIN_ENDPOINT); its UI is
# http://127.0.0.1:<port>/zipkin/. Storage is in memory and bounded (FT_ZIPKIN_MAX_SPANS spans,
# the oldest traces dropped first; a restart forgets everything): good for development and
# tests, not for keeping production traces (docs/architecture.md, "Tracing").
#
# Usage: deploy/local/zipkin.sh {install|start|stop|status}
#
# Environment (defaults in brackets):
#   FT_STATE_DIR          state folder (log, pid) [<repo>/.local-stack]
#   FT_ZIPKIN_PORT        HTTP port on 127.0.0.1: span intake, query API and UI [19411]
#   FT_ZIPKIN_MAX_SPANS   spans kept in memory [50000]
#   FT_ZIPKIN_HEAP_OPTS   [-Xms64m -Xmx256m]
#   FT_ZIPKIN_START_TIMEOUT seconds to wait for /health [90]
#   FT_CACHE_DIR          downloaded jar, shared by all checkouts
#                         [${XDG_CACHE_HOME:-$HOME/.cache}/fast-track]
#
# Needs Java 17+ and Maven (apt-get install openjdk-17-jre-headless maven), like kafka.sh.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"

# Pinned: the UI and the query API the browser tests read are this release's.
ZIPKIN_VERSION=3.5.1
# sha256 of zipkin-server-3.5.1-exec.jar as Maven Central served it (checked after download).
ZIPKIN_SHA256=7ac633a6832647e71e50012a5e3e91fbc7054414955261724526030faf271d8d
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")"
PORT="${FT_ZIPKIN_PORT:-19411}"
MAX_SPANS="${FT_ZIPKIN_MAX_SPANS:-50000}"
HEAP_OPTS="${FT_ZIPKIN_HEAP_OPTS:--Xms64m -Xmx256m}"
START_TIMEOUT="${FT_ZIPKIN_START_TIMEOUT:-90}"
CACHE_DIR="${FT_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/fast-track}"
JAR="${CACHE_DIR}/zipkin-${ZIPKIN_VERSION}/zipkin-server-${ZIPKIN_VERSION}-exec.jar"
ZIPKIN_STATE="${STATE_DIR}/zipkin"
LOG_FILE="${ZIPKIN_STATE}/zipkin.log"
PID_FILE="${ZIPKIN_STATE}/zipkin.pid"
URL="http://127.0.0.1:${PORT}"

log() { printf 'zipkin: %s\n' "$*"; }
die() { printf 'zipkin: error: %s\n' "$*" >&2; exit 1; }

install() {
    if [[ -f "${JAR}" ]]; then
        return 0
    fi
    command -v java >/dev/null 2>&1 || die "missing: java (apt-get install openjdk-17-jre-headless)"
    command -v mvn >/dev/null 2>&1 || die "missing: mvn (Maven downloads the Zipkin jar once; apt-get install maven)"
    mkdir -p "$(dirname "${JAR}")"
    local tmp
    tmp="$(mktemp -d "$(dirname "${JAR}")/download.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    log "downloading io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec from Maven Central (131 MB, once)"
    if ! mvn -q -B -f "${SCRIPT_DIR}/pom.xml" dependency:copy \
        -Dartifact="io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec" \
        -DoutputDirectory="${tmp}" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
        die "Maven could not download zipkin-server ${ZIPKIN_VERSION}"
    fi
    local got
    got="$(sha256sum "${tmp}/$(basename "${JAR}")" | cut -d ' ' -f 1)"
    [[ "${got}" == "${ZIPKIN_SHA256}" ]] \
        || die "zipkin-server-${ZIPKIN_VERSION}-exec.jar has sha256 ${got}, expected ${ZIPKIN_SHA256}"
    mv -f "${tmp}/$(basename "${JAR}")" "${JAR}"
    rm -rf "${tmp}"
    trap - EXIT
}

is_ours() {
    local pid="$1"
    [[ "${pid}" =~ ^[0-9]+$ ]] && kill -0 "${pid}" 2>/dev/null || return 1
    [[ -d /proc/self ]] || return 0
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "--armeria.ports[0].port=${PORT} "
}

running_pid() {
    [[ -f "${PID_FILE}" ]] || return 1
    local pid
    pid="$(cat "${PID_FILE}" 2>/dev/null || true)"
    is_ours "${pid}" && printf '%s\n' "${pid}"
}

healthy() { curl -fsS --max-time 2 "${URL}/health" >/dev/null 2>&1; }

start() {
    mkdir -p "${ZIPKIN_STATE}"
    local pid
    if pid="$(running_pid)"; then
        log "already running (pid ${pid}) on ${URL}"
        return 0
    fi
    # Another stack's Zipkin on this port (the chaos run's stack shares the test suite's): use
    # it rather than start a JVM that cannot bind the port.
    if healthy; then
        log "a Zipkin already answers on ${URL} (not this state folder's); using it"
        return 0
    fi
    install
    local started_at=${SECONDS}
    # Loopback only; the in-memory store keeps at most MAX_SPANS spans (MEM_MAX_SPANS).
    MEM_MAX_SPANS="${MAX_SPANS}" STORAGE_TYPE=mem nohup java ${HEAP_OPTS} -XX:+UseSerialGC \
        -XX:TieredStopAtLevel=1 -Djava.awt.headless=true -jar "${JAR}" \
        "--armeria.ports[0].port=${PORT}" "--armeria.ports[0].ip=127.0.0.1" \
        "--armeria.ports[0].protocols=http" \
        </dev/null >>"${LOG_FILE}" 2>&1 &
    pid=$!
    printf '%s\n' "${pid}" >"${PID_FILE}"
    log "starting Zipkin ${ZIPKIN_VERSION} (pid ${pid}), log ${LOG_FILE}"
    while ((SECONDS - started_at < START_TIMEOUT)); do
        if healthy; then
            log "ready on ${URL}/zipkin/ after $((SECONDS - started_at))s"
            return 0
        fi
        kill -0 "${pid}" 2>/dev/null || { tail -n 30 "${LOG_FILE}" >&2; die "Zipkin exited"; }
        sleep 0.3
    done
    tail -n 30 "${LOG_FILE}" >&2
    stop >/dev/null 2>&1 || true
    die "Zipkin did not answer on ${URL}/health within ${START_TIMEOUT}s (stopped it)"
}

stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "${PID_FILE}"
        log "not running"
        return 0
    fi
    kill -TERM "${pid}" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
        kill -KILL "${pid}" 2>/dev/null || true
    fi
    rm -f "${PID_FILE}"
    log "stopped"
}

status() {
    local pid
    if pid="$(running_pid)" && healthy; then
        echo "zipkin: running (pid ${pid}), UI ${URL}/zipkin/"
        return 0
    fi
    echo "zipkin: stopped"
    return 3
}

case "${1:-}" in
    install) install && log "Zipkin ${ZIPKIN_VERSION} ready: ${JAR}" ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 {install|start|stop|status}" >&2
        exit 2
        ;;
esac
