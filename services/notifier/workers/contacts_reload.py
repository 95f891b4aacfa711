"""Re-reads the directory file when it changes, so a roster edited for tonight's shift takes
effect without restarting the notifier. A broken edit is refused with the reason (the path of
each wrong entry) in the log, and the last good directory stays in force."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from services.notifier.adapters.contacts_file import read_contacts
from services.notifier.domain.contacts import ContactBook
from services.notifier.domain.directory import DirectoryError
from shared.workers import PeriodicTask

log = logging.getLogger(__name__)


class ContactsFileWatcher(PeriodicTask):
    name = "contacts-file-watcher"

    def __init__(
        self,
        *,
        path: str,
        book: ContactBook,
        poll_interval_s: float,
        on_reload: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(poll_interval_s=poll_interval_s)
        self._path = path
        self._book = book
        # Told after a reload (the escalation watcher: a shorter ack_within is due sooner).
        self._on_reload = on_reload
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
        if self._on_reload is not None:
            self._on_reload()
