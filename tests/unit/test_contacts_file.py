"""A roster edited while the notifier runs takes effect; a broken edit leaves the last good one."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.notifier.adapters.contacts_file import ContactsFileWatcher, read_contacts
from services.notifier.domain.contacts import DirectoryError

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
