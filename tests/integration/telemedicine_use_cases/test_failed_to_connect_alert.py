"""What the spoke is told when its consult fails to connect, in English and Thai: why (nobody
answered, nobody could be reached at all, the hub declined) and whom to call: the hub by its
name with its number, the network's coordination line when the hub has no number configured, or
the hub by its name alone. Never an empty number."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from services.notifier.adapters.communication_messages import nobody_reached_message
from services.telemedicine.adapters import hub_directory
from services.telemedicine.domain.escalation import Rung
from services.telemedicine.domain.first_consult import Hub
from services.telemedicine.domain.model import Consult
from services.telemedicine.service import consult_answers, consult_opening, ladder_climb
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.notifications import payload_texts
from shared.workflow.consult_ids import page_request_id
from shared.workflow.consult_state import ConsultStage
from tests.integration.telemedicine_use_cases.support import CONTEXT, referral_requested

SPOKE, HUB = "ftc-spoke", "ftc-hub"
HUB_NAME, HUB_NAME_TH = "Failover Hub Hospital", "โรงพยาบาลทดสอบแม่ข่าย"
HUB_PHONE, COORDINATION_PHONE = "075-000-111", "075-999-000"


async def _opened(
    connection: Connection, context: TelemedicineContext, *, listed: bool = True
) -> Consult:
    await hub_directory.replace_directory(
        connection,
        [Hub(id=HUB, name=HUB_NAME, name_th=HUB_NAME_TH, stroke_hub=True)] if listed else [],
        at=datetime.now(UTC),
    )
    message, _ = referral_requested(spoke=SPOKE, hub=HUB, id_prefix="ftc")
    consult = await consult_opening.open_consult_if_requested(
        connection, message, context=context, now=datetime.now(UTC)
    )
    assert consult is not None
    return consult


async def _unreached(
    connection: Connection, consult: Consult, rung: Rung, context: TelemedicineContext
) -> Consult | None:
    message = nobody_reached_message(
        request_id=f"n-{rung}/{page_request_id(consult.id, rung)}",
        referral_id=consult.referral_id,
        addressed=[context.ladder.paged(rung, hub=HUB)],
        priority="stat",
        reason="every channel of every recipient failed",
        source_endpoint="https://fasttrack.test/notifier",
    )
    return await ladder_climb.climb_if_page_unreached(
        connection, message, context=context, now=datetime.now(UTC)
    )


async def _failed_by_nobody_reached(
    connection: Connection, context: TelemedicineContext, *, listed: bool = True
) -> str:
    consult = await _opened(connection, context, listed=listed)
    for rung in Rung:
        await _unreached(connection, consult, rung, context)
    return consult.referral_id


async def _told_to_spoke(connection: Connection, key: str) -> dict[str, str]:
    """The texts of the last alert queued for the spoke about the consult, by language."""
    rows = await connection.fetch(
        "SELECT payload FROM outbox WHERE message_key = $1 AND event_code = $2 ORDER BY id",
        key,
        "notification-requested",
    )
    to_spoke = [
        request
        for request in (json.loads(bytes(row["payload"]))["entry"][1]["resource"] for row in rows)
        if [r["reference"] for r in request["recipient"]] == [f"Organization/{SPOKE}"]
    ]
    return payload_texts(to_spoke[-1])


def _no_empty_number(text: str) -> None:
    assert not text.rstrip().endswith((":", "หมายเลข")), text
    assert ": (" not in text, text
    assert "หมายเลข (" not in text, text


async def test_nobody_reached_at_a_hub_with_no_number_says_so_and_names_the_hub(
    connection: Connection,
) -> None:
    key = await _failed_by_nobody_reached(connection, CONTEXT)
    told = await _told_to_spoke(connection, key)

    assert "nobody answered" not in told["en"]
    assert "nobody at the hub could be reached" in told["en"]
    assert f"Call the hub, {HUB_NAME}, directly" in told["en"]
    assert "ไม่สามารถติดต่อ" in told["th"]
    assert HUB_NAME_TH in told["th"]
    for text in told.values():
        _no_empty_number(text)


async def test_a_hub_the_directory_does_not_list_is_named_by_its_id(
    connection: Connection,
) -> None:
    key = await _failed_by_nobody_reached(connection, CONTEXT, listed=False)
    told = await _told_to_spoke(connection, key)

    assert f"Call the hub, {HUB}, directly" in told["en"]
    assert f"โรงพยาบาลแม่ข่าย {HUB} โดยตรง" in told["th"]


async def test_the_hubs_number_is_given_with_its_name_when_configured(
    connection: Connection,
) -> None:
    context = dataclasses.replace(
        CONTEXT, hub_phones={HUB: HUB_PHONE}, coordination_phone=COORDINATION_PHONE
    )
    key = await _failed_by_nobody_reached(connection, context)
    told = await _told_to_spoke(connection, key)

    assert f"Call the hub, {HUB_NAME}: {HUB_PHONE}" in told["en"]
    assert f"{HUB_NAME_TH} หมายเลข {HUB_PHONE}" in told["th"]
    assert COORDINATION_PHONE not in told["en"] + told["th"]


async def test_the_networks_coordination_line_is_given_when_the_hub_has_no_number(
    connection: Connection,
) -> None:
    context = dataclasses.replace(CONTEXT, coordination_phone=COORDINATION_PHONE)
    key = await _failed_by_nobody_reached(connection, context)
    told = await _told_to_spoke(connection, key)

    assert f"Call the network's coordination line: {COORDINATION_PHONE}" in told["en"]
    assert f"ศูนย์ประสานงานเครือข่าย หมายเลข {COORDINATION_PHONE}" in told["th"]
    for text in told.values():
        _no_empty_number(text)


async def test_nobody_answering_by_the_last_deadline_says_nobody_answered(
    connection: Connection,
) -> None:
    context = dataclasses.replace(CONTEXT, hub_phones={HUB: HUB_PHONE})
    consult = await _opened(connection, context)
    for minutes in (6, 11, 16):
        await ladder_climb.escalate_if_overdue(
            connection,
            consult_id=consult.id,
            context=context,
            now=consult.requested_at + timedelta(minutes=minutes),
        )
    told = await _told_to_spoke(connection, consult.referral_id)

    assert "nobody at the hub answered" in told["en"]
    assert "could be reached" not in told["en"]
    assert "ไม่มีแพทย์ที่ปรึกษาตอบรับ" in told["th"]
    assert f"{HUB_NAME}: {HUB_PHONE}" in told["en"]


async def test_the_stroke_lead_declining_says_the_hub_declined(connection: Connection) -> None:
    consult = await _opened(connection, CONTEXT)
    await _unreached(connection, consult, Rung.ON_CALL, CONTEXT)
    await _unreached(connection, consult, Rung.BACKUP, CONTEXT)
    failed = await consult_answers.move(
        connection,
        consult_id=consult.id,
        party=HUB,
        stage=ConsultStage.DECLINED,
        reason="no bed",
        by="Practitioner/dr-lead",
        context=CONTEXT,
        now=datetime.now(UTC),
    )
    assert failed.stage is ConsultStage.FAILED
    told = await _told_to_spoke(connection, consult.referral_id)

    assert "the hub declined" in told["en"]
    assert "nobody answered" not in told["en"]
    assert "ปฏิเสธ" in told["th"]
