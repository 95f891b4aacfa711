"""The one way a service builds its Kafka broker and its subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced, UnknownProducerId
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import NoOpTracerProvider

from shared.messaging.guard import ConsumerGuard
from shared.settings import PlatformSettings

log = logging.getLogger(__name__)

# Errors after which aiokafka's idempotent producer never sends again: its sender task ends with
# the error and every later send raises it (aio-libs/aiokafka#1017, seen here after a broker
# restart in the chaos test: the referral service's events stuck until the process restarted).
# Only a new producer, with a new producer id, sends again.
PRODUCER_STOPPING_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, ProducerFenced)

# How soon a subscriber by pattern finds a topic created after it started (a hospital granted
# access while the services run): Kafka clients look at the topic list this often (default 5 min).
METADATA_MAX_AGE_MS = 30_000


def create_broker(
    settings: PlatformSettings,
    *,
    service_name: str,
    meter_provider: MeterProvider | None = None,
    guard: ConsumerGuard | None = None,
) -> KafkaBroker:
    """``guard`` goes outermost, so it sees failures of the telemetry middleware too. With a
    ``meter_provider``, FastStream measures every subscriber and publication per topic
    (``messaging_process_duration_seconds``, with the exception's type as ``error_type``).

    FastStream's telemetry carries the trace context across each hop (``traceparent`` written
    from the current span, read back as the parent of the consumer's work) but makes no spans
    of its own (a no-op tracer): a hop is already the outbox relay's publication span and the
    consumer's handling span, and its three more per hop (create, publish, process) were half
    of a referral's spans and told an operator nothing new."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=f"fasttrack-{service_name}",
        # acks=all and no duplicates from producer retries.
        enable_idempotence=True,
        # Topics are created explicitly (python -m shared.admin create-topics), never by accident.
        allow_auto_create_topics=False,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
        middlewares=[
            *([guard] if guard is not None else []),
            KafkaTelemetryMiddleware(
                tracer_provider=NoOpTracerProvider(), meter_provider=meter_provider
            ),
        ],
        logger=logging.getLogger(f"fasttrack.{service_name}.kafka"),
        log_level=logging.DEBUG,
    )


def consumer_group(service_name: str) -> str:
    """One consumer group per service: each service sees every message once."""
    return f"fasttrack-{service_name}"


# At-least-once: the offset is committed only after the handler's transaction committed. A handler
# that fails for a transient reason makes the message be read again (seek back); messages that can
# never succeed are dead-lettered by the consumer wrapper and then acknowledged.
CLINICAL_ACK_POLICY = AckPolicy.NACK_ON_ERROR


async def replace_producer(broker: KafkaBroker, *, stop_within_s: float = 5.0) -> None:
    """Puts a new aiokafka producer behind the broker's publisher (the one every publication of
    the process goes through: the outbox relay, dead letters, hospital answers), in place of
    one that stopped for good (``PRODUCER_STOPPING_ERRORS``). What the old one had not sent is
    failed with its error; the outbox sends it again.

    FastStream has no call for this: its broker connects once. The broker's configuration
    disconnects its producer and admin client and connects them again the way it did at start
    (same options, serializer and codec); only ``_connection_kwargs`` (the options the broker was
    made with) is FastStream's private attribute, pinned by the lock file."""
    config = broker.config
    with contextlib.suppress(Exception):  # the old producer failed: stop it as far as it goes
        await asyncio.wait_for(config.disconnect(), timeout=stop_within_s)
    await config.connect(**broker._connection_kwargs)
    log.warning("Kafka producer replaced after it stopped for good")
