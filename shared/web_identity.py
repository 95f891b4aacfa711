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

A person's change (any method but GET, HEAD, OPTIONS) must also carry the session's
synchronizer token, which the identity brings along: the form field ``csrf_token`` of a page's
form, or the ``X-CSRF-Token`` header of a script; without it, 403. The session cookie's
``SameSite=Lax`` alone would let a page of a sibling site (another hospital's host under the same
registrable domain) post a form with the person's cookie, and the proxy would vouch for it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

IDENTITY_HEADER = "X-Fasttrack-Identity"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
    # The session's synchronizer token (the pages put it in their forms); empty in an identity
    # signed before it was carried, which therefore makes no change.
    csrf_token: str = ""

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
    # For the page's forms (see the module's docstring).
    csrf_token: str = ""


async def hospital_person(request: Request) -> HospitalPerson:
    """The signed-in person of a hospital; 401 without one, 403 for an operator, and 403 for a
    change that does not carry the session's synchronizer token."""
    person = signed_in_person(request)
    if person.hospital_id is None:
        raise HTTPException(403, "These pages show one hospital's data: operators have none")
    if request.method not in SAFE_METHODS:
        await _check_synchronizer_token(request, person)
    return HospitalPerson(
        person.hospital_id,
        person.user_id,
        person.role,
        person.language,
        person.display_name,
        person.csrf_token,
    )


async def carries_synchronizer_token(request: Request, expected: str) -> bool:
    """Whether a change carries the session's synchronizer token: the ``X-CSRF-Token`` header
    of a script, or the ``csrf_token`` field of a form (parsed once: Starlette keeps the form
    for the route's own Form() parameters)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        field = (await request.form()).get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def _check_synchronizer_token(request: Request, person: PersonIdentity) -> None:
    # Browsers say where a request comes from: another site's page never acts here.
    cross_site = request.headers.get("sec-fetch-site") == "cross-site"
    if cross_site or not await carries_synchronizer_token(request, person.csrf_token):
        raise HTTPException(
            403, "This change did not come from the web app's own page: reload it and try again"
        )


MaybePersonDep = Annotated[PersonIdentity | None, Depends(person_identity)]
PersonIdentityDep = Annotated[PersonIdentity, Depends(signed_in_person)]
HospitalPersonDep = Annotated[HospitalPerson, Depends(hospital_person)]
