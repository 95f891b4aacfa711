"""The hospitals' feed locks of notification messages applied together in one transaction, all
taken by its first statement that takes one, in one order (adapters/live_events.py): two
notifiers applying requests to the same hospitals in different orders no longer wait for each
other until PostgreSQL aborts one."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from services.notifier.adapters import fhir_mapping, live_events
from services.notifier.domain.contacts import ContactBook
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.references import organization_id


def feeds_of(message: FhirMessage, *, contacts: ContactBook) -> set[str]:
    """The hospitals whose feeds applying ``message`` writes to (and locks)."""
    if message.event is EventCode.NOTIFICATION_REQUESTED:
        return fhir_mapping.pages_of_request(message, contacts=contacts)
    if message.event is EventCode.NOTIFICATION_ACKNOWLEDGED:
        # A hospital answers only its own alerts (answered_alerts_from refuses any other).
        hospital = organization_id(message.sender)
        return {hospital} if hospital else set()
    return set()


def feeds_locked_together(
    connection: Connection, messages: Sequence[FhirMessage], *, contacts: ContactBook
) -> AbstractContextManager[None]:
    """Entered around applying ``messages`` in one transaction on ``connection``."""
    return live_events.feeds_locked_together(
        connection, (hospital for m in messages for hospital in feeds_of(m, contacts=contacts))
    )
