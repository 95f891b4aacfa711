"""The network's hospital directory as telemedicine keeps it: one row per hospital, replaced
whole when a new directory is received."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from fhir.resources.R4B.organization import Organization

from services.telemedicine.domain.first_consult import Hub, HubDirectory
from shared.db.pool import Connection
from shared.fhir.codes import PROJECT_CANONICAL, STROKE_CAPABILITY_SYSTEM
from shared.fhir.message import FhirMessage
from shared.vocabulary.capabilities import StrokeCapability

_THAI_NAME_URL = f"{PROJECT_CANONICAL}/StructureDefinition/name-th"


def hubs_of(message: FhirMessage) -> list[Hub]:
    """directory-changed's Organizations as hubs: every hospital of the directory may be asked
    (none is refused that the directory lists); those taking teleconsults are offered first."""
    return [_hub(organization) for organization in message.resources(Organization)]


def _hub(organization: Organization) -> Hub:
    capabilities = {
        coding.code
        for concept in organization.type or []
        for coding in concept.coding or []
        if coding.system == STROKE_CAPABILITY_SYSTEM
    }
    name_th = next(
        (e.valueString for e in organization.extension or [] if e.url == _THAI_NAME_URL), None
    )
    return Hub(
        id=str(organization.id),
        name=str(organization.name or organization.id),
        name_th=name_th,
        stroke_hub=StrokeCapability.TELECONSULT.value in capabilities,
    )


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


async def hub_named(connection: Connection, organization_id: str) -> Hub | None:
    """The directory's hospital ``organization_id``; None when the directory does not list it
    (or none was received)."""
    row = await connection.fetchrow(
        "SELECT name, name_th, stroke_hub FROM directory_hospital WHERE organization_id = $1",
        organization_id,
    )
    if row is None:
        return None
    return Hub(
        id=organization_id, name=row["name"], name_th=row["name_th"], stroke_hub=row["stroke_hub"]
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
