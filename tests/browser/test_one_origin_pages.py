"""In a real browser, at the one origin people use (the test stack's nginx): signed in to the
web app, the notifier's live page shows the person's hospital's alerts and acknowledges them,
and the acknowledgement link of an SMS opens at the same origin; without a session the live
page sends you to the login and back; the notifier's operator routes refuse a hospital's
person and serve an operator."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Person, sign_in
from tests.e2e.harness import NOTIFIER_URL, post_referral_to, texts_about
from tests.fakes.sms_gateway import FakeSmsGateway
from tests.support import TestStack, as_hospital, eventually

pytestmark = pytest.mark.browser


async def _acknowledgers(referral_id: str, hospital: str) -> set[str]:
    """Who the notifier recorded as acknowledging the hospital's alerts about the referral."""
    async with httpx.AsyncClient(base_url=NOTIFIER_URL, headers=as_hospital(hospital)) as notifier:
        log = (await notifier.get("/deliveries", params={"referral": referral_id})).json()
    return {str(d["acknowledged_by"]) for d in log if d["acknowledged_by"]}


def _origin(stack: TestStack) -> str:
    return f"http://127.0.0.1:{stack.proxy_port}"


async def test_signed_in_at_the_origin_the_live_page_and_an_acknowledgement_link_work(
    phone: Page,
    stack: TestStack,
    app_url: str,
    third_hospital_doctor: Person,
    referral_api: httpx.AsyncClient,
    sms_gateway: FakeSmsGateway,
) -> None:
    origin = _origin(stack)
    # Without a session: to the login, and after it straight back to the live page.
    await phone.goto(f"{origin}/live")
    assert phone.url.startswith(f"{origin}/app/login?next=")
    await sign_in(phone, third_hospital_doctor, next_path="/app/live", origin=origin)
    assert phone.url == f"{origin}/app/live"
    await expect(phone.get_by_role("status")).to_have_text(re.compile("Live"), timeout=20_000)

    # An alert for the doctor's hospital (Kantang) arrives live and is acknowledged in one tap.
    referral_id = await post_referral_to(referral_api, "kantang-hospital")
    alert = phone.locator("li", has=phone.locator(f'a[href*="{referral_id}"]'))
    await expect(alert).to_be_visible(timeout=30_000)
    await alert.get_by_role("button", name=re.compile("Acknowledge")).tap()
    await expect(alert.locator(".state")).to_contain_text("Acknowledged", timeout=10_000)
    # In the person's name, not the hospital's: the page, the delivery log and the timeline.
    await expect(alert.locator(".state")).to_contain_text(third_hospital_doctor.display_name)
    acknowledged_by = f"web:{third_hospital_doctor.display_name}"
    assert acknowledged_by in await _acknowledgers(referral_id, "kantang-hospital")
    await phone.goto(f"{origin}/app/referrals/{referral_id}")
    await expect(phone.locator("body")).to_have_attribute("data-live", "connected")
    acknowledgement = phone.locator(".timeline li", has_text=re.compile("acknowledged"))
    await expect(acknowledgement.first).to_contain_text(
        third_hospital_doctor.display_name, timeout=20_000
    )

    # The on-call doctor's SMS link opens at the same origin.
    (sms,) = await eventually(lambda: texts_about(sms_gateway, referral_id), what="the SMS")
    link = re.search(r"http://[^/\s]+(/ack/\S+)", sms["text"])
    assert link is not None
    await phone.goto(origin + link.group(1))
    await expect(phone.locator(".alert")).to_contain_text("Stroke referral from Sikao Hospital")
    await phone.get_by_role("button", name=re.compile("Acknowledge")).tap()
    await expect(phone.get_by_role("status")).to_contain_text("Acknowledged")


async def test_the_live_alerts_are_in_the_navigation_and_operator_routes_refuse_a_hospital(
    phone: Page, stack: TestStack, app_url: str, hub_doctor: Person, operator: Person
) -> None:
    origin = _origin(stack)
    await sign_in(phone, hub_doctor, next_path="/app/settings", origin=origin)
    # The web app's navigation leads a clinician to the live alerts at the same origin.
    await phone.locator('nav a[href="/app/live"]').click()
    await expect(phone).to_have_url(f"{origin}/app/live")
    await expect(phone.get_by_role("status")).to_have_text(re.compile("Live"), timeout=20_000)
    refused = await phone.request.get(f"{origin}/dead-letters")
    assert refused.status == 403
    assert (await refused.json())["issue"][0]["code"] == "forbidden"
    replay = await phone.request.post(
        f"{origin}/deliveries/no-such-delivery/replay", headers={"X-CSRF-Token": "x"}
    )
    assert replay.status == 403

    await phone.context.clear_cookies()
    await sign_in(phone, operator, next_path="/app/", origin=origin)
    served = await phone.request.get(f"{origin}/dead-letters")
    assert served.status == 200
    assert isinstance(await served.json(), list)
    # Not a failed delivery (unknown): the operator may ask, and is told why it cannot be done.
    unknown = await phone.request.post(
        f"{origin}/deliveries/no-such-delivery/replay", headers={"X-CSRF-Token": "x"}
    )
    assert unknown.status == 404
