"""The notification-channel CodeSystem: Communication.medium of the notifier's outcomes."""

from __future__ import annotations

from shared.fhir.codes import PROJECT_CANONICAL
from shared.fhir.codesystems import Concept, ProjectCodeSystem

NOTIFICATION_CHANNEL_SYSTEM = f"{PROJECT_CANONICAL}/CodeSystem/notification-channel"

NOTIFICATION_CHANNEL = ProjectCodeSystem(
    id="notification-channel",
    url=NOTIFICATION_CHANNEL_SYSTEM,
    name="FastTrackNotificationChannel",
    title="Notification channels / ช่องทางการแจ้งเตือน",
    description=(
        "How the notifier reached someone (Communication.medium). ช่องทางที่ระบบแจ้งเตือนใช้ติดต่อผู้รับ"
    ),
    concepts=(
        Concept("webhook", "Signed webhook to the hospital's system", "เว็บฮุกถึงระบบของโรงพยาบาล"),
        Concept("line", "LINE Messaging API push", "ข้อความ LINE"),
        Concept("sms", "SMS through a Thai gateway", "ข้อความ SMS"),
        Concept("email", "E-mail (SMTP)", "อีเมล"),
        Concept("in-app", "Live event on the hospital's web pages", "แจ้งเตือนบนหน้าเว็บของโรงพยาบาล"),
    ),
)
