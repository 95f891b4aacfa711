"""In a real browser: the emergency room's live page shows a stroke alert the moment it is sent
and acknowledges it with one tap; the link in an SMS acknowledges from a phone."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.harness import NOTIFIER_URL, post_referral_to, texts_about
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import as_hospital, eventually

pytestmark = pytest.mark.browser

HOSPITAL = "kantang-hospital"


async def _deliveries(referral_id: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(HOSPITAL)) as client:
        log: list[dict[str, object]] = (
            await client.get("/deliveries", params={"referral": referral_id})
        ).json()
    return log


async def test_the_live_page_shows_an_alert_at_once_and_acknowledges_it(
    phone: Page, referral_api: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
        issued = await notifier.post("/live/tickets", headers=as_hospital(HOSPITAL))
    await phone.goto(issued.json()["page"])
    await expect(phone.get_by_role("status")).to_have_text(re.compile("Live"))

    referral_id = await post_referral_to(referral_api, HOSPITAL)
    alert = phone.locator("li", has=phone.locator(f'a[href*="{referral_id}"]'))
    await expect(alert).to_be_visible(timeout=20_000)
    await expect(alert.locator(".text")).to_contain_text("ส่งต่อผู้ป่วย stroke")
    await expect(alert).not_to_contain_text("HN-6501234")

    await alert.get_by_role("button", name=re.compile("Acknowledge")).tap()
    await expect(alert.locator(".state")).to_contain_text("Acknowledged", timeout=10_000)
    await expect(alert.get_by_role("button")).to_have_count(0)

    async def acknowledged_on_the_web() -> list[dict[str, object]] | None:
        found = [
            d
            for d in await _deliveries(referral_id)
            if d["acknowledged_by"] == f"web:Organization/{HOSPITAL}"
        ]
        return found or None

    (delivery,) = await eventually(acknowledged_on_the_web, what="the web acknowledgement")
    assert delivery["channel"] == "in-app"


async def test_the_link_in_the_sms_acknowledges_from_a_phone(
    phone: Page, referral_api: httpx.AsyncClient, sms_gateway: FakeSmsGateway
) -> None:
    referral_id = await post_referral_to(referral_api, HOSPITAL)
    (sms,) = await eventually(lambda: texts_about(sms_gateway, referral_id), what="the SMS")
    link = re.search(r"http://\S+/ack/\S+", sms["text"])
    assert link is not None

    await phone.goto(link.group(0))
    await expect(phone.locator(".alert")).to_contain_text("Stroke referral from Sikao Hospital")
    await expect(phone.get_by_role("link", name=re.compile("Open the referral"))).to_have_attribute(
        "href", re.compile(referral_id)
    )
    await phone.get_by_role("button", name=re.compile("Acknowledge")).tap()
    await expect(phone.get_by_role("status")).to_contain_text("Acknowledged")

    async def acknowledged() -> list[dict[str, object]] | None:
        found = [d for d in await _deliveries(referral_id) if d["acknowledged_at"]]
        return found or None

    (delivery,) = await eventually(acknowledged, what="the link acknowledgement")
    assert delivery["acknowledged_by"] == "link:Practitioner/dr-on-call"
