"""The operators' console's browser tests open pages at the one origin (the test stack's nginx),
signed in through the web app's form, on an operator's screen (1280 px)."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.async_api import Browser, Page

from tests.browser.conftest import Person
from tests.support import TestStack


def origin(stack: TestStack) -> str:
    return f"http://127.0.0.1:{stack.proxy_port}"


async def signed_in_at_origin(
    browser: Browser, stack: TestStack, person: Person, path: str
) -> Page:
    """A new page (its own context: close ``page.context``) signed in as ``person`` at ``path``."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = await context.new_page()
    await page.goto(f"{origin(stack)}/app/login?{urlencode({'next': path})}")
    await page.locator("#username").fill(person.username)
    await page.locator("#password").fill(person.password)
    async with page.expect_navigation():
        await page.locator("form[action='/app/login'] button[type=submit]").click()
    return page
