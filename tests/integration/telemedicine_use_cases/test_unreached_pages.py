"""A consult's page that reached nobody at all (the notifier's final failure: no roster, every
channel failed) moves the consult up the ladder at once, as a decline does: the next rung is
paged now, not at its deadline; after the last rung the consult fails to connect now and the
spoke is told. A repeat, an older rung's failure, one after an acknowledgement, or one
delivery's failure (a fallback may follow) changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from services.notifier.adapters.communication_messages import (
    acknowledged_message,
    nobody_reached_message,
    outcome_message,
)
from services.notifier.domain.model import Channel, Delivery
from services.telemedicine.domain.escalation import NOBODY_REACHED, Rung
from services.telemedicine.domain.model import Consult
from services.telemedicine.service import consult_answers, consult_opening, ladder_climb
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage
from shared.workflow.consult_ids import page_request_id
from shared.workflow.consult_state import ConsultStage
from tests.integration.telemedicine_use_cases.support import CONTEXT, referral_requested

SPOKE, HUB = "ur-spoke", "ur-hub"
NOTIFIER = "https://fasttrack.test/notifier"


async def _consult_paging_on_call(connection: Connection) -> Consult:
    now = datetime.now(UTC)
    message, _ = referral_requested(spoke=SPOKE, hub=HUB, id_prefix="ur")
    consult = await consult_opening.open_consult_if_requested(
        connection, message, context=CONTEXT, now=now
    )
    assert consult is not None
    return consult


def _nobody_reached(consult: Consult, rung: int) -> FhirMessage:
    """The notifier's final failure of the consult's page of ``rung``."""
    return nobody_reached_message(
        request_id=f"{uuid.uuid4()}/{page_request_id(consult.id, rung)}",
        referral_id=consult.referral_id,
        addressed=[CONTEXT.ladder.paged(rung, hub=HUB)],
        priority="stat",
        reason="every channel of every recipient failed",
        source_endpoint=NOTIFIER,
    )


def _page_delivery(consult: Consult, rung: int) -> Delivery:
    return Delivery(
        id=str(uuid.uuid4()),
        request_id=f"{uuid.uuid4()}/{page_request_id(consult.id, rung)}",
        referral_id=consult.referral_id,
        recipient="Practitioner/dr-on-call",
        channel=Channel.LINE,
        priority="stat",
        body={},
    )


async def _climbs(connection: Connection, message: FhirMessage) -> Consult | None:
    return await ladder_climb.climb_if_page_unreached(
        connection, message, context=CONTEXT, now=datetime.now(UTC)
    )


async def _queued(connection: Connection, key: str) -> list[tuple[str, str]]:
    rows = await connection.fetch(
        "SELECT topic, event_code FROM outbox WHERE message_key = $1 ORDER BY id", key
    )
    return [(row["topic"], row["event_code"]) for row in rows]


async def _notified(connection: Connection, key: str) -> list[list[str]]:
    """Whom each notification request queued about the consult names."""
    rows = await connection.fetch(
        "SELECT payload FROM outbox WHERE message_key = $1 AND event_code = $2 ORDER BY id",
        key,
        "notification-requested",
    )
    return [
        [
            r["reference"]
            for r in json.loads(bytes(row["payload"]))["entry"][1]["resource"]["recipient"]
        ]
        for row in rows
    ]


STEP = ("fasttrack.telemedicine.events.v1", "teleconsult-updated")
PAGE = ("fasttrack.notification.requests.v1", "notification-requested")


async def test_each_unreached_rung_pages_the_next_now_and_the_last_fails_the_consult_now(
    connection: Connection,
) -> None:
    consult = await _consult_paging_on_call(connection)
    before = len(await _queued(connection, consult.referral_id))

    backup = await _climbs(connection, _nobody_reached(consult, Rung.ON_CALL))
    assert backup is not None
    assert (backup.stage, backup.rung, backup.status_reason) == (
        ConsultStage.PAGING,
        Rung.BACKUP,
        NOBODY_REACHED,
    )
    # Paged now; its deadline is still the ladder's, counted from the request (no extra time).
    assert backup.next_deadline == consult.requested_at + CONTEXT.ladder.stroke_lead_after
    assert (await _queued(connection, consult.referral_id))[before:] == [STEP, PAGE]

    lead = await _climbs(connection, _nobody_reached(consult, Rung.BACKUP))
    assert lead is not None
    assert (lead.stage, lead.rung) == (ConsultStage.PAGING, Rung.STROKE_LEAD)
    # The stroke lead paged, and the spoke alerted, as at the stroke lead's deadline.
    assert (await _queued(connection, consult.referral_id))[before + 2 :] == [STEP, PAGE, PAGE]

    failed = await _climbs(connection, _nobody_reached(consult, Rung.STROKE_LEAD))
    assert failed is not None
    assert failed.stage is ConsultStage.FAILED
    assert failed.status_reason == f"failed to connect: {NOBODY_REACHED}"
    assert failed.next_deadline is None
    assert (await _queued(connection, consult.referral_id))[before + 5 :] == [STEP, PAGE]
    notified = await _notified(connection, consult.referral_id)
    assert notified == [
        [f"PractitionerRole/{HUB}.stroke-neurologist.backup"],
        [f"PractitionerRole/{HUB}.stroke-lead"],
        [f"Organization/{SPOKE}"],  # the stroke lead is being paged
        [f"Organization/{SPOKE}"],  # failed to connect: call the hub
    ]
    steps = await connection.fetch(
        "SELECT stage, rung, reason FROM consult_step WHERE consult_id = $1 ORDER BY id",
        consult.id,
    )
    assert [(row["stage"], row["rung"]) for row in steps] == [
        ("paging", 0),
        ("paging", 1),
        ("paging", 2),
        ("failed", 2),
    ]


async def test_a_repeat_or_an_older_rungs_final_failure_changes_nothing(
    connection: Connection,
) -> None:
    consult = await _consult_paging_on_call(connection)
    first = _nobody_reached(consult, Rung.ON_CALL)
    assert await _climbs(connection, first) is not None
    queued = await _queued(connection, consult.referral_id)

    assert await _climbs(connection, first) is None  # the same message again
    assert await _climbs(connection, _nobody_reached(consult, Rung.ON_CALL)) is None  # a 2nd one
    assert await _queued(connection, consult.referral_id) == queued
    row = await connection.fetchrow("SELECT stage, rung FROM consult WHERE id = $1", consult.id)
    assert row is not None
    assert (row["stage"], row["rung"]) == ("paging", Rung.BACKUP)


async def test_a_final_failure_after_an_acknowledgement_changes_nothing(
    connection: Connection,
) -> None:
    consult = await _consult_paging_on_call(connection)
    acknowledgement = acknowledged_message(
        _page_delivery(consult, Rung.ON_CALL),
        acknowledged_by="Practitioner/dr-on-call",
        at=datetime.now(UTC),
        source_endpoint=NOTIFIER,
    )
    accepted = await consult_answers.acknowledge_page(
        connection, acknowledgement, context=CONTEXT, now=datetime.now(UTC)
    )
    assert accepted is not None
    queued = await _queued(connection, consult.referral_id)

    assert await _climbs(connection, _nobody_reached(consult, Rung.ON_CALL)) is None
    assert await _queued(connection, consult.referral_id) == queued
    row = await connection.fetchrow("SELECT stage FROM consult WHERE id = $1", consult.id)
    assert row is not None
    assert row["stage"] == "accepted"


async def test_one_deliverys_failure_or_another_services_page_changes_nothing(
    connection: Connection,
) -> None:
    consult = await _consult_paging_on_call(connection)
    queued = await _queued(connection, consult.referral_id)
    one_channel = outcome_message(
        _page_delivery(consult, Rung.ON_CALL),
        sent=False,
        reason="LINE user blocked us",
        source_endpoint=NOTIFIER,
    )
    not_ours = nobody_reached_message(
        request_id=f"{uuid.uuid4()}/cr-stroke-alert",
        referral_id=consult.referral_id,
        addressed=[f"Organization/{HUB}"],
        priority="stat",
        reason="every channel of every recipient failed",
        source_endpoint=NOTIFIER,
    )

    assert await _climbs(connection, one_channel) is None
    assert await _climbs(connection, not_ours) is None
    assert await _queued(connection, consult.referral_id) == queued
