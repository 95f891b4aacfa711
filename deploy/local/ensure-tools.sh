#!/usr/bin/env bash
# Installs what the local stack and the tests need and the machine lacks, then the Python
# environment from the lock file. As root it uses apt-get; otherwise it says what to install.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

missing_packages=()
command -v java >/dev/null 2>&1 || missing_packages+=(openjdk-17-jre-headless)
# The test suite's FHIR validator is compiled once (deploy/local/fhir-validator.sh): a JDK.
command -v javac >/dev/null 2>&1 || missing_packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing_packages+=(maven)
# Third-party browser assets (deploy/web-assets.sh) come from the npm registry.
command -v npm >/dev/null 2>&1 || missing_packages+=(npm)
{ command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; } \
  || missing_packages+=(postgresql)
# The reverse proxy of people's pages (deploy/local/proxy.sh); Debian builds it with
# auth_request (forward auth), which the configuration needs.
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing_packages+=(nginx)
if [ "${FT_NEED_COMPOSE:-0}" = 1 ]; then
  command -v docker-compose >/dev/null 2>&1 || missing_packages+=(docker-compose)
fi
# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
if [ "${FT_NEED_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || missing_packages+=(chromium)
fi

# The alert rules are checked and unit-tested with promtool (tests/unit/test_alert_rules.py):
# Debian's prometheus package is where it comes from (its server is not started or needed).
if [ "${FT_NEED_PROMTOOL:-0}" = 1 ]; then
  command -v promtool >/dev/null 2>&1 || missing_packages+=(prometheus)
fi

if [ ${#missing_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${missing_packages[*]}"
    apt-get update -qq
    # RUNLEVEL=1: packages with a system service (nginx, postgresql) are installed, not started:
    # the stack runs its own instances on its own ports.
    RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}" >/dev/null
  else
    echo "missing: ${missing_packages[*]}" >&2
    echo "install them with: sudo apt-get install ${missing_packages[*]}" >&2
    exit 1
  fi
fi

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is required (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv"
  "$python" -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
# --locked: a uv.lock that no longer matches pyproject.toml is refused, not silently re-resolved.
uv sync --locked --quiet
bash "$repo/deploy/web-assets.sh" "$repo"
