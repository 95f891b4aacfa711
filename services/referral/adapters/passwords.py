"""Passwords are kept as Argon2id hashes (argon2-cffi's ``PasswordHasher``: RFC 9106's second
recommended profile, 64 MiB of memory, 3 passes, 4 lanes, a random 16-byte salt per hash).

Hashing is deliberately slow (tens of milliseconds on one core): the callers run it off the
event loop (``asyncio.to_thread``), so one sign-in never stalls the pages of everybody else.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """The PHC string to store: ``$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` is the one ``stored_hash`` was made from; a damaged hash is a
    refusal, never an error page."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: re-hashed at sign-in."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _unknown_user_hash() -> str:
    return _HASHER.hash("no such user: this hash only costs the same time")


def spend_verification_time(password: str) -> None:
    """Verifies against a hash nobody has, so a sign-in as an unknown username takes as long as
    one with a wrong password: the time does not tell which usernames exist."""
    verify_password(_unknown_user_hash(), password)
