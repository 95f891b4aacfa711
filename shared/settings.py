"""Typed settings every service shares; each service adds its own fields on top."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.web_identity import DEVELOPMENT_IDENTITY_SECRET

# Where `make up` runs Zipkin (deploy/local/stack.sh, FT_ZIPKIN_PORT).
DEVELOPMENT_ZIPKIN_ENDPOINT = "http://127.0.0.1:19411/api/v2/spans"


class PlatformSettings(BaseSettings):
    """Environment variables with the ``FT_`` prefix (see the README's configuration table)."""

    model_config = SettingsConfigDict(env_prefix="FT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # How `python -m shared.admin create-topics` and the directory loader create topics:
    # partitions of each catalogue topic (unset: the catalogue's own; a hospital's own topics and
    # the dead-letter twins keep theirs), the replication factor of every topic (1 on one broker,
    # 3 on a cluster) and their min.insync.replicas (unset: the broker's default). Partitions
    # bound how many instances of a consumer share the work (docs/operations.md, Kubernetes).
    kafka_topic_partitions: int | None = Field(default=None, ge=1, le=1000)
    kafka_replication_factor: int = Field(default=1, ge=1, le=10)
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1, le=10)
    database_url: str = "postgresql://fasttrack@127.0.0.1:15432/fasttrack"
    # OTLP/HTTP base URL (e.g. http://127.0.0.1:4318); spans are not exported when unset.
    otlp_endpoint: str | None = None
    # Zipkin's span intake (e.g. http://127.0.0.1:19411/api/v2/spans): the trace UI. In
    # development it defaults to the local stack's Zipkin (deploy/local/zipkin.sh); set it empty
    # to export nowhere.
    zipkin_endpoint: str | None = None
    # Spans also written as JSON lines to this file (used by the end-to-end tests).
    trace_file: str | None = None
    log_level: str = "INFO"
    # A span per SQL statement (asyncpg's instrumentation): off by default, since it made about
    # 85 of a referral's 116 spans and a good share of its CPU; FT_TRACE_SQL=true turns it on
    # when an operator chases a slow query. Use cases, hops and relay publications keep theirs.
    trace_sql: bool = False
    # Head sampling: the share of the traces that start in this service which are recorded and
    # exported (a trace begun elsewhere follows its first service's decision, so a trace is kept
    # or dropped whole). 1 keeps every trace: where an OpenTelemetry Collector receives the
    # spans (FT_OTLP_ENDPOINT; deploy/otel-collector), its tail sampling keeps every error and
    # slow trace and a share of the rest, which a decision at the start cannot.
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)
    # Spans wait for export in a bounded queue (per exporter) and leave in batches, off the
    # request path; when the exporter cannot keep up, new spans are dropped, never waited for.
    trace_queue_size: int = Field(default=2048, ge=1)
    trace_batch_size: int = Field(default=512, ge=1)
    # Where a teleconsult opens (the telemedicine service's public URL) and the hub's role paged
    # first for one: telemedicine's ladder and the referral service, which sends that first
    # page with the referral (shared/consult_paging.py), read the same two settings.
    telemedicine_public_url: str = "http://127.0.0.1:8002"
    telemedicine_consultant_role: str = "stroke-neurologist"
    # Canonical base of the project's FHIR artefacts (CodeSystems, endpoints).
    fhir_base_url: str = "https://fasttrack.example.org/fhir"
    # The relay sleeps until a commit wakes it; a failed round is tried again after this.
    outbox_retry_s: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=200, gt=0, le=5000)
    # Pause before a message whose handling failed for a transient reason is read again.
    consumer_retry_backoff_s: float = Field(default=1.0, ge=0)
    # A record that fails for other reasons than an outage is dead-lettered after this many.
    consumer_max_attempts: int = Field(default=5, ge=1)
    # How long the broker may hold a consumer's fetch that found nothing (aiokafka's default):
    # a service's idle consumer sends one fetch per wait. A record that arrives returns the
    # fetch at once: the consumer takes every fetched record before handling them (see
    # shared/messaging/service_consumer.py), so no partition is left out of it.
    consumer_fetch_max_wait_ms: int = Field(default=500, ge=10, le=5000)
    # The same once a consumer took no record for 5 s (shared/messaging/fetch_wait.py): an
    # idle service sends a fetch this often instead.
    consumer_idle_fetch_max_wait_ms: int = Field(default=5000, ge=10, le=30_000)
    # How often a consumer commits the offsets of the records it handled (one request for all
    # of them; shared/messaging/commits.py); 0 commits after every record. A crash reads the
    # last interval's records again, which the inbox finds.
    consumer_commit_interval_s: float = Field(default=1.0, ge=0, le=60)
    # Readiness fails when a consumed partition has not moved for this long.
    consumer_stall_after_s: float = Field(default=30.0, gt=0)
    # How often the gauges read from the database and Kafka (outbox, lag, dead letters, latencies)
    # are measured again for GET /metrics.
    metrics_sample_interval_s: float = Field(default=10.0, gt=0)
    # API keys of hospital systems: {"<key>": "<organization id>"} (JSON in FT_API_KEYS); the
    # keys are secrets, shown as stars when the settings are printed or logged.
    api_keys: dict[SecretStr, str] = Field(default_factory=dict)
    # API keys of operators' tools (the province's IT and quality team): {"<key>": "<operator>"}
    # (JSON in FT_OPERATOR_API_KEYS), apart from the hospitals': an operator sees every
    # hospital's deliveries and dead letters and replays them; the name goes in the audit.
    operator_api_keys: dict[SecretStr, str] = Field(default_factory=dict)
    # Signs the identity of a signed-in person that the web app hands the other services through
    # the proxy (shared/web_identity.py); the same value in every service; set in production.
    web_identity_secret: SecretStr = SecretStr(DEVELOPMENT_IDENTITY_SECRET)
    # Input limits (README, "Reliability and security"): what a caller may send at most.
    http_max_body_bytes: int = Field(default=1_048_576, gt=0)
    http_max_header_bytes: int = Field(default=16_384, ge=1024)
    # On SIGTERM, how long requests still open may run before they are ended (open pages' live
    # streams end at once: shared/serving.py SERVER_STOP); then the lifespan's shutdown runs
    # (consumers commit, the relay resigns). Well inside Kubernetes' terminationGracePeriodSeconds
    # (30).
    shutdown_grace_s: int = Field(default=10, ge=1, le=25)
    json_max_depth: int = Field(default=32, gt=0, le=500)
    json_max_number_chars: int = Field(default=32, gt=0, le=4000)
    bundle_max_entries: int = Field(default=100, gt=0)
    max_identifier_chars: int = Field(default=64, gt=0)
    max_text_chars: int = Field(default=4096, gt=0)
    # Personal data (hospital numbers, free text, alert texts and addresses, sent messages) is
    # erased this long after a referral closed (shared/retention.py), checked this often.
    personal_data_retention_days: float = Field(default=180, gt=0)
    purge_interval_s: float = Field(default=3600, gt=0)

    @model_validator(mode="after")
    def _min_insync_within_replication(self) -> PlatformSettings:
        if (
            self.kafka_min_insync_replicas is not None
            and self.kafka_min_insync_replicas > self.kafka_replication_factor
        ):
            raise ValueError(
                "FT_KAFKA_MIN_INSYNC_REPLICAS cannot exceed FT_KAFKA_REPLICATION_FACTOR: "
                "no write with acks=all could ever succeed"
            )
        return self

    @model_validator(mode="after")
    def _trace_ui_in_development(self) -> PlatformSettings:
        if self.zipkin_endpoint is None and self.environment == "development":
            self.zipkin_endpoint = DEVELOPMENT_ZIPKIN_ENDPOINT
        elif not self.zipkin_endpoint:
            self.zipkin_endpoint = None
        return self

    @model_validator(mode="after")
    def _refuse_development_defaults_in_production(self) -> PlatformSettings:
        if self.environment == "production" and "127.0.0.1" in self.database_url:
            raise ValueError("FT_DATABASE_URL must be set explicitly in production")
        if self.environment == "production" and any(
            key.get_secret_value().startswith("demo-") for key in self.api_keys
        ):
            raise ValueError("FT_API_KEYS holds the demo keys; set real keys in production")
        if self.environment == "production" and any(
            key.get_secret_value().startswith("demo-") for key in self.operator_api_keys
        ):
            raise ValueError("FT_OPERATOR_API_KEYS holds demo keys; set real keys in production")
        if (
            self.environment == "production"
            and self.web_identity_secret.get_secret_value() == DEVELOPMENT_IDENTITY_SECRET
        ):
            raise ValueError("FT_WEB_IDENTITY_SECRET must be set in production")
        return self
