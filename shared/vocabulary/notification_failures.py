"""Why a notification-failed was sent (Communication.statusReason of the notifier's outcome):
one delivery failed, or the whole request did. Telemedicine climbs a consult's ladder on the
second only; the first may be followed by the recipient's next channel."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from shared.vocabulary.terms import Term


class NotificationFailure(StrEnum):
    # One recipient on one channel: their next channel, or another recipient, may still be
    # reached.
    DELIVERY_FAILED = "delivery-failed"
    # The request as a whole: it named nobody the notifier can reach, or every channel of every
    # recipient failed for good. Sent once per request (again only if an operator's replay of
    # one of its deliveries fails too).
    NOBODY_REACHED = "nobody-reached"


F = NotificationFailure
NOTIFICATION_FAILURE_TERMS: Mapping[NotificationFailure, Term] = {
    F.DELIVERY_FAILED: Term(
        "This delivery failed (one recipient, one channel)",
        "ส่งถึงผู้รับรายนี้ทางช่องทางนี้ไม่สำเร็จ",
        "One delivery of the notification failed for good; the recipient's next channel, or "
        "another recipient, may still be reached.",
    ),
    F.NOBODY_REACHED: Term(
        "Nobody could be reached",
        "ไม่สามารถติดต่อผู้รับได้เลย",
        "The notification request finally failed: it named nobody the notifier can reach, or "
        "every channel of every recipient failed for good. Its sender should act at once.",
    ),
}
