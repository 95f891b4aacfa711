"""Signing in and out of the web app, and finding who a session belongs to.

A sign-in checks the rate limit first (failed attempts per username and per client address in
the database, so the limit holds across restarts and across instances), then the password
(Argon2id, off the event loop), then opens a server-side session: a random id for the cookie and
a random synchronizer token for the session's forms. Successful sign-ins are audited.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.referral.adapters import accounts_repository as accounts
from services.referral.adapters import audit, passwords
from services.referral.domain.accounts import SignedInPerson, SignInRules, valid_username
from shared.db.pool import Connection


@dataclass(frozen=True)
class NewSession:
    session_id: str
    expires_at: datetime


class SignInRefused(Exception):
    """Wrong username or password, or a disabled account: the same answer for all three."""


class TooManyFailures(Exception):
    """Too many failed sign-ins for this username or from this address; try again later."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


async def sign_in(
    connection: Connection,
    *,
    username: str,
    password: str,
    client_address: str,
    now: datetime,
    rules: SignInRules,
    via: str = "POST /app/login",
) -> NewSession:
    username = username.strip().lower()
    # What could never be a username (a NUL byte, which PostgreSQL text refuses, or 500
    # characters) is counted under one shared name and looked up nowhere.
    if not valid_username(username):
        username = ""
    window_start = now - timedelta(seconds=rules.window_s)
    by_username, by_address = await accounts.recent_failures(
        connection, username=username, client_address=client_address, since=window_start
    )
    if rules.too_many_failures(by_username=by_username, by_address=by_address):
        raise TooManyFailures(int(rules.window_s))
    stored = await accounts.credentials(connection, username) if username else None
    if stored is None:
        await asyncio.to_thread(passwords.spend_verification_time, password)
        verified = False
    else:
        verified = await asyncio.to_thread(
            passwords.verify_password, stored.password_hash, password
        )
    if stored is None or not verified or stored.disabled:
        await accounts.record_failure(connection, username=username, client_address=client_address)
        if stored is not None:
            # Someone tried this person's account: kept in their audit trail too.
            await audit.record_person_action(
                connection,
                user_id=stored.user_id,
                action=audit.EXECUTE,
                entity=audit.person_reference(stored.user_id),
                via=f"{via}: refused",
            )
        raise SignInRefused
    if passwords.needs_rehash(stored.password_hash):
        await accounts.set_password_hash(
            connection,
            user_id=stored.user_id,
            password_hash=await asyncio.to_thread(passwords.hash_password, password),
        )
    await accounts.forget_expired(connection, now=now, keep_failures_since=window_start)
    await accounts.clear_failures(connection, username=username)
    session = NewSession(
        session_id=secrets.token_urlsafe(32),
        expires_at=now + timedelta(seconds=rules.session_lifetime_s),
    )
    await accounts.create_session(
        connection,
        session_id=session.session_id,
        user_id=stored.user_id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=session.expires_at,
    )
    await audit.record_person_action(
        connection,
        user_id=stored.user_id,
        action=audit.EXECUTE,
        entity=audit.person_reference(stored.user_id),
        via=via,
    )
    return session


async def sign_out(connection: Connection, *, person: SignedInPerson) -> None:
    await accounts.end_session(connection, person.session_id)
    await audit.record_person_action(
        connection,
        user_id=person.user_id,
        action=audit.EXECUTE,
        entity=audit.person_reference(person.user_id),
        via="POST /app/logout",
    )


async def person_of_session(connection: Connection, session_id: str) -> SignedInPerson | None:
    return await accounts.person_of_session(connection, session_id)
