"""Reads for the operators' console (schema ``referral``): every hospital's referrals as ids,
hospitals, states and times (services/referral/domain/console.py), never a patient's data.

The hops come from what this service already records: the referral row (intake), its outbox
rows (published to Kafka, and the trace the intake started: the stored ``traceparent``) and its
timeline (what telemedicine and the notifier reported back on Kafka).
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.referral.domain.console import FAILURE_EVENTS, FINAL_STATES, ReferralProgress
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.messaging.topics import REFERRAL_EVENTS
from shared.workflow.task_state import status_codes

# The events that announce a new referral on the referral events topic.
_INTAKE_EVENTS = [EventCode.REFERRAL_REQUESTED.value, EventCode.STROKE_PREALERT.value]

_PROGRESS = """
SELECT r.id, r.status, r.requester_org, r.owner_org, r.teleconsult_requested, r.created_at,
       r.replaced_by,
       (SELECT min(o.published_at) FROM outbox AS o
         WHERE o.message_key = r.id AND o.topic = $1 AND o.event_code = ANY($2::text[]))
         AS published_at,
       (SELECT split_part(o.trace_context ->> 'traceparent', '-', 2) FROM outbox AS o
         WHERE o.message_key = r.id ORDER BY o.id LIMIT 1) AS trace_id,
       (SELECT coalesce(jsonb_object_agg(steps.event_code, steps.first_at), '{}'::jsonb)
          FROM (SELECT event_code, min(occurred_at) AS first_at FROM timeline_entry
                 WHERE referral_id = r.id GROUP BY event_code) AS steps) AS first_steps,
       (SELECT f.event_code || coalesce(' ' || (f.detail -> 'channel' ->> 0), '')
          FROM timeline_entry AS f
         WHERE f.referral_id = r.id AND f.event_code = ANY($3::text[])
         ORDER BY f.occurred_at DESC, f.id DESC LIMIT 1) AS last_failure
FROM referral AS r
WHERE ($4::text IS NULL OR r.id = $4)
  AND ($5::text IS NULL OR $5 IN (r.requester_org, r.owner_org))
  AND (NOT $6 OR (r.status <> ALL($7::text[]) AND r.replaced_by IS NULL))
ORDER BY r.created_at DESC, r.id
LIMIT $8
"""


async def referral_progress(
    connection: Connection,
    *,
    limit: int = 50,
    referral_id: str | None = None,
    hospital: str | None = None,
    only_open: bool = False,
) -> list[ReferralProgress]:
    """The newest referrals (of one ``hospital``, or one ``referral_id``, or every one), with
    what is known of their hops; ``only_open``: those the network still has work for."""
    rows = await connection.fetch(
        _PROGRESS,
        REFERRAL_EVENTS.name,
        _INTAKE_EVENTS,
        [code.value for code in FAILURE_EVENTS],
        referral_id,
        hospital,
        only_open,
        status_codes(FINAL_STATES),
        limit,
    )
    return [_progress(row) for row in rows]


def _progress(row: asyncpg.Record) -> ReferralProgress:
    return ReferralProgress(
        referral_id=row["id"],
        status=row["status"],
        requester=row["requester_org"],
        owner=row["owner_org"],
        teleconsult_requested=row["teleconsult_requested"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        first_steps={code: datetime.fromisoformat(at) for code, at in row["first_steps"].items()},
        replaced_by=row["replaced_by"],
        trace_id=row["trace_id"] or None,
        last_failure=row["last_failure"],
    )


async def directory_hospitals(connection: Connection) -> list[tuple[str, str]]:
    """Every hospital of the directory: (id, name)."""
    rows = await connection.fetch("SELECT id, name FROM organization ORDER BY id")
    return [(row["id"], row["name"]) for row in rows]
