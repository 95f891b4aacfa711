"""The directory file (FT_NOTIFIER_CONTACTS_FILE): read at start, and read again when it changes,
so a roster edited for tonight's shift takes effect without restarting the notifier
(``workers/contacts_reload.py``). A broken edit is refused naming where it is broken."""

from __future__ import annotations

import json
import os
from pathlib import Path

from services.notifier.adapters.contacts_document import directory_from
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import DirectoryError


def read_contacts(path: str | os.PathLike[str]) -> ContactBook:
    """Raises DirectoryError naming what is wrong (unreadable, not JSON, an entry that is
    malformed or inconsistent, by its path in the document)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DirectoryError(f"cannot read the contacts directory {path}: {error}") from error
    if not isinstance(document, dict):
        raise DirectoryError(f"the contacts directory {path} is not a JSON object")
    try:
        return directory_from(document)
    except DirectoryError as error:
        raise DirectoryError(f"{path}: {error}") from None
