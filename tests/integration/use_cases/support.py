"""What the referral use-case tests share: a small directory, the use cases' context, command
builders and a reading of the outbox (what the service would publish)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.referral.adapters import repository
from services.referral.domain.commands import ReferralChange, RequestReferral
from services.referral.domain.model import Referral
from services.referral.domain.routing import Hospital
from services.referral.service.context import ReferralContext
from services.telemedicine.adapters import fhir_mapping as teleconsult_mapping
from services.telemedicine.domain.model import Consult, step_of
from shared.db.pool import Connection
from shared.fhir.codes import EventCode
from shared.fhir.envelope import FhirMessage, parse_message
from shared.fhir.models import CommunicationRequest
from shared.messaging.topics import NOTIFICATION_REQUESTS, REFERRAL_EVENTS
from shared.vocabulary.capabilities import StrokeCapability
from shared.workflow.consult_state import ConsultStage
from shared.workflow.task_state import TaskStatus

C = StrokeCapability
_STROKE_CENTRE = frozenset({C.CT_24H, C.THROMBOLYSIS, C.STROKE_UNIT})
# A community hospital without CT, the nearest stroke centre, and a farther thrombectomy centre.
COMMUNITY = "uc-community"
NEAR_CENTRE = "uc-near-centre"
FAR_CENTRE = "uc-far-centre"
TEST_HOSPITALS = (
    Hospital(COMMUNITY, "Community Hospital", 7.40, 99.55, frozenset({C.TELECONSULT})),
    Hospital(NEAR_CENTRE, "Near Stroke Centre", 7.45, 99.60, _STROKE_CENTRE),
    Hospital(FAR_CENTRE, "Far Thrombectomy Centre", 7.90, 99.95, _STROKE_CENTRE | {C.THROMBECTOMY}),
)


async def add_test_directory(connection: Connection | asyncpg.Pool) -> None:
    """The test hospitals in the referral service's directory (its ``organization`` table)."""
    for hospital in TEST_HOSPITALS:
        await connection.execute(
            """
            INSERT INTO organization (id, name, capabilities, latitude, longitude, resource)
            VALUES ($1, $2, $3, $4, $5, '{}')
            """,
            hospital.id,
            hospital.name,
            sorted(hospital.capabilities),
            hospital.latitude,
            hospital.longitude,
        )


CONTEXT = ReferralContext(
    source_endpoint="https://fasttrack.test/fhir", public_url="https://fasttrack.test"
)


def referral_request(**overrides: Any) -> RequestReferral:
    """A referral from the community hospital to the near centre, asked a minute ago."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "referral_id": f"uc-{uuid.uuid4()}",
        "request_message_id": str(uuid.uuid4()),
        "requester_org": COMMUNITY,
        "owner_org": NEAR_CENTRE,
        "patient_hn": "HN-0001",
        "last_known_well": now - timedelta(hours=1),
        "nihss": 8,
        "suspected_lvo": False,
        "requested_at": now - timedelta(minutes=1),
    }
    return RequestReferral(**{**fields, **overrides})


def referral_change(
    referral_id: str,
    event: EventCode,
    *,
    sender: str,
    status: TaskStatus | None = None,
    reason: str | None = None,
    **overrides: Any,
) -> ReferralChange:
    fields: dict[str, Any] = {
        "referral_id": referral_id,
        "event": event,
        "sender_org": sender,
        "message_id": str(uuid.uuid4()),
        "task_status": status,
        "status_reason": reason,
        "occurred_at": datetime.now(UTC),
    }
    return ReferralChange(**{**fields, **overrides})


async def stored(connection: Connection, referral_id: str) -> Referral:
    """The referral as the database holds it now (it must exist)."""
    referral = await repository.get_referral(connection, referral_id=referral_id)
    assert referral is not None, f"no referral {referral_id}"
    return referral


@dataclass(frozen=True)
class Published:
    """An outbox row: what the relay will publish, on which topic."""

    topic: str
    message: FhirMessage

    @property
    def event(self) -> EventCode:
        return self.message.event

    @property
    def recipients(self) -> list[str]:
        """For a notification request: the organizations it is for."""
        request = self.message.focus_resource(CommunicationRequest)
        assert request is not None
        return [str(r.reference).removeprefix("Organization/") for r in request.recipient or []]

    @property
    def category(self) -> str:
        request = self.message.focus_resource(CommunicationRequest)
        assert request is not None
        return str(request.category[0].coding[0].code)  # type: ignore[index]


async def outbox_messages(connection: Connection, *, key: str) -> list[Published]:
    """What the use cases queued for Kafka about one referral, in order."""
    rows = await connection.fetch(
        "SELECT topic, payload FROM outbox WHERE message_key = $1 ORDER BY id", key
    )
    return [Published(row["topic"], parse_message(bytes(row["payload"]))) for row in rows]


async def alerts_queued(connection: Connection, *, key: str, alert: str) -> list[Published]:
    """The notification requests queued about one referral that carry ``alert`` (its code)."""
    return [
        published
        for published in await outbox_messages(connection, key=key)
        if published.topic == NOTIFICATION_REQUESTS.name
        and alert in published.message.to_json().decode()
    ]


def requested_and_paging(referral_id: str, *, asked_at: datetime) -> FhirMessage:
    """Telemedicine's teleconsult-requested for a referral's consult opened with its page."""
    consult = Consult.for_referral(
        referral_id=referral_id,
        requester_org=COMMUNITY,
        consultant_org=NEAR_CENTRE,
        at=asked_at,
    )
    paged_at = asked_at + timedelta(seconds=1)
    paging = consult.moved_to(ConsultStage.PAGING, at=paged_at, rung=0)
    return teleconsult_mapping.teleconsult_requested_message(
        paging,
        source_endpoint="https://fasttrack.test/telemedicine",
        step=step_of(paging, at=paged_at),
    )


def events(published: list[Published]) -> list[tuple[str, EventCode]]:
    """(topic, event) of each queued message, in order."""
    return [(p.topic, p.event) for p in published]


REFERRAL_EVENTS_TOPIC = REFERRAL_EVENTS.name
NOTIFICATIONS_TOPIC = NOTIFICATION_REQUESTS.name


@asynccontextmanager
async def _held(connection: Connection) -> AsyncIterator[Connection]:
    yield connection


class OneConnectionPool:
    """A pool of one connection the test holds and watches: what a worker or a route acquires is
    that connection (in the test's transaction, when the test opened one)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def acquire(self) -> AbstractAsyncContextManager[Connection]:
        return _held(self.connection)
