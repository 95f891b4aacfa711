"""In a real browser at the one origin, on a phone: the spoke's nurse asks the hub for a
teleconsult before any referral (from the consults page, one screen: hospital number, last
known well, the question, the hub); the consult page shows it paging with no referral yet; the
hub doctor signs advice to transfer the patient to the hub; the spoke's consult page then links
the referral it made, whose timeline carries the consult's steps from before it existed; the
next form has that hub filled in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from services.telemedicine.adapters.page_wording import words
from shared.province_time import PROVINCE_ZONE
from tests.browser.accessibility import assert_accessible, no_horizontal_scroll
from tests.browser.conftest import Person, sign_in
from tests.e2e.harness import TELEMEDICINE_URL
from tests.e2e.recommendations import signed_recommendation
from tests.support import TestStack, as_hospital, eventually

pytestmark = pytest.mark.browser

HUB = "trang-hospital"


@pytest.fixture
async def phone_at_the_origin(browser: Browser, stack: TestStack) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    page.set_default_timeout(20_000)
    yield page
    await context.close()


async def test_the_spoke_asks_a_consult_first_and_the_advice_to_transfer_makes_the_referral(
    phone_at_the_origin: Page,
    stack: TestStack,
    spoke_nurse: Person,
    referral_api: httpx.AsyncClient,
) -> None:
    page = phone_at_the_origin
    origin = f"http://127.0.0.1:{stack.proxy_port}"
    await sign_in(page, spoke_nurse, next_path="/app/consults/", origin=origin)
    await page.locator("#ask-first").click()
    await expect(page).to_have_url(re.compile(r"/app/consults/new$"))
    await assert_accessible(page)
    await no_horizontal_scroll(page)

    form = page.locator("#ask-first")
    # Sent empty, the browser keeps it (the hospital number is required).
    await form.locator("#hospital_number").fill("HN-5521")
    well = datetime.now(PROVINCE_ZONE) - timedelta(minutes=50)
    await form.locator("#last_known_well").fill(well.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("#nihss").fill("12")
    await form.locator("#question").fill("Aphasia and right weakness, CT on its way: transfer?")
    await form.locator("#consultant_hospital").fill(HUB)
    await form.locator("button[type=submit]").click()

    await expect(page).to_have_url(re.compile(r"/app/consults/tc-[A-Za-z0-9.\-]+$"))
    consult_id = page.url.rsplit("/", 1)[1]
    await expect(page.locator("#stage")).to_have_text(re.compile("paging|requested"))
    await expect(page.locator("#asked-first")).to_be_visible()
    await expect(page.locator("#question")).to_contain_text("HN-5521")
    await expect(page.locator("#question")).to_contain_text("12")
    await expect(page.locator("a#referral")).to_have_count(0)
    await assert_accessible(page)
    await no_horizontal_scroll(page)

    # The hub's consultant answers and advises transfer to the hub (its REST API, as a
    # hospital system or the consultant's page would).
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(HUB)) as hub:
        accepted = await hub.post(
            f"/consults/{consult_id}/steps",
            json={"stage": "accepted", "by": "Practitioner/dr-trang-neuro"},
        )
        assert accepted.status_code == 200, accepted.text
        signed = await hub.post(
            f"/consults/{consult_id}/recommendations",
            json=signed_recommendation(
                decision="do-not-give",
                drug=None,
                thrombectomy_transfer=True,
                target_centre=HUB,
            ),
        )
        assert signed.status_code == 201, signed.text

    async def linked() -> bool | None:
        await page.reload()
        return await page.locator("a#referral").count() == 1 or None

    await eventually(linked, what="the referral linked on the spoke's consult page")
    referral_id = (await page.locator("a#referral").inner_text()).strip()
    referral = (await referral_api.get(f"/referrals/{referral_id}")).json()
    assert referral["owner"] == HUB
    assert any(
        e["event"] == "teleconsult-requested" and e["detail"].get("consult") == consult_id
        for e in referral["timeline"]
    )
    await page.locator("a#referral").click()
    await expect(page).to_have_url(re.compile(re.escape(f"/app/referrals/{referral_id}") + "$"))

    # The next consult's form has the hub asked last filled in.
    await page.goto(f"{origin}/app/consults/new")
    await expect(page.locator("#consultant_hospital")).to_have_value(HUB)


async def test_a_misspelt_hub_is_refused_on_the_form_and_the_directory_hubs_are_offered_by_name(
    phone_at_the_origin: Page,
    stack: TestStack,
    spoke_nurse: Person,
    referral_api: httpx.AsyncClient,
) -> None:
    page = phone_at_the_origin
    origin = f"http://127.0.0.1:{stack.proxy_port}"
    await sign_in(page, spoke_nurse, next_path="/app/consults/", origin=origin)
    await page.goto(f"{origin}/app/consults/new")
    # The directory the referral service published reached telemedicine (the form offers its
    # hospitals by name, and says nothing of an unchecked id).
    offered = page.locator(f"#hubs option[value='{HUB}']")

    async def directory_offered() -> bool | None:
        await page.reload()
        return await offered.count() == 1 or None

    await eventually(directory_offered, what="the directory's hubs offered on the form")
    await expect(offered).to_have_text(re.compile("Trang"))
    await expect(page.locator("#no-directory")).to_have_count(0)

    form = page.locator("#ask-first")
    await form.locator("#hospital_number").fill("HN-5522")
    await form.locator("#consultant_hospital").fill("trnag-hospital")
    await form.locator("button[type=submit]").click()

    await expect(page).to_have_url(re.compile(r"/app/consults/new$"))
    # In the nurse's language (Thai): not in the network's directory, nobody was paged.
    await expect(page.locator("#problem")).to_contain_text(words("th")["unknown_hub"])
    await assert_accessible(page)
