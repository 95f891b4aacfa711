"""The hospital directory as routing and intake read it, kept between referrals.

Every intake needs the whole directory (routing weighs every hospital), and it changes rarely:
a hospital loaded or edited (load_directory.py) or its availability reported. So a process
keeps the copy it read, and drops it:

- when the directory changes: a trigger on ``organization`` NOTIFYs at commit
  (migration 0014), which the process's database listener (shared/workers.py,
  ``DatabaseNotices``) hands to ``drop``, also whenever it (re)connects;
- at the latest ``MAX_AGE_S`` after it was read, should a notification be lost with its
  connection before the listener notices;
- never kept while no listener was ever connected (``listening`` False): tests and tools
  without one read the directory every time, as before.

A copy read while a change committed is not kept (the change's notice may have come during the
read), so a cached copy is never older than the last notice it heard.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from services.referral.adapters import repository
from services.referral.domain.directory import DirectoryEntry
from services.referral.domain.routing import Hospital
from shared.db.pool import Connection

# The channel the trigger notifies, suffixed with the service's schema.
DIRECTORY_CHANNEL = "referral_directory_"
MAX_AGE_S = 30.0


class DirectoryCache:
    def __init__(self, *, max_age_s: float = MAX_AGE_S) -> None:
        self._max_age_s = max_age_s
        self._entries: Mapping[str, DirectoryEntry] | None = None
        # The kept copy as routing weighs it (every intake weighs every hospital): made once.
        self._routing: Mapping[str, Hospital] | None = None
        self._read_at = 0.0
        self._generation = 0
        self.listening = False

    def drop(self, _due: float | None = None) -> None:
        """The directory changed (or may have: the listener reconnected): read it again."""
        self.listening = True
        self._generation += 1
        self._entries = None

    async def entries(self, connection: Connection) -> Mapping[str, DirectoryEntry]:
        """Every hospital by id, from the copy when it is fresh, else read (one statement)."""
        if (kept := self._fresh()) is not None:
            return kept
        generation = self._generation
        read_at = time.monotonic()
        entries = {entry.id: entry for entry in await repository.directory(connection)}
        if self.listening and generation == self._generation:
            self._entries, self._read_at, self._routing = entries, read_at, None
        return entries

    def for_routing(self, entries: Mapping[str, DirectoryEntry]) -> Mapping[str, Hospital]:
        """``entries`` (what ``entries`` returned) as routing sees them: made once for the kept
        copy, not at every intake."""
        if entries is not self._entries:
            return {entry_id: entry.for_routing() for entry_id, entry in entries.items()}
        if self._routing is None:
            self._routing = {entry_id: entry.for_routing() for entry_id, entry in entries.items()}
        return self._routing

    async def knows(self, connection: Connection, organization_id: str) -> bool:
        """Whether the hospital is in the directory: from the copy when it is fresh, else
        looked up alone (one small statement, not the whole directory)."""
        if (kept := self._fresh()) is not None:
            return organization_id in kept
        name = await repository.organization_name(connection, organization_id=organization_id)
        return name is not None

    def _fresh(self) -> Mapping[str, DirectoryEntry] | None:
        if self._entries is not None and time.monotonic() - self._read_at < self._max_age_s:
            return self._entries
        return None
