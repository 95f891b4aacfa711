"""The messages a referral brings back to the referral service (its consult's request and paging
steps from telemedicine, its pages' outcomes from the notifier) and a hospital's referral over
HTTP: each recorded in the inbox by the statement of its effect, one round trip and no
transaction, when it arrives alone. Counted from the statements the connection really sends
(asyncpg's query logger). Before, each was BEGIN, the inbox claim, its statement and COMMIT
(here, inside the test's transaction, SAVEPOINT and RELEASE for BEGIN and COMMIT): 4.

Nothing is applied twice or lost for it: a repeat writes nothing, a step about a referral the
service does not know is dead-lettered with nothing recorded, and a consult paged late after a
known door-in still raises its alert (that message goes the transaction's way)."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from starlette.requests import Request

from services.referral.adapters import fhir_mapping, timeline_repository
from services.referral.domain.alerts import AlertCode
from services.referral.domain.commands import ClinicalTime, ReportedTime
from services.referral.entrypoints.consumers import wire_consumers
from services.referral.entrypoints.messaging_api import process_message
from services.referral.service.directory_cache import DirectoryCache
from services.referral.service.intake import request_referral
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage
from shared.fhir.models import FHIR_JSON
from shared.messaging.topics import NOTIFICATION_OUTCOMES, TELEMEDICINE_EVENTS
from shared.settings import PlatformSettings
from tests.delivery_outcomes import every_outcome_of, page_delivery
from tests.integration.use_cases.support import (
    CONTEXT,
    OneConnectionPool,
    alerts_queued,
    outbox_messages,
    referral_request,
    requested_and_paging,
)
from tests.use_case_database import sent_statements
from tests.wired_consumers import WiredConsumers


def _referral_service(connection: Connection) -> WiredConsumers:
    wired = WiredConsumers(connection, service_name="referral")
    wire_consumers(wired, CONTEXT)  # type: ignore[arg-type]
    return wired


async def _timeline(connection: Connection, referral_id: str) -> list[tuple[str, Any]]:
    return [
        (entry.event_code, entry.detail.get("stage") or entry.detail.get("status"))
        for entry in await timeline_repository.timeline(connection, referral_id=referral_id)
    ]


async def _claimed(connection: Connection, message: FhirMessage) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM inbox WHERE message_id = $1", message.message_id
    )
    return count


async def test_a_pages_outcome_arriving_alone_is_claimed_and_recorded_in_one_statement(
    connection: Connection,
) -> None:
    referral_id = await request_referral(connection, request=referral_request(), context=CONTEXT)
    before = await _timeline(connection, referral_id)
    delivery = dataclasses.replace(page_delivery(), referral_id=referral_id)
    sent_outcome = every_outcome_of(delivery)[0]
    service = _referral_service(connection)

    async with sent_statements(connection) as sent:
        await service.deliver(NOTIFICATION_OUTCOMES, sent_outcome, key=referral_id)

    # Was 4: SAVEPOINT (BEGIN), the inbox claim, the timeline INSERT, RELEASE (COMMIT).
    assert len(sent) == 1, "\n".join(sent)
    assert await _timeline(connection, referral_id) == [
        *before,
        (EventCode.NOTIFICATION_SENT.value, "completed"),
    ]
    assert await _claimed(connection, sent_outcome) == 1

    async with sent_statements(connection) as sent_again:
        await service.deliver(NOTIFICATION_OUTCOMES, sent_outcome, key=referral_id)

    # The same record again (a redelivery) is found in the inbox: nothing more written.
    assert len(sent_again) == 1, "\n".join(sent_again)
    assert len(await _timeline(connection, referral_id)) == len(before) + 1
    assert await _claimed(connection, sent_outcome) == 1
    assert service.dead_letters.sent == []


async def test_a_consults_request_and_paging_arriving_alone_are_recorded_in_one_statement(
    connection: Connection,
) -> None:
    request = referral_request(teleconsult_requested=True)
    referral_id = await request_referral(connection, request=request, context=CONTEXT)
    before = await _timeline(connection, referral_id)
    message = requested_and_paging(referral_id, asked_at=datetime.now(UTC) - timedelta(seconds=5))
    service = _referral_service(connection)

    async with sent_statements(connection) as sent:
        await service.deliver(TELEMEDICINE_EVENTS, message, key=referral_id)
    async with sent_statements(connection) as sent_again:
        await service.deliver(TELEMEDICINE_EVENTS, message, key=referral_id)

    # Was 4: SAVEPOINT, the inbox claim, the two steps' INSERT, RELEASE.
    assert len(sent) == 1, "\n".join(sent)
    assert len(sent_again) == 1, "\n".join(sent_again)
    assert await _timeline(connection, referral_id) == [
        *before,
        (EventCode.TELECONSULT_REQUESTED.value, "requested"),
        (EventCode.TELECONSULT_UPDATED.value, "paging"),
    ]
    assert await _claimed(connection, message) == 1


async def test_a_step_about_an_unknown_referral_is_dead_lettered_and_not_recorded(
    connection: Connection,
) -> None:
    unknown = f"uc-{uuid.uuid4()}"
    outcome = every_outcome_of(dataclasses.replace(page_delivery(), referral_id=unknown))[2]
    service = _referral_service(connection)

    await service.deliver(NOTIFICATION_OUTCOMES, outcome, key=unknown)

    assert [topic for topic, _, _ in service.dead_letters.sent] == [
        f"{NOTIFICATION_OUTCOMES.name}.dlq"
    ]
    assert await _claimed(connection, outcome) == 0
    assert await _timeline(connection, unknown) == []


async def test_a_consult_paged_late_after_a_known_door_in_still_alerts_the_spoke_once(
    connection: Connection,
) -> None:
    door_in = ReportedTime(
        kind=ClinicalTime.DOOR_IN, occurred_at=datetime.now(UTC) - timedelta(minutes=30)
    )
    request = referral_request(
        teleconsult_requested=True, last_known_well=None, reported_times=(door_in,)
    )
    referral_id = await request_referral(connection, request=request, context=CONTEXT)
    message = requested_and_paging(referral_id, asked_at=datetime.now(UTC) - timedelta(seconds=5))
    service = _referral_service(connection)

    await service.deliver(TELEMEDICINE_EVENTS, message, key=referral_id)
    await service.deliver(TELEMEDICINE_EVENTS, message, key=referral_id)

    # Asked 30 min after door-in (over 15): the spoke is alerted, in the message's transaction.
    late_alerts = await alerts_queued(
        connection, key=referral_id, alert=AlertCode.CONSULT_REQUESTED_LATE.value
    )
    assert len(late_alerts) == 1
    steps = [code for code, _ in await _timeline(connection, referral_id)]
    assert steps.count(EventCode.TELECONSULT_REQUESTED.value) == 1
    assert await _claimed(connection, message) == 1


def _post(body: bytes) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/fhir/$process-message",
        "headers": [(b"content-type", FHIR_JSON.encode())],
        "query_string": b"",
    }
    return Request(scope, receive)


async def test_a_referral_over_http_is_claimed_and_stored_in_one_statement(
    connection: Connection,
) -> None:
    runtime = SimpleNamespace(settings=PlatformSettings(), pool=OneConnectionPool(connection))
    context = dataclasses.replace(CONTEXT, directory=DirectoryCache())
    context.directory.drop()  # as the process's listener does: the directory is kept

    async def post(body: bytes, caller: str) -> tuple[int, dict[str, Any]]:
        response = await process_message(_post(body), runtime, context, caller)  # type: ignore[arg-type]
        return response.status_code, json.loads(bytes(response.body))

    def body_of(**fields: Any) -> tuple[bytes, str, str]:
        request = referral_request(**fields)
        message = fhir_mapping.referral_requested_message(
            request, source_endpoint=CONTEXT.source_endpoint
        )
        return message.to_json(), request.requester_org, request.referral_id

    first, caller, _ = body_of()
    assert (await post(first, caller))[0] == 200  # the directory read, and kept
    body, caller, referral_id = body_of(teleconsult_requested=True)

    async with sent_statements(connection) as sent:
        status, answer = await post(body, caller)

    # Was 4: SAVEPOINT (BEGIN), the inbox claim, the intake's INSERT, RELEASE (COMMIT).
    assert len(sent) == 1, "\n".join(sent)
    assert status == 200
    assert answer["entry"][1]["resource"]["id"] == referral_id
    queued = await outbox_messages(connection, key=referral_id)
    assert [p.event for p in queued] == [
        EventCode.REFERRAL_REQUESTED,
        EventCode.NOTIFICATION_REQUESTED,
        EventCode.NOTIFICATION_REQUESTED,
    ]

    # The same message again is answered with the same referral and applies nothing.
    status, again = await post(body, caller)
    assert status == 200
    assert again["entry"][1]["resource"]["id"] == referral_id
    assert len(await outbox_messages(connection, key=referral_id)) == len(queued)

    # The sender's id reused for another message is refused, and nothing of it is stored.
    reused = json.loads(body_of()[0])
    reused["entry"][0]["resource"]["id"] = json.loads(body)["entry"][0]["resource"]["id"]
    other_referral = next(
        entry["resource"]["id"]
        for entry in reused["entry"]
        if entry["resource"]["resourceType"] == "Task"
    )
    status, refusal = await post(json.dumps(reused).encode(), caller)
    assert status == 409, refusal
    assert await outbox_messages(connection, key=other_referral) == []
