"""In a real browser against the real stack: a spoke nurse refers a patient from a phone in Thai;
the hub taps door-in and needle and the metrics follow; the notification's link opens the
referral page after signing in; a third hospital's doctor gets no referral page. Every page is
scanned by axe-core for WCAG 2.1 A/AA violations and photographed in Thai and English, at 390
and 1280 px (tests/browser/artifacts/)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.accessibility import assert_accessible, no_horizontal_scroll, screenshot
from tests.browser.conftest import OpenLink, Person, sign_in
from tests.e2e.harness import WebhookReceiver, post_referral_to
from tests.support import at_least, eventually

pytestmark = pytest.mark.browser

HUB = "trang-hospital"


async def _referral_page(page: Page, app_url: str, referral_id: str) -> None:
    await page.goto(f"{app_url}/app/referrals/{referral_id}")
    await expect(page.locator("#live .clock")).to_be_visible()


async def test_a_spoke_nurse_creates_a_referral_on_a_phone_in_thai(
    phone: Page, app_url: str, spoke_nurse: Person, webhook: WebhookReceiver
) -> None:
    await sign_in(phone, spoke_nurse, next_path="/app/referrals/new")
    await expect(phone.get_by_role("heading", name="ส่งต่อผู้ป่วยโรคหลอดเลือดสมอง")).to_be_visible()
    await no_horizontal_scroll(phone)

    await phone.get_by_label("เลขประจำตัวผู้ป่วย (HN)").fill("HN-WEB-390")
    await phone.get_by_role("button", name="-30 นาที").tap()
    await phone.get_by_label("หน้าเบี้ยว ปากตก").check()
    await phone.get_by_label("แขนขาอ่อนแรงครึ่งซีก").check()
    await phone.get_by_label("คะแนน NIHSS รวม (0-42)").fill("11")
    await phone.get_by_label("ความดันตัวบน (mmHg)").fill("176")
    await phone.get_by_label("ความดันตัวล่าง (mmHg)").fill("98")
    await phone.get_by_label("น้ำตาลในเลือด (mg/dL)").fill("131")
    await (
        phone.get_by_role("group", name="ใช้ยาต้านการแข็งตัวของเลือดหรือไม่").get_by_label("ไม่ใช่").check()
    )
    await phone.get_by_label("ไม่มีเลือดออก").check()
    await phone.get_by_label("สงสัยหลอดเลือดสมองใหญ่อุดตัน (LVO)").check()
    # The routing engine's recommendation and reasons, before sending.
    await expect(phone.locator("#recommended")).not_to_be_empty(timeout=15_000)
    # In Thai, from the catalogue: the engine gives codes, the page words them.
    reasons = phone.locator(".route-reasons li")
    await expect(reasons.first).to_contain_text("ปกติครั้งสุดท้ายเมื่อ 0 ชม. 3")
    for english in ("last known well", "hospital", " min"):
        await expect(phone.locator(".route-reasons")).not_to_contain_text(english)
    await assert_accessible(phone)
    await screenshot(phone, "new-referral-th-390")

    await phone.get_by_role("button", name="ส่งต่อผู้ป่วย").tap()
    await expect(phone).to_have_url(re.compile(r"/app/referrals/[0-9a-f-]{36}$"))
    referral_id = phone.url.rsplit("/", 1)[-1]
    await expect(phone.locator(".patient")).to_contain_text("HN-WEB-390")
    await expect(phone.locator("#since-lkw")).to_have_text(re.compile(r"^0:3\d$"))
    await expect(phone.locator(".findings")).to_contain_text("176/98 mmHg")
    await no_horizontal_scroll(phone)
    await assert_accessible(phone)
    # The stroke team was alerted by the same use case as a hospital system's referral.
    (alert,) = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1), what="the stroke team alert"
    )
    assert alert.body["link"].endswith(f"/app/referrals/{referral_id}")


async def test_bad_input_comes_back_on_the_form_never_a_500(
    phone: Page, app_url: str, spoke_nurse: Person
) -> None:
    await sign_in(phone, spoke_nurse, next_path="/app/referrals/new")
    await phone.get_by_label("คะแนน NIHSS รวม (0-42)").fill("57")
    async with phone.expect_response(re.compile(r"/app/referrals$")) as answered:
        await phone.get_by_role("button", name="ส่งต่อผู้ป่วย").tap()
    assert (await answered.value).status == 422
    await expect(phone.get_by_role("alert")).to_contain_text("กรุณาแก้ไขช่องที่ทำเครื่องหมายไว้")
    await expect(phone.locator("#hn-problem")).to_have_text("กรุณาใส่ HN หรือเลือกไม่ทราบ")
    await expect(phone.locator("#nihss-problem")).to_have_text("กรุณาใส่จำนวนเต็มตั้งแต่ 0 ถึง 42")
    await expect(phone.get_by_label("คะแนน NIHSS รวม (0-42)")).to_have_value("57")


async def test_the_hub_taps_door_in_and_needle_and_the_metrics_update(
    phone: Page, app_url: str, hub_doctor: Person, referral_api: httpx.AsyncClient
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    await sign_in(phone, hub_doctor, next_path=f"/app/referrals/{referral_id}")
    await expect(phone.locator("#live .clock")).to_be_visible()
    milestones = phone.locator(".milestones")
    door_in = milestones.get_by_role("button", name=re.compile("^ถึงโรงพยาบาล"))
    box = await door_in.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a tap target a gloved finger hits

    await door_in.tap()
    door_in_row = milestones.locator("li.is-set", has_text="ถึงโรงพยาบาล")
    await expect(door_in_row).to_contain_text(hub_doctor.display_name)
    await milestones.get_by_role("button", name=re.compile("^ให้ยาละลายลิ่มเลือด")).tap()
    await expect(milestones.locator("li.is-set", has_text="ให้ยาละลายลิ่มเลือด")).to_be_visible()

    hub_dtn = phone.locator("[data-metric=hub-door-to-needle]")
    await expect(hub_dtn).to_contain_text("0:00")
    await expect(hub_dtn).to_contain_text("ผ่าน")
    await expect(phone.locator(".window-done")).to_contain_text("ให้การรักษาแล้ว")
    await assert_accessible(phone)

    # Changing a time needs a reason; the first report stays in the history.
    await door_in_row.locator("summary").tap()
    await door_in_row.get_by_label("เวลา").fill("2026-11-30T00:00")
    await door_in_row.get_by_label("เหตุผลที่แก้ไข").fill("ambulance log")
    await door_in_row.get_by_role("button", name="บันทึกการแก้ไข").tap()
    await expect(phone.locator(".timeline")).to_contain_text("ambulance log")
    # A refusal of the domain comes back in Thai too.
    door_in_row = milestones.locator("li.is-set", has_text="ถึงโรงพยาบาล")
    await door_in_row.locator("summary").tap()
    await door_in_row.get_by_label("เวลา").fill("2030-01-01T00:00")
    await door_in_row.get_by_label("เหตุผลที่แก้ไข").fill("typo")
    await door_in_row.get_by_role("button", name="บันทึกการแก้ไข").tap()
    await expect(phone.get_by_role("alert")).to_have_text("เวลานี้อยู่ในอนาคต")


# The live part re-reads itself on every change of the referral (and every 30 s); its answer,
# once swapped in, marks the page so the test knows the re-read happened.
RE_READ_LIVE_PART = """() => new Promise((resolve) => {
  document.body.addEventListener("htmx:afterSettle", () => resolve(true), { once: true });
  document.body.dispatchEvent(new CustomEvent("referral-changed", { detail: {} }));
})"""


async def test_a_correction_being_typed_stays_open_through_a_live_update(
    phone: Page, app_url: str, hub_doctor: Person, referral_api: httpx.AsyncClient
) -> None:
    """A colleague's step (or the 30 s refresh) re-reads the part of the page the correction is
    typed in: the form stays open with what was typed, instead of folding away mid-sentence."""
    referral_id = await post_referral_to(referral_api, HUB)
    await sign_in(phone, hub_doctor, next_path=f"/app/referrals/{referral_id}")
    milestones = phone.locator(".milestones")
    await milestones.get_by_role("button", name=re.compile("^ถึงโรงพยาบาล")).tap()
    door_in_row = milestones.locator("li.is-set", has_text="ถึงโรงพยาบาล")
    await door_in_row.locator("summary").tap()
    reason = door_in_row.get_by_label("เหตุผลที่แก้ไข")
    await reason.fill("ambulance log")
    await door_in_row.locator("details").evaluate("(details) => { details.dataset.before = '1'; }")

    assert await phone.evaluate(RE_READ_LIVE_PART)

    # A new element (the part was replaced), open, with the reason as it was typed.
    await expect(door_in_row.locator("details")).not_to_have_attribute("data-before", "1")
    await expect(reason).to_be_visible()
    await expect(reason).to_have_value("ambulance log")


async def test_the_notification_link_opens_the_referral_page_after_login(
    open_after_sign_in: OpenLink,
    app_url: str,
    hub_doctor: Person,
    referral_api: httpx.AsyncClient,
    webhook: WebhookReceiver,
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    (alert, *_) = await eventually(
        lambda: at_least(webhook.for_referral(referral_id), 1), what="the stroke team alert"
    )
    link = alert.body["link"]
    assert link == f"{app_url}/app/referrals/{referral_id}"
    page = await open_after_sign_in(link, hub_doctor)
    await expect(page.locator("#live .clock")).to_be_visible()


async def test_signing_in_never_sends_a_person_to_another_site(
    phone: Page, app_url: str, hub_doctor: Person
) -> None:
    await sign_in(phone, hub_doctor, next_path="//evil.example/app/referrals/x")
    assert phone.url.startswith(f"{app_url}/app/")


async def test_a_third_hospitals_doctor_gets_no_referral_page(
    phone: Page, app_url: str, third_hospital_doctor: Person, referral_api: httpx.AsyncClient
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    await sign_in(phone, third_hospital_doctor)
    for path in (f"/app/referrals/{referral_id}", f"/app/referrals/{referral_id}/live"):
        answer = await phone.goto(f"{app_url}{path}")
        assert answer is not None
        assert answer.status == 404
        assert "HN-" not in await phone.content()


@pytest.mark.parametrize("language", ["th", "en"])
@pytest.mark.parametrize("width", [390, 1280])
async def test_the_referral_pages_pass_axe_and_are_photographed(
    browser: Browser,
    app_url: str,
    spoke_doctor: Person,
    referral_api: httpx.AsyncClient,
    language: str,
    width: int,
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    try:
        await sign_in(page, spoke_doctor, next_path="/app/settings")
        await page.locator(f"input[name=language][value={language}]").check()
        await page.locator("form[action='/app/settings'] button[type=submit]").click()
        await page.wait_for_load_state()
        await page.goto(f"{app_url}/app/referrals/new")
        await expect(page.locator("#recommended")).not_to_be_empty(timeout=15_000)
        await no_horizontal_scroll(page)
        await assert_accessible(page)
        await screenshot(page, f"new-referral-{language}-{width}")
        await _referral_page(page, app_url, referral_id)
        # A set milestone (time, who, the change form) is scanned and shown too.
        await page.locator(".milestones button.tap").first.click()
        await expect(page.locator(".milestones li.is-set").first).to_be_visible()
        await no_horizontal_scroll(page)
        await assert_accessible(page)
        await screenshot(page, f"referral-page-{language}-{width}")
    finally:
        await context.close()


async def test_an_operator_reads_the_referral_page_without_the_patient(
    phone: Page, app_url: str, operator: Person, referral_api: httpx.AsyncClient
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    await sign_in(phone, operator)
    await _referral_page(phone, app_url, referral_id)
    assert "HN-6501234" not in await phone.content()
    await expect(phone.locator(".milestones")).to_have_count(0)
    await expect(phone.locator(".timeline")).to_be_visible()


async def test_a_milestone_is_recorded_from_the_keyboard(
    phone: Page, app_url: str, hub_nurse: Person, referral_api: httpx.AsyncClient
) -> None:
    referral_id = await post_referral_to(referral_api, HUB)
    await sign_in(phone, hub_nurse, next_path=f"/app/referrals/{referral_id}")
    ct = phone.locator(".milestones").get_by_role("button", name=re.compile("^เริ่ม CT"))
    await ct.focus()
    await phone.keyboard.press("Enter")
    await expect(phone.locator(".milestones li.is-set", has_text="เริ่ม CT")).to_contain_text(
        hub_nurse.display_name
    )
