"""Every service's API pages (/docs, /redoc) load their scripts, styles and icon from the service
itself, never from a CDN: on a hospital network without internet they still work."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.notifier.bootstrap import create_app as notifier_app
from services.referral.bootstrap import create_app as referral_app
from services.telemedicine.bootstrap import create_app as telemedicine_app
from shared.api_docs import ASSETS_PATH, VENDOR_DIR
from tests.unit.test_pages import OUTSIDE

APPS: dict[str, Callable[[], FastAPI]] = {
    "referral": referral_app,
    "telemedicine": telemedicine_app,
    "notifier": notifier_app,
}
# Every src= or href= of a page, and every url in its inline configuration.
LINKED = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.mark.parametrize("service", sorted(APPS))
@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_pages_link_nothing_on_another_host_and_every_asset_exists(
    service: str, page: str
) -> None:
    client = TestClient(APPS[service]())  # no `with`: the lifespan (connections) never runs
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert [match.group(0) for match in OUTSIDE.finditer(html)] == []
    links = [a or b for a, b in LINKED.findall(html)]
    assets = [link for link in links if link.startswith(ASSETS_PATH)]
    assert len(assets) >= 2, links  # the script, and the stylesheet or icon
    for asset in assets:
        assert (VENDOR_DIR / asset.removeprefix(f"{ASSETS_PATH}/")).is_file(), asset
        assert client.get(asset).status_code == 200
    assert "validator.swagger.io" not in html
    assert "fonts.googleapis.com" not in html
    # Whatever a bundle itself would fetch (ReDoc draws its logo from cdn.redoc.ly), the
    # browser asks no other host.
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "http" not in policy


def test_swagger_ui_is_told_not_to_ask_the_online_validator() -> None:
    html = TestClient(APPS["referral"]()).get("/docs").text
    assert '"validatorUrl": null' in html
