#!/usr/bin/env bash
# What the test suite needs to check the Kubernetes manifests offline (tests/unit/
# test_kubernetes_manifests.py), fetched once at install time from the package registries,
# pinned, checked and cached; the tests themselves never reach the network:
#   - kustomize, built from its Go module (sigs.k8s.io/kustomize/kustomize/v5) by `go install`:
#     the go command checks every module against the Go checksum database;
#   - the CRDs of CloudNativePG and KEDA, from their Go modules' config/crd/bases, each module
#     checked against the h1: hash pinned below;
#   - Strimzi's CRD schemas as @kubernetes-models/strimzi-kafka-operator compiles them (npm,
#     validate/package-lock.json pins every package by sha512), run by node (validate/strimzi.mjs).
# The Kubernetes schemas themselves come with the Python package kubernetes-validate (uv.lock).
#
# Usage: deploy/k8s/tools.sh {install|path}
#   install  fetch and build what is missing (a few minutes the first time)
#   path     print the folder holding bin/kustomize, crds/ and strimzi/ (exit 1 if not installed)
#
# Environment: FT_CACHE_DIR [${XDG_CACHE_HOME:-$HOME/.cache}/fast-track]. Needs go (1.22 or
# newer) and npm.
set -euo pipefail

KUSTOMIZE_VERSION=v5.7.1
CNPG_MODULE=github.com/cloudnative-pg/cloudnative-pg
CNPG_VERSION=v1.27.1
CNPG_SUM="h1:w+bbtXyEPoaa7sZGXxbb8qJ+/bUGWQ3M48kbNUEpKlk="
KEDA_MODULE=github.com/kedacore/keda/v2
KEDA_VERSION=v2.18.1
KEDA_SUM="h1:h6bRt/IOxxtZpJlHSqhdH/lcInH7Z9obxg/JvWOmGAw="

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${FT_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/fast-track}"

log() { printf 'k8s-tools: %s\n' "$*" >&2; }
die() { printf 'k8s-tools: error: %s\n' "$*" >&2; exit 1; }

# The cache key covers this script (the versions above) and the validator's files.
digest() {
    (cd "${SCRIPT_DIR}" && sha256sum tools.sh validate/package.json validate/package-lock.json \
        validate/strimzi.mjs) | sha256sum | cut -c 1-16
}
HOME_DIR="${CACHE_DIR}/k8s-tools-$(digest)"

installed() { [[ -f "${HOME_DIR}/.complete" ]]; }

# Downloads a Go module (no build) and checks its hash; prints the folder it unpacked into.
go_module_dir() {
    local module="$1" version="$2" expected="$3" json sum dir
    json="$(go mod download -json "${module}@${version}")" \
        || die "go could not download ${module}@${version}"
    sum="$(printf '%s' "${json}" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p')"
    dir="$(printf '%s' "${json}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ "${sum}" == "${expected}" ]] \
        || die "${module}@${version} has hash ${sum:-none}, not the pinned ${expected}: refused"
    printf '%s' "${dir}"
}

install() {
    installed && return 0
    command -v go >/dev/null 2>&1 \
        || die "missing: go (1.22 or newer, to build kustomize from its module)"
    command -v npm >/dev/null 2>&1 || die "missing: npm; install it with: apt-get install npm"
    mkdir -p "${CACHE_DIR}"
    if command -v flock >/dev/null 2>&1; then
        exec 9>"${HOME_DIR}.lock"
        flock 9
        installed && return 0
    fi
    local tmp
    tmp="$(mktemp -d "${CACHE_DIR}/k8s-tools.tmp.XXXXXX")"
    trap 'rm -rf "${tmp}"' EXIT
    # A module cache of our own (read-write, so it can be deleted), shared by later installs.
    export GOPATH="${CACHE_DIR}/go" GOMODCACHE="${CACHE_DIR}/go/pkg/mod" GOFLAGS=-modcacherw
    export GOTOOLCHAIN=local
    log "building kustomize ${KUSTOMIZE_VERSION} from its Go module (once)"
    GOBIN="${tmp}/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}" \
        || die "go could not build kustomize ${KUSTOMIZE_VERSION}"
    mkdir -p "${tmp}/crds"
    local cnpg keda
    cnpg="$(go_module_dir "${CNPG_MODULE}" "${CNPG_VERSION}" "${CNPG_SUM}")"
    keda="$(go_module_dir "${KEDA_MODULE}" "${KEDA_VERSION}" "${KEDA_SUM}")"
    cp "${cnpg}/config/crd/bases/postgresql.cnpg.io_clusters.yaml" "${tmp}/crds/"
    cp "${keda}/config/crd/bases/keda.sh_scaledobjects.yaml" "${tmp}/crds/"
    log "installing Strimzi's schemas (npm ci, pinned by validate/package-lock.json)"
    mkdir -p "${tmp}/strimzi"
    cp "${SCRIPT_DIR}/validate/package.json" "${SCRIPT_DIR}/validate/package-lock.json" \
        "${SCRIPT_DIR}/validate/strimzi.mjs" "${tmp}/strimzi/"
    (cd "${tmp}/strimzi" && npm ci --silent --no-audit --no-fund --ignore-scripts) \
        || die "npm could not install validate/package-lock.json"
    rm -rf "${HOME_DIR}"
    mv -T "${tmp}" "${HOME_DIR}"
    trap - EXIT
    date -u +%FT%TZ >"${HOME_DIR}/.complete"
    log "ready: ${HOME_DIR}"
}

case "${1:-}" in
    install) install ;;
    path)
        installed || die "not installed: run bash deploy/k8s/tools.sh install"
        printf '%s\n' "${HOME_DIR}"
        ;;
    *) die "usage: $0 {install|path}" ;;
esac
