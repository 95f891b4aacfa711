"""The referral service's pages, as a browser gets them: the web app's sign-in page in Thai by
default, its stylesheet from the service itself, and no page without signing in."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def test_the_sign_in_page_is_served_in_thai_and_english_on_request(
    referral_api: httpx.AsyncClient,
) -> None:
    page = await referral_api.get("/app/login", headers={"Authorization": ""})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="th"' in page.text
    assert "เข้าสู่ระบบ" in page.text
    english = await referral_api.get("/app/login", params={"lang": "en"})
    assert '<html lang="en"' in english.text
    assert "Sign in" in english.text


async def test_the_old_development_form_is_gone(referral_api: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/referrals/new"), ("POST", "/referrals")):
        answer = await referral_api.request(method, path, headers={"Authorization": ""})
        assert answer.status_code in (401, 404, 405), (method, path, answer.status_code)
        assert "<form" not in answer.text


async def test_the_web_apps_stylesheet_is_served_by_the_service_without_a_key(
    referral_api: httpx.AsyncClient,
) -> None:
    stylesheet = await referral_api.get("/static/app.css", headers={"Authorization": ""})
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    missing = await referral_api.get("/static/nothing-here.css")
    assert missing.status_code == 404
