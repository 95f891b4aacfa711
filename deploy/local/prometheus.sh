#!/usr/bin/env bash
# Prometheus for the local stack (no Docker): scrapes the services' GET /metrics and evaluates
# deploy/prometheus/alerts.yml, the same rules as the docker-compose profile "observability".
# The server is Debian's prometheus package (deploy/local/ensure-tools.sh, FT_NEED_PROMTOOL=1).
#
# Usage: deploy/local/prometheus.sh {start|stop|status}
#
# Environment: FT_STATE_DIR (its data and config go to $FT_STATE_DIR/prometheus),
# FT_PROMETHEUS_PORT (9090), FT_REFERRAL_PORT (8001), FT_TELEMEDICINE_PORT (8002),
# FT_NOTIFIER_PORT (8003), FT_PROMETHEUS_SCRAPE_INTERVAL (15s: how often it scrapes and
# evaluates the rules; the tests' 1s has every target scraped within a second of the start).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")/prometheus"
PORT="${FT_PROMETHEUS_PORT:-9090}"
SCRAPE_INTERVAL="${FT_PROMETHEUS_SCRAPE_INTERVAL:-15s}"
PID_FILE="${STATE_DIR}/prometheus.pid"

running() {
    [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null
}

write_config() {
    cat >"${STATE_DIR}/prometheus.yml" <<YAML
# Written by deploy/local/prometheus.sh; job names are what deploy/prometheus/alerts.yml expects.
global:
  scrape_interval: ${SCRAPE_INTERVAL}
  evaluation_interval: ${SCRAPE_INTERVAL}
rule_files:
  - ${REPO_DIR}/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: fasttrack-referral
    static_configs: [{targets: ["127.0.0.1:${FT_REFERRAL_PORT:-8001}"]}]
  - job_name: fasttrack-telemedicine
    static_configs: [{targets: ["127.0.0.1:${FT_TELEMEDICINE_PORT:-8002}"]}]
  - job_name: fasttrack-notifier
    static_configs: [{targets: ["127.0.0.1:${FT_NOTIFIER_PORT:-8003}"]}]
YAML
}

start() {
    if ! command -v prometheus >/dev/null 2>&1; then
        echo "prometheus: not installed (Debian: apt-get install prometheus, or" \
            "FT_NEED_PROMTOOL=1 bash deploy/local/ensure-tools.sh)" >&2
        return 1
    fi
    mkdir -p "${STATE_DIR}/data"
    if running; then
        echo "prometheus: already running on http://127.0.0.1:${PORT}"
        return 0
    fi
    write_config
    nohup prometheus --config.file="${STATE_DIR}/prometheus.yml" \
        --storage.tsdb.path="${STATE_DIR}/data" --storage.tsdb.retention.time=7d \
        --web.listen-address="127.0.0.1:${PORT}" >"${STATE_DIR}/prometheus.log" 2>&1 &
    echo $! >"${PID_FILE}"
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:${PORT}/-/ready" >/dev/null 2>&1; then
            echo "prometheus: http://127.0.0.1:${PORT} (log: ${STATE_DIR}/prometheus.log)"
            return 0
        fi
        running || { tail -n 20 "${STATE_DIR}/prometheus.log" >&2; return 1; }
        sleep 0.2
    done
    echo "prometheus: not ready after 20 s; see ${STATE_DIR}/prometheus.log" >&2
    return 1
}

stop() {
    if running; then
        kill "$(cat "${PID_FILE}")"
        for _ in $(seq 1 100); do running || break; sleep 0.1; done
        echo "prometheus: stopped"
    fi
    rm -f "${PID_FILE}"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if running; then echo "prometheus: running on :${PORT}"; else echo "prometheus: stopped"; exit 3; fi ;;
    *)
        echo "usage: $0 {start|stop|status}" >&2
        exit 2
        ;;
esac
