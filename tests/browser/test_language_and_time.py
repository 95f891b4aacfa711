"""In a real browser: each person's language and era setting applies to the whole web app, and
the page script shows times by the same rules as the server (Bangkok clock, 24-hour, intervals
cut to the minute, Buddhist-era years when the person's setting says so)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Person, sign_in

pytestmark = pytest.mark.browser

# 23:26:59 on 30 Nov 2026 in Bangkok.
MOMENT = "2026-11-30T16:26:59Z"


async def _shown_by_script(page: Page) -> list[str]:
    shown: list[str] = await page.evaluate(
        """(moment) => {
            const pastMidnight = new Date("2026-11-30T17:05:00Z");
            return [FastTrack.moment(new Date(moment)), FastTrack.interval(3599000),
                    FastTrack.interval(-5400000), FastTrack.clock(pastMidnight)];
        }""",
        MOMENT,
    )
    return shown


async def test_a_thai_nurse_reads_buddhist_era_years_on_the_bangkok_clock(
    phone: Page, app_url: str, spoke_nurse: Person
) -> None:
    await sign_in(phone, spoke_nurse, next_path="/app/settings")
    await expect(phone.locator("html")).to_have_attribute("data-buddhist-era", "true")
    assert await _shown_by_script(phone) == ["30 พ.ย. 2569 23:26", "0:59", "-1:30", "00:05"]


async def test_a_person_switches_to_thai_and_back_to_english_with_gregorian_years(
    phone: Page, app_url: str, third_hospital_doctor: Person
) -> None:
    await sign_in(phone, third_hospital_doctor, next_path="/app/settings")
    await expect(phone.locator("html")).to_have_attribute("lang", "en")
    await expect(phone.locator("html")).to_have_attribute("data-buddhist-era", "false")
    assert (await _shown_by_script(phone))[0] == "30 Nov 2026 23:26"
    try:
        await phone.get_by_label("ภาษาไทย").check()
        await phone.get_by_role("button", name="Save").click()
        await expect(phone.get_by_role("status")).to_have_text("บันทึกแล้ว")
        await expect(phone.locator("html")).to_have_attribute("lang", "th")
        await expect(phone.get_by_role("navigation", name="เมนูหลัก")).to_be_visible()
    finally:
        await phone.get_by_label("English").check()
        await phone.get_by_role("button", name="บันทึก").click()
    await expect(phone.get_by_role("status")).to_have_text("Saved.")
    await expect(phone.locator("html")).to_have_attribute("lang", "en")
