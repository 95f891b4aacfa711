#!/usr/bin/env bash
# The independent FHIR validator of the test suite (HAPI FHIR's R4B instance validator, see
# fhir-validator/pom.xml), built from Maven Central once and cached next to the Kafka jars.
#
# Usage: deploy/local/fhir-validator.sh {install|classpath}
#   install    download the jars and compile the validator server, unless already cached
#   classpath  install, then print the Java class path (for java -cp)
#
# Environment: FT_CACHE_DIR as for kafka.sh [${XDG_CACHE_HOME:-$HOME/.cache}/fast-track].
# Needs a Java 17 JDK (javac) and Maven: apt-get install openjdk-17-jdk-headless maven
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="${SCRIPT_DIR}/fhir-validator"
CACHE_DIR="${FT_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/fast-track}"

log() { printf 'fhir-validator: %s\n' "$*" >&2; }
die() { printf 'fhir-validator: error: %s\n' "$*" >&2; exit 1; }

# The cache key covers the pom and the server's source: a change rebuilds.
digest() {
    (cd "${PROJECT_DIR}" && find pom.xml src -type f -print0 | sort -z | xargs -0 sha256sum) \
        | sha256sum | cut -c 1-16
}
HOME_DIR="${CACHE_DIR}/fhir-validator-$(digest)"

installed() { [[ -f "${HOME_DIR}/.complete" ]]; }

install() {
    installed && return 0
    command -v javac >/dev/null 2>&1 \
        || die "missing: javac (a Java 17 JDK); install it with: apt-get install openjdk-17-jdk-headless"
    command -v mvn >/dev/null 2>&1 || die "missing: mvn; install it with: apt-get install maven"
    mkdir -p "${HOME_DIR}"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"${HOME_DIR}.lock"
        flock 9
        installed && return 0
    fi
    local tmp
    tmp="$(mktemp -d "${CACHE_DIR}/fhir-validator.tmp.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    log "building HAPI FHIR's validator from Maven Central into ${HOME_DIR} (once)"
    # (sed: Debian's Maven 3.8 prints stray colour resets even with -B.)
    if ! mvn -q -B -f "${PROJECT_DIR}/pom.xml" package dependency:copy-dependencies \
        -Dvalidator.build.dir="${tmp}/build" -DoutputDirectory="${tmp}/libs" \
        -DincludeScope=runtime 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
        die "Maven could not build the validator (see the output above)"
    fi
    cp "${tmp}/build/fhir-validator.jar" "${tmp}/libs/"
    rm -rf "${HOME_DIR}"
    mv -T "${tmp}/libs" "${HOME_DIR}"
    date -u +%FT%TZ >"${HOME_DIR}/.complete"
    rm -rf "${tmp}"
    trap - EXIT
    log "ready: $(find "${HOME_DIR}" -name '*.jar' | wc -l) jars"
}

case "${1:-}" in
    install) install ;;
    classpath) install && printf '%s/*\n' "${HOME_DIR}" ;;
    *)
        echo "usage: $0 {install|classpath}" >&2
        exit 2
        ;;
esac
