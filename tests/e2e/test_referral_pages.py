"""The referral service's pages, as a hospital's browser gets them: the form from its template
with the network's hospitals, and its stylesheet from the service itself."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.e2e


async def test_the_referral_form_lists_the_hospitals_and_names_the_callers_own(
    referral_api: httpx.AsyncClient,
) -> None:
    page = await referral_api.get("/referrals/new")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<option value="trang-hospital">' in page.text
    assert "From / โรงพยาบาลต้นทาง: " in page.text
    assert '<form method="post" action="/referrals">' in page.text


async def test_the_forms_stylesheet_is_served_by_the_service_without_a_key(
    referral_api: httpx.AsyncClient,
) -> None:
    stylesheet = await referral_api.get("/static/pages.css", headers={"Authorization": ""})
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    missing = await referral_api.get("/static/nothing-here.css")
    assert missing.status_code == 404
