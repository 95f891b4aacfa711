"""The hub board (``/app/board``): the referrals coming to the person's hospital, live; each
highlighted until someone of the hospital acknowledges it, and answered inline.

Accept and decline go through the same use case as a hospital system's referral-accepted /
referral-declined message (services/referral/service/board.py), in the name of the person's
hospital. Every action answers with a redirect to the board: a plain form reloads it, htmx
follows the redirect and swaps the board in place (``hx-select="#board"``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from services.referral.adapters import board_queries, page_events
from services.referral.domain.accounts import CLINICAL_ROLES, Role, SignedInPerson
from services.referral.domain.errors import ReferralNotFound
from services.referral.entrypoints.deps import ActionDep, ContextDep, PersonDep, render
from services.referral.service import board
from services.referral.service.board import BoardUser
from services.referral.service.context import ReferralContext
from shared.errors import DomainError
from shared.runtime import RuntimeDep, ServiceRuntime
from shared.vocabulary.decline_reasons import DECLINE_REASON_TERMS, DeclineReason
from shared.vocabulary.terms import Language

router = APIRouter(include_in_schema=False)

BOARD_PATH = "/app/board"
# Who may answer for the hospital (accept or decline); every clinician may acknowledge.
ANSWERING_ROLES = frozenset({Role.DOCTOR})
# "Other" needs words of its own, which a one-tap board does not take: the referral page does.
BOARD_DECLINE_REASONS = tuple(r for r in DeclineReason if r is not DeclineReason.OTHER)
# Refusals the board explains (templates/app/board.html has the words): by code, so nothing
# the client sent is echoed into the page.
PROBLEMS = frozenset({"answered", "reason"})


@router.get(BOARD_PATH, response_class=HTMLResponse)
async def board_page(
    request: Request, runtime: RuntimeDep, person: PersonDep, problem: str | None = None
) -> HTMLResponse:
    hospital_id = _own_hospital(person)
    async with runtime.pool.acquire() as connection:
        # Read before the board: the page's live stream starts there (static/app/live.js).
        feed_position = await page_events.latest_position(connection)
        referrals = await board_queries.board(connection, hospital_id=hospital_id)
    language = Language(person.language)
    return render(
        request,
        "app/board.html",
        person=person,
        referrals=referrals,
        feed_position=feed_position,
        now=datetime.now(UTC),
        can_answer=person.role in ANSWERING_ROLES,
        decline_reasons=[
            (r.value, DECLINE_REASON_TERMS[r].text(language)) for r in BOARD_DECLINE_REASONS
        ],
        problem=problem if problem in PROBLEMS else None,
    )


@router.post(BOARD_PATH + "/{referral_id}/acknowledge")
async def acknowledge(
    referral_id: str, runtime: RuntimeDep, context: ContextDep, person: ActionDep
) -> RedirectResponse:
    user = _board_user(person, roles=CLINICAL_ROLES)
    async with runtime.pool.acquire() as connection, connection.transaction():
        try:
            await board.acknowledge(
                connection,
                referral_id=referral_id,
                user=user,
                now=datetime.now(UTC),
                context=context,
            )
        except ReferralNotFound:
            raise HTTPException(404, "No such referral on your board") from None
    return _back_to_board()


@router.post(BOARD_PATH + "/{referral_id}/accept")
async def accept(
    referral_id: str, runtime: RuntimeDep, context: ContextDep, person: ActionDep
) -> RedirectResponse:
    return await _answer(runtime, context, person, referral_id=referral_id, decline_reason=None)


@router.post(BOARD_PATH + "/{referral_id}/decline")
async def decline(
    referral_id: str,
    runtime: RuntimeDep,
    context: ContextDep,
    person: ActionDep,
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    if reason not in {r.value for r in BOARD_DECLINE_REASONS}:
        return _back_to_board(problem="reason")
    return await _answer(
        runtime, context, person, referral_id=referral_id, decline_reason=DeclineReason(reason)
    )


async def _answer(
    runtime: ServiceRuntime,
    context: ReferralContext,
    person: SignedInPerson,
    *,
    referral_id: str,
    decline_reason: DeclineReason | None,
) -> RedirectResponse:
    user = _board_user(person, roles=ANSWERING_ROLES)
    async with runtime.pool.acquire() as connection:
        try:
            async with connection.transaction():
                await board.answer(
                    connection,
                    referral_id=referral_id,
                    user=user,
                    now=datetime.now(UTC),
                    context=context,
                    decline_reason=decline_reason,
                )
        except ReferralNotFound:
            raise HTTPException(404, "No such referral on your board") from None
        except DomainError:
            return _back_to_board(problem="answered")
    return _back_to_board()


def _own_hospital(person: SignedInPerson) -> str:
    if person.hospital_id is None:
        raise HTTPException(403, "The board is for the people of a hospital")
    return person.hospital_id


def _board_user(person: SignedInPerson, *, roles: frozenset[Role]) -> BoardUser:
    if person.role not in roles:
        raise HTTPException(403, "Your role cannot do this on the board")
    return BoardUser(
        user_id=str(person.user_id),
        display_name=person.display_name,
        hospital_id=_own_hospital(person),
    )


def _back_to_board(problem: str | None = None) -> RedirectResponse:
    location = f"{BOARD_PATH}?problem={problem}" if problem else BOARD_PATH
    return RedirectResponse(location, status_code=303)
