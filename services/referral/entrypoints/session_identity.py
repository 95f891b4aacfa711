"""Forward auth for the proxy (deploy/nginx/): ``GET /app/session/identity``.

Before it passes a request on to the notifier's or telemedicine's pages, nginx asks this route
who the browser's session belongs to (``auth_request``, with the browser's cookie). Signed in:
200 and the person's identity, signed for the other services (shared/web_identity.py), in
``X-Fasttrack-Identity``, which nginx copies onto the upstream request. Not signed in (no
cookie, a session ended, revoked or expired): 401, which nginx turns into a redirect to the
login. The identity carries the session's synchronizer token, which the other services' pages
put in their forms and check on every change. The answer is never cached: a signed-out or
revoked session stops working at once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.referral.entrypoints.deps import SESSION_COOKIE
from services.referral.service import sign_in
from shared.runtime import RuntimeDep
from shared.web_identity import IDENTITY_HEADER, IdentitySigner, PersonIdentity

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store"}


async def signed_in(request: Request, runtime: RuntimeDep) -> PersonIdentity | None:
    """The person whose live session the request's cookie opens; None without one."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return None
    async with runtime.pool.acquire() as connection:
        person = await sign_in.person_of_session(connection, session_id)
    if person is None:
        return None
    return PersonIdentity(
        hospital_id=person.hospital_id,
        user_id=str(person.user_id),
        role=str(person.role),
        language=person.language,
        display_name=person.display_name,
        csrf_token=person.csrf_token,
    )


@router.get("/app/session/identity")
async def session_identity(request: Request, runtime: RuntimeDep) -> Response:
    person = await signed_in(request, runtime)
    if person is None:
        # A bare 401 (not the web app's refusal page): nginx only reads the status.
        return Response(status_code=401, headers=_NO_STORE)
    signer: IdentitySigner = request.app.state.identity_signer
    return Response(status_code=200, headers={IDENTITY_HEADER: signer.sign(person), **_NO_STORE})
