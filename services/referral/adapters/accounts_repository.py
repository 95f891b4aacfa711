"""People, their sessions and failed sign-ins in PostgreSQL (tables of migration 0008).

A session is found by the SHA-256 of its id (the cookie's value never reaches the database), and
only while it has not expired and its person is not disabled: deleting the row, disabling the
person or passing ``expires_at`` ends it on the very next request.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from services.referral.domain.accounts import Language, Role, SignedInPerson
from shared.db.pool import Connection
from shared.vocabulary.capabilities import StrokeCapability


@dataclass(frozen=True)
class StoredCredentials:
    user_id: int
    password_hash: str
    disabled: bool


def session_digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


async def create_user(
    connection: Connection,
    *,
    username: str,
    display_name: str,
    hospital_id: str | None,
    role: Role,
    password_hash: str,
    language: Language = "th",
    buddhist_era: bool = True,
) -> int:
    user_id: int = await connection.fetchval(
        """
        INSERT INTO app_user (username, display_name, hospital_id, role, password_hash,
                              language, buddhist_era)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
        """,
        username,
        display_name,
        hospital_id,
        role.value,
        password_hash,
        language,
        buddhist_era,
    )
    return user_id


async def username_taken(connection: Connection, username: str) -> bool:
    found: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM app_user WHERE username = $1)", username
    )
    return found


async def credentials(connection: Connection, username: str) -> StoredCredentials | None:
    row = await connection.fetchrow(
        "SELECT id, password_hash, disabled FROM app_user WHERE username = $1", username
    )
    if row is None:
        return None
    return StoredCredentials(
        user_id=row["id"], password_hash=row["password_hash"], disabled=row["disabled"]
    )


async def set_password_hash(connection: Connection, *, user_id: int, password_hash: str) -> None:
    await connection.execute(
        "UPDATE app_user SET password_hash = $2 WHERE id = $1", user_id, password_hash
    )


async def create_session(
    connection: Connection,
    *,
    session_id: str,
    user_id: int,
    csrf_token: str,
    expires_at: datetime,
) -> None:
    await connection.execute(
        """
        INSERT INTO app_session (id_digest, user_id, csrf_token, expires_at)
        VALUES ($1, $2, $3, $4)
        """,
        session_digest(session_id),
        user_id,
        csrf_token,
        expires_at,
    )


async def person_of_session(connection: Connection, session_id: str) -> SignedInPerson | None:
    """The person of a live session: not expired, not ended, the person not disabled."""
    row = await connection.fetchrow(
        """
        SELECT u.id, u.username, u.display_name, u.hospital_id, u.role, u.language,
               u.buddhist_era, s.csrf_token, o.name, o.name_th, o.capabilities
        FROM app_session s
        JOIN app_user u ON u.id = s.user_id
        LEFT JOIN organization o ON o.id = u.hospital_id
        -- statement_timestamp(), not now(): inside a longer transaction now() is its start.
        WHERE s.id_digest = $1 AND s.expires_at > statement_timestamp() AND NOT u.disabled
        """,
        session_digest(session_id),
    )
    if row is None:
        return None
    language: Language = "en" if row["language"] == "en" else "th"
    thai_name = row["name_th"] if language == "th" else None
    return SignedInPerson(
        user_id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        hospital_id=row["hospital_id"],
        role=Role(row["role"]),
        language=language,
        buddhist_era=row["buddhist_era"],
        session_id=session_id,
        csrf_token=row["csrf_token"],
        hospital_name=thai_name or row["name"] or "",
        hospital_receives_referrals=StrokeCapability.THROMBOLYSIS in (row["capabilities"] or ()),
    )


async def name_of_person(connection: Connection, *, user_id: int, hospital_id: str) -> str | None:
    """A person of ``hospital_id`` as the timeline names them ("Display name (username)"), for a
    step another service reports in their name (it knows only the id of the signed identity)."""
    row = await connection.fetchrow(
        "SELECT username, display_name FROM app_user WHERE id = $1 AND hospital_id = $2",
        user_id,
        hospital_id,
    )
    return None if row is None else f"{row['display_name']} ({row['username']})"


async def end_session(connection: Connection, session_id: str) -> None:
    await connection.execute(
        "DELETE FROM app_session WHERE id_digest = $1", session_digest(session_id)
    )


async def end_sessions_of(connection: Connection, user_id: int) -> int:
    """Ends every session of a person (disabled, password reset): how many were open."""
    status: str = await connection.execute("DELETE FROM app_session WHERE user_id = $1", user_id)
    return int(status.split()[-1])


async def forget_expired(
    connection: Connection, *, now: datetime, keep_failures_since: datetime
) -> None:
    """Housekeeping at each sign-in: expired sessions and failures older than any window."""
    await connection.execute("DELETE FROM app_session WHERE expires_at <= $1", now)
    await connection.execute(
        "DELETE FROM sign_in_failure WHERE attempted_at < $1", keep_failures_since
    )


async def set_preferences(
    connection: Connection, *, user_id: int, language: Language, buddhist_era: bool
) -> None:
    await connection.execute(
        "UPDATE app_user SET language = $2, buddhist_era = $3 WHERE id = $1",
        user_id,
        language,
        buddhist_era,
    )


async def record_failure(connection: Connection, *, username: str, client_address: str) -> None:
    await connection.execute(
        "INSERT INTO sign_in_failure (username, client_address) VALUES ($1, $2)",
        username,
        client_address,
    )


async def recent_failures(
    connection: Connection, *, username: str, client_address: str, since: datetime
) -> tuple[int, int]:
    """Failed sign-ins since ``since``: (for this username, from this client address)."""
    row = await connection.fetchrow(
        """
        SELECT count(*) FILTER (WHERE username = $1) AS by_username,
               count(*) FILTER (WHERE client_address = $2) AS by_address
        FROM sign_in_failure
        WHERE attempted_at >= $3 AND (username = $1 OR client_address = $2)
        """,
        username,
        client_address,
        since,
    )
    if row is None:  # an aggregate always answers one row
        return 0, 0
    return int(row["by_username"]), int(row["by_address"])


async def clear_failures(connection: Connection, *, username: str) -> None:
    await connection.execute("DELETE FROM sign_in_failure WHERE username = $1", username)
