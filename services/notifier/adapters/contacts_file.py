"""The directory file (FT_NOTIFIER_CONTACTS_FILE): read at start, and read again when it changes,
so a roster edited for tonight's shift takes effect without restarting the notifier. A broken
edit is refused with the reason in the log, and the last good directory stays in force."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from services.notifier.adapters.contacts_document import directory_from
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import DirectoryError
from shared.workers import PeriodicTask

log = logging.getLogger(__name__)


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


class ContactsFileWatcher(PeriodicTask):
    name = "contacts-file-watcher"

    def __init__(self, *, path: str, book: ContactBook, poll_interval_s: float) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._path = path
        self._book = book
        self._seen = self._version()

    def _version(self) -> tuple[float, int] | None:
        try:
            stat = os.stat(self._path)
        except OSError:
            return None
        return stat.st_mtime, stat.st_size

    async def tick(self) -> None:
        version = self._version()
        if version is None or version == self._seen:
            return
        self._seen = version
        try:
            self._book.replace_with(read_contacts(self._path))
        except DirectoryError as error:
            log.error("contacts directory not reloaded, the previous one stays: %s", error)
            return
        log.info("contacts directory reloaded from %s", self._path)
