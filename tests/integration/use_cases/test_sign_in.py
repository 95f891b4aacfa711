"""Signing in on the real PostgreSQL: a session opens with the right password only, ends at
once when its row goes (sign-out) or its person is disabled, and sign-ins stop after too many
failures for a username or from an address, whatever instance counted them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.referral.adapters import accounts_repository as accounts
from services.referral.adapters import audit, passwords
from services.referral.domain.accounts import Role, SignInRules
from services.referral.service import sign_in
from shared.db.pool import Connection
from tests.integration.use_cases.support import NEAR_CENTRE

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"
RULES = SignInRules(max_failures_per_username=3, max_failures_per_address=5)


async def _nurse(connection: Connection, username: str = "nurse.near") -> int:
    return await accounts.create_user(
        connection,
        username=username,
        display_name="Nurse Near",
        hospital_id=NEAR_CENTRE,
        role=Role.NURSE,
        password_hash=passwords.hash_password(PASSWORD),
    )


async def _sign_in(
    connection: Connection, username: str, password: str, address: str = "10.0.0.1"
) -> sign_in.NewSession:
    return await sign_in.sign_in(
        connection,
        username=username,
        password=password,
        client_address=address,
        now=datetime.now(UTC),
        rules=RULES,
    )


async def test_the_right_password_opens_a_session_of_the_person(connection: Connection) -> None:
    user_id = await _nurse(connection)
    session = await _sign_in(connection, "Nurse.Near ", PASSWORD)

    person = await sign_in.person_of_session(connection, session.session_id)
    assert person is not None
    assert (person.user_id, person.hospital_id, person.role) == (user_id, NEAR_CENTRE, Role.NURSE)
    assert person.hospital_name == "Near Stroke Centre"
    assert person.hospital_receives_referrals
    assert len(person.csrf_token) >= 32
    # Only the digest of the session id is stored.
    stored = await connection.fetchval(
        "SELECT id_digest FROM app_session WHERE user_id = $1", user_id
    )
    assert stored != session.session_id
    (row,) = await audit.actions_on(connection, entity=audit.person_reference(user_id))
    assert (row["agent"], row["action"], row["via"]) == (f"User/{user_id}", "E", "POST /app/login")


@pytest.mark.parametrize("username", ["nurse.near", "nobody.here", "\x00"])
async def test_a_wrong_password_or_unknown_username_is_refused_alike(
    connection: Connection, username: str
) -> None:
    await _nurse(connection)
    with pytest.raises(sign_in.SignInRefused):
        await _sign_in(connection, username, "wrong password")
    assert await connection.fetchval("SELECT count(*) FROM app_session") == 0


async def test_a_refused_sign_in_to_someones_account_is_in_their_audit_trail(
    connection: Connection,
) -> None:
    user_id = await _nurse(connection)
    with pytest.raises(sign_in.SignInRefused):
        await _sign_in(connection, "nurse.near", "wrong password")
    (row,) = await audit.actions_on(connection, entity=audit.person_reference(user_id))
    assert (row["action"], row["via"]) == ("E", "POST /app/login: refused")


async def test_signing_out_ends_the_session_at_once(connection: Connection) -> None:
    await _nurse(connection)
    session = await _sign_in(connection, "nurse.near", PASSWORD)
    person = await sign_in.person_of_session(connection, session.session_id)
    assert person is not None

    await sign_in.sign_out(connection, person=person)
    assert await sign_in.person_of_session(connection, session.session_id) is None


async def test_disabling_a_person_ends_their_sessions_and_refuses_their_password(
    connection: Connection,
) -> None:
    user_id = await _nurse(connection)
    session = await _sign_in(connection, "nurse.near", PASSWORD)
    await connection.execute("UPDATE app_user SET disabled = true WHERE id = $1", user_id)

    assert await sign_in.person_of_session(connection, session.session_id) is None
    with pytest.raises(sign_in.SignInRefused):
        await _sign_in(connection, "nurse.near", PASSWORD)


async def test_an_expired_session_opens_nothing(connection: Connection) -> None:
    await _nurse(connection)
    session = await _sign_in(connection, "nurse.near", PASSWORD)
    await connection.execute(
        "UPDATE app_session SET expires_at = $1", datetime.now(UTC) - timedelta(seconds=1)
    )
    assert await sign_in.person_of_session(connection, session.session_id) is None


async def test_sign_ins_stop_after_too_many_failures_for_one_username(
    connection: Connection,
) -> None:
    await _nurse(connection)
    for _ in range(RULES.max_failures_per_username):
        with pytest.raises(sign_in.SignInRefused):
            await _sign_in(connection, "nurse.near", "guess")
    # Even the right password waits for the window to pass.
    with pytest.raises(sign_in.TooManyFailures):
        await _sign_in(connection, "nurse.near", PASSWORD, address="10.9.9.9")


async def test_sign_ins_stop_after_too_many_failures_from_one_address(
    connection: Connection,
) -> None:
    await _nurse(connection)
    for n in range(RULES.max_failures_per_address):
        with pytest.raises(sign_in.SignInRefused):
            await _sign_in(connection, f"guessed.{n}", "guess", address="10.6.6.6")
    with pytest.raises(sign_in.TooManyFailures):
        await _sign_in(connection, "nurse.near", PASSWORD, address="10.6.6.6")
    # Another address is not held up by the first one's failures.
    assert await _sign_in(connection, "nurse.near", PASSWORD, address="10.0.0.2")
