"""The escalation watcher: the alerts nobody acknowledged in time go one step up the ladder
(``service/escalation.escalate_overdue``), in one transaction per round. It sleeps until the
earliest unanswered alert's ``ack_within`` has passed; an alert sent wakes it (the delivery
table's trigger NOTIFYs ``ALERT_SENT_CHANNEL`` with the time it was sent, migration 0010)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

from services.notifier.adapters import repository
from services.notifier.domain.contacts import ContactBook
from services.notifier.service.escalation import escalate_overdue
from shared.workers import ScheduledTask

log = logging.getLogger(__name__)

# NOTIFY channel (suffixed with the schema); the payload is when the alert was sent.
ALERT_SENT_CHANNEL = "alert_sent_"


class EscalationWatcher(ScheduledTask):
    name = "escalation-watcher"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        contacts: ContactBook,
        source_endpoint: str,
        retry_s: float,
        on_escalated: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(retry_s=retry_s)
        self._pool = pool
        self._contacts = contacts
        self._source_endpoint = source_endpoint
        # Told after a commit that queued escalations (the dispatcher's wake: send them now).
        self._on_escalated = on_escalated

    def notice_sent(self, sent_at: float | None = None) -> None:
        """An alert was sent at ``sent_at`` (epoch seconds): it falls due ``ack_within`` later."""
        ack_within = self._contacts.escalation.ack_within.total_seconds()
        self.notice(None if sent_at is None else sent_at + ack_within)

    def notice_directory(self) -> None:
        """The directory was reloaded (its ``ack_within`` may be shorter now): look again."""
        self.notice(None)

    async def next_due(self) -> float | None:
        async with self._pool.acquire() as connection:
            with suppress_instrumentation():
                sent_at = await repository.earliest_unanswered_alert(connection)
        if sent_at is None:
            return None
        return sent_at + self._contacts.escalation.ack_within.total_seconds()

    async def tick(self) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            escalated = await escalate_overdue(
                connection,
                contacts=self._contacts,
                now=datetime.now(UTC),
                source_endpoint=self._source_endpoint,
            )
        if escalated and self._on_escalated is not None:
            self._on_escalated()
        for unanswered, escalation in escalated:
            log.warning(
                "alert %s not acknowledged: escalated (step %d, %s)",
                unanswered.id,
                escalation.escalation_step,
                escalation.channel.value,
            )
