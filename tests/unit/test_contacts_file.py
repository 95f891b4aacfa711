"""A roster edited while the notifier runs takes effect; a broken edit leaves the last good one."""

from __future__ import annotations

import json
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifier.adapters.contacts_file import read_contacts
from services.notifier.domain.directory import DirectoryError
from services.notifier.workers.contacts_reload import ContactsFileWatcher

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def directory(on_call: str) -> dict[str, Any]:
    return {
        "people": {
            name: {"channels": [{"channel": "sms", "address": "0811111111"}]}
            for name in ("dr-anan", "dr-busaba")
        },
        "hospitals": {
            "trang-hospital": {
                "roles": {
                    "neuro": {
                        "shifts": [
                            {"person": on_call, "days": EVERY_DAY, "start": "00:00", "end": "00:00"}
                        ]
                    }
                },
                "on_call": {"*": "neuro"},
            }
        },
    }


def write(path: Path, document: Any, *, version: int) -> None:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    os.utime(path, (version, version))  # a distinct modification time per edit


def on_call(watcher_book: Any) -> str:
    (recipient,) = watcher_book.resolve(
        "Organization/trang-hospital", category="stroke-alert", at=datetime.now(UTC)
    )
    return str(recipient.reference)


async def test_an_edited_roster_is_taken_up_and_a_broken_edit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    write(path, directory("dr-anan"), version=1_000)
    book = read_contacts(path)
    watcher = ContactsFileWatcher(path=str(path), book=book, poll_interval_s=1)
    assert on_call(book) == "Practitioner/dr-anan"

    write(path, directory("dr-busaba"), version=2_000)
    await watcher.tick()
    assert on_call(book) == "Practitioner/dr-busaba"

    write(path, "{ not json", version=3_000)
    await watcher.tick()
    assert on_call(book) == "Practitioner/dr-busaba"

    write(path, directory("dr-nobody"), version=4_000)  # names someone not in the directory
    await watcher.tick()
    assert on_call(book) == "Practitioner/dr-busaba"


def test_a_broken_file_at_start_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "contacts.json"
    write(path, directory("dr-nobody"), version=1_000)
    with pytest.raises(DirectoryError, match="unknown person 'dr-nobody'"):
        read_contacts(path)
    with pytest.raises(DirectoryError, match="cannot read"):
        read_contacts(tmp_path / "missing.json")


def _broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """Tonight's roster with one entry set to ``value`` (the path as in the document)."""
    document = directory("dr-busaba")
    entry: Any = document
    for key in path[:-1]:
        entry = entry[key]
    entry[path[-1]] = value
    return document


NEURO = ("hospitals", "trang-hospital", "roles", "neuro")
# A broken edit, and the path the refusal names.
BROKEN_EDITS = [
    ((*NEURO, "shifts", 0, "start"), "8 am", "hospitals.trang-hospital.roles.neuro.shifts.0.start"),
    ((*NEURO, "shifts", 0, "end"), 900, "hospitals.trang-hospital.roles.neuro.shifts.0.end"),
    ((*NEURO, "shifts", 0, "days"), ["monday"], "roles.neuro.shifts.0.days.0"),
    ((*NEURO, "shifts", 0, "person"), "dr-nobody", "roles.neuro.shifts.0.person"),
    ((*NEURO, "backup"), "dr-nobody", "hospitals.trang-hospital.roles.neuro.backup"),
    (("hospitals", "trang-hospital", "on_call", "*"), "nurse", "trang-hospital.on_call.*"),
    (("hospitals", "trang-hospital", "supervisr"), {"channel": "sms"}, "trang-hospital.supervisr"),
    (("people", "dr-anan", "channels", 0, "channel"), "fax", "people.dr-anan.channels.0.channel"),
    (("people", "dr-anan", "language"), "thai", "people.dr-anan.language"),
    (("escalation",), {"ack_within_s": 0}, "escalation.ack_within_s"),
    (("escalation",), {"ladder": ["repeat", "shout"]}, "escalation.ladder.1"),
    (("timezone",), "Asia/Bangkokk", "timezone"),
]


@pytest.mark.parametrize(("path", "value", "named"), BROKEN_EDITS)
async def test_a_broken_edit_is_refused_naming_its_field_and_the_last_good_directory_stays(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    path: tuple[str | int, ...],
    value: Any,
    named: str,
) -> None:
    contacts = tmp_path / "contacts.json"
    write(contacts, directory("dr-anan"), version=1_000)
    book = read_contacts(contacts)
    watcher = ContactsFileWatcher(path=str(contacts), book=book, poll_interval_s=1)

    write(contacts, _broken(path, value), version=2_000)
    with pytest.raises(DirectoryError, match=re.escape(named)):
        read_contacts(contacts)
    with caplog.at_level(logging.ERROR):
        await watcher.tick()
    assert named in caplog.text
    assert "not reloaded" in caplog.text
    assert on_call(book) == "Practitioner/dr-anan"


def test_a_refusal_does_not_echo_addresses(tmp_path: Path) -> None:
    """Phone numbers and LINE ids are personal: a refusal names the field, not its value."""
    contacts = tmp_path / "contacts.json"
    document = directory("dr-anan")
    document["people"]["dr-anan"]["channels"] = [{"channel": "pager", "address": "0811111111"}]
    write(contacts, document, version=1_000)
    with pytest.raises(DirectoryError) as refused:
        read_contacts(contacts)
    assert "people.dr-anan.channels.0.channel" in str(refused.value)
    assert "0811111111" not in str(refused.value)
