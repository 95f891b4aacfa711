"""A referral's referral-requested, arriving alone at telemedicine: the consult it asks for
opened by the statement that also records the message in the inbox, one round trip and no
transaction (before: BEGIN, the inbox claim, the opening, COMMIT; here, inside the test's
transaction, SAVEPOINT and RELEASE for BEGIN and COMMIT: 4). Counted from the statements the
connection really sends (asyncpg's query logger). A repeat opens nothing and queues nothing; an
acknowledgement of the page that came first still accepts the consult as it opens (that
message goes the transaction's way)."""

from __future__ import annotations

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
