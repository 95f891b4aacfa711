"""Time-critical alerts: raised before a window or target is breached, each once, as events the
notifier delivers, and kept on the referral's timeline (docs/clinical-metrics.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.referral.adapters import (
    clock_repository,
    notification_texts,
    repository,
    timeline_repository,
)
from services.referral.domain.alerts import (
    CONSULT_REQUEST_TARGET,
    DIDO_LIMITS,
    DIDO_WARNING_LEAD,
    LKW_ALERTS,
    Alert,
    AlertCode,
    due_alerts,
    next_alert_at,
)
from services.referral.domain.model import Referral
from services.referral.domain.windows import TreatmentWindow
from services.referral.service.context import ReferralContext
from services.referral.service.patient_clock import patient_milestones
from shared.db.pool import Connection
from shared.fhir.codes import NETWORK_ORGANIZATION, EventCode
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import NOTIFICATION_REQUESTS
from shared.workflow.task_state import AWAITING_ANSWER

# An alert warns ahead of a breach; once the breach itself is past (the thrombolysis window
# closed, the DIDO target missed), paging people about it helps nobody and teaches them to
# ignore pages. An alert goes stale at its breach.
THROMBOLYSIS_CLOSES = TreatmentWindow.THROMBOLYSIS.length
CONSULT_LATE_STALE_AFTER = timedelta(minutes=60) - CONSULT_REQUEST_TARGET
STALE_AFTER: dict[AlertCode, timedelta] = {
    **{code: THROMBOLYSIS_CLOSES - after for code, after in LKW_ALERTS},
    **{code: DIDO_WARNING_LEAD for code, _ in DIDO_LIMITS},
    # An hour after door-in the door-to-needle target of 60 min is past: a page about the
    # consult asked for late no longer helps this patient.
    AlertCode.CONSULT_REQUESTED_LATE: CONSULT_LATE_STALE_AFTER,
}
# When a referral can have an alert due: from the first alert to the last one going stale.
LKW_ALERT_WINDOW = (min(after for _, after in LKW_ALERTS), THROMBOLYSIS_CLOSES)
DIDO_ALERT_WINDOW = (
    min(limit for _, limit in DIDO_LIMITS) - DIDO_WARNING_LEAD,
    max(limit for _, limit in DIDO_LIMITS),
)
# After door-in, for a referral that asked for a teleconsult: from the 15 min target to the
# alert going stale (the watcher raises it then, even when no event arrives).
CONSULT_ALERT_WINDOW = (CONSULT_REQUEST_TARGET, CONSULT_REQUEST_TARGET + CONSULT_LATE_STALE_AFTER)


def recipients(referral: Referral, alert: Alert) -> list[str]:
    """Who must act: the sending hospital for its door-out, both for the treatment windows."""
    if alert.code in (
        AlertCode.DIDO_APPROACHING,
        AlertCode.DIDO_120,
        AlertCode.CONSULT_REQUESTED_LATE,
    ):
        return [referral.requester_org]
    return [referral.owner_org, referral.requester_org]


async def raise_due_alerts(
    connection: Connection, *, referral: Referral, context: ReferralContext, now: datetime
) -> list[Alert]:
    raised, _ = await _raise_due_alerts(connection, referral=referral, context=context, now=now)
    return raised


async def _raise_due_alerts(
    connection: Connection, *, referral: Referral, context: ReferralContext, now: datetime
) -> tuple[list[Alert], datetime | None]:
    """The alerts raised now, and when the next one falls due (None: none to come)."""
    milestones = await patient_milestones(connection, referral_id=referral.id)
    already = {
        AlertCode(c)
        for c in await clock_repository.raised_alerts(connection, referral_id=referral.id)
    }
    facts: dict[str, Any] = {
        "accept_by": referral.accept_by if referral.status in AWAITING_ANSWER else None,
        "consult_requested_at": await _consult_requested_at(connection, referral_id=referral.id),
        "consult_expected": referral.teleconsult_requested,
    }
    due = due_alerts(milestones, now=now, already_sent=already, **facts)
    raised = []
    for alert in due:
        stale_after = STALE_AFTER.get(alert.code)
        if stale_after is not None and now > alert.due_at + stale_after:
            continue
        if not await clock_repository.raise_alert(
            connection, referral_id=referral.id, code=alert.code
        ):
            continue
        raised.append(alert)
        await timeline_repository.add_timeline_entry(
            connection,
            referral_id=referral.id,
            event_code=EventCode.TIME_CRITICAL_ALERT.value,
            occurred_at=alert.due_at,
            source=NETWORK_ORGANIZATION,
            message_id=None,
            detail={"alert": alert.code.value, "uncertain": alert.uncertain},
        )
        await add_to_outbox(
            connection,
            topic=NOTIFICATION_REQUESTS,
            key=referral.id,
            message=notification_texts.time_alert(
                referral,
                alert=alert,
                recipients=recipients(referral, alert),
                referral_url=context.referral_url(referral.id),
                source_endpoint=context.source_endpoint,
            ),
        )
    # Due alerts not raised (stale, or raised by another instance) are past: not "next".
    following = next_alert_at(
        milestones, already_sent=already | {a.code for a in due}, now=now, **facts
    )
    return raised, following


async def _consult_requested_at(connection: Connection, *, referral_id: str) -> datetime | None:
    """When telemedicine says the referral's teleconsult was requested, if it has."""
    return next(
        (
            step.occurred_at
            for step in await timeline_repository.timeline(connection, referral_id=referral_id)
            if step.event_code == EventCode.TELECONSULT_REQUESTED.value
        ),
        None,
    )


async def referrals_with_alerts_in_reach(connection: Connection, *, now: datetime) -> list[str]:
    """The referrals that can have an alert due now (inside an alert window)."""
    return [
        referral_id
        for referral_id, _ in await referrals_in_reach_with_versions(connection, now=now)
    ]


async def referrals_in_reach_with_versions(
    connection: Connection, *, now: datetime
) -> list[tuple[str, str]]:
    """``referrals_with_alerts_in_reach``, each with a version that changes whenever what its
    alerts are computed from does."""
    return await clock_repository.referrals_in_alert_windows(
        connection,
        now=now,
        lkw_window=LKW_ALERT_WINDOW,
        dido_window=DIDO_ALERT_WINDOW,
        consult_window=CONSULT_ALERT_WINDOW,
    )


async def next_reach_at(connection: Connection, *, now: datetime) -> float | None:
    """When the next referral not in reach now comes into ``referrals_in_reach_with_versions``
    by the clock alone (epoch seconds; None: none to come, as things stand)."""
    return await clock_repository.next_alert_window_opens(
        connection,
        now=now,
        lkw_window=LKW_ALERT_WINDOW,
        dido_window=DIDO_ALERT_WINDOW,
        consult_window=CONSULT_ALERT_WINDOW,
    )


async def raise_due_alerts_of(
    connection: Connection, *, referral_id: str, context: ReferralContext, now: datetime
) -> int:
    """Raises what has fallen due for one referral; the row lock makes two instances raise an
    alert once between them. Returns how many were raised."""
    raised, _ = await examine_alerts_of(
        connection, referral_id=referral_id, context=context, now=now
    )
    return raised


async def examine_alerts_of(
    connection: Connection, *, referral_id: str, context: ReferralContext, now: datetime
) -> tuple[int, datetime | None]:
    """``raise_due_alerts_of``, also saying when the referral's next alert falls due (None:
    none to come, as things stand)."""
    referral = await repository.get_referral(connection, referral_id=referral_id, for_update=True)
    if referral is None:
        return 0, None
    raised, following = await _raise_due_alerts(
        connection, referral=referral, context=context, now=now
    )
    return len(raised), following
