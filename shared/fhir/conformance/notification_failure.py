"""The notification-failure CodeSystem: Communication.statusReason of notification-failed, which
tells one delivery's failure from the request's final one."""

from __future__ import annotations

from shared.fhir.codes import PROJECT_CANONICAL
from shared.fhir.codesystems import ProjectCodeSystem, concepts_of
from shared.vocabulary.notification_failures import (
    NOTIFICATION_FAILURE_TERMS,
    NotificationFailure,
)

NOTIFICATION_FAILURE_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/notification-failure"

NOTIFICATION_FAILURE = ProjectCodeSystem(
    id="notification-failure",
    url=NOTIFICATION_FAILURE_SYSTEM,
    name="FastTrackNotificationFailure",
    title="Notification failures / การแจ้งเตือนที่ส่งไม่สำเร็จ",
    description=(
        "What a notification-failed reports (Communication.statusReason): one delivery failed, "
        "or nobody could be reached at all (the request's final failure). "
        "สาเหตุของการแจ้งเตือนที่ส่งไม่สำเร็จ: ส่งไม่ถึงผู้รับรายหนึ่ง หรือไม่สามารถติดต่อผู้รับได้เลย"
    ),
    concepts=concepts_of(NotificationFailure, NOTIFICATION_FAILURE_TERMS),
)
