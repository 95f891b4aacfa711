"""A referral's referral-requested, arriving alone at telemedicine: the consult it asks for
opened by the statement that also records the message in the inbox, one round trip and no
transaction (before: BEGIN, the inbox claim, the opening, COMMIT; here, inside the test's
transaction, SAVEPOINT and RELEASE for BEGIN and COMMIT: 4). Counted from the statements the
connection really sends (asyncpg's query logger). A repeat opens nothing and queues nothing; an
acknowledgement of the page that came first still accepts the consult as it opens, and a
final failure of that page that came first climbs the ladder as it opens (either message goes
the transaction's way)."""

from __future__ import annotations

import uuid

from services.notifier.adapters.communication_messages import nobody_reached_message
from services.telemedicine.domain.escalation import NOBODY_REACHED
from services.telemedicine.entrypoints.consumers import wire_consumers
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.messaging.topics import NOTIFICATION_OUTCOMES, REFERRAL_EVENTS
from shared.workflow.consult_ids import ON_CALL_RUNG, page_request_id, referral_consult_id
from tests.integration.telemedicine_use_cases.support import (
    CONTEXT,
    on_call_acknowledgement,
    referral_requested,
)
from tests.use_case_database import sent_statements
from tests.wired_consumers import WiredConsumers

SPOKE, HUB = "tm-spoke", "tm-hub"


def _telemedicine(connection: Connection) -> WiredConsumers:
    wired = WiredConsumers(connection, service_name="telemedicine")
    wire_consumers(wired, CONTEXT)  # type: ignore[arg-type]
    return wired


def _referral(*, teleconsult: bool) -> tuple[FhirMessage, str]:
    return referral_requested(spoke=SPOKE, hub=HUB, id_prefix="tm", teleconsult=teleconsult)


async def _queued(connection: Connection, key: str) -> list[str]:
    rows = await connection.fetch(
        "SELECT event_code FROM outbox WHERE message_key = $1 ORDER BY id", key
    )
    return [row["event_code"] for row in rows]


async def _claimed(connection: Connection, message: FhirMessage) -> int:
    count: int = await connection.fetchval(
        "SELECT count(*) FROM inbox WHERE message_id = $1", message.message_id
    )
    return count


async def test_a_referrals_consult_opens_with_its_message_claimed_in_one_statement(
    connection: Connection,
) -> None:
    message, referral_id = _referral(teleconsult=True)
    service = _telemedicine(connection)

    async with sent_statements(connection) as sent:
        await service.deliver(REFERRAL_EVENTS, message, key=referral_id)
    async with sent_statements(connection) as sent_again:
        await service.deliver(REFERRAL_EVENTS, message, key=referral_id)

    # Was 4: SAVEPOINT (BEGIN), the inbox claim, the consult's opening, RELEASE (COMMIT).
    assert len(sent) == 1, "\n".join(sent)
    assert len(sent_again) == 1, "\n".join(sent_again)
    consult = await connection.fetchrow(
        "SELECT stage, rung FROM consult WHERE id = $1", referral_consult_id(referral_id)
    )
    assert consult is not None
    assert (consult["stage"], consult["rung"]) == ("paging", ON_CALL_RUNG)
    assert await _queued(connection, referral_id) == ["teleconsult-requested"]
    assert await _claimed(connection, message) == 1
    assert service.dead_letters.sent == []


async def test_a_referral_asking_no_consult_is_only_claimed_in_one_statement(
    connection: Connection,
) -> None:
    message, referral_id = _referral(teleconsult=False)
    service = _telemedicine(connection)

    async with sent_statements(connection) as sent:
        await service.deliver(REFERRAL_EVENTS, message, key=referral_id)

    # Was 3: SAVEPOINT, the inbox claim, RELEASE.
    assert len(sent) == 1, "\n".join(sent)
    assert await _queued(connection, referral_id) == []
    assert await _claimed(connection, message) == 1


async def test_an_acknowledgement_before_the_consult_opened_still_accepts_it(
    connection: Connection,
) -> None:
    message, referral_id = _referral(teleconsult=True)
    request_id = page_request_id(referral_consult_id(referral_id), ON_CALL_RUNG)
    acknowledgement = on_call_acknowledgement(referral_id, request_id=request_id)
    service = _telemedicine(connection)

    await service.deliver(NOTIFICATION_OUTCOMES, acknowledgement, key=referral_id)
    await service.deliver(REFERRAL_EVENTS, message, key=referral_id)
    await service.deliver(REFERRAL_EVENTS, message, key=referral_id)

    consult = await connection.fetchrow(
        "SELECT stage, consultant FROM consult WHERE id = $1", referral_consult_id(referral_id)
    )
    assert consult is not None
    assert (consult["stage"], consult["consultant"]) == ("accepted", "Practitioner/dr-on-call")
    assert await connection.fetchval("SELECT count(*) FROM early_acknowledgement") == 0
    assert await _claimed(connection, message) == 1
    assert service.dead_letters.sent == []


async def test_a_nobody_reached_before_the_consult_opened_climbs_as_it_opens(
    connection: Connection,
) -> None:
    # The notifier's final failure of the referral service's page to the on-call consultant
    # arrives before the referral event that opens the consult (telemedicine behind).
    message, referral_id = _referral(teleconsult=True)
    request_id = page_request_id(referral_consult_id(referral_id), ON_CALL_RUNG)
    unreached = nobody_reached_message(
        request_id=f"{uuid.uuid4()}/{request_id}",
        referral_id=referral_id,
        addressed=[CONTEXT.ladder.paged(ON_CALL_RUNG, hub=HUB)],
        priority="stat",
        reason="every channel of every recipient failed",
        source_endpoint="https://fasttrack.test/notifier",
    )
    service = _telemedicine(connection)

    await service.deliver(NOTIFICATION_OUTCOMES, unreached, key=referral_id)
    await service.deliver(REFERRAL_EVENTS, message, key=referral_id)
    await service.deliver(REFERRAL_EVENTS, message, key=referral_id)

    # Opened and, nobody having been reached at rung 0, the backup paged at once (not at the
    # ladder's 5 minutes), its deadline still counted from the request.
    consult = await connection.fetchrow(
        "SELECT stage, rung, status_reason, next_deadline, requested_at FROM consult WHERE id = $1",
        referral_consult_id(referral_id),
    )
    assert consult is not None
    assert (consult["stage"], consult["rung"], consult["status_reason"]) == (
        "paging",
        ON_CALL_RUNG + 1,
        NOBODY_REACHED,
    )
    assert consult["next_deadline"] == consult["requested_at"] + CONTEXT.ladder.stroke_lead_after
    assert await _queued(connection, referral_id) == [
        "teleconsult-requested",
        "teleconsult-updated",
        "notification-requested",
    ]
    assert await connection.fetchval("SELECT count(*) FROM early_unreached_page") == 0
    assert await _claimed(connection, message) == 1
    assert service.dead_letters.sent == []
