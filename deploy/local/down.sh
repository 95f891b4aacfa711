#!/usr/bin/env bash
# Stops what `make up` started (services first, then Kafka and PostgreSQL).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
export FT_STATE_DIR="${FT_STATE_DIR:-$repo/.local-stack/dev}"
bash deploy/local/prometheus.sh stop
for name in notifier telemedicine referral webhook-demo; do
  pidfile="$FT_STATE_DIR/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
    echo "$name stopped"
  fi
  rm -f "$pidfile"
done
bash deploy/local/stack.sh down
