"""Which channel a hospital is reached on first, and where a failed channel falls back to."""

from __future__ import annotations

from services.notifier.domain.contacts import ContactBook, ContactPoint
from services.notifier.domain.model import Channel

BOOK = ContactBook.from_json(
    {
        "hospitals": {
            "trang-hospital": {
                "channels": [
                    {"channel": "line", "address": "Cstroke-team-group"},
                    {"channel": "sms", "address": "+66812345678"},
                    {"channel": "email", "address": "stroke@trang.example"},
                ],
                "webhook": True,
            },
            "sikao-hospital": {"channels": [{"channel": "sms", "address": "0898765432"}]},
        }
    }
)


def test_first_the_preferred_channel_and_the_hospital_system_webhook() -> None:
    assert BOOK.first_contacts("Organization/trang-hospital") == [
        ContactPoint(Channel.LINE, "Cstroke-team-group"),
        ContactPoint(Channel.WEBHOOK),
    ]
    assert BOOK.first_contacts("Organization/sikao-hospital") == [
        ContactPoint(Channel.SMS, "0898765432")
    ]


def test_a_hospital_without_contacts_gets_the_webhook() -> None:
    assert BOOK.first_contacts("Organization/palian-hospital") == [ContactPoint(Channel.WEBHOOK)]


def test_line_falls_back_to_sms_then_email_then_nothing() -> None:
    line = ContactPoint(Channel.LINE, "Cstroke-team-group")
    sms = BOOK.fallback("Organization/trang-hospital", line)
    assert sms == ContactPoint(Channel.SMS, "+66812345678")
    email = BOOK.fallback("Organization/trang-hospital", sms)
    assert email == ContactPoint(Channel.EMAIL, "stroke@trang.example")
    assert BOOK.fallback("Organization/trang-hospital", email) is None
    # The webhook is not part of the fallback chain: it always gets its own copy.
    assert BOOK.fallback("Organization/trang-hospital", ContactPoint(Channel.WEBHOOK)) is None
