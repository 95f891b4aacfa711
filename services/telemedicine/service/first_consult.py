"""Consult first: a spoke asks the hub's on-call consultant before any referral (from the web
app, a hospital system's REST call or its Kafka topic). The consult is paged exactly as a
referral's is (consult_opening.start: the same ladder, the same timings); its teleconsult-requested
carries what the spoke asked with, so the referral a recommendation to transfer starts is
made from it. When that referral is announced, the consult is linked to it."""

from __future__ import annotations

from datetime import datetime

from services.telemedicine.adapters import (
    fhir_mapping,
    first_consult_fhir,
    hub_directory,
    question_store,
    repository,
)
from services.telemedicine.domain.first_consult import (
    ConsultQuestion,
    ask_first,
    check_consultant_known,
    first_consult_id,
)
from services.telemedicine.domain.model import Consult
from services.telemedicine.service import consult_opening
from services.telemedicine.service.context import TelemedicineContext
from shared.db.pool import Connection
from shared.fhir.envelope import FhirMessage


async def ask(
    connection: Connection,
    *,
    consult_id: str,
    requester_org: str,
    consultant_org: str,
    question: ConsultQuestion,
    context: TelemedicineContext,
    now: datetime,
) -> Consult:
    """Opens the consult and pages the consultant hospital's on-call consultant; the same
    request again (a hospital system's retry) returns the consult it opened."""
    consult = ask_first(
        consult_id=consult_id,
        requester_org=requester_org,
        consultant_org=consultant_org,
        question=question,
        at=now,
    )
    existing = await repository.get_consult(connection, consult_id=consult_id)
    if existing is not None:
        return existing
    # A hub the directory does not list is refused before anyone is paged (a typo would page
    # nobody's consultant and wait out the whole ladder).
    check_consultant_known(consultant_org, await hub_directory.hub_directory(connection))
    # (The question's key to the consult is checked at commit: the consult is stored next.)
    await question_store.insert_question(connection, consult_id=consult.id, question=question)
    started = await consult_opening.start(
        connection,
        consult,
        context=context,
        now=now,
        supporting=first_consult_fhir.question_resources(consult, question),
    )
    return started or consult


async def ask_from_message(
    connection: Connection, message: FhirMessage, *, context: TelemedicineContext, now: datetime
) -> Consult:
    """A hospital system's teleconsult-requested (REST or its Kafka topic), in its own name."""
    asked = first_consult_fhir.asked_first(message)
    return await ask(
        connection,
        consult_id=first_consult_id(requester_org=asked.requester_org, request_id=asked.request_id),
        requester_org=asked.requester_org,
        consultant_org=asked.consultant_org,
        question=asked.question,
        context=context,
        now=now,
    )


async def link_if_started_by_consult(connection: Connection, message: FhirMessage) -> str | None:
    """On referral-requested: the referral a consult asked first started (its Task is
    ``basedOn`` the consult's Task) is linked to it; the consult's later messages are then
    ``partOf`` it. Returns the consult linked, or None."""
    links = fhir_mapping.referral_task_links(message)
    if links is None:
        return None
    referral_id, based_on = links
    for reference in based_on:
        if reference.startswith("Task/") and await question_store.link_referral(
            connection, consult_id=reference.removeprefix("Task/"), referral_id=referral_id
        ):
            return reference.removeprefix("Task/")
    return None
