"""The escalation watcher: every few seconds, the alerts nobody acknowledged in time go one step
up the ladder (``service/escalation.escalate_overdue``), in one transaction per round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from services.notifier.domain.contacts import ContactBook
from services.notifier.service.escalation import escalate_overdue
from shared.workers import PeriodicTask

log = logging.getLogger(__name__)


class EscalationWatcher(PeriodicTask):
    name = "escalation-watcher"

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        contacts: ContactBook,
        source_endpoint: str,
        poll_interval_s: float,
        on_escalated: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._pool = pool
        self._contacts = contacts
        self._source_endpoint = source_endpoint
        # Told after a commit that queued escalations (the dispatcher's wake: send them now).
        self._on_escalated = on_escalated

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
