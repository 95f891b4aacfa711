"""A referral's consult opens from referral-requested: the referral service paged the hub's
on-call consultant already (shared/consult_paging.py), so telemedicine records that page as the
ladder's first rung and sends none; an acknowledgement of it that came before the consult
opened accepts the consult as it opens. In a few round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.telemedicine.service import consult_answers, consult_opening
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.workflow.consult_ids import ON_CALL_RUNG, page_request_id, referral_consult_id
from shared.workflow.consult_state import ConsultStage
from tests.integration.telemedicine_use_cases.support import (
    CONTEXT,
    on_call_acknowledgement,
    referral_requested,
)
from tests.use_case_database import sent_statements

SPOKE, HUB = "tm-spoke", "tm-hub"


def _referral_asking_a_teleconsult() -> tuple[FhirMessage, str]:
    """referral-requested for a new referral that asks for a teleconsult, and its id."""
    return referral_requested(spoke=SPOKE, hub=HUB, id_prefix="tm")


async def _queued(connection: Connection, key: str) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT topic, event_code FROM outbox WHERE message_key = $1 ORDER BY id", key
    )
    return [(row["topic"], row["event_code"]) for row in rows]


async def test_a_referrals_consult_records_the_referral_services_page_and_sends_none(
    connection: Connection,
) -> None:
    message, _ = _referral_asking_a_teleconsult()

    async with sent_statements(connection) as sent:
        consult = await consult_opening.open_consult_if_requested(
            connection, message, context=CONTEXT, now=datetime.now(UTC)
        )

    assert consult is not None
    assert (consult.stage, consult.rung) == (ConsultStage.PAGING, ON_CALL_RUNG)
    # One event for the referral's timeline, not two (was teleconsult-requested, then
    # teleconsult-updated for the paging step): the request, its Task paging since the page.
    assert await _queued(connection, consult.referral_id) == [
        ("fasttrack.telemedicine.events.v1", "teleconsult-requested"),
    ]
    payload = await connection.fetchval(
        "SELECT payload FROM outbox WHERE message_key = $1", consult.referral_id
    )
    task = json.loads(bytes(payload))["entry"][1]["resource"]
    assert task["businessStatus"] == {"text": "paging"}
    assert datetime.fromisoformat(task["authoredOn"]) == consult.requested_at
    assert datetime.fromisoformat(task["lastModified"]) >= consult.requested_at
    page = await connection.fetchrow("SELECT * FROM consult_page WHERE consult_id = $1", consult.id)
    assert page is not None
    assert page["request_id"] == page_request_id(consult.id, ON_CALL_RUNG)
    steps = await connection.fetch(
        "SELECT stage, rung FROM consult_step WHERE consult_id = $1", consult.id
    )
    assert [(row["stage"], row["rung"]) for row in steps] == [("paging", ON_CALL_RUNG)]
    # The consult in its paging stage, its paging step, the page with any early
    # acknowledgement taken, and its event in the outbox: one statement. Was 4 (the consult
    # asked, then moved to paging with its step, then the page), then 2 (the event apart).
    assert len(sent) == 1, "\n".join(sent)
    # The same referral announced again opens nothing and queues nothing.
    again = await consult_opening.open_consult_if_requested(
        connection, message, context=CONTEXT, now=datetime.now(UTC)
    )
    assert again is None
    assert await _queued(connection, consult.referral_id) == [
        ("fasttrack.telemedicine.events.v1", "teleconsult-requested"),
    ]


async def test_an_acknowledgement_before_the_consult_opened_accepts_it_as_it_opens(
    connection: Connection,
) -> None:
    message, referral_id = _referral_asking_a_teleconsult()
    consult_id = referral_consult_id(referral_id)
    request_id = page_request_id(consult_id, ON_CALL_RUNG)
    acknowledgement = on_call_acknowledgement(referral_id, request_id=request_id)

    early = await consult_answers.acknowledge_page(
        connection, acknowledgement, context=CONTEXT, now=datetime.now(UTC)
    )
    consult = await consult_opening.open_consult_if_requested(
        connection, message, context=CONTEXT, now=datetime.now(UTC)
    )

    assert early is None  # no consult yet: kept
    assert consult is not None
    assert (consult.stage, consult.consultant) == (
        ConsultStage.ACCEPTED,
        "Practitioner/dr-on-call",
    )
    assert await connection.fetchval("SELECT count(*) FROM early_acknowledgement") == 0
