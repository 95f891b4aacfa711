"""Who a signed-in person is, as the web app tells the other services behind the proxy.

The clinicians' web app (the referral service, under ``/app/``) owns login and sessions. The
notifier's and telemedicine's pages sit behind the same reverse proxy (deploy/nginx/): for each
request to one of them, the proxy asks the web app (``auth_request``) who the session belongs
to; the web app answers with a short-lived identity signed with a secret every service shares
(``FT_WEB_IDENTITY_SECRET``); the proxy puts it on the upstream request in ``IDENTITY_HEADER``
and drops any copy the browser sent. A service never trusts an unsigned or expired identity: a
request that reaches it directly, bypassing the proxy, cannot pretend to be anyone.

itsdangerous does the signing (HMAC-SHA256 over the payload and a timestamp, as signed_links.py);
its salt is this purpose, so an acknowledgement link or a live ticket never passes as a person.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

IDENTITY_HEADER = "X-Fasttrack-Identity"
# Long enough for one request to cross the proxy, short enough that a copied header is useless.
IDENTITY_TTL_S = 60
OPERATOR_ROLE = "operator"
_PURPOSE = "fasttrack-web-identity-v1"
DEVELOPMENT_IDENTITY_SECRET = "development-only-web-identity-secret"


class InvalidIdentity(ValueError):
    """The identity is forged, damaged, or was signed for another purpose."""


class ExpiredIdentity(InvalidIdentity):
    """The identity was genuine but is older than IDENTITY_TTL_S."""


@dataclass(frozen=True)
class PersonIdentity:
    """A signed-in person, as much as another service needs: whose hospital's data they may
    see, who they are for an audit, what they may do, and their language."""

    # None for an operator, who belongs to no hospital (the web app's accounts say so).
    hospital_id: str | None
    user_id: str
    role: str
    language: str
    # The name the web app shows for the person (who acknowledged an alert, for example);
    # empty in an identity signed before it was carried.
    display_name: str = ""

    @property
    def is_operator(self) -> bool:
        """Operators (the province's IT and quality team) see every hospital's flow."""
        return self.role == OPERATOR_ROLE


class IdentitySigner:
    def __init__(self, *, secret: str, max_age_s: float = IDENTITY_TTL_S) -> None:
        self._serializer = URLSafeTimedSerializer(
            secret, salt=_PURPOSE, signer_kwargs={"digest_method": hashlib.sha256}
        )
        self._max_age_s = int(max_age_s)  # itsdangerous counts whole seconds

    def sign(self, identity: PersonIdentity) -> str:
        """A header-safe token (base64url) carrying the identity and the time it was signed."""
        return self._serializer.dumps(asdict(identity))

    def verify(self, token: str) -> PersonIdentity:
        """The identity; raises ExpiredIdentity or InvalidIdentity."""
        try:
            fields: Any = self._serializer.loads(token, max_age=self._max_age_s)
        except SignatureExpired as error:
            raise ExpiredIdentity("the signed identity has expired") from error
        except BadSignature as error:
            raise InvalidIdentity("the signed identity is not valid") from error
        try:
            return PersonIdentity(**fields)
        except TypeError as error:  # genuine signature, other shape: another version's token
            raise InvalidIdentity("the signed identity is not valid") from error


def person_identity(request: Request) -> PersonIdentity | None:
    """The person the proxy vouches for; None without the header; 401 when it is forged or
    expired (never falls back to another credential: a bad identity is an attack or a bug)."""
    token = request.headers.get(IDENTITY_HEADER)
    if token is None:
        return None
    signer: IdentitySigner = request.app.state.identity_signer
    try:
        return signer.verify(token)
    except ExpiredIdentity:
        raise HTTPException(401, "The signed identity has expired: sign in again") from None
    except InvalidIdentity:
        raise HTTPException(401, "The signed identity is not valid") from None


def signed_in_person(request: Request) -> PersonIdentity:
    """The person the proxy vouches for; 401 without one (the proxy sends people to log in)."""
    person = person_identity(request)
    if person is None:
        raise HTTPException(401, "Sign in to the web app first (/app/login)")
    return person


@dataclass(frozen=True)
class HospitalPerson:
    """A signed-in person of a hospital (not an operator): for pages of one hospital's data."""

    hospital_id: str
    user_id: str
    role: str
    language: str
    display_name: str = ""


def hospital_person(request: Request) -> HospitalPerson:
    """The signed-in person of a hospital; 401 without one, 403 for an operator."""
    person = signed_in_person(request)
    if person.hospital_id is None:
        raise HTTPException(403, "These pages show one hospital's data: operators have none")
    return HospitalPerson(
        person.hospital_id, person.user_id, person.role, person.language, person.display_name
    )


MaybePersonDep = Annotated[PersonIdentity | None, Depends(person_identity)]
PersonIdentityDep = Annotated[PersonIdentity, Depends(signed_in_person)]
HospitalPersonDep = Annotated[HospitalPerson, Depends(hospital_person)]
