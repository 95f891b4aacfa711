"""Each service process holds one LISTEN connection. PostgreSQL 15 signals every listening
backend of the database on each commit that sends a NOTIFY, whatever its channels (the woken
backend reads the notification queue and drops what it does not listen to): the three services
share one database, so every listening connection of any service is woken by every notifying
commit of all three. The referral page feed and the notifier live feed each held one of their
own beside their service's ``DatabaseNotices``: five listeners, now three.

Counted on the services as they are built (their lifespan, with Kafka and the database away):
the background workers the service starts that each hold a listening connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from shared import runtime
from shared.workers import ListeningTask

SERVICES: dict[str, Callable[[], FastAPI]] = {
    "referral": referral_app,
    "telemedicine": telemedicine_app,
    "notifier": notifier_app,
}


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_service_listens_to_the_database_on_one_connection(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    async def connect_nothing(*, workers: list[object], **_: Any) -> None:
        started.extend(workers)  # what the service would start once connected

    monkeypatch.setattr(runtime, "connect_everything", connect_nothing)
    app = SERVICES[service]()
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0)

    listeners = [type(worker).__name__ for worker in started if isinstance(worker, ListeningTask)]
    # Was two in the referral service (its page feed) and in the notifier (its live feed).
    assert listeners == ["DatabaseNotices"]
