"""In a real browser at the one origin (the test stack's nginx): a nurse's monitoring board
lists only their hospital's patients, red first, then yellow, then green, in Thai on a 390 px
phone, and updates itself when a patient turns red; the nurse opens the red one and lowers its
flag with a reason, which the episode's history keeps with their name, and ends another's
monitoring (off the board, its link dead); the patient's signed link opens a Thai check-in
form that fits 390 px without a login and asks again for a reading no body can have."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.accessibility import assert_accessible, no_horizontal_scroll, screenshot
from tests.browser.conftest import Person
from tests.e2e.harness import SERVICE_PORTS, ServiceProcesses
from tests.support import TestStack, as_hospital

pytestmark = pytest.mark.browser

TELEMEDICINE_URL = f"http://127.0.0.1:{SERVICE_PORTS['telemedicine']}"


def _origin(stack: TestStack) -> str:
    return f"http://127.0.0.1:{stack.proxy_port}"


async def _enrol(hospital: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=TELEMEDICINE_URL, headers=as_hospital(hospital)) as api:
        response = await api.post(
            "/monitoring/episodes",
            json={
                "patient": f"Patient/b-{uuid.uuid4().hex[:10]}",
                "hospital_number": f"HN{uuid.uuid4().hex[:6]}",
                "consultant_hospital": "trang-hospital",
            },
        )
    assert response.status_code == 201, response.text
    episode: dict[str, Any] = response.json()
    return episode


async def _check_in(episode: dict[str, Any], **readings: str) -> None:
    async with httpx.AsyncClient() as phone:
        sent = await phone.post(episode["check_in_link"], data=readings)
    assert sent.status_code == 200, sent.text


async def _sign_in_at(page: Page, origin: str, person: Person, *, next_path: str) -> None:
    await page.goto(f"{origin}/app/login?{urlencode({'next': next_path})}")
    await page.locator("#username").fill(person.username)
    await page.locator("#password").fill(person.password)
    async with page.expect_navigation():
        await page.locator("form[action='/app/login'] button[type=submit]").click()


async def test_the_nurses_board_sorts_their_patients_by_risk_and_a_nurse_lowers_a_flag(
    phone: Page, stack: TestStack, services: ServiceProcesses, spoke_nurse: Person
) -> None:
    green, red, yellow = [await _enrol("sikao-hospital") for _ in range(3)]
    elsewhere = await _enrol("kantang-hospital")
    await _check_in(green, spo2="98")
    await _check_in(red, spo2="91")
    await _check_in(yellow, spo2="95")
    await _check_in(elsewhere, spo2="80")

    origin = _origin(stack)
    # The page's timers on a clock the test moves: the board's 30 s reload comes when told.
    await phone.clock.install()
    await _sign_in_at(phone, origin, spoke_nurse, next_path="/app/monitoring/")
    assert phone.url == f"{origin}/app/monitoring/"
    await expect(phone.get_by_role("heading", level=1)).to_have_text("ติดตามผู้ป่วยแยกกักตัวที่บ้าน")
    rows = phone.locator("#board tbody tr")
    order = await rows.evaluate_all("rows => rows.map(r => r.dataset.episode)")
    mine = [e for e in order if e in {green["id"], red["id"], yellow["id"]}]
    assert mine == [red["id"], yellow["id"], green["id"]]
    levels = await rows.evaluate_all("rows => rows.map(r => r.dataset.level)")
    rank = {"red": 0, "yellow": 1, "green": 2}
    assert [rank[level] for level in levels] == sorted(rank[level] for level in levels)
    assert elsewhere["id"] not in order  # another hospital's patient is not on this board
    await no_horizontal_scroll(phone)
    await assert_accessible(phone)
    await screenshot(phone, "monitoring-board-th-390")

    # The board updates itself: a patient who turns red meanwhile moves up among the red.
    await _check_in(green, spo2="90")
    turned = phone.locator(f'#board tr[data-episode="{green["id"]}"]')
    await expect(turned).to_have_attribute("data-level", "green")  # until the next reload
    await phone.clock.fast_forward(30_000)
    await expect(turned).to_have_attribute("data-level", "red", timeout=90_000)
    order = await rows.evaluate_all("rows => rows.map(r => r.dataset.episode)")
    assert order.index(green["id"]) < order.index(yellow["id"])

    # The red patient's page: lower to yellow, with a reason; the history keeps who and why.
    await phone.locator(f'tr[data-episode="{red["id"]}"] a').click()
    await expect(phone.locator("#level")).to_have_text("แดง")
    await phone.locator("#lower-level").select_option("yellow")
    await phone.locator("#lower-reason").fill("โทรสอบถามแล้ว SpO2 96")
    await phone.get_by_role("button", name="ลดระดับความเสี่ยง").click()
    await expect(phone.locator("#level")).to_have_text("เหลือง")
    last_change = phone.locator("#flag-changes li").last
    await expect(last_change).to_contain_text("โทรสอบถามแล้ว SpO2 96")
    await expect(last_change).to_contain_text("Practitioner/")
    await assert_accessible(phone)

    # Another hospital's episode is not found from this nurse's pages.
    other = await phone.request.get(f"{origin}/app/monitoring/{elsewhere['id']}")
    assert other.status == 404


async def test_a_nurse_ends_a_patients_monitoring_and_the_board_drops_them(
    phone: Page, stack: TestStack, services: ServiceProcesses, spoke_nurse: Person
) -> None:
    episode = await _enrol("sikao-hospital")
    origin = _origin(stack)
    await _sign_in_at(phone, origin, spoke_nurse, next_path=f"/app/monitoring/{episode['id']}")
    await expect(phone.locator("#check-in-link")).to_be_visible()
    await phone.locator("#finish-reason").select_option("admitted")
    # One tap does not end it: the nurse confirms that the reminders stop.
    await phone.get_by_role("button", name="สิ้นสุดการติดตาม").click()
    await expect(phone.locator("#check-in-link")).to_be_visible()
    await phone.locator("#finish-confirm").check()
    await phone.get_by_role("button", name="สิ้นสุดการติดตาม").click()
    await expect(phone.locator("#finished")).to_contain_text("รับไว้รักษาในโรงพยาบาล")
    await expect(phone.locator("#finished")).to_contain_text("Practitioner/")
    # Nothing left to do on it: no link to hand out, no flag to lower, no second ending.
    await expect(phone.locator("#check-in-link")).to_have_count(0)
    await expect(phone.locator("#finish")).to_have_count(0)
    await no_horizontal_scroll(phone)
    await assert_accessible(phone)
    await phone.goto(f"{origin}/app/monitoring/")
    order = await phone.locator("#board tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.episode)"
    )
    assert episode["id"] not in order
    async with httpx.AsyncClient() as patient:
        assert (await patient.get(episode["check_in_link"])).status_code == 404


async def test_the_signed_link_opens_a_thai_check_in_form_that_fits_a_phone(
    phone: Page, stack: TestStack, services: ServiceProcesses
) -> None:
    episode = await _enrol("sikao-hospital")
    link = f"{_origin(stack)}{urlsplit(episode['check_in_link']).path}"
    await phone.goto(link)  # no login: the link is the key
    assert "/app/login" not in phone.url
    await expect(phone.get_by_role("heading", level=1)).to_have_text("รายงานอาการประจำวัน")
    await no_horizontal_scroll(phone)
    await assert_accessible(phone)
    await screenshot(phone, "check-in-form-th-390")

    await phone.get_by_label(re.compile("SpO2")).fill("101")
    await phone.get_by_label(re.compile("อุณหภูมิ")).fill("37.2")
    await phone.get_by_role("button", name="ส่งรายงาน").click()
    await expect(phone.locator("#recorded")).to_be_visible()
    await expect(phone.locator("#ask-again")).to_contain_text("กรุณาวัดซ้ำ")
    await no_horizontal_scroll(phone)

    await phone.get_by_label(re.compile("SpO2")).fill("92")
    await phone.get_by_label("หายใจเหนื่อยหอบ").check()
    await phone.get_by_role("button", name="ส่งรายงาน").click()
    await expect(phone.locator("#nurse-will-call")).to_contain_text("1669")
    await assert_accessible(phone)

    async with httpx.AsyncClient(headers=as_hospital("sikao-hospital")) as api:
        current = (await api.get(f"{TELEMEDICINE_URL}/monitoring/episodes/{episode['id']}")).json()
    assert current["level"] == "red"
    assert len(current["check_ins"]) == 2

    # A link with one character changed opens nothing. Not the last one: the last base64url
    # character of the signature also carries padding bits, so some changes there decode to the
    # same signature (A -> B did, now and then).
    changed = "A" if link[-10] != "A" else "B"
    await phone.goto(link[:-10] + changed + link[-9:])
    await expect(phone.locator("#link-invalid")).to_be_visible()
