"""SQL for signed recommendations: one row per version, never updated (an amendment is the
next version)."""

from __future__ import annotations

from typing import Any

from shared.db.pool import Connection

# PDPA (shared/retention.py): a recommendation's findings go after the retention period.
PURGE_RECOMMENDATIONS = "DELETE FROM recommendation WHERE created_at < $1"


async def latest_version(connection: Connection, *, consult_id: str) -> int:
    """The consult's latest version number; 0 before the first."""
    version: int = await connection.fetchval(
        "SELECT coalesce(max(version), 0) FROM recommendation WHERE consult_id = $1", consult_id
    )
    return version


async def insert_version(
    connection: Connection, *, consult_id: str, version: int, body: dict[str, Any]
) -> None:
    await connection.execute(
        "INSERT INTO recommendation (consult_id, version, body) VALUES ($1, $2, $3)",
        consult_id,
        version,
        body,
    )


async def versions(connection: Connection, *, consult_id: str) -> list[dict[str, Any]]:
    rows = await connection.fetch(
        "SELECT body FROM recommendation WHERE consult_id = $1 ORDER BY version", consult_id
    )
    return [row["body"] for row in rows]
