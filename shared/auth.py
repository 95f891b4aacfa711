"""Who is calling: hospital systems authenticate with an API key that names their organization.

Keys are configured as ``FT_API_KEYS`` (JSON: {"<key>": "<organization id>"}). Only their
SHA-256 digests are kept in memory, and a lookup by digest does not reveal a key by timing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request


class ApiKeys:
    def __init__(self, keys: Mapping[str, str]) -> None:
        self._organization_by_digest = {_digest(key): org for key, org in keys.items()}

    def organization(self, key: str) -> str | None:
        return self._organization_by_digest.get(_digest(key))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def caller_organization(request: Request) -> str:
    """The organization id of the authenticated caller; 401 without a valid API key."""
    keys: ApiKeys = request.app.state.api_keys
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    organization = keys.organization(key.strip()) if scheme.lower() == "bearer" else None
    if organization is None:
        raise HTTPException(
            401,
            "A valid API key is required: 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return organization


CallerDep = Annotated[str, Depends(caller_organization)]
