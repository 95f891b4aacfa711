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
# FT_TEST_PORT_OFFSET shifts every test port (tests/support.py) so two checkouts can test at once;
# the whole suite's second half runs at that offset + 1000 (below).
offset="${FT_TEST_PORT_OFFSET:-0}"
REST_OFFSET=$((offset + 1000))
E2E_STATE="$repo/.local-stack/test"
REST_STATE="$repo/.local-stack/test-rest"
stop_stack() { # <state dir> <port offset>
  FT_STATE_DIR="$1" FT_KAFKA_PORT=$((29092 + $2)) FT_KAFKA_CONTROLLER_PORT=$((29093 + $2)) \
    FT_KAFKA_HOSPITAL_PORT=$((29094 + $2)) \
    FT_PG_PORT=$((25432 + $2)) FT_ZIPKIN_PORT=$((29411 + $2)) FT_PROXY_PORT=$((18080 + $2)) \
    bash deploy/local/stack.sh down >/dev/null 2>&1 || true
}
stop_stacks() {
  stop_stack "$E2E_STATE" "$offset"
  stop_stack "$REST_STATE" "$REST_OFFSET"
}
[ "${FT_KEEP_TEST_STACK:-0}" = 1 ] || trap stop_stacks EXIT
# The quality gates (the same list as `make lint` and .pre-commit-config.yaml); ensure-tools.sh's
# `uv sync --locked` above has already refused a uv.lock that drifted from pyproject.toml.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy shared services tests bench
.venv/bin/lint-imports --no-cache
.venv/bin/deptry .
.venv/bin/python deploy/local/dependency_audit.py
if [ $# -gt 0 ]; then
  FT_TEST_STATE_DIR="$E2E_STATE" .venv/bin/python -m pytest "$@"
  exit
fi
# The whole suite, in two halves at once, each with a stack and services of its own (its own
# ports and state directory): the end-to-end tests, and the unit, integration and browser tests.
# Most of a test's time is waiting (for Kafka, PostgreSQL, a browser, a service), so the two
# share the 2 cores well. Each half measures its coverage; the floor of [tool.coverage.report]
# fail_under is applied to both together. Each half lists its 20 slowest tests (the suite must
# stay well under 20 minutes).
rm -f .coverage .coverage.*
# The halves name their directories: a test file anywhere else would be left out, unseen.
unrun="$(find tests -name 'test_*.py' -not -path 'tests/unit/*' -not -path 'tests/integration/*' \
  -not -path 'tests/browser/*' -not -path 'tests/e2e/*')"
if [ -n "$unrun" ]; then
  echo "tests outside tests/{unit,integration,browser,e2e}, which no half runs:" >&2
  echo "$unrun" >&2
  exit 1
fi
rest_log="$repo/.local-stack/test-rest.log"
mkdir -p "$repo/.local-stack"
half() { # <name> <state dir> <port offset> <test paths...>
  local name="$1" state="$2" port_offset="$3"
  shift 3
  COVERAGE_FILE="$repo/.coverage.$name" FT_TEST_STATE_DIR="$state" \
    FT_TEST_PORT_OFFSET="$port_offset" .venv/bin/python -m pytest -p no:cacheprovider \
    --basetemp="${TMPDIR:-/tmp}/fasttrack-pytest-$port_offset" \
    --cov --cov-report= --cov-fail-under=0 --durations=20 "$@"
}
half rest "$REST_STATE" "$REST_OFFSET" tests/unit tests/integration tests/browser \
  >"$rest_log" 2>&1 &
rest_pid=$!
e2e_status=0
half e2e "$E2E_STATE" "$offset" tests/e2e || e2e_status=$?
rest_status=0
wait "$rest_pid" || rest_status=$?
echo
echo "=== the unit, integration and browser tests (at port offset $REST_OFFSET) ==="
cat "$rest_log"
echo
.venv/bin/coverage combine -q
coverage_status=0
.venv/bin/coverage report || coverage_status=$?
echo "end-to-end tests: exit $e2e_status; unit, integration and browser tests: exit $rest_status"
[ "$e2e_status" -eq 0 ] && [ "$rest_status" -eq 0 ] && [ "$coverage_status" -eq 0 ]
