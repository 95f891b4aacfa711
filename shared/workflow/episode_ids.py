"""Ids of home-isolation episodes, which telemedicine makes and the other services recognise:
an episode's reminders, alerts and red-flag consults are keyed by it, and it is no referral
(the referral service leaves what is about an episode to telemedicine). Plain rules, no I/O."""

from __future__ import annotations

import secrets

EPISODE_PREFIX = "hi-"
# 80 random bits: the episode's id is in its check-in link (signed besides), never guessable.
_ID_BYTES = 10


def new_episode_id() -> str:
    return f"{EPISODE_PREFIX}{secrets.token_hex(_ID_BYTES)}"


def is_episode_id(key: str) -> bool:
    return key.startswith(EPISODE_PREFIX)
