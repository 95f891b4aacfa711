"""Resource ids: FHIR allows ``[A-Za-z0-9\\-\\.]{1,64}``; ids the project derives stay inside it.

Derived ids put a prefix before another id (``sr-<referral id>``, ``cr-alert-<code>-<referral
id>``) or a suffix after it (a re-route's ``<first id>.r1``). When that would pass 64 characters,
the tail is replaced by a hash of the whole (the suffix kept after it), so the id is still stable
(the same inputs give the same id) and still unique.
"""

from __future__ import annotations

import hashlib
import re

MAX_ID_LENGTH = 64
ID_PATTERN = re.compile(r"[A-Za-z0-9\-\.]{1,64}")
# Hex characters of SHA-256 kept when an id is shortened: 80 bits, no collision in practice.
_HASH_LENGTH = 20


def is_valid_id(value: str) -> bool:
    return ID_PATTERN.fullmatch(value) is not None


def derived_id(prefix: str, base: str) -> str:
    """``prefix + base`` when it is a valid id, else a valid id of at most 64 characters that
    keeps as much of it as fits, followed by a hash of the whole."""
    return _within_limit(f"{prefix}{base}", ending="")


def suffixed_id(base: str, suffix: str) -> str:
    """``base + suffix`` when it is a valid id, else as much of ``base`` as fits, a hash of the
    whole and ``suffix`` (kept whole: a re-route's ``.r2`` still reads as the second one)."""
    return _within_limit(f"{base}{suffix}", ending=suffix)


def _within_limit(candidate: str, *, ending: str) -> str:
    if is_valid_id(candidate):
        return candidate
    digest = hashlib.sha256(candidate.encode()).hexdigest()[:_HASH_LENGTH]
    head = candidate[: len(candidate) - len(ending)]
    kept = re.sub(r"[^A-Za-z0-9\-\.]", "-", head)[: MAX_ID_LENGTH - _HASH_LENGTH - 1 - len(ending)]
    return f"{kept}-{digest}{ending}"
