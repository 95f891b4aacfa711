"""In a real browser: a hospital's administrator creates a colleague, who signs in; disabling
them ends their open session at the next tap. The list holds the administrator's own hospital
only, and another hospital's administrator can change nobody there."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from services.referral.domain.accounts import Role
from tests.browser.conftest import REFERRAL_APP_URL, Person, sign_in
from tests.web_app import csrf_token, signed_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a new colleague's password"


async def test_an_admin_creates_a_colleague_and_disabling_them_ends_their_session(
    phone: Page, browser: Browser, app_url: str, hub_admin: Person
) -> None:
    await sign_in(phone, hub_admin, next_path="/app/admin/users")
    people = phone.locator(".people")
    await expect(people).to_contain_text("doctor.trang")
    await expect(people).not_to_contain_text("nurse.sikao")

    username = f"nurse.{uuid.uuid4().hex[:6]}"
    await phone.get_by_label("ชื่อผู้ใช้", exact=True).fill(username)
    await phone.get_by_label("ชื่อที่แสดงให้ผู้อื่นเห็น").fill("พยาบาลใหม่ ทดสอบ")
    await phone.get_by_label("บทบาท", exact=True).select_option("nurse")
    await phone.get_by_label("รหัสผ่าน", exact=True).fill(NEW_PASSWORD)
    await phone.get_by_role("button", name="สร้าง", exact=True).click()
    await expect(phone.get_by_role("status")).to_have_text("สร้างผู้ใช้งานแล้ว")
    await expect(people).to_contain_text(username)

    colleague_context = await browser.new_context(viewport={"width": 390, "height": 844})
    colleague = await colleague_context.new_page()
    try:
        await sign_in(
            colleague,
            Person(username, "พยาบาลใหม่ ทดสอบ", "trang-hospital", Role.NURSE, NEW_PASSWORD),
            next_path="/app/settings",
        )
        await expect(colleague.locator(".who")).to_contain_text("พยาบาลใหม่ ทดสอบ")

        await phone.get_by_role("button", name=f"ระงับ {username}").click()
        await expect(phone.get_by_role("status")).to_contain_text("ระงับผู้ใช้งานแล้ว")

        await colleague.reload()
        await expect(colleague).to_have_url(re.compile(r"/app/login\?next="))
    finally:
        await colleague_context.close()


async def test_another_hospitals_admin_can_change_nobody_here(
    app_url: str, spoke_admin: Person, hub_doctor: Person
) -> None:
    async with httpx.AsyncClient(base_url=REFERRAL_APP_URL, timeout=30) as client:
        session = await signed_in(client, spoke_admin.username, spoke_admin.password)
        token = await csrf_token(client, session)
        listing = await client.get("/app/admin/users", headers=session)
        assert hub_doctor.username not in listing.text
        # Every id but those of the administrator's own hospital: none is theirs to change.
        own_ids = re.findall(r"/app/admin/users/(\d+)/(?:disable|enable)", listing.text)
        for user_id in range(1, 40):
            if str(user_id) in own_ids:
                continue
            answer = await client.post(
                f"/app/admin/users/{user_id}/disable", data={"csrf_token": token}, headers=session
            )
            assert answer.status_code in (404, 409), (user_id, answer.status_code)
        doctor = await signed_in(client, hub_doctor.username, hub_doctor.password)
        assert (await client.get("/app/settings", headers=doctor)).status_code == 200


async def test_a_clinician_may_not_open_the_users_page(app_url: str, hub_doctor: Person) -> None:
    async with httpx.AsyncClient(base_url=REFERRAL_APP_URL, timeout=30) as client:
        session = await signed_in(client, hub_doctor.username, hub_doctor.password)
        answer = await client.get("/app/admin/users", headers=session)
    assert answer.status_code == 403
    assert "คุณไม่มีสิทธิ์เปิดหน้านี้" in answer.text
