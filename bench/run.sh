#!/usr/bin/env bash
# The benchmark: its own Kafka + PostgreSQL (ports 22092/22632, shifted by FT_TEST_PORT_OFFSET), the services, the baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/local/ensure-tools.sh
.venv/bin/python -m bench.e2e_latency "$@"
