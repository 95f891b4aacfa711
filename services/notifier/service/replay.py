"""Replay: a delivery that finally failed is queued again (same id, so the receiver can
de-duplicate), by an operator only (``POST /deliveries/{id}/replay`` with an operator's key or
as a signed-in operator, or ``python -m services.notifier.replay`` on the servers). Every
replay is audited: who, when, which delivery of which referral."""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import trace
from opentelemetry.context import Context

from services.notifier.adapters import operator_access, repository
from services.notifier.domain.errors import NotAFailedDelivery, UnknownDelivery
from shared.db.pool import Connection
from shared.tracing import ReferralIds, about_referral, carried_context, stored_trace_context

_tracer = trace.get_tracer(__name__)


async def replay(
    connection: Connection, *, delivery_id: str, by: str, at: datetime | None = None
) -> None:
    """Puts the failed delivery back in the queue and records who did it, in one transaction.
    The dispatcher sends it at its next poll (or at once when woken)."""
    async with connection.transaction():
        delivery = await repository.get_delivery(connection, delivery_id=delivery_id)
        if delivery is None:
            raise UnknownDelivery(delivery_id)
        # A new trace (the original one ended with the failure, maybe days ago), linked to it
        # so the trace UI leads from one to the other; the resend belongs to the new one.
        original = trace.get_current_span(carried_context(delivery.trace_context))
        failed = original.get_span_context()
        with (
            _tracer.start_as_current_span(
                "notifier replay delivery",
                context=Context(),
                links=[trace.Link(failed)] if failed.is_valid else [],
            ) as span,
            about_referral(ReferralIds.of(delivery.referral_id, (delivery.hospital,))),
        ):
            span.set_attribute("fasttrack.delivery.id", delivery_id)
            if failed.is_valid:  # Zipkin's model has no links: the original trace, by id
                span.set_attribute("fasttrack.replay.of_trace", f"{failed.trace_id:032x}")
            trace_context = stored_trace_context()
            if not await repository.replay(
                connection, delivery_id=delivery_id, trace_context=trace_context
            ):
                raise NotAFailedDelivery(delivery_id)
            await operator_access.record_replay(
                connection,
                delivery_id=delivery_id,
                referral_id=delivery.referral_id,
                by=by,
                at=at or datetime.now(UTC),
            )
