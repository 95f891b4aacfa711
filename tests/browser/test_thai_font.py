"""Thai text renders with the font the services ship (Noto Sans Thai, fetched by
deploy/web-assets.sh), not with whatever the machine has or the fallback box glyph: Chromium
itself reports which font drew the text (DevTools protocol, CSS.getPlatformFontsForNode), and
the text is as wide as the shipped font makes it, not as wide as the fallback would."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.harness import NOTIFIER_URL
from tests.support import as_hospital

pytestmark = pytest.mark.browser

SHIPPED = "Noto Sans Thai"


async def _fonts_drawing(page: Page, selector: str) -> dict[str, int]:
    """The platform fonts Chromium used for the text of the first element matching
    ``selector``: family name -> glyphs drawn."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    document: dict[str, Any] = await cdp.send("DOM.getDocument")
    found: dict[str, Any] = await cdp.send(
        "DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector}
    )
    fonts: dict[str, Any] = await cdp.send(
        "CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]}
    )
    await cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts["fonts"]}


async def _width(page: Page, font: str, text: str) -> float:
    width: float = await page.evaluate(
        """([font, text]) => {
            const context = document.createElement("canvas").getContext("2d");
            context.font = font;
            return context.measureText(text).width;
        }""",
        [font, text],
    )
    return width


async def test_the_web_app_draws_thai_with_the_shipped_font(phone: Page, app_url: str) -> None:
    await phone.goto(f"{app_url}/app/login")
    heading = phone.get_by_role("heading", name="เข้าสู่ระบบ")
    await expect(heading).to_be_visible()
    await phone.evaluate("document.fonts.ready")

    assert await phone.evaluate(f"document.fonts.check('16px \"{SHIPPED}\"', 'เข้าสู่ระบบ')")
    fonts = await _fonts_drawing(phone, "h1")
    assert fonts.get(SHIPPED, 0) > 0, fonts
    # Every Thai glyph came from it: the heading is Thai only.
    assert set(fonts) == {SHIPPED}, fonts
    shipped = await _width(phone, f'16px "{SHIPPED}"', "เข้าสู่ระบบ")
    fallback = await _width(phone, "16px monospace", "เข้าสู่ระบบ")
    assert shipped != fallback


async def test_the_notifiers_live_page_draws_thai_with_the_shipped_font(
    phone: Page, services: object
) -> None:
    async with httpx.AsyncClient(base_url=NOTIFIER_URL) as notifier:
        issued = await notifier.post("/live/tickets", headers=as_hospital("trang-hospital"))
    await phone.goto(issued.json()["page"])
    await expect(phone.locator("h1")).to_contain_text("การแจ้งเตือน")
    await phone.evaluate("document.fonts.ready")

    fonts = await _fonts_drawing(phone, "h1")
    assert fonts.get(SHIPPED, 0) > 0, fonts
