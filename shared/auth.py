"""Who is calling: hospital systems authenticate with an API key that names their organization;
operators' tools with an operator key; people with the identity the web app signs
(shared/web_identity.py), which the proxy passes on.

Keys are configured as ``FT_API_KEYS`` (JSON: {"<key>": "<organization id>"}) and
``FT_OPERATOR_API_KEYS`` (JSON: {"<key>": "<operator name>"}). Only their SHA-256 digests are
kept in memory, and a lookup by digest does not reveal a key by timing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from pydantic import SecretStr

from shared.web_identity import CSRF_HEADER, SAFE_METHODS, person_identity


class ApiKeys:
    def __init__(self, keys: Mapping[SecretStr, str]) -> None:
        self._organization_by_digest = {
            _digest(key.get_secret_value()): org for key, org in keys.items()
        }

    def organization(self, key: str) -> str | None:
        """Whom the key was given to (an organization id; for operator keys, an operator)."""
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


async def _caller(request: Request) -> str:
    # async: FastAPI runs a plain ``def`` dependency on a worker thread for every request.
    return caller_organization(request)


CallerDep = Annotated[str, Depends(_caller)]


@dataclass(frozen=True)
class Caller:
    """A hospital's system or person, or an operator, on routes both may use."""

    # Who, for an audit: "operator:<name>" (a tool's key), "user:<id>" (a person of the web
    # app), or the organization id of a hospital system.
    who: str
    # Whose data the caller may see; None for an operator, who sees every hospital's.
    hospital: str | None

    @property
    def is_operator(self) -> bool:
        return self.hospital is None


# CSRF_HEADER: a page's script sends it (htmx does, for the web app's CSRF check); a form or
# link of another site cannot set a header on a cross-origin request without a CORS preflight,
# which no service allows. So a person's change made with their cookie is never a forged
# cross-site request.


def operator_or_hospital(request: Request) -> Caller:
    """A signed-in person (through the proxy), an operator key or a hospital key; 401 without
    any valid one. A person's change (POST) must come from a page's script (CSRF_HEADER)."""
    person = person_identity(request)
    if person is not None:
        if request.method not in SAFE_METHODS and not request.headers.get(CSRF_HEADER):
            raise HTTPException(403, f"A change from a page must send the {CSRF_HEADER} header")
        return Caller(
            who=f"user:{person.user_id}",
            hospital=None if person.is_operator else person.hospital_id,
        )
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    operator_keys: ApiKeys = request.app.state.operator_keys
    operator = operator_keys.organization(key.strip()) if scheme.lower() == "bearer" else None
    if operator is not None:
        return Caller(who=f"operator:{operator}", hospital=None)
    organization = caller_organization(request)
    return Caller(who=organization, hospital=organization)


def operator(caller: Annotated[Caller, Depends(operator_or_hospital)]) -> Caller:
    """An operator; 403 for a hospital's system or person (401 without credentials)."""
    if not caller.is_operator:
        raise HTTPException(403, "For operators only: hospitals' keys and staff may not use this")
    return caller


CallerOrOperatorDep = Annotated[Caller, Depends(operator_or_hospital)]
OperatorDep = Annotated[Caller, Depends(operator)]
