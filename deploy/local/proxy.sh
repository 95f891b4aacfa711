#!/usr/bin/env bash
# The reverse proxy that puts people's pages at one origin (deploy/nginx/), run from Debian's
# nginx package (apt-get install nginx; ensure-tools.sh installs it): no Docker, no system
# service; its configuration, pid file, logs and temp files live in the state folder.
#
# Usage: deploy/local/proxy.sh {start|stop|status|check|url}
#   check: render the configuration and let nginx test it (nginx -t), without starting
#
# Environment (defaults in brackets):
#   FT_STATE_DIR          state folder [<repo>/.local-stack]; the proxy's files in $FT_STATE_DIR/nginx
#   FT_PROXY_PORT         port on 127.0.0.1 people's browsers open [8080]
#   FT_PROXY_REFERRAL     the referral service (web app) [127.0.0.1:8001]
#   FT_PROXY_NOTIFIER     the notifier [127.0.0.1:8003]
#   FT_PROXY_TELEMEDICINE the telemedicine service [127.0.0.1:8002]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")"
NGINX_DIR="${STATE_DIR}/nginx"
PID_FILE="${NGINX_DIR}/nginx.pid"
export FT_PROXY_LISTEN="127.0.0.1:${FT_PROXY_PORT:-8080}"
export FT_PROXY_REFERRAL="${FT_PROXY_REFERRAL:-127.0.0.1:8001}"
export FT_PROXY_NOTIFIER="${FT_PROXY_NOTIFIER:-127.0.0.1:8003}"
export FT_PROXY_TELEMEDICINE="${FT_PROXY_TELEMEDICINE:-127.0.0.1:8002}"
export FT_PROXY_ACCESS_LOG="${NGINX_DIR}/logs/access.log"

nginx_binary() {
    command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || {
        echo "proxy: nginx is missing; install it with: sudo apt-get install nginx" >&2
        exit 1
    }
}

running() {
    [[ -f "${PID_FILE}" ]] && kill -0 "$(cat "${PID_FILE}")" 2>/dev/null
}

render() {
    mkdir -p "${NGINX_DIR}/temp" "${NGINX_DIR}/logs"
    # Only the FT_ names are replaced: nginx's own $variables stay as they are.
    envsubst '${FT_PROXY_LISTEN} ${FT_PROXY_REFERRAL} ${FT_PROXY_NOTIFIER} ${FT_PROXY_TELEMEDICINE}
        ${FT_PROXY_ACCESS_LOG}' \
        <"${REPO_DIR}/deploy/nginx/templates/fasttrack.conf.template" >"${NGINX_DIR}/fasttrack.conf"
    cat >"${NGINX_DIR}/nginx.conf" <<CONF
# Written by deploy/local/proxy.sh: the main context for a proxy owned by this state folder.
worker_processes 1;
pid ${PID_FILE};
error_log ${NGINX_DIR}/logs/error.log warn;
events {
    worker_connections 512;
}
http {
    client_body_temp_path ${NGINX_DIR}/temp/client_body;
    proxy_temp_path ${NGINX_DIR}/temp/proxy;
    fastcgi_temp_path ${NGINX_DIR}/temp/fastcgi;
    uwsgi_temp_path ${NGINX_DIR}/temp/uwsgi;
    scgi_temp_path ${NGINX_DIR}/temp/scgi;
    include ${NGINX_DIR}/fasttrack.conf;
}
CONF
}

check() {
    local nginx
    nginx="$(nginx_binary)"
    render
    # -e: errors before the configuration is read go to our log, not /var/log/nginx.
    "${nginx}" -q -t -e "${NGINX_DIR}/logs/error.log" -p "${NGINX_DIR}" -c "${NGINX_DIR}/nginx.conf"
}

start() {
    local nginx
    nginx="$(nginx_binary)"
    if running; then
        # Already up: take the current configuration (a port or an upstream may have changed).
        check
        kill -HUP "$(cat "${PID_FILE}")"
        echo "proxy: running (pid $(cat "${PID_FILE}")), configuration reloaded: http://${FT_PROXY_LISTEN}/"
        return
    fi
    check
    "${nginx}" -e "${NGINX_DIR}/logs/error.log" -p "${NGINX_DIR}" -c "${NGINX_DIR}/nginx.conf"
    for _ in $(seq 1 50); do
        running && break
        sleep 0.1
    done
    running || { tail -n 20 "${NGINX_DIR}/logs/error.log" >&2; exit 1; }
    echo "proxy: up on http://${FT_PROXY_LISTEN}/ (pid $(cat "${PID_FILE}"))"
}

stop() {
    if running; then
        local pid
        pid="$(cat "${PID_FILE}")"
        kill -QUIT "${pid}"  # graceful: open streams are closed, then the workers exit
        for _ in $(seq 1 100); do
            kill -0 "${pid}" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "${pid}" 2>/dev/null && kill -TERM "${pid}"
        echo "proxy: stopped"
    fi
    rm -f "${PID_FILE}"
}

status() {
    if running; then
        echo "proxy: running on http://${FT_PROXY_LISTEN}/ (pid $(cat "${PID_FILE}"))"
    else
        echo "proxy: stopped"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    check) check ;;
    url) echo "http://${FT_PROXY_LISTEN}/" ;;
    *)
        echo "usage: $0 {start|stop|status|check|url}" >&2
        exit 2
        ;;
esac
