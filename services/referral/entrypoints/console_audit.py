"""The console's audit log (``/app/console/audit``), searchable by referral, hospital, person and
time; for operators only. The web app's own trail (reads of referrals, sign-ins, changes to
people, replays of Kafka dead letters) comes from this service's ``audit_event``; the replays of
undelivered pages from the notifier's ``replay_audit``, its rows fetched by the page from the
notifier through the proxy with the same criteria (a person as ``user:<id>``, which only this
service can tell from a username)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.referral.adapters import console_audit
from services.referral.entrypoints.deps import OperatorPersonDep, render
from shared.province_time import PROVINCE_ZONE
from shared.runtime import RuntimeDep

router = APIRouter(include_in_schema=False)

AUDIT_PATH = "/app/console/audit"


def _local_time(value: str | None) -> datetime | None:
    """A ``datetime-local`` field (Bangkok time, no zone) as a zoned time; None if unusable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PROVINCE_ZONE)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()[:64]
    return value or None


@router.get(AUDIT_PATH, response_class=HTMLResponse)
async def audit_page(
    request: Request,
    runtime: RuntimeDep,
    person: OperatorPersonDep,
    referral: str | None = None,
    hospital: str | None = None,
    user: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> HTMLResponse:
    referral_id, hospital_id, username = _text(referral), _text(hospital), _text(user)
    start, end = _local_time(since), _local_time(until)
    async with runtime.pool.acquire() as connection:
        rows = await console_audit.search_audit(
            connection,
            referral_id=referral_id,
            hospital=hospital_id,
            username=username,
            since=start,
            until=end,
        )
        user_id = (
            await connection.fetchval(
                "SELECT id FROM app_user WHERE username = lower($1)", username
            )
            if username
            else None
        )
    notifier_query = {
        name: value
        for name, value in (
            ("referral", referral_id),
            ("hospital", hospital_id),
            # Nobody by that name: a person no replay can name.
            (
                "by",
                f"user:{user_id}" if user_id is not None else ("user:none" if username else None),
            ),
            ("since", start.isoformat() if start else None),
            ("until", end.isoformat() if end else None),
        )
        if value
    }
    return render(
        request,
        "app/console/audit.html",
        person=person,
        rows=rows,
        searched={
            "referral": referral_id or "",
            "hospital": hospital_id or "",
            "user": username or "",
            "since": since or "",
            "until": until or "",
        },
        notifier_audit_url=f"/app/console/notifier/audit?{urlencode(notifier_query)}",
    )
