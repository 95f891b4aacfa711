"""A hospital administrator manages the people of their own hospital: creates them, changes
their role, resets their password, disables and enables them. Disabling a person or resetting
their password ends their open sessions at once. Every change is audited (who, what, on whom).

The hospital is always the administrator's own, in the SQL itself (adapters/hospital_users.py):
a person of another hospital is "not found", never changed.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum

from services.referral.adapters import accounts_repository, audit, hospital_users, passwords
from services.referral.domain.accounts import (
    Role,
    SignedInPerson,
    password_problem,
    valid_username,
)
from shared.db.pool import Connection

# What a hospital's administrator may make someone: never an operator of the network.
ASSIGNABLE_ROLES = (Role.NURSE, Role.DOCTOR, Role.HOSPITAL_ADMIN)


class Refusal(StrEnum):
    NOT_AN_ADMIN = "not-an-admin"
    NOT_FOUND = "not-found"
    BAD_USERNAME = "bad-username"
    USERNAME_TAKEN = "username-taken"
    PASSWORD_TOO_SHORT_OR_LONG = "password-length"  # noqa: S105 - a reason, not a secret
    BAD_ROLE = "bad-role"
    NOT_YOURSELF = "not-yourself"


class AdministrationRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def hospital_of(admin: SignedInPerson) -> str:
    """The hospital an administrator manages; refused for anybody else."""
    if admin.role is not Role.HOSPITAL_ADMIN or admin.hospital_id is None:
        raise AdministrationRefused(Refusal.NOT_AN_ADMIN)
    return admin.hospital_id


async def _audit(
    connection: Connection, admin: SignedInPerson, action: str, user_id: int, via: str
) -> None:
    await audit.record_person_action(
        connection,
        user_id=admin.user_id,
        action=action,
        entity=audit.person_reference(user_id),
        via=via,
    )


async def create_person(
    connection: Connection,
    *,
    admin: SignedInPerson,
    username: str,
    display_name: str,
    role: Role,
    password: str,
) -> int:
    hospital_id = hospital_of(admin)
    username = username.strip().lower()
    if not valid_username(username):
        raise AdministrationRefused(Refusal.BAD_USERNAME)
    if role not in ASSIGNABLE_ROLES:
        raise AdministrationRefused(Refusal.BAD_ROLE)
    if password_problem(password) is not None:
        raise AdministrationRefused(Refusal.PASSWORD_TOO_SHORT_OR_LONG)
    if await accounts_repository.username_taken(connection, username):
        raise AdministrationRefused(Refusal.USERNAME_TAKEN)
    user_id = await accounts_repository.create_user(
        connection,
        username=username,
        display_name=display_name.strip() or username,
        hospital_id=hospital_id,
        role=role,
        password_hash=await asyncio.to_thread(passwords.hash_password, password),
        language=admin.language,
        buddhist_era=admin.buddhist_era,
    )
    await _audit(connection, admin, audit.CREATE, user_id, "POST /app/admin/users")
    return user_id


async def set_disabled(
    connection: Connection, *, admin: SignedInPerson, user_id: int, disabled: bool
) -> None:
    hospital_id = hospital_of(admin)
    if user_id == admin.user_id:
        raise AdministrationRefused(Refusal.NOT_YOURSELF)
    if not await hospital_users.set_disabled(
        connection, hospital_id=hospital_id, user_id=user_id, disabled=disabled
    ):
        raise AdministrationRefused(Refusal.NOT_FOUND)
    if disabled:
        await accounts_repository.end_sessions_of(connection, user_id)
    via = f"POST /app/admin/users/{{user_id}}/{'disable' if disabled else 'enable'}"
    await _audit(connection, admin, audit.UPDATE, user_id, via)


async def change_role(
    connection: Connection, *, admin: SignedInPerson, user_id: int, role: Role
) -> None:
    hospital_id = hospital_of(admin)
    if role not in ASSIGNABLE_ROLES:
        raise AdministrationRefused(Refusal.BAD_ROLE)
    if user_id == admin.user_id:
        raise AdministrationRefused(Refusal.NOT_YOURSELF)
    if not await hospital_users.set_role(
        connection, hospital_id=hospital_id, user_id=user_id, role=role
    ):
        raise AdministrationRefused(Refusal.NOT_FOUND)
    await _audit(connection, admin, audit.UPDATE, user_id, "POST /app/admin/users/{user_id}/role")


async def reset_password(
    connection: Connection, *, admin: SignedInPerson, user_id: int, password: str
) -> None:
    hospital_id = hospital_of(admin)
    if password_problem(password) is not None:
        raise AdministrationRefused(Refusal.PASSWORD_TOO_SHORT_OR_LONG)
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    if not await hospital_users.set_password_hash(
        connection, hospital_id=hospital_id, user_id=user_id, password_hash=password_hash
    ):
        raise AdministrationRefused(Refusal.NOT_FOUND)
    await accounts_repository.end_sessions_of(connection, user_id)
    await _audit(
        connection, admin, audit.UPDATE, user_id, "POST /app/admin/users/{user_id}/password"
    )
