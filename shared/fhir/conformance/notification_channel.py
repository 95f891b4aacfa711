"""The notification-channel CodeSystem: Communication.medium of the notifier's outcomes."""

from __future__ import annotations

from shared.fhir.codes import PROJECT_CANONICAL
from shared.fhir.codesystems import ProjectCodeSystem, concepts_of
from shared.vocabulary.notification_channels import (
    NOTIFICATION_CHANNEL_TERMS,
    NotificationChannel,
)

NOTIFICATION_CHANNEL_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/notification-channel"

NOTIFICATION_CHANNEL = ProjectCodeSystem(
    id="notification-channel",
    url=NOTIFICATION_CHANNEL_SYSTEM,
    name="FastTrackNotificationChannel",
    title="Notification channels / ช่องทางการแจ้งเตือน",
    description=(
        "How the notifier reached someone (Communication.medium). ช่องทางที่ระบบแจ้งเตือนใช้ติดต่อผู้รับ"
    ),
    concepts=concepts_of(NotificationChannel, NOTIFICATION_CHANNEL_TERMS),
)
