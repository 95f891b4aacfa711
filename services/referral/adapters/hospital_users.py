"""A hospital's people, as its administrator manages them: every query names the hospital, so
an administrator can neither see nor change a person of another hospital (a change that finds
no row of the hospital is answered "not found")."""

from __future__ import annotations

from dataclasses import dataclass

from services.referral.domain.accounts import Role
from shared.db.pool import Connection


@dataclass(frozen=True)
class HospitalUser:
    user_id: int
    username: str
    display_name: str
    role: Role
    disabled: bool


async def users_of(connection: Connection, *, hospital_id: str) -> list[HospitalUser]:
    rows = await connection.fetch(
        """
        SELECT id, username, display_name, role, disabled FROM app_user
        WHERE hospital_id = $1 ORDER BY disabled, username
        """,
        hospital_id,
    )
    return [
        HospitalUser(
            user_id=row["id"],
            username=row["username"],
            display_name=row["display_name"],
            role=Role(row["role"]),
            disabled=row["disabled"],
        )
        for row in rows
    ]


async def set_disabled(
    connection: Connection, *, hospital_id: str, user_id: int, disabled: bool
) -> bool:
    """False when the hospital has no such person."""
    found = await connection.fetchval(
        "UPDATE app_user SET disabled = $3 WHERE id = $1 AND hospital_id = $2 RETURNING id",
        user_id,
        hospital_id,
        disabled,
    )
    return found is not None


async def set_role(connection: Connection, *, hospital_id: str, user_id: int, role: Role) -> bool:
    found = await connection.fetchval(
        "UPDATE app_user SET role = $3 WHERE id = $1 AND hospital_id = $2 RETURNING id",
        user_id,
        hospital_id,
        role.value,
    )
    return found is not None


async def set_password_hash(
    connection: Connection, *, hospital_id: str, user_id: int, password_hash: str
) -> bool:
    found = await connection.fetchval(
        "UPDATE app_user SET password_hash = $3 WHERE id = $1 AND hospital_id = $2 RETURNING id",
        user_id,
        hospital_id,
        password_hash,
    )
    return found is not None
