#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, combined broker + controller, loopback only) for local
# development and integration tests, run from the Maven Central jars: no Docker, no tarball.
#
# Usage: deploy/local/kafka.sh {install|start|stop|status}
#        deploy/local/kafka.sh grant-hospital ORGANIZATION_ID PASSWORD
#
# Two listeners for clients: PLAINTEXT (the network's own services, loopback, no credentials) and
# HOSPITAL (SASL_SSL, SCRAM-SHA-512) for hospital systems. The HOSPITAL listener's certificate is
# signed by a test CA made with openssl once per state folder ($FT_STATE_DIR/kafka/tls/ca.pem is
# what a client trusts). Authorization is Kafka's StandardAuthorizer: the services' listener
# (principal ANONYMOUS) is a super user; a hospital user may do only what grant-hospital allows:
# write fasttrack.hospital.inbound.v1.<its id>, read fasttrack.hospital.responses.v1.<its id>
# with consumer groups named "<its id>.*". grant-hospital creates the hospital's two topics
# (python -m shared.admin create-topics --hospital), creates or replaces the user's SCRAM
# credentials, adds those ACLs and removes a Write on the shared fasttrack.hospital.inbound.v1
# that an older grant gave (Kafka's ConfigCommand and AclCommand; the kafka-tools jar is
# downloaded from Maven Central on first use).
#
# Environment (defaults in brackets):
#   FT_STATE_DIR              state folder (config, data, log, pid) [<repo>/.local-stack]
#   FT_KAFKA_PORT             PLAINTEXT listener on 127.0.0.1 [19092]
#   FT_KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 [19093]
#   FT_KAFKA_HOSPITAL_PORT    SASL_SSL listener for hospital systems on 127.0.0.1 [19094]
#   FT_CACHE_DIR              downloaded jars, shared by all checkouts
#                             [${XDG_CACHE_HOME:-$HOME/.cache}/fast-track]
#   FT_KAFKA_VERSION          override the kafka.version of deploy/local/pom.xml
#   FT_KAFKA_START_TIMEOUT    seconds to wait for the broker to answer [90]
#   FT_KAFKA_HEAP_OPTS        [-Xms256m -Xmx512m]
#   FT_PYTHON                 Python with aiokafka, for the readiness probe [<repo>/.venv/bin/python]
#
# Needs Java 17+ and Maven (apt-get install openjdk-17-jre-headless maven), and the project's
# virtualenv (uv sync) for the readiness probe.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "${SCRIPT_DIR}/../.." && pwd)"
POM="${SCRIPT_DIR}/pom.xml"

# Absolute: the broker and the server run from other working directories.
STATE_DIR="$(realpath -m -- "${FT_STATE_DIR:-${REPO_DIR}/.local-stack}")"
KAFKA_PORT="${FT_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${FT_KAFKA_CONTROLLER_PORT:-19093}"
HOSPITAL_PORT="${FT_KAFKA_HOSPITAL_PORT:-19094}"
CACHE_DIR="${FT_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/fast-track}"
START_TIMEOUT="${FT_KAFKA_START_TIMEOUT:-90}"
HEAP_OPTS="${FT_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
PYTHON="${FT_PYTHON:-${REPO_DIR}/.venv/bin/python}"

pom_kafka_version() {
    sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "${POM}" | head -n 1
}
KAFKA_VERSION="${FT_KAFKA_VERSION:-$(pom_kafka_version)}"

KAFKA_HOME="${CACHE_DIR}/kafka-${KAFKA_VERSION}"
LIBS_DIR="${KAFKA_HOME}/libs"
# The CLI tools (AclCommand) live in kafka-tools, not in the broker's class path.
TOOLS_DIR="${KAFKA_HOME}/tools"
KAFKA_STATE="${STATE_DIR}/kafka"
CONFIG="${KAFKA_STATE}/server.properties"
DATA_DIR="${KAFKA_STATE}/data"
LOG_FILE="${KAFKA_STATE}/kafka.log"
PID_FILE="${KAFKA_STATE}/kafka.pid"
CLUSTER_ID_FILE="${KAFKA_STATE}/cluster.id"
TLS_DIR="${KAFKA_STATE}/tls"
BOOTSTRAP="127.0.0.1:${KAFKA_PORT}"
# How often the one node's controller writes a no-op record to the metadata log (write_config).
SINGLE_NODE_METADATA_IDLE_MS=5000

# slf4j-simple (the binding added in pom.xml) writes to stderr, which goes to kafka.log.
LOG_OPTS=(
    -Dorg.slf4j.simpleLogger.defaultLogLevel=info
    -Dorg.slf4j.simpleLogger.showDateTime=true
    "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSS"
    -Dorg.slf4j.simpleLogger.showThreadName=false
    -Dorg.slf4j.simpleLogger.showShortLogName=true
)

log() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------

java_major() {
    # "openjdk version "17.0.15" ..." or "java version "1.8.0_..."" -> 17 / 8
    local v
    v="$(java -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)"
    case "${v}" in
        1.*) v="${v#1.}" ;;
    esac
    printf '%s\n' "${v%%[!0-9]*}"
}

check_java() {
    if ! command -v java >/dev/null 2>&1; then
        echo "kafka: missing: java (Java 17 or newer is needed to run the broker)" >&2
        echo "kafka:   install it with: apt-get install openjdk-17-jre-headless" >&2
        return 1
    fi
    local major
    major="$(java_major)"
    if [[ -z "${major}" || "${major}" -lt 17 ]]; then
        echo "kafka: missing: Java 17 or newer (found: $(java -version 2>&1 | head -n 1))" >&2
        echo "kafka:   install it with: apt-get install openjdk-17-jre-headless" >&2
        echo "kafka:   (and put it first on PATH, or select it with update-alternatives --config java)" >&2
        return 1
    fi
}

check_prereqs() {
    # $1 = "install" when the jars still have to be downloaded (Maven needed).
    local missing=0
    check_java || missing=1
    if [[ "${1:-}" == install ]] && ! command -v mvn >/dev/null 2>&1; then
        echo "kafka: missing: mvn (Maven downloads the Kafka jars from Maven Central once)" >&2
        echo "kafka:   install it with: apt-get install maven" >&2
        missing=1
    fi
    if [[ "${missing}" -ne 0 ]]; then
        echo "kafka: on Debian/Ubuntu everything at once: apt-get install openjdk-17-jre-headless maven" >&2
        exit 1
    fi
}

# --- install -------------------------------------------------------------------------------

pom_digest() { sha256sum "${POM}" | cut -d ' ' -f 1; }

# The libs folder is complete when it holds the marker written after a successful download of
# exactly this pom.xml (the folder is renamed into place only after that).
libs_complete() {
    [[ -f "${LIBS_DIR}/.complete" ]] \
        && [[ "$(cat "${LIBS_DIR}/.complete")" == "$(pom_digest) ${KAFKA_VERSION}" ]]
}

install() {
    if libs_complete; then
        return 0
    fi
    check_prereqs install
    mkdir -p "${KAFKA_HOME}"
    # Serialise concurrent installs into the shared cache (flock is optional).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"${KAFKA_HOME}/.install.lock"
        flock 9
        if libs_complete; then
            return 0
        fi
    fi
    # Leftovers of interrupted downloads (we hold the lock, or there is no flock).
    rm -rf "${KAFKA_HOME}"/libs.tmp.*
    INSTALL_TMP="$(mktemp -d "${KAFKA_HOME}/libs.tmp.XXXXXX")"
    trap 'rm -rf "${INSTALL_TMP}"' EXIT
    trap 'exit 130' INT TERM
    local tmp="${INSTALL_TMP}"
    log "downloading Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS_DIR}"
    # (sed: Debian's Maven 3.8 prints stray colour resets even with -B.)
    if ! mvn -q -B -f "${POM}" dependency:copy-dependencies \
        -Dkafka.version="${KAFKA_VERSION}" \
        -DoutputDirectory="${tmp}" -DincludeScope=runtime 2>&1 \
        | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
        die "Maven could not download the Kafka ${KAFKA_VERSION} jars (see the output above)"
    fi
    if ! compgen -G "${tmp}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null; then
        die "download finished without kafka_2.13-${KAFKA_VERSION}.jar"
    fi
    printf '%s %s\n' "$(pom_digest)" "${KAFKA_VERSION}" >"${tmp}/.complete"
    rm -rf "${LIBS_DIR}"
    mv -T "${tmp}" "${LIBS_DIR}"
    trap - EXIT INT TERM
    log "installed $(find "${LIBS_DIR}" -name '*.jar' | wc -l) jars in ${LIBS_DIR}"
}

# --- process helpers -----------------------------------------------------------------------

# Is $1 a live broker process started with this state dir's server.properties?
is_our_broker() {
    local pid="$1" cmdline
    [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
    kill -0 "${pid}" 2>/dev/null || return 1
    [[ -d /proc/self ]] || return 0 # no /proc to check against: trust the pid file
    cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null || true)"
    [[ "${cmdline}" == *" kafka.Kafka ${CONFIG} " ]]
}

# Prints the pid of this state dir's broker, if one runs (from the pid file, else /proc).
broker_pid() {
    local pid
    if [[ -f "${PID_FILE}" ]]; then
        pid="$(cat "${PID_FILE}" 2>/dev/null || true)"
        if is_our_broker "${pid}"; then
            printf '%s\n' "${pid}"
            return 0
        fi
    fi
    # Pid file lost or stale: look for a broker using our config (unique per state dir).
    [[ -d /proc/self ]] || return 1
    local f
    for f in /proc/[0-9]*/cmdline; do
        pid="${f#/proc/}"
        pid="${pid%/cmdline}"
        if is_our_broker "${pid}" && [[ -r "${f}" ]]; then
            printf '%s\n' "${pid}" >"${PID_FILE}"
            printf '%s\n' "${pid}"
            return 0
        fi
    done 2>/dev/null
    return 1
}

port_answers() {
    # A TCP connect to the listener, bounded to 1 s.
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

check_python() {
    if [[ ! -x "${PYTHON}" ]]; then
        die "no Python for the readiness probe at ${PYTHON} (run 'uv sync' in ${REPO_DIR}, or set FT_PYTHON to a Python with aiokafka)"
    fi
}

wait_ready() {
    # $1 = broker pid
    if ! "${PYTHON}" "${SCRIPT_DIR}/kafka_ready.py" --bootstrap "${BOOTSTRAP}" \
        --timeout "${START_TIMEOUT}" --interval 0.5 --pid "$1" --quiet; then
        echo "kafka: --- last lines of ${LOG_FILE} ---" >&2
        tail -n 40 "${LOG_FILE}" >&2 || true
        return 1
    fi
}

# --- configuration -------------------------------------------------------------------------

new_cluster_id() {
    # 16 random bytes as unpadded base64url (22 chars), like `StorageTool random-uuid`;
    # avoid a leading '-' (it would look like an option on a command line).
    local id
    while :; do
        id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "${id}" != -* ]] && break
    done
    printf '%s\n' "${id}"
}

cluster_id() {
    if [[ ! -s "${CLUSTER_ID_FILE}" ]]; then
        local id=""
        # Storage formatted earlier but the id file lost: reuse the formatted id.
        if [[ -f "${DATA_DIR}/meta.properties" ]]; then
            id="$(sed -n 's/^cluster\.id=//p' "${DATA_DIR}/meta.properties")"
        fi
        [[ -n "${id}" ]] || id="$(new_cluster_id)"
        printf '%s\n' "${id}" >"${CLUSTER_ID_FILE}"
    fi
    cat "${CLUSTER_ID_FILE}"
}

# A test CA and a certificate for 127.0.0.1/localhost signed by it, once per state folder
# (a few milliseconds with EC keys). Kafka reads the key and chain as PEM (ssl.keystore.type=PEM).
ensure_certificates() {
    if [[ -s "${TLS_DIR}/broker.pem" && -s "${TLS_DIR}/ca.pem" ]]; then
        return 0
    fi
    command -v openssl >/dev/null 2>&1 \
        || die "missing: openssl (for the hospital listener's test certificates; apt-get install openssl)"
    rm -rf "${TLS_DIR}.tmp"
    mkdir -p "${TLS_DIR}.tmp"
    local d="${TLS_DIR}.tmp"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
        -days 3650 -subj "/CN=Fast Track local test CA" \
        -keyout "${d}/ca.key" -out "${d}/ca.pem" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
        -subj "/CN=localhost" -keyout "${d}/broker.key" -out "${d}/broker.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' \
        >"${d}/broker.ext"
    openssl x509 -req -in "${d}/broker.csr" -CA "${d}/ca.pem" -CAkey "${d}/ca.key" \
        -CAcreateserial -days 3650 -sha256 -extfile "${d}/broker.ext" \
        -out "${d}/broker.crt" 2>/dev/null
    # PKCS#8 key, then the chain: the layout Kafka's PEM key store expects.
    openssl pkcs8 -topk8 -nocrypt -in "${d}/broker.key" -out "${d}/broker.pk8"
    cat "${d}/broker.pk8" "${d}/broker.crt" "${d}/ca.pem" >"${d}/broker.pem"
    rm -f "${d}/broker.csr" "${d}/broker.ext" "${d}/broker.key" "${d}/ca.srl"
    chmod 600 "${d}/ca.key" "${d}/broker.pk8" "${d}/broker.pem"
    rm -rf "${TLS_DIR}"
    mv -T "${d}" "${TLS_DIR}"
    log "made a test CA and broker certificate in ${TLS_DIR} (clients trust ca.pem)"
}

write_config() {
    cat >"${CONFIG}.tmp" <<EOF
# Written by deploy/local/kafka.sh on every start; edit the script, not this file.
# Single node, KRaft, combined broker + controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}
listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT},HOSPITAL://127.0.0.1:${HOSPITAL_PORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${KAFKA_PORT},HOSPITAL://127.0.0.1:${HOSPITAL_PORT}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,HOSPITAL:SASL_SSL
log.dirs=${DATA_DIR}

# Hospital systems: TLS with the test CA's certificate, SCRAM-SHA-512 users (grant-hospital).
listener.name.hospital.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.hospital.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.hospital.ssl.keystore.type=PEM
listener.name.hospital.ssl.keystore.location=${TLS_DIR}/broker.pem

# ACLs decide what a hospital user may do; nothing is allowed without one. The loopback
# PLAINTEXT and controller listeners (the network's services, the broker itself) authenticate
# nobody, so their principal, ANONYMOUS, is a super user: never expose them beyond loopback.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS

# One node: every replication factor and min ISR is 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
# The active controller appends a no-op record to the metadata log (an append and an fsync,
# replayed by the broker's metadata loader) every metadata.max.idle.interval.ms, 500 by default,
# so that its followers see the log alive; one node has none. Every 5 s instead: at rest the
# broker's KRaft threads' CPU was 6 of 23 ms a second with no client. The same in
# docker-compose.yml and the Kubernetes dev overlay (one node); a cluster of three keeps 500.
metadata.max.idle.interval.ms=${SINGLE_NODE_METADATA_IDLE_MS}

# Tests: the first consumer group joins without waiting, topics are created explicitly.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
num.partitions=1
num.recovery.threads.per.data.dir=1
EOF
    mv -f "${CONFIG}.tmp" "${CONFIG}"
}

format_storage() {
    # Once per state dir: skip the JVM start when the storage already holds meta.properties.
    if [[ -f "${DATA_DIR}/meta.properties" ]]; then
        return 0
    fi
    local id
    id="$(cluster_id)"
    log "formatting storage in ${DATA_DIR} (cluster id ${id})"
    java "${LOG_OPTS[@]}" -cp "${LIBS_DIR}/*" kafka.tools.StorageTool format \
        -t "${id}" -c "${CONFIG}" --ignore-formatted >>"${LOG_FILE}" 2>&1 \
        || { tail -n 20 "${LOG_FILE}" >&2; die "formatting the storage failed"; }
}

# --- commands ------------------------------------------------------------------------------

# One start/stop at a time per state folder (flock is optional). Fd 8 must not leak into the
# broker, or the broker would hold the lock for its whole life.
STATE_LOCKED=0
lock_state() {
    mkdir -p "${KAFKA_STATE}"
    if ((STATE_LOCKED == 0)) && command -v flock >/dev/null 2>&1; then
        STATE_LOCKED=1
        exec 8>"${STATE_DIR}/.kafka.lock"
        flock 8
    fi
}

start() {
    local pid
    lock_state
    # Keep the state folder out of git without touching the repository's .gitignore.
    [[ -f "${STATE_DIR}/.gitignore" ]] || printf '*\n' >"${STATE_DIR}/.gitignore"

    if pid="$(broker_pid)"; then
        check_python
        if port_answers "${KAFKA_PORT}"; then
            # Listening; make sure it also answers metadata (it may still be starting).
            wait_ready "${pid}" || die "broker (pid ${pid}) does not answer; try: $0 stop"
            log "already running (pid ${pid}) on ${BOOTSTRAP}"
            return 0
        fi
        log "process ${pid} is running but not answering yet; waiting"
        wait_ready "${pid}" || die "broker (pid ${pid}) did not become ready; try: $0 stop"
        log "ready on ${BOOTSTRAP} (pid ${pid})"
        return 0
    fi
    rm -f "${PID_FILE}"

    install
    check_prereqs
    check_python
    local p
    for p in "${KAFKA_PORT}" "${CONTROLLER_PORT}" "${HOSPITAL_PORT}"; do
        if port_answers "${p}"; then
            die "port ${p} on 127.0.0.1 is taken by another process (set FT_KAFKA_PORT / FT_KAFKA_CONTROLLER_PORT / FT_KAFKA_HOSPITAL_PORT)"
        fi
    done

    ensure_certificates
    write_config
    cluster_id >/dev/null
    if [[ -f "${LOG_FILE}" ]]; then
        mv -f "${LOG_FILE}" "${LOG_FILE}.1"
    fi
    format_storage

    local started_at=${SECONDS}
    # shellcheck disable=SC2086 # HEAP_OPTS holds several options on purpose
    nohup java ${HEAP_OPTS} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true -Dkafka.logs.dir="${KAFKA_STATE}" "${LOG_OPTS[@]}" \
        -cp "${LIBS_DIR}/*" kafka.Kafka "${CONFIG}" \
        </dev/null >>"${LOG_FILE}" 2>&1 8>&- 9>&- &
    pid=$!
    printf '%s\n' "${pid}" >"${PID_FILE}"
    log "starting Kafka ${KAFKA_VERSION} (pid ${pid}), log ${LOG_FILE}"

    if ! wait_ready "${pid}"; then
        stop >/dev/null 2>&1 || true
        die "broker did not answer on ${BOOTSTRAP} within ${START_TIMEOUT}s (stopped it)"
    fi
    log "ready on ${BOOTSTRAP} after $((SECONDS - started_at))s (pid ${pid})"
}

stop() {
    local pid
    if [[ ! -d "${KAFKA_STATE}" ]]; then
        log "not running"
        return 0
    fi
    lock_state
    if ! pid="$(broker_pid)"; then
        rm -f "${PID_FILE}"
        log "not running"
        return 0
    fi
    log "stopping (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    local i
    for ((i = 0; i < 150; i++)); do # 150 x 0.2 s = 30 s
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "${pid}" 2>/dev/null; then
        log "still running after 30s; sending SIGKILL"
        kill -KILL "${pid}" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "${pid}" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "${PID_FILE}"
    log "stopped"
}

# --- hospital access ----------------------------------------------------------------------

install_tools() {
    if compgen -G "${TOOLS_DIR}/kafka-tools-${KAFKA_VERSION}.jar" >/dev/null; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "missing: mvn (to download kafka-tools once)"
    mkdir -p "${KAFKA_HOME}"
    local tmp
    tmp="$(mktemp -d "${KAFKA_HOME}/tools.tmp.XXXXXX")"
    # Its dependencies are the broker's own jars (libs/), so the one jar is enough.
    if ! mvn -q -B -f "${POM}" dependency:copy \
        -Dartifact="org.apache.kafka:kafka-tools:${KAFKA_VERSION}" \
        -DoutputDirectory="${tmp}" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; then
        rm -rf "${tmp}"
        die "Maven could not download kafka-tools ${KAFKA_VERSION}"
    fi
    rm -rf "${TOOLS_DIR}"
    mv -T "${tmp}" "${TOOLS_DIR}" 2>/dev/null || rm -rf "${tmp}" # another checkout was faster
}

kafka_tool() {
    # $1 = main class, then its arguments; output only when it fails.
    local out
    if ! out="$(java -Xms32m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${LOG_OPTS[@]}" \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "${LIBS_DIR}/*:${TOOLS_DIR}/*" "$@" 2>&1)"; then
        printf '%s\n' "${out}" >&2
        return 1
    fi
}

grant_hospital() {
    local organization="${1:-}" password="${2:-}"
    # A FHIR id (what the directory uses) is also a valid topic name part and SCRAM user name.
    [[ "${organization}" =~ ^[A-Za-z0-9.-]{1,64}$ ]] \
        || die "usage: $0 grant-hospital ORGANIZATION_ID PASSWORD (the directory's Organization.id)"
    # "<inbound topic>.x.dlq" would be read as the dead-letter twin of hospital "x"'s topic.
    [[ "${organization}" != *.dlq ]] || die "a hospital id may not end in .dlq"
    # ConfigCommand reads the password inside [...] with ',' and ']' as separators.
    [[ "${password}" =~ ^[A-Za-z0-9._~+/=-]{12,}$ ]] \
        || die "the password needs at least 12 characters of A-Z a-z 0-9 . _ ~ + / = -"
    broker_pid >/dev/null || die "the broker is not running (start it first)"
    install
    install_tools
    check_python
    local inbound="fasttrack.hospital.inbound.v1.${organization}"
    local responses="fasttrack.hospital.responses.v1.${organization}" principal="User:${organization}"
    local acl=(org.apache.kafka.tools.AclCommand --bootstrap-server "${BOOTSTRAP}" --add
        --allow-principal "${principal}")
    # Five JVMs and the topics at once: a few seconds instead of six times that.
    local pids=()
    (cd "${REPO_DIR}" && FT_KAFKA_BOOTSTRAP_SERVERS="${BOOTSTRAP}" \
        "${PYTHON}" -m shared.admin create-topics --hospital "${organization}" >/dev/null) &
    pids+=($!)
    kafka_tool kafka.admin.ConfigCommand --bootstrap-server "${BOOTSTRAP}" --alter \
        --add-config "SCRAM-SHA-512=[iterations=8192,password=${password}]" \
        --entity-type users --entity-name "${organization}" &
    pids+=($!)
    # Write (and Describe, for metadata) its own inbound topic and no other: a message read there
    # was written by this hospital. Write implies idempotent producing.
    kafka_tool "${acl[@]}" --operation Write --operation Describe --topic "${inbound}" &
    pids+=($!)
    kafka_tool "${acl[@]}" --operation Read --operation Describe --topic "${responses}" &
    pids+=($!)
    # Consumer groups named "<id>." and anything after it; no other hospital's id starts so.
    kafka_tool "${acl[@]}" --operation Read --operation Describe \
        --resource-pattern-type prefixed --group "${organization}." &
    pids+=($!)
    # Grants before per-hospital topics allowed writing the shared inbound topic, where the
    # referral service trusts MessageHeader.sender: take that back (nothing to do if absent).
    kafka_tool org.apache.kafka.tools.AclCommand --bootstrap-server "${BOOTSTRAP}" --remove --force \
        --allow-principal "${principal}" --operation Write --operation Describe \
        --topic fasttrack.hospital.inbound.v1 &
    pids+=($!)
    local pid failed=0
    for pid in "${pids[@]}"; do
        wait "${pid}" || failed=1
    done
    ((failed == 0)) || die "granting ${organization} failed (see above)"
    log "${organization}: SCRAM-SHA-512 user on 127.0.0.1:${HOSPITAL_PORT} (SASL_SSL, CA ${TLS_DIR}/ca.pem);" \
        "may write ${inbound}, read ${responses} in groups '${organization}.*'"
}

status() {
    local pid
    if pid="$(broker_pid)" && port_answers "${KAFKA_PORT}"; then
        echo "kafka: running (pid ${pid}) on ${BOOTSTRAP}, state ${KAFKA_STATE}"
        return 0
    fi
    if [[ -n "${pid:-}" ]]; then
        echo "kafka: stopped (process ${pid} alive but ${BOOTSTRAP} does not answer)"
    else
        echo "kafka: stopped"
    fi
    return 3
}

case "${1:-}" in
    install) install && log "Kafka ${KAFKA_VERSION} jars ready in ${LIBS_DIR}" ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    grant-hospital) grant_hospital "${@:2}" ;;
    *)
        echo "usage: $0 {install|start|stop|status|grant-hospital ORGANIZATION_ID PASSWORD}" >&2
        exit 2
        ;;
esac
