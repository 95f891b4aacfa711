"""``python -m services.referral.load_directory FILE``: loads a FHIR Bundle of Organizations."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fhir.resources.R4B.organization import Organization

from services.referral.adapters import repository
from services.referral.adapters.directory_message import (
    DIRECTORY_KEY,
    directory_changed_message,
)
from services.referral.config import SERVICE_NAME, ReferralSettings
from shared.admin import TopicLayout, create_topics
from shared.db.pool import create_pool
from shared.fhir.codes import PROJECT_CANONICAL, STROKE_CAPABILITY_SYSTEM
from shared.fhir.models import Bundle
from shared.messaging.outbox import add_to_outbox
from shared.messaging.topics import REFERRAL_EVENTS, hospital_topics

GEOLOCATION_URL = "http://hl7.org/fhir/StructureDefinition/geolocation"
THAI_NAME_URL = f"{PROJECT_CANONICAL}/StructureDefinition/name-th"


def _organization_row(resource: Organization) -> dict[str, Any]:
    capabilities = [
        coding.code
        for concept in resource.type or []
        for coding in concept.coding or []
        if coding.system == STROKE_CAPABILITY_SYSTEM and coding.code
    ]
    latitude, longitude = _coordinates(resource)
    name_th = next(
        (e.valueString for e in resource.extension or [] if e.url == THAI_NAME_URL), None
    )
    return {
        "organization_id": str(resource.id),
        "name": str(resource.name),
        "name_th": name_th,
        "capabilities": capabilities,
        "latitude": latitude,
        "longitude": longitude,
        "resource": resource.model_dump(mode="json", exclude_none=True),
    }


def _coordinates(resource: Organization) -> tuple[float | None, float | None]:
    """The hospital's latitude and longitude: the geolocation extension of its Address, where
    FHIR R4B allows it; a directory written with it on the Organization itself (not valid
    FHIR) is still read, so its hospitals keep their coordinates."""
    placed = [
        *(extension for address in resource.address or [] for extension in address.extension or []),
        *(resource.extension or []),
    ]
    geolocation = next((e for e in placed if e.url == GEOLOCATION_URL), None)
    latitude = longitude = None
    for part in geolocation.extension or [] if geolocation is not None else []:
        if part.url == "latitude" and part.valueDecimal is not None:
            latitude = float(part.valueDecimal)
        elif part.url == "longitude" and part.valueDecimal is not None:
            longitude = float(part.valueDecimal)
    return latitude, longitude


async def load(document: str, settings: ReferralSettings) -> int:
    """Stores the directory's Organizations and creates each one's inbound and response topics
    (first: the referral service answers a directory hospital's Kafka messages on its own);
    the directory, whole, goes to the other services as directory-changed (same transaction)."""
    bundle = Bundle.model_validate(json.loads(document))
    organizations = [e.resource for e in bundle.entry or [] if isinstance(e.resource, Organization)]
    await create_topics(
        settings.kafka_bootstrap_servers,
        tuple(
            topic
            for organization in organizations
            for topic in hospital_topics(str(organization.id))
        ),
        TopicLayout.from_settings(settings),
    )
    pool = await create_pool(settings.database_url, schema=SERVICE_NAME, max_size=1)
    try:
        async with pool.acquire() as connection, connection.transaction():
            rows = [_organization_row(organization) for organization in organizations]
            for row in rows:
                await repository.upsert_organization(connection, **row)
            await add_to_outbox(
                connection,
                topic=REFERRAL_EVENTS,
                key=DIRECTORY_KEY,
                message=directory_changed_message(
                    [row["resource"] for row in rows],
                    source_endpoint=f"{settings.referral_public_url.rstrip('/')}/fhir",
                    at=datetime.now(UTC),
                ),
            )
    finally:
        await pool.close()
    return len(organizations)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m services.referral.load_directory DIRECTORY_BUNDLE.json")
    document = Path(sys.argv[1]).read_text(encoding="utf-8")
    count = asyncio.run(load(document, ReferralSettings()))
    print(f"{count} organizations loaded")
