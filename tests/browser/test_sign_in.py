"""In a real browser: a nurse signs in on a phone and lands in the web app's layout, in Thai;
a wrong password is refused on the same page, and nobody is signed in by it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Person, sign_in

pytestmark = pytest.mark.browser


async def test_a_nurse_signs_in_and_sees_the_layout_in_thai(
    phone: Page, app_url: str, spoke_nurse: Person
) -> None:
    await sign_in(phone, spoke_nurse, next_path="/app/settings")

    assert phone.url.endswith("/app/settings")
    await expect(phone.locator("html")).to_have_attribute("lang", "th")
    navigation = phone.get_by_role("navigation", name="เมนูหลัก")
    await expect(navigation.get_by_role("link", name="ส่งต่อผู้ป่วยใหม่")).to_be_visible()
    await expect(navigation.get_by_role("link", name="ตั้งค่า")).to_have_attribute(
        "aria-current", "page"
    )
    await expect(phone.locator(".who")).to_contain_text(spoke_nurse.display_name)
    await expect(phone.locator(".who")).to_contain_text("สิเกา")
    await expect(phone.get_by_role("button", name="ออกจากระบบ")).to_be_visible()
    # The session cookie is the server's: no script can read it.
    cookies = await phone.context.cookies()
    (session,) = [c for c in cookies if c["name"] == "ft_session"]
    assert (session.get("httpOnly"), session.get("secure"), session.get("sameSite")) == (
        True,
        True,
        "Lax",
    )
    assert "ft_session" not in await phone.evaluate("document.cookie")


async def test_a_wrong_password_is_refused_and_signs_nobody_in(
    phone: Page, app_url: str, spoke_nurse: Person
) -> None:
    await phone.goto(f"{app_url}/app/login")
    await phone.locator("#username").fill(spoke_nurse.username)
    await phone.locator("#password").fill("not-the-password")
    await phone.get_by_role("button", name="เข้าสู่ระบบ").click()

    await expect(phone.get_by_role("alert")).to_have_text("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง")
    assert "/app/login" in phone.url
    assert not [c for c in await phone.context.cookies() if c["name"] == "ft_session"]
    await phone.goto(f"{app_url}/app/settings")
    await expect(phone).to_have_url(re.compile(r"/app/login\?next=%2Fapp%2Fsettings"))
