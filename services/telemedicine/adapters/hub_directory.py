"""The network's hospital directory as telemedicine keeps it: one row per hospital, replaced
whole when a new directory is received."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from services.telemedicine.domain.first_consult import Hub, HubDirectory
from shared.db.pool import Connection


async def hub_directory(connection: Connection) -> HubDirectory:
    rows = await connection.fetch(
        "SELECT organization_id, name, name_th, stroke_hub FROM directory_hospital"
    )
    return HubDirectory(
        {
            row["organization_id"]: Hub(
                id=row["organization_id"],
                name=row["name"],
                name_th=row["name_th"],
                stroke_hub=row["stroke_hub"],
            )
            for row in rows
        }
    )


async def replace_directory(connection: Connection, hubs: Iterable[Hub], *, at: datetime) -> None:
    """The directory received at ``at`` replaces the one kept (a hospital it no longer lists is
    no longer offered); two statements, in the caller's transaction."""
    listed = list(hubs)
    await connection.execute(
        "DELETE FROM directory_hospital WHERE NOT (organization_id = ANY($1::text[]))",
        [hub.id for hub in listed],
    )
    await connection.executemany(
        """
        INSERT INTO directory_hospital (organization_id, name, name_th, stroke_hub, received_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (organization_id) DO UPDATE
           SET name = EXCLUDED.name, name_th = EXCLUDED.name_th,
               stroke_hub = EXCLUDED.stroke_hub, received_at = EXCLUDED.received_at
        """,
        [(hub.id, hub.name, hub.name_th, hub.stroke_hub, at) for hub in listed],
    )
