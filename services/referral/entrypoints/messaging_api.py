"""FHIR messaging over REST (POST /fhir/$process-message), for hospital systems that cannot
speak Kafka: the same use cases as the Kafka inbound topic, answered with the response message."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
from fastapi import APIRouter, Request, Response

from services.referral.adapters import fhir_inbound, repository
from services.referral.adapters.fhir_mapping import answer_focus
from services.referral.domain.errors import ReferralNotFound
from services.referral.domain.model import Availability, Referral
from services.referral.entrypoints.deps import ContextDep, ensure_party
from services.referral.service import handlers
from services.referral.service.context import ReferralContext
from shared.auth import CallerDep
from shared.db.pool import Connection
from shared.fhir.codes import (
    NETWORK_ORGANIZATION,
)
from shared.fhir.envelope import FhirMessage, message_json, parse_message
from shared.fhir.models import FHIR_JSON, Task
from shared.fhir.responses import response_message
from shared.limits import InputLimits
from shared.messaging.inbox import (
    Claim,
    InboxEntry,
    claim_message,
    received_content_digest,
    reused_id_reason,
)
from shared.runtime import RuntimeDep
from shared.tracing import ReferralIds, name_trace
from shared.web import FhirResponse, outcome_response

router = APIRouter()

# Inbox "topic" of messages received over REST: one de-duplication space with Kafka's ids.
PROCESS_MESSAGE_INBOX = "http:$process-message"


async def _referral_of(connection: Connection, message: FhirMessage, caller: str) -> Referral:
    """The referral a message the caller sent before was about (for answering a repeat)."""
    referral_id = await repository.referral_id_for_request(
        connection, requester_org=caller, request_message_id=message.message_id
    )
    if referral_id is None:
        task = message.focus_resource(Task)
        referral_id = str(task.id) if task is not None else ""
    referral = await repository.get_referral(connection, referral_id=referral_id)
    if referral is None:
        raise ReferralNotFound(referral_id)
    ensure_party(referral, caller)
    return referral


# A message of a referral's usual size (the example's is 4 KB) is parsed on the event loop: a
# millisecond or two, and handing it to a worker thread and back cost a tenth to a quarter more
# CPU than the parse itself. A larger one (up to the largest accepted, tens of milliseconds) is
# parsed in a worker thread, one at a time: the event loop competes for the interpreter with one
# parser at most, so /health and the consumers keep their turn (bench/health_under_input.py).
PARSED_ON_THE_LOOP_BYTES = 16 * 1024
_PARSING = asyncio.Semaphore(1)


def _parse_and_digest(body: bytes, limits: InputLimits) -> tuple[FhirMessage, str]:
    # The digest of the body as received: a model dump of the Bundle cost more than parsing it.
    # The body's JSON is read once, for both (digested before the Bundle is validated from it).
    document = message_json(body, limits)
    digest = received_content_digest(body, document)
    return parse_message(document, limits), digest


async def _applied_in_one_statement(
    connection: Connection, inbox: InboxEntry, context: ReferralContext
) -> tuple[Claim, Referral | Availability | None] | None:
    """A new referral or pre-alert claimed and stored by one statement and no transaction (was
    BEGIN, claim, intake, COMMIT); None, with nothing written, for a message that needs the
    transaction."""
    try:
        return await handlers.apply_hospital_message_in_one_statement(
            connection, inbox, context=context, now=datetime.now(UTC)
        )
    except asyncpg.UniqueViolationError:
        return None  # the same message claimed at the same moment: the transaction decides


@router.post("/fhir/$process-message", response_class=FhirResponse)
async def process_message(
    request: Request, runtime: RuntimeDep, context: ContextDep, caller: CallerDep
) -> Response:
    """FHIR messaging over REST, for hospital systems that cannot speak Kafka.

    The same use cases as the Kafka inbound topic; the answer is the response message (``ok``,
    the Task in its new state), or a 4xx OperationOutcome saying why the message was refused.
    A message sent again (same sender, MessageHeader.id and content) is answered without being
    applied twice; the sender's id reused for other content is refused (409).
    """
    limits = InputLimits.from_settings(runtime.settings)
    body = await request.body()
    if len(body) <= PARSED_ON_THE_LOOP_BYTES:
        message, digest = _parse_and_digest(body, limits)
    else:
        async with _PARSING:
            message, digest = await asyncio.to_thread(_parse_and_digest, body, limits)
    if not fhir_inbound.sent_by(message, caller):
        return outcome_response(
            403,
            fhir_inbound.sender_mismatch(caller),
            code="forbidden",
            expression="MessageHeader.sender",
        )
    name_trace(ReferralIds.of_message(message))
    async with runtime.pool.acquire() as connection:
        claimed = await _applied_in_one_statement(
            connection, InboxEntry(message, PROCESS_MESSAGE_INBOX, digest), context
        )
        if claimed is None:
            # A refusal (a DomainError) rolls the transaction back and is answered by
            # shared/web.py.
            async with connection.transaction():
                claim = await claim_message(
                    connection, message=message, topic=PROCESS_MESSAGE_INBOX, digest=digest
                )
                result = None
                if claim is Claim.FIRST:
                    result = await handlers.apply_hospital_message(
                        connection, message, context=context, now=datetime.now(UTC)
                    )
        else:
            claim, result = claimed
        if claim is Claim.REUSED_ID:
            return outcome_response(
                409,
                reused_id_reason(message),
                code="duplicate",
                expression="MessageHeader.id",
            )
        if claim is Claim.REPEAT:
            result = await _referral_of(connection, message, caller)
    if result is None:
        raise RuntimeError("a message applied with no result")
    answer = response_message(
        message,
        code="ok",
        responder=NETWORK_ORGANIZATION,
        source_endpoint=context.source_endpoint,
        focus=[answer_focus(result)],
    )
    # Written as it was built (orjson), not dumped again by JSONResponse's json.dumps.
    return Response(answer.to_json(), media_type=FHIR_JSON)
