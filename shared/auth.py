"""Who is calling: hospital systems authenticate with an API key that names their organization.

Keys are configured as ``FT_API_KEYS`` (JSON: {"<key>": "<organization id>"}). Only their
SHA-256 digests are kept in memory, and a lookup by digest does not reveal a key by timing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import SecretStr


class ApiKeys:
    def __init__(self, keys: Mapping[SecretStr, str]) -> None:
        self._organization_by_digest = {
            _digest(key.get_secret_value()): org for key, org in keys.items()
        }

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


def form_caller_organization(request: Request) -> str:
    """For pages a person opens in a browser: the API key as a Bearer token, or as the password
    of HTTP Basic (which makes the browser ask for it); 401 without a valid key."""
    keys: ApiKeys = request.app.state.api_keys
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            _, _, key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key = ""
        organization = keys.organization(key) if key else None
        if organization is not None:
            return organization
    elif scheme.lower() == "bearer":
        return caller_organization(request)
    raise HTTPException(
        401,
        "A valid API key is required: 'Authorization: Bearer <key>', or the key as the password "
        "of HTTP Basic",
        headers={"WWW-Authenticate": 'Basic realm="Fast Track", charset="UTF-8"'},
    )


CallerDep = Annotated[str, Depends(caller_organization)]
FormCallerDep = Annotated[str, Depends(form_caller_organization)]
