#!/usr/bin/env bash
# Brings the whole system up on this machine: Docker Compose where a Docker engine answers,
# otherwise Kafka and PostgreSQL provisioned locally and the services as background processes.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

if [ "${FT_NO_DOCKER:-0}" != 1 ] && command -v docker >/dev/null 2>&1 \
   && docker info >/dev/null 2>&1; then
  echo "Docker engine found: using docker compose"
  docker compose up -d --build
  echo "Fast Track for people (sign in here): http://127.0.0.1:${FT_PROXY_PORT:-8080}/app/"
  echo "APIs of hospital systems: referral :8001, telemedicine :8002, notifier :8003"
  echo "traces:       http://127.0.0.1:9411/zipkin/"
  exit 0
fi

echo "No Docker engine: provisioning Kafka and PostgreSQL locally (deploy/local)"
# FT_NEED_PROMTOOL: Debian's prometheus package, the metrics server started below.
FT_NEED_PROMTOOL=1 bash deploy/local/ensure-tools.sh
export FT_STATE_DIR="${FT_STATE_DIR:-$repo/.local-stack/dev}"
# Demo API keys of the demo hospitals (deploy/demo/api-keys.json), unless real ones are set.
export FT_API_KEYS="${FT_API_KEYS:-$(cat deploy/demo/api-keys.json)}"
# The demo operators' key (deploy/demo/operator-keys.json): dead letters, replay, any delivery log.
export FT_OPERATOR_API_KEYS="${FT_OPERATOR_API_KEYS:-$(cat deploy/demo/operator-keys.json)}"
# People's pages at one origin (deploy/local/proxy.sh): links in notifications open there.
export FT_PROXY_PORT="${FT_PROXY_PORT:-8080}"
people_url="http://127.0.0.1:${FT_PROXY_PORT}"
export FT_NOTIFIER_PUBLIC_URL="${FT_NOTIFIER_PUBLIC_URL:-$people_url}"
export FT_REFERRAL_PUBLIC_URL="${FT_REFERRAL_PUBLIC_URL:-$people_url}"
bash deploy/local/stack.sh up
python="$repo/.venv/bin/python"
"$python" -m shared.admin migrate
"$python" -m shared.admin create-topics
"$python" -m services.referral.load_directory deploy/demo/directory.json
# The development people of the demo hospitals (README, "Signing in"; development only).
"$python" -m services.referral.accounts seed-dev

logs="$FT_STATE_DIR/logs"
mkdir -p "$logs"
start() {  # name module port
  local name=$1 module=$2 port=$3 pidfile="$FT_STATE_DIR/$1.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  nohup "$python" -m "$module" >"$logs/$name.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    if "$python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=2)" 2>/dev/null; then
      echo "$name up on :$port (log: $logs/$name.log)"
      return
    fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -n 30 "$logs/$name.log"; exit 1; }
    sleep 0.2
  done
  echo "$name did not become healthy; see $logs/$name.log" >&2
  exit 1
}
start webhook-demo deploy.demo.webhook_receiver 8099
start referral services.referral 8001
start telemedicine services.telemedicine 8002
start notifier services.notifier 8003
# Scrapes the services' /metrics and evaluates the alert rules (docs/operations.md).
bash deploy/local/prometheus.sh start

cat <<EOT

Fast Track is up. For people (clinicians, operators), one address; sign in there:

  $people_url/app/

For hospital systems and operators' tools:
  FHIR \$process-message: http://127.0.0.1:8001/fhir/\$process-message
  Notifications sent:   http://127.0.0.1:8099/received   (demo webhook receiver)
  Health:               http://127.0.0.1:800{1,2,3}/health
  Metrics and alerts:   http://127.0.0.1:${FT_PROMETHEUS_PORT:-9090}/alerts   (Prometheus)
  Traces (Zipkin):      http://127.0.0.1:${FT_ZIPKIN_PORT:-19411}/zipkin/
  Logs:                 $logs
Send the example referral:
  curl -sS -H 'Content-Type: application/fhir+json' -H 'Authorization: Bearer demo-sikao-hospital' \\
       --data @examples/referral-requested.json \\
       http://127.0.0.1:8001/fhir/\\\$process-message
Stop everything with: make down
EOT
