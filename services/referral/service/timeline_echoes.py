"""The echoes: what other services tell the referral service only for a referral's timeline (its
consult's steps from telemedicine, its pages' outcomes from the notifier). Each one's use case
is one statement with its inbox claim (``echo_of`` says which messages are); the echoes fetched
together are written by one statement (``record_echoes_together``), their claims and timeline
rows together, instead of one statement each between BEGIN and COMMIT."""

from __future__ import annotations

from collections.abc import Sequence

from services.referral.adapters import fhir_steps, timeline_repository
from services.referral.adapters.timeline_repository import ClaimedSteps, NewTimelineEntry
from services.referral.domain.errors import ReferralNotFound
from services.referral.service import confirmed_needle, consult_first, transfers
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.messaging.inbox import Claim, InboxEntry, claim_message
from shared.messaging.topics import NOTIFICATION_OUTCOMES, TELEMEDICINE_EVENTS
from shared.vocabulary.milestones import MilestoneCode
from shared.workflow.episode_ids import is_episode_id

CONSULT_STEPS = frozenset(
    {
        EventCode.TELECONSULT_REQUESTED,
        EventCode.TELECONSULT_UPDATED,
        EventCode.TELECONSULT_RECOMMENDED,
    }
)
PAGE_OUTCOMES = frozenset(
    {
        EventCode.NOTIFICATION_SENT,
        EventCode.NOTIFICATION_FAILED,
        EventCode.NOTIFICATION_DELIVERED,
        EventCode.NOTIFICATION_ACKNOWLEDGED,
        EventCode.NOTIFICATION_ESCALATED,
    }
)


def consult_step_echo(inbox: InboxEntry) -> ClaimedSteps | None:
    """A consult's step as one statement: None for a step that starts something (a consult
    asked first, a recommendation to transfer, a confirmed needle) or may raise an alert (a
    consult paged once the door-in is known: ``unless_door_in``), which go in a transaction."""
    message = inbox.message
    if fhir_steps.about_an_episode(message):  # no referral's timeline: the claim alone
        return ClaimedSteps(inbox, None, (), unless_door_in=False)
    if fhir_steps.asked_first(message) is not None:
        return None
    steps = fhir_steps.teleconsult_steps(message)
    last = steps[-1]
    if (
        transfers.recommended_centre(last) is not None
        or confirmed_needle.confirmed_needle(last) is not None
    ):
        return None
    return ClaimedSteps(
        inbox,
        last.referral_id,
        [NewTimelineEntry.of_step(step) for step in steps],
        unless_door_in=steps[0].event is EventCode.TELECONSULT_REQUESTED,
    )


def page_outcome_echo(inbox: InboxEntry) -> ClaimedSteps | None:
    """A page's outcome as one statement: None for a page of a consult asked first (kept or
    moved, in a transaction)."""
    outcome = fhir_steps.notification_outcome_step(inbox.message)
    if is_episode_id(outcome.referral_id):  # a home-isolation episode's: the claim alone
        return ClaimedSteps(inbox, None, (), unless_door_in=False)
    if outcome.referral_id.startswith(consult_first.CONSULT_PREFIX):
        return None
    return ClaimedSteps(
        inbox, outcome.referral_id, [NewTimelineEntry.of_step(outcome)], unless_door_in=False
    )


def echo_of(inbox: InboxEntry) -> ClaimedSteps | None:
    """The message as an echo written by one statement, or None (not an echo, or one whose use
    case needs more than that statement)."""
    event = inbox.message.event
    if inbox.topic == TELEMEDICINE_EVENTS.name and event in CONSULT_STEPS:
        return consult_step_echo(inbox)
    if inbox.topic == NOTIFICATION_OUTCOMES.name and event in PAGE_OUTCOMES:
        return page_outcome_echo(inbox)
    return None


async def record_consult_step_in_one_statement(
    connection: Connection, inbox: InboxEntry
) -> Claim | None:
    """``consult_steps.record_consult_step`` as one statement with the message's inbox claim (its
    ``OneStatementHandler``), for a step that starts nothing (``consult_step_echo``): None, with
    nothing written, for the others, which go in a transaction."""
    echo = consult_step_echo(inbox)
    return None if echo is None else await record_claimed_echo(connection, echo)


async def record_page_outcome_in_one_statement(
    connection: Connection, inbox: InboxEntry
) -> Claim | None:
    """``handlers.record_notification_outcome`` as one statement with the message's inbox claim
    (its ``OneStatementHandler``); None for a page of a consult asked first (kept or moved, in a
    transaction)."""
    echo = page_outcome_echo(inbox)
    return None if echo is None else await record_claimed_echo(connection, echo)


async def record_claimed_echo(connection: Connection, echo: ClaimedSteps) -> Claim | None:
    """One echo's statement (its ``OneStatementHandler``'s work). None: the patient's clock has
    the door-in and the echo is ``unless_door_in``, nothing written. Raises ReferralNotFound,
    with nothing written, for an unknown referral."""
    if echo.referral_id is None:
        inbox = echo.inbox
        return await claim_message(
            connection, message=inbox.message, topic=inbox.topic, digest=inbox.digest
        )
    claim, known = await timeline_repository.add_claimed_timeline_steps(
        connection,
        referral_id=echo.referral_id,
        entries=echo.entries,
        inbox=echo.inbox,
        door_in_code=MilestoneCode.DOOR_IN_FIRST.value,
        unless_door_in=echo.unless_door_in,
    )
    if claim is None and not known:
        raise ReferralNotFound(echo.referral_id)
    return claim


async def record_echoes_together(
    connection: Connection, entries: Sequence[InboxEntry]
) -> list[Claim]:
    """The echoes among the first of ``entries`` (the records fetched together, in order), two
    or more, in one statement (the referral service's ``StatementTogether``): what each one's
    claim found. Stops before the first message that is no such echo, repeats a message id of
    the run, or that the statement could not apply (an unknown referral, a door-in known): it
    and those after it are applied one by one, in order."""
    echoes: list[ClaimedSteps] = []
    ids: set[tuple[str, str]] = set()
    for entry in entries:
        echo = echo_of(entry)
        message_id = (entry.message.sender, entry.message.message_id)
        # (The statement reads the inbox as it began: an id twice is claimed twice.)
        if echo is None or message_id in ids:
            break
        ids.add(message_id)
        echoes.append(echo)
    if len(echoes) < 2:
        return []  # the one echo, or none: applied as a record alone (its own statement)
    return await timeline_repository.add_claimed_echoes(
        connection, echoes, door_in_code=MilestoneCode.DOOR_IN_FIRST.value
    )
