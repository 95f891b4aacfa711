"""A hospital's administrator manages the people of their own hospital only, on the real
PostgreSQL: another hospital's people are "not found" (never changed), disabling someone or
resetting their password ends their sessions at once, and every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.referral.adapters import accounts_repository as accounts
from services.referral.adapters import audit, hospital_users, passwords
from services.referral.domain.accounts import Role, SignedInPerson, SignInRules
from services.referral.service import sign_in
from services.referral.service import user_administration as administration
from services.referral.service.user_administration import AdministrationRefused, Refusal
from shared.db.pool import Connection
from tests.integration.use_cases.support import COMMUNITY, NEAR_CENTRE

pytestmark = pytest.mark.integration

PASSWORD = "a long enough password"


async def _person(connection: Connection, username: str, hospital: str, role: Role) -> int:
    return await accounts.create_user(
        connection,
        username=username,
        display_name=username,
        hospital_id=hospital,
        role=role,
        password_hash=passwords.hash_password(PASSWORD),
    )


async def _signed_in(connection: Connection, username: str) -> SignedInPerson:
    session = await sign_in.sign_in(
        connection,
        username=username,
        password=PASSWORD,
        client_address="10.0.0.1",
        now=datetime.now(UTC),
        rules=SignInRules(),
    )
    person = await sign_in.person_of_session(connection, session.session_id)
    assert person is not None
    return person


@pytest.fixture
async def near_admin(connection: Connection) -> SignedInPerson:
    await _person(connection, "admin.near", NEAR_CENTRE, Role.HOSPITAL_ADMIN)
    return await _signed_in(connection, "admin.near")


async def test_an_admin_creates_people_of_their_own_hospital_only(
    connection: Connection, near_admin: SignedInPerson
) -> None:
    await _person(connection, "nurse.community", COMMUNITY, Role.NURSE)
    user_id = await administration.create_person(
        connection,
        admin=near_admin,
        username="Doctor.Near",
        display_name="Dr Near",
        role=Role.DOCTOR,
        password=PASSWORD,
    )

    people = await hospital_users.users_of(connection, hospital_id=NEAR_CENTRE)
    assert [p.username for p in people] == ["admin.near", "doctor.near"]
    assert await _signed_in(connection, "doctor.near")
    actions = await audit.actions_on(connection, entity=audit.person_reference(user_id))
    # Created by the administrator, then signed in as themselves.
    assert [(a["agent"], a["action"]) for a in actions] == [
        (f"User/{near_admin.user_id}", "C"),
        (f"User/{user_id}", "E"),
    ]


@pytest.mark.parametrize(
    ("username", "role", "password", "refusal"),
    [
        ("admin.near", Role.NURSE, PASSWORD, Refusal.USERNAME_TAKEN),
        ("a b", Role.NURSE, PASSWORD, Refusal.BAD_USERNAME),
        ("new.nurse", Role.OPERATOR, PASSWORD, Refusal.BAD_ROLE),
        ("new.nurse", Role.NURSE, "short", Refusal.PASSWORD_TOO_SHORT_OR_LONG),
    ],
)
async def test_creating_someone_is_refused_with_the_reason(
    connection: Connection,
    near_admin: SignedInPerson,
    username: str,
    role: Role,
    password: str,
    refusal: Refusal,
) -> None:
    with pytest.raises(AdministrationRefused) as refused:
        await administration.create_person(
            connection,
            admin=near_admin,
            username=username,
            display_name="x",
            role=role,
            password=password,
        )
    assert refused.value.refusal is refusal


async def test_another_hospitals_person_is_not_found_and_stays_as_it_was(
    connection: Connection, near_admin: SignedInPerson
) -> None:
    stranger = await _person(connection, "nurse.community", COMMUNITY, Role.NURSE)
    session = await _signed_in(connection, "nurse.community")
    changes = [
        administration.set_disabled(connection, admin=near_admin, user_id=stranger, disabled=True),
        administration.change_role(
            connection, admin=near_admin, user_id=stranger, role=Role.DOCTOR
        ),
        administration.reset_password(
            connection, admin=near_admin, user_id=stranger, password="another long password"
        ),
    ]
    for change in changes:
        with pytest.raises(AdministrationRefused) as refused:
            await change
        assert refused.value.refusal is Refusal.NOT_FOUND

    assert await sign_in.person_of_session(connection, session.session_id) == session
    assert await _signed_in(connection, "nurse.community")


async def test_disabling_someone_ends_their_sessions_at_once_and_is_audited(
    connection: Connection, near_admin: SignedInPerson
) -> None:
    nurse = await _person(connection, "nurse.near", NEAR_CENTRE, Role.NURSE)
    first = await _signed_in(connection, "nurse.near")
    second = await _signed_in(connection, "nurse.near")

    await administration.set_disabled(connection, admin=near_admin, user_id=nurse, disabled=True)

    for session in (first, second):
        assert await sign_in.person_of_session(connection, session.session_id) is None
    with pytest.raises(sign_in.SignInRefused):
        await _signed_in(connection, "nurse.near")
    actions = await audit.actions_on(connection, entity=audit.person_reference(nurse))
    by_admin = [
        (a["action"], a["via"]) for a in actions if a["agent"] == f"User/{near_admin.user_id}"
    ]
    assert by_admin == [("U", "POST /app/admin/users/{user_id}/disable")]

    await administration.set_disabled(connection, admin=near_admin, user_id=nurse, disabled=False)
    assert await _signed_in(connection, "nurse.near")


async def test_a_reset_password_ends_the_old_sessions_and_opens_with_the_new_one(
    connection: Connection, near_admin: SignedInPerson
) -> None:
    nurse = await _person(connection, "nurse.near", NEAR_CENTRE, Role.NURSE)
    before = await _signed_in(connection, "nurse.near")
    await administration.reset_password(
        connection, admin=near_admin, user_id=nurse, password="the new password"
    )
    assert await sign_in.person_of_session(connection, before.session_id) is None
    with pytest.raises(sign_in.SignInRefused):
        await _signed_in(connection, "nurse.near")
    assert await sign_in.sign_in(
        connection,
        username="nurse.near",
        password="the new password",
        client_address="10.0.0.1",
        now=datetime.now(UTC),
        rules=SignInRules(),
    )


async def test_an_admin_changes_roles_but_not_their_own_nor_to_operator(
    connection: Connection, near_admin: SignedInPerson
) -> None:
    nurse = await _person(connection, "nurse.near", NEAR_CENTRE, Role.NURSE)
    await administration.change_role(connection, admin=near_admin, user_id=nurse, role=Role.DOCTOR)
    assert (await _signed_in(connection, "nurse.near")).role is Role.DOCTOR
    for user_id, role, refusal in (
        (near_admin.user_id, Role.NURSE, Refusal.NOT_YOURSELF),
        (nurse, Role.OPERATOR, Refusal.BAD_ROLE),
    ):
        with pytest.raises(AdministrationRefused) as refused:
            await administration.change_role(
                connection, admin=near_admin, user_id=user_id, role=role
            )
        assert refused.value.refusal is refusal


async def test_only_a_hospital_administrator_administers(connection: Connection) -> None:
    await _person(connection, "doctor.near", NEAR_CENTRE, Role.DOCTOR)
    doctor = await _signed_in(connection, "doctor.near")
    with pytest.raises(AdministrationRefused) as refused:
        await administration.create_person(
            connection,
            admin=doctor,
            username="new.nurse",
            display_name="x",
            role=Role.NURSE,
            password=PASSWORD,
        )
    assert refused.value.refusal is Refusal.NOT_AN_ADMIN
