"""Forward auth for the proxy (deploy/nginx/): ``GET /app/session/identity``.

Before it passes a request on to the notifier's or telemedicine's pages, nginx asks this route
who the browser's session belongs to (``auth_request``, with the browser's cookie). Signed in:
200 and the person's identity, signed for the other services (shared/web_identity.py), in
``X-Fasttrack-Identity``, which nginx copies onto the upstream request. Not signed in: 401,
which nginx turns into a redirect to the login. The answer is never cached: a signed-out or
revoked session must stop working at once.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from shared.web_identity import IDENTITY_HEADER, IdentitySigner, PersonIdentity

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}


def signed_in(request: Request) -> PersonIdentity | None:
    """The person whose session the request's cookie opens; None without one.

    The web app's sessions (login) are not in this service yet: until they are, nobody is
    signed in and every page behind the proxy sends people to the login.
    """
    del request
    return None


@router.get("/app/session/identity")
async def session_identity(request: Request) -> Response:
    person = signed_in(request)
    if person is None:
        raise HTTPException(401, "Not signed in", headers=_NO_STORE)
    signer: IdentitySigner = request.app.state.identity_signer
    return Response(status_code=200, headers={IDENTITY_HEADER: signer.sign(person), **_NO_STORE})
