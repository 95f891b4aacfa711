"""How many statements the referral service's busiest use cases send to PostgreSQL: each is a
round trip on the connection its transaction holds, so fewer is less waiting and less work for
both processes. Counted from the statements the connection really sends (asyncpg's query
logger), which no load changes. The figures before and after issue 14's changes are in the
README's performance section.

A referral's intake is its hospital's message applied in one transaction (the Kafka consumer
adds only the inbox claim around it; over HTTP the claim is a part of the intake's statement:
test_messages_in_one_statement.py); the steps telemedicine and the notifier report about a
referral (a consult paged, a page delivered) are timeline echoes, the commonest message the
referral service handles (claimed by their statement too, when they arrive alone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.referral.adapters import fhir_mapping, timeline_repository
from services.referral.domain.commands import RecordStep
from services.referral.service.consult_steps import record_consult_step
from services.referral.service.handlers import apply_hospital_message, record_step
from services.referral.service.intake import request_referral
from services.telemedicine.adapters import fhir_mapping as teleconsult_mapping
from services.telemedicine.domain.model import Consult, step_of
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.workflow.consult_state import ConsultStage
from tests.integration.use_cases.support import CONTEXT, referral_request
from tests.use_case_database import sent_statements

# (what arrives, the request's fields, at most this many statements)
# The directory read once (routing and the hospitals' patient number systems); the referral,
# its first timeline step, its clock's milestones and the outbox's events in one statement.
# Was 7: a look for the same request first, the directory read twice, and an INSERT each for
# the referral, its timeline step and its milestones; then 3 (the events in a statement apart).
# The look for the same request is made only when the INSERT finds it stored (test_intake.py:
# the same message again).
INTAKES: list[tuple[str, dict[str, Any], int]] = [
    ("a referral", {}, 2),
    ("a referral that asks for a teleconsult", {"teleconsult_requested": True}, 2),
    ("a pre-alert", {"prealert": True, "patient_hn": ""}, 2),
]


@pytest.mark.parametrize(
    ("what", "fields", "at_most"), INTAKES, ids=[what for what, _, _ in INTAKES]
)
async def test_a_hospitals_new_referral_is_applied_in_a_few_round_trips(
    connection: Connection, what: str, fields: dict[str, Any], at_most: int
) -> None:
    request = referral_request(**fields)
    message = fhir_mapping.referral_requested_message(
        request, source_endpoint=CONTEXT.source_endpoint
    )

    async with sent_statements(connection) as sent:
        referral = await apply_hospital_message(
            connection, message, context=CONTEXT, now=datetime.now(UTC)
        )

    assert referral.id == request.referral_id  # type: ignore[union-attr]
    assert len(sent) <= at_most, "\n".join(sent)


async def test_a_step_another_service_reports_goes_on_the_timeline_in_one_round_trip(
    connection: Connection,
) -> None:
    referral_id = await request_referral(connection, request=referral_request(), context=CONTEXT)
    step = RecordStep(
        referral_id=referral_id,
        event=EventCode.NOTIFICATION_SENT,
        source="https://fasttrack.test/notifier",
        message_id="m-sent",
        occurred_at=datetime.now(UTC) - timedelta(seconds=1),
        detail={"status": "completed"},
    )

    async with sent_statements(connection) as sent:
        await record_step(connection, step=step)

    assert len(sent) == 1, "\n".join(sent)


async def test_a_consults_request_and_paging_steps_go_on_the_timeline_in_one_round_trip(
    connection: Connection,
) -> None:
    request = referral_request(teleconsult_requested=True)
    referral_id = await request_referral(connection, request=request, context=CONTEXT)
    asked_at = datetime.now(UTC) - timedelta(seconds=2)
    consult = Consult.for_referral(
        referral_id=referral_id,
        requester_org=request.requester_org,
        consultant_org=request.owner_org,
        at=asked_at,
    )
    paged_at = datetime.now(UTC) - timedelta(seconds=1)
    paging = consult.moved_to(ConsultStage.PAGING, at=paged_at, rung=0)
    # Telemedicine announces a referral's consult, opened with its first page, in one message.
    requested_and_paging = teleconsult_mapping.teleconsult_requested_message(
        paging,
        source_endpoint="https://fasttrack.test/telemedicine",
        step=step_of(paging, at=paged_at),
    )

    async with sent_statements(connection) as sent:
        await record_consult_step(connection, requested_and_paging, context=CONTEXT)

    # Both steps, each at its own time and as its hospital's, in one INSERT, which also looks
    # for a door-in (none: no late-consult alert can be due, so no alert round). Was 3
    # statements for two messages (two transactions and two inbox claims more around them).
    assert len(sent) == 1, "\n".join(sent)
    steps = [
        (entry.event_code, entry.occurred_at, entry.source, entry.detail.get("stage"))
        for entry in await timeline_repository.timeline(connection, referral_id=referral_id)
        if entry.event_code.startswith("teleconsult")
    ]
    assert steps == [
        (
            EventCode.TELECONSULT_REQUESTED.value,
            asked_at,
            f"Organization/{request.requester_org}",
            "requested",
        ),
        (
            EventCode.TELECONSULT_UPDATED.value,
            paged_at,
            f"Organization/{request.owner_org}",
            "paging",
        ),
    ]
