"""The web app's sessions on the running referral service: forms and htmx requests are refused
without the session's CSRF token, signing out ends the session at once, sign-ins are limited per
username (429 with a clear message; per client address: the use-case tests), and the pages carry
the security headers. People of the development seed (services/referral/accounts.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.referral.accounts import DEVELOPMENT_PASSWORD
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.web_app import csrf_token, sign_in, signed_in

pytestmark = pytest.mark.e2e

NURSE = "nurse.sikao"


@pytest.fixture
async def app(services: ServiceProcesses) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{SERVICE_PORTS['referral']}", timeout=30
    ) as client:
        yield client


SETTINGS = {"language": "th", "buddhist_era": "true"}


@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("no token", 403),
        ("another token in the form", 403),
        ("another token in the header", 403),
        ("the token in the form", 303),
        ("the token in the htmx header", 303),
    ],
)
async def test_a_form_or_htmx_request_needs_the_sessions_csrf_token(
    app: httpx.AsyncClient, how: str, status: int
) -> None:
    session = await signed_in(app, NURSE, DEVELOPMENT_PASSWORD)
    token = await csrf_token(app, session)
    form, headers = dict(SETTINGS), dict(session)
    if how == "another token in the form":
        # One character changed (never to itself: a token starting with "x" once made the
        # "forged" token the real one).
        form["csrf_token"] = ("y" if token.startswith("x") else "x") + token[1:]
    elif how == "another token in the header":
        headers["X-CSRF-Token"] = "forged"
    elif how == "the token in the form":
        form["csrf_token"] = token
    elif how == "the token in the htmx header":
        headers.update({"X-CSRF-Token": token, "HX-Request": "true"})

    answer = await app.post("/app/settings", data=form, headers=headers)
    assert answer.status_code == status
    if status == 403:
        assert "text/html" in answer.headers["content-type"]
        assert "หมดอายุ" in answer.text  # "this form has expired", in the person's language


async def test_another_sites_form_is_refused_even_with_the_token_and_at_sign_in(
    app: httpx.AsyncClient,
) -> None:
    session = await signed_in(app, NURSE, DEVELOPMENT_PASSWORD)
    token = await csrf_token(app, session)
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    action = await app.post(
        "/app/settings", data={**SETTINGS, "csrf_token": token}, headers={**session, **cross_site}
    )
    assert action.status_code == 403
    login = await sign_in(app, NURSE, DEVELOPMENT_PASSWORD, **cross_site)
    assert login.status_code == 403
    assert "ft_session" not in login.cookies


async def test_another_sessions_token_is_refused(app: httpx.AsyncClient) -> None:
    first = await signed_in(app, NURSE, DEVELOPMENT_PASSWORD)
    second = await signed_in(app, NURSE, DEVELOPMENT_PASSWORD)
    token_of_first = await csrf_token(app, first)
    answer = await app.post(
        "/app/settings", data={**SETTINGS, "csrf_token": token_of_first}, headers=second
    )
    assert answer.status_code == 403


async def test_signing_out_ends_the_session_at_once(app: httpx.AsyncClient) -> None:
    session = await signed_in(app, NURSE, DEVELOPMENT_PASSWORD)
    token = await csrf_token(app, session)

    out = await app.post("/app/logout", data={"csrf_token": token}, headers=session)
    assert out.status_code == 303
    assert out.headers["location"] == "/app/login"
    again = await app.get("/app/settings", headers=session)
    assert again.status_code == 303
    assert again.headers["location"] == "/app/login?next=%2Fapp%2Fsettings"
    # An htmx request is told to load the sign-in page whole.
    fragment = await app.get("/app/settings", headers={**session, "HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["hx-redirect"].startswith("/app/login?next=")


async def test_a_hospital_systems_api_key_opens_no_page(app: httpx.AsyncClient) -> None:
    answer = await app.get("/app/settings", headers={"Authorization": "Bearer demo-sikao-hospital"})
    assert answer.status_code == 303


async def test_sign_ins_stop_after_five_failures_for_one_username(app: httpx.AsyncClient) -> None:
    # A username of its own: the limit must not lock out the people the other tests use.
    username = f"nobody.{uuid.uuid4().hex[:8]}"
    for _ in range(5):
        refused = await sign_in(app, username, "guess", **{"X-Forwarded-For": "10.1.0.1"})
        assert refused.status_code == 401
        assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in refused.text
    held = await sign_in(app, username, "guess", **{"X-Forwarded-For": "10.1.0.2"})
    assert held.status_code == 429
    assert int(held.headers["retry-after"]) > 0
    assert "เข้าสู่ระบบไม่สำเร็จหลายครั้งเกินไป" in held.text


async def test_pages_carry_a_content_security_policy_without_inline_script(
    app: httpx.AsyncClient,
) -> None:
    page = await app.get("/app/login")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in page.text
    assert " style=" not in page.text
    assert " on" + "click=" not in page.text


async def test_the_home_address_takes_an_administrator_to_their_hospitals_users(
    app: httpx.AsyncClient,
) -> None:
    session = await signed_in(app, "admin.trang", DEVELOPMENT_PASSWORD)
    home = await app.get("/app/", headers=session)
    assert home.status_code == 303
    assert home.headers["location"] == "/app/admin/users"
