"""What the hospital directory says about how each hospital writes its data."""

from __future__ import annotations

from shared.db.pool import Connection
from shared.fhir.codes import PATIENT_IDENTIFIER_SYSTEM_URL


async def patient_identifier_systems(connection: Connection) -> dict[str, str]:
    """Each hospital's own patient identifier system (hospital number), where the directory's
    Organization declares one (extension PATIENT_IDENTIFIER_SYSTEM_URL, valueUri)."""
    rows = await connection.fetch(
        """
        SELECT o.id, extension ->> 'valueUri' AS system
        FROM organization o,
             jsonb_array_elements(coalesce(o.resource -> 'extension', '[]'::jsonb)) extension
        WHERE extension ->> 'url' = $1 AND extension ->> 'valueUri' IS NOT NULL
        """,
        PATIENT_IDENTIFIER_SYSTEM_URL,
    )
    return {row["id"]: row["system"] for row in rows}
