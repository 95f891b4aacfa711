"""How the notifier reached someone (Communication.medium of its outcomes on Kafka)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class NotificationChannel(StrEnum):
    WEBHOOK = "webhook"  # a hospital system's endpoint (signed)
    LINE = "line"  # LINE Messaging API push to a user or group id
    SMS = "sms"  # an SMS gateway, to a phone number
    EMAIL = "email"  # SMTP
    IN_APP = "in-app"  # a live event for the hospital's web pages


C = NotificationChannel
NOTIFICATION_CHANNEL_TERMS: Mapping[NotificationChannel, Term] = {
    C.WEBHOOK: Term("Signed webhook to the hospital's system", "เว็บฮุกถึงระบบของโรงพยาบาล"),
    C.LINE: Term("LINE Messaging API push", "ข้อความ LINE"),
    C.SMS: Term("SMS through a Thai gateway", "ข้อความ SMS"),
    C.EMAIL: Term("E-mail (SMTP)", "อีเมล"),
    C.IN_APP: Term("Live event on the hospital's web pages", "แจ้งเตือนบนหน้าเว็บของโรงพยาบาล"),
}
