"""One origin for people: the test stack's nginx (deploy/local/proxy.sh, on a shifted port) in
front of the three services. Without a session the live page sends you to the web app's login;
acknowledgement links and ward-screen tickets work at the origin without one; a browser cannot
smuggle an identity through the proxy, and a forged or expired one sent straight to the
notifier is refused."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from unittest import mock

import httpx
import pytest

from shared.web_identity import IDENTITY_HEADER, IdentitySigner, PersonIdentity
from tests.e2e.harness import NOTIFIER_URL, post_referral_to, texts_about
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import WEB_IDENTITY_SECRET, TestStack, as_hospital, eventually

pytestmark = pytest.mark.e2e

HOSPITAL = "kantang-hospital"
SIGNER = IdentitySigner(secret=WEB_IDENTITY_SECRET)


def _identity(role: str = "doctor", hospital: str = HOSPITAL) -> PersonIdentity:
    return PersonIdentity(hospital_id=hospital, user_id=f"u-{role}", role=role, language="th")


def _expired_identity() -> str:
    """Signed correctly, two minutes ago: past its one-minute life."""
    with mock.patch("time.time", return_value=time.time() - 120):
        return SIGNER.sign(_identity(role="operator"))


@pytest.fixture
async def origin(stack: TestStack, services: object) -> AsyncIterator[httpx.AsyncClient]:
    assert stack.proxy_port is not None  # the session's stack runs the proxy
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{stack.proxy_port}", timeout=30
    ) as client:
        yield client


async def test_without_a_session_the_live_page_sends_you_to_the_login(
    origin: httpx.AsyncClient,
) -> None:
    for path in ("/app/live", "/live/events"):
        response = await origin.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/app/login?next={path}"
    # The notifier's own address of the page leads people to theirs.
    assert (await origin.get("/live")).headers["location"] == "/app/live"
    # The notifier's operator routes answer a script: 401, no redirect.
    assert (await origin.get("/dead-letters")).status_code == 401
    # The root opens the web app.
    assert (await origin.get("/")).headers["location"] == "/app/"


async def test_a_ward_screen_ticket_opens_the_live_page_at_the_origin_without_a_login(
    origin: httpx.AsyncClient,
) -> None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
        ticket = (await notifier.post("/live/tickets", headers=as_hospital(HOSPITAL))).json()
    page = await origin.get("/live", params={"ticket": ticket["ticket"]})
    assert page.status_code == 200
    assert 'src="/static/notifier/live.js"' in page.text
    script = await origin.get("/static/notifier/live.js")
    assert script.status_code == 200
    assert "EventSource" in script.text


async def test_an_identity_sent_by_the_browser_never_passes_the_proxy(
    origin: httpx.AsyncClient,
) -> None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
        ticket = (await notifier.post("/live/tickets", headers=as_hospital(HOSPITAL))).json()
    # Were it passed on, the notifier would refuse the forgery (401); it is dropped instead.
    forged = {IDENTITY_HEADER: IdentitySigner(secret="stolen").sign(_identity())}
    page = await origin.get("/live", params={"ticket": ticket["ticket"]}, headers=forged)
    assert page.status_code == 200
    # Nor does a genuine one replace the login where a login is needed.
    genuine = {IDENTITY_HEADER: SIGNER.sign(_identity())}
    assert (await origin.get("/app/live", headers=genuine)).status_code == 303


@pytest.mark.parametrize("path", ["/live", "/live/events", "/dead-letters"])
async def test_a_forged_or_expired_identity_sent_straight_to_the_notifier_is_refused(
    services: object, path: str
) -> None:
    refusals = {
        "another secret": IdentitySigner(secret="guessed").sign(_identity(role="operator")),
        "expired": _expired_identity(),
        "unsigned": '{"hospital_id": "kantang-hospital", "role": "operator"}',
    }
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, timeout=30) as notifier:
        for what, token in refusals.items():
            response = await notifier.get(path, headers={IDENTITY_HEADER: token})
            assert response.status_code == 401, what
            assert response.json()["resourceType"] == "OperationOutcome", what
        # The same route takes a genuine, fresh identity.
        fresh = {IDENTITY_HEADER: SIGNER.sign(_identity(role="operator"))}
        async with notifier.stream("GET", path, headers=fresh) as accepted:
            assert accepted.status_code == 200


async def test_an_acknowledgement_link_works_at_the_origin_without_a_login(
    origin: httpx.AsyncClient, referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, HOSPITAL)
    (sms,) = await eventually(lambda: texts_about(sms_gateway, referral_id), what="the SMS")
    link = re.search(r"http://[^/\s]+(/ack/\S+)", sms["text"])
    assert link is not None
    page = await origin.get(link.group(1))
    assert page.status_code == 200
    assert "Stroke referral from Sikao Hospital" in page.text
    acknowledged = await origin.post(link.group(1), headers={"Accept": "application/json"})
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged"] is True
