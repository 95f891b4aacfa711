"""The directory: who a notification reaches (a person, a role's on-call person, a team), on
which channel first, where a failed channel falls back to, and where escalation climbs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.notifier.adapters.contacts_document import directory_from
from services.notifier.adapters.contacts_file import read_contacts
from services.notifier.adapters.fhir_mapping import deliveries_from_request
from services.notifier.domain.directory import ContactPoint, DirectoryError, EscalationStep
from services.notifier.domain.model import Channel, Delivery
from shared.fhir.codes import EventCode
from shared.fhir.envelope import build_message
from shared.fhir.models import CommunicationRequest
from shared.fhir.notifications import bilingual_payload
from shared.messaging.message_handlers import PermanentMessageError
from shared.province_time import PROVINCE_ZONE
from tests.support import ROOT

BANGKOK = PROVINCE_ZONE
LINE_ANAN = ContactPoint(Channel.LINE, "Uanan")
SMS_ANAN = ContactPoint(Channel.SMS, "0811111111")
SMS_BUSABA = ContactPoint(Channel.SMS, "0822222222")
SMS_CHAI = ContactPoint(Channel.SMS, "0833333333")

DIRECTORY: dict[str, Any] = {
    "people": {
        "dr-anan": {
            "language": "en",
            "channels": [
                {"channel": "line", "address": "Uanan"},
                {"channel": "sms", "address": "0811111111"},
            ],
        },
        "dr-busaba": {"channels": [{"channel": "sms", "address": "0822222222"}]},
        "dr-chai": {
            "channels": [
                {"channel": "line", "address": "Uchai"},
                {"channel": "sms", "address": "0833333333"},
            ]
        },
        "dr-dao": {"channels": [{"channel": "email", "address": "dao@trang.example"}]},
    },
    "hospitals": {
        "trang-hospital": {
            "language": "th",
            "channels": [
                {"channel": "line", "address": "Cstroke-team-group"},
                {"channel": "sms", "address": "+66812345678"},
                {"channel": "email", "address": "stroke@trang.example"},
            ],
            "group": {"channel": "line", "address": "Cstroke-team-group"},
            "supervisor": {"channel": "sms", "address": "0899999999"},
            "webhook": True,
            "roles": {
                "stroke-neurologist": {
                    "shifts": [
                        {
                            "person": "dr-anan",
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "08:00",
                            "end": "16:00",
                        },
                        # Overnight: Monday 16:00 to Tuesday 08:00, and so on.
                        {
                            "person": "dr-busaba",
                            "days": ["mon", "tue", "wed", "thu", "fri"],
                            "start": "16:00",
                            "end": "08:00",
                        },
                        # A swap for one date replaces the weekly roster that day.
                        {
                            "person": "dr-dao",
                            "date": "2026-11-25",
                            "start": "08:00",
                            "end": "16:00",
                        },
                    ],
                    "backup": "dr-chai",
                }
            },
            "on_call": {"stroke-alert": "stroke-neurologist", "time-alert": "stroke-neurologist"},
        },
        "sikao-hospital": {"channels": [{"channel": "sms", "address": "0898765432"}]},
        "palian-hospital": {"group": {"channel": "line", "address": "Cpalian"}},
    },
}
BOOK = directory_from(DIRECTORY)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


def reached(reference: str, moment: str, category: str = "stroke-alert") -> list[str]:
    return [r.reference for r in BOOK.resolve(reference, category=category, at=at(moment))]


# 2026-11-23 is a Monday; 2026-11-28 a Saturday.
@pytest.mark.parametrize(
    ("moment", "on_call"),
    [
        ("2026-11-23T09:30", ["Practitioner/dr-anan"]),
        ("2026-11-23T16:00", ["Practitioner/dr-busaba"]),  # handover: the next shift
        ("2026-11-24T03:00", ["Practitioner/dr-busaba"]),  # Monday night runs into Tuesday
        ("2026-11-25T10:00", ["Practitioner/dr-dao"]),  # the swapped day
        ("2026-11-28T10:00", ["Practitioner/dr-chai"]),  # weekend gap in the roster: backup
        ("2026-11-29T03:00", ["Practitioner/dr-chai"]),  # Friday's night ended Saturday 08:00
    ],
)
def test_a_role_reaches_whoever_is_on_call_in_bangkok_time(moment: str, on_call: list[str]) -> None:
    assert reached("PractitionerRole/trang-hospital.stroke-neurologist", moment) == on_call


def test_utc_instants_are_read_in_the_directory_time_zone() -> None:
    # 02:30 UTC is 09:30 in Bangkok: the day shift.
    moment = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    (recipient,) = BOOK.resolve(
        "PractitionerRole/trang-hospital.stroke-neurologist", category="", at=moment
    )
    assert recipient.reference == "Practitioner/dr-anan"


def test_a_hospital_pages_its_on_call_role_for_stroke_alerts_and_its_team_for_the_rest() -> None:
    assert reached("Organization/trang-hospital", "2026-11-23T09:30") == ["Practitioner/dr-anan"]
    assert reached("Organization/trang-hospital", "2026-11-23T09:30", "referral-received") == [
        "Organization/trang-hospital"
    ]
    assert reached("Organization/sikao-hospital", "2026-11-23T09:30") == [
        "Organization/sikao-hospital"
    ]
    # No channels of its own: its team group.
    assert reached("Organization/palian-hospital", "2026-11-23T09:30") == ["Group/palian-hospital"]


def test_people_groups_and_unknowns() -> None:
    assert reached("Practitioner/dr-busaba", "2026-11-23T09:30") == ["Practitioner/dr-busaba"]
    assert reached("Group/trang-hospital", "2026-11-23T09:30") == ["Group/trang-hospital"]
    assert reached("Practitioner/nobody", "2026-11-23T09:30") == []
    assert reached("PractitionerRole/nowhere.stroke-neurologist", "2026-11-23T09:30") == []


def test_a_roles_backup_is_reached_by_name_whoever_is_on_call() -> None:
    # A teleconsult nobody acknowledged pages the role's backup next (telemedicine's ladder).
    backup = "PractitionerRole/trang-hospital.stroke-neurologist.backup"
    assert reached(backup, "2026-11-23T09:30") == ["Practitioner/dr-chai"]
    (recipient,) = BOOK.resolve(backup, category="teleconsult-request", at=at("2026-11-23T09:30"))
    assert (recipient.hospital, recipient.role) == ("trang-hospital", "stroke-neurologist")
    # A hospital without that role is reached through its team, as for any unknown role.
    assert reached(
        "PractitionerRole/palian-hospital.stroke-neurologist.backup", "2026-11-23T09:30"
    ) == ["Group/palian-hospital"]


def test_a_role_with_nobody_on_call_and_no_backup_falls_to_the_hospital_team() -> None:
    book = directory_from(
        {
            "people": {"dr-anan": {"channels": [{"channel": "sms", "address": "0811111111"}]}},
            "hospitals": {
                "sikao-hospital": {
                    "channels": [{"channel": "sms", "address": "0898765432"}],
                    "roles": {
                        "er-physician": {
                            "shifts": [
                                {
                                    "person": "dr-anan",
                                    "days": ["mon"],
                                    "start": "08:00",
                                    "end": "16:00",
                                }
                            ]
                        }
                    },
                }
            },
        }
    )
    (recipient,) = book.resolve(
        "PractitionerRole/sikao-hospital.er-physician", category="", at=at("2026-11-24T09:00")
    )
    assert recipient.reference == "Organization/sikao-hospital"


def test_a_person_falls_back_through_their_own_channels() -> None:
    assert BOOK.fallback("Practitioner/dr-anan", LINE_ANAN) == SMS_ANAN
    assert BOOK.fallback("Practitioner/dr-anan", SMS_ANAN) is None
    line = ContactPoint(Channel.LINE, "Cstroke-team-group")
    sms = BOOK.fallback("Organization/trang-hospital", line)
    assert sms == ContactPoint(Channel.SMS, "+66812345678")
    assert BOOK.fallback("Organization/trang-hospital", sms) == ContactPoint(
        Channel.EMAIL, "stroke@trang.example"
    )
    # Copies for systems and screens are not part of any fallback chain.
    assert BOOK.fallback("Organization/trang-hospital", ContactPoint(Channel.WEBHOOK)) is None


def test_the_ladder_pages_again_then_the_group_then_the_backup_by_sms_then_the_supervisor() -> None:
    def target(step: EscalationStep) -> tuple[str, ContactPoint] | None:
        return BOOK.escalation_target(
            step=step,
            recipient="Practitioner/dr-anan",
            first=LINE_ANAN,
            hospital="trang-hospital",
            role="stroke-neurologist",
        )

    assert target(EscalationStep.REPEAT) == ("Practitioner/dr-anan", LINE_ANAN)
    assert target(EscalationStep.NEXT_CHANNEL) == ("Practitioner/dr-anan", SMS_ANAN)
    assert target(EscalationStep.GROUP) == (
        "Group/trang-hospital",
        ContactPoint(Channel.LINE, "Cstroke-team-group"),
    )
    assert target(EscalationStep.BACKUP) == ("Practitioner/dr-chai", SMS_CHAI)
    assert target(EscalationStep.SUPERVISOR) == (
        "Organization/trang-hospital",
        ContactPoint(Channel.SMS, "0899999999"),
    )
    # The backup is not paged as their own backup.
    assert (
        BOOK.escalation_target(
            step=EscalationStep.BACKUP,
            recipient="Practitioner/dr-chai",
            first=SMS_CHAI,
            hospital="trang-hospital",
            role="stroke-neurologist",
        )
        is None
    )


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"backup": "dr-nobody"}, "unknown person 'dr-nobody'"),
        ({"shifts": [{"person": "dr-anan", "start": "08:00", "end": "16:00"}]}, "'days' or 'date'"),
        (
            {"shifts": [{"person": "dr-anan", "days": ["monday"], "start": "08:00", "end": "9"}]},
            "unknown weekday",
        ),
        (
            {"shifts": [{"person": "dr-anan", "days": ["mon"], "start": "8 am", "end": "16:00"}]},
            "invalid contacts directory",
        ),
    ],
)
def test_an_inconsistent_directory_is_refused_with_the_reason(
    change: dict[str, Any], complaint: str
) -> None:
    hospital = {**DIRECTORY["hospitals"]["trang-hospital"]}
    hospital["roles"] = {"stroke-neurologist": {**{"shifts": []}, **change}}
    with pytest.raises(DirectoryError, match=complaint):
        directory_from({**DIRECTORY, "hospitals": {"trang-hospital": hospital}})


def _deliveries(*recipients: str, moment: str = "2026-11-23T09:30") -> list[Delivery]:
    request = CommunicationRequest.model_validate(
        {
            "resourceType": "CommunicationRequest",
            "id": "cr-1",
            "status": "active",
            "priority": "stat",
            "category": [{"coding": [{"code": "stroke-alert"}]}],
            "about": [{"reference": "Task/r-1"}],
            "recipient": [{"reference": r} for r in recipients],
            "payload": bilingual_payload(english="Stroke alert HN 123", thai="แจ้งเตือน HN 123"),
        }
    )
    message = build_message(
        event=EventCode.NOTIFICATION_REQUESTED,
        sender="Organization/sikao-hospital",
        destinations=[],
        focus=[request],
        source_endpoint="urn:test",
    )
    return deliveries_from_request(message, contacts=BOOK, trace_context={}, at=at(moment))


def test_a_stroke_alert_to_a_hospital_reaches_the_on_call_person_and_its_systems() -> None:
    deliveries = _deliveries("Organization/trang-hospital")
    assert [(d.recipient, d.channel, d.address) for d in deliveries] == [
        ("Practitioner/dr-anan", Channel.LINE, "Uanan"),
        ("Organization/trang-hospital", Channel.WEBHOOK, ""),
        ("Organization/trang-hospital", Channel.IN_APP, ""),
    ]
    person = deliveries[0]
    assert (person.addressed_to, person.hospital, person.role) == (
        "Organization/trang-hospital",
        "trang-hospital",
        "stroke-neurologist",
    )
    assert person.body["needs_ack"] is True
    # Dr Anan reads English; the hospital's screens Thai.
    assert person.body["text"] == "Stroke alert HN 123"
    assert deliveries[2].body["text"] == "แจ้งเตือน HN 123"


def test_one_person_named_twice_gets_one_message() -> None:
    deliveries = _deliveries(
        "Organization/trang-hospital",
        "PractitionerRole/trang-hospital.stroke-neurologist",
        "Practitioner/dr-anan",
    )
    assert sorted((d.recipient, d.channel.value) for d in deliveries) == [
        ("Organization/trang-hospital", "in-app"),
        ("Organization/trang-hospital", "webhook"),
        ("Practitioner/dr-anan", "line"),
    ]


def test_a_recipient_nobody_answers_to_is_refused_with_the_reason() -> None:
    with pytest.raises(PermanentMessageError, match="Practitioner/dr-nobody reaches nobody"):
        _deliveries("Organization/trang-hospital", "Practitioner/dr-nobody")


def test_the_example_directory_reads_and_pages_tonights_neurologist() -> None:
    book = read_contacts(ROOT / "deploy" / "demo" / "contacts.example.json")
    (recipient,) = book.resolve(
        "Organization/trang-hospital", category="stroke-alert", at=at("2026-11-23T22:00")
    )
    assert recipient.reference == "Practitioner/dr-busaba"
    assert recipient.channels[0].channel is Channel.LINE


def test_a_hospital_can_see_who_it_pages_now() -> None:
    roster = BOOK.roster_now("trang-hospital", at=at("2026-11-23T22:00"))
    assert roster["at"] == "2026-11-23T22:00:00+07:00"
    assert roster["roles"] == {
        "stroke-neurologist": {
            "on_call": ["Practitioner/dr-busaba"],
            "backup": "Practitioner/dr-chai",
        }
    }
    assert roster["paged_for"]["stroke-alert"] == "stroke-neurologist"
