#!/usr/bin/env bash
# The whole test suite from nothing: tools, Python environment, lint, types, then unit,
# integration and end-to-end tests on a real Kafka broker and PostgreSQL (started by the tests).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
FT_NEED_COMPOSE=1 FT_NEED_BROWSER=1 FT_NEED_PROMTOOL=1 bash deploy/local/ensure-tools.sh
# The independent FHIR validator (HAPI, R4B) the conformance tests run: built once, cached.
bash deploy/local/fhir-validator.sh install
# kustomize and the operators' schemas the Kubernetes manifest tests check against: pinned, cached.
bash deploy/k8s/tools.sh install
export FT_STATE_DIR="$repo/.local-stack/test"
# FT_TEST_PORT_OFFSET shifts every test port (tests/support.py) so two checkouts can test at once.
offset="${FT_TEST_PORT_OFFSET:-0}"
stop_stack() {
  FT_KAFKA_PORT=$((29092 + offset)) FT_KAFKA_CONTROLLER_PORT=$((29093 + offset)) \
    FT_KAFKA_HOSPITAL_PORT=$((29094 + offset)) \
    FT_PG_PORT=$((25432 + offset)) FT_ZIPKIN_PORT=$((29411 + offset)) \
    bash deploy/local/stack.sh down >/dev/null 2>&1 || true
}
[ "${FT_KEEP_TEST_STACK:-0}" = 1 ] || trap stop_stack EXIT
# The quality gates (the same list as `make lint` and .pre-commit-config.yaml); ensure-tools.sh's
# `uv sync --locked` above has already refused a uv.lock that drifted from pyproject.toml.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy shared services tests bench
.venv/bin/lint-imports --no-cache
.venv/bin/deptry .
.venv/bin/python deploy/local/dependency_audit.py
if [ $# -eq 0 ]; then
  # The whole suite, measured: under the floor of [tool.coverage.report] fail_under it fails;
  # the 30 slowest tests are listed (the suite must stay well under 20 minutes).
  .venv/bin/python -m pytest --cov --cov-report=term --durations=30
else
  .venv/bin/python -m pytest "$@"
fi
